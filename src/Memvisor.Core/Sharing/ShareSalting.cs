/*
 * Which salt a page is hashed with (paper §4; ESXi's Mem.ShareForceSalting since 2014). Two pages meet
 * in the sharing table only when their salts are equal. With one salt for all VMs any two equal pages
 * share; with a salt per VM only pages of one VM do. Under UniformPagesAcrossVms a page whose bytes are
 * all 0x00 or all 0xFF takes the common salt 0 whatever its VM's salt, so such pages share across VMs
 * while every other page stays within its VM (as Windows merges only those pages across domains).
 * The memory manager and the sharing estimator both ask here, so they agree page for page.
 */
using Memvisor.Core.Memory;

namespace Memvisor.Core.Sharing;

/// <summary>The salt a page is shared under.</summary>
public static class ShareSalting
{
    /// <summary>The salt every VM shares under (one salt for all; uniform pages under <see cref="ShareSaltMode.UniformPagesAcrossVms"/>).</summary>
    public const ulong CommonSalt = 0;

    /// <summary>The salt of <paramref name="page"/> of a VM (or scan source) whose own salt is <paramref name="ownSalt"/>.</summary>
    public static ulong SaltOf(ShareSaltMode mode, ulong ownSalt, ReadOnlySpan<byte> page) =>
        mode == ShareSaltMode.UniformPagesAcrossVms && IsUniform(page) ? CommonSalt : ownSalt;

    /// <summary>True when every byte of <paramref name="page"/> is 0x00, or every byte is 0xFF.</summary>
    /// <remarks>Reads one byte of most pages: a page that starts with neither value is not uniform.</remarks>
    public static bool IsUniform(ReadOnlySpan<byte> page) =>
        !page.IsEmpty && page[0] is 0x00 or 0xFF && !page.ContainsAnyExcept(page[0]);
}
