/*
 * What one guest is: its name, memory (anonymous, or backed by a file on disk), image, accelerator,
 * whether KSM may merge its memory, and the settings its agent runs (passed on the kernel command line as memvisor.KEY=VALUE; see agent.c).
 * Validate() finds every mistake before anything starts and names it in one line.
 */
using System.Text.RegularExpressions;
using Memvisor.Qemu.Images;

namespace Memvisor.Qemu.Launch;

/// <summary>The configuration of one QEMU guest.</summary>
public sealed partial record QemuGuestOptions
{
    /// <summary>The guest's name (letters, digits, '-', '_'): in QEMU's -name and the run folder.</summary>
    public required string Name { get; init; }

    /// <summary>Guest memory in MiB (-m).</summary>
    public required int MemoryMiB { get; init; }

    /// <summary>The kernel + initramfs.</summary>
    public required GuestImage Image { get; init; }

    /// <summary>The accelerator asked for; KVM falls back to TCG with a reason when it is not usable.</summary>
    public Accelerator Accelerator { get; init; } = Accelerator.Tcg;

    /// <summary>QEMU marks guest RAM mergeable for KSM (-machine mem-merge=on); false opts the VM out.</summary>
    public bool MemMerge { get; init; } = true;

    /// <summary>Start QEMU with THP disabled so that smaps "Referenced" counts 4 KiB pages.</summary>
    public bool DisableTransparentHugePages { get; init; } = true;

    /// <summary>TCG's translation cache in MiB (QEMU's default is much larger; 32 trims ~15 MB of RSS).</summary>
    public int TcgCacheMiB { get; init; } = 32;

    /// <summary>
    /// A swap disk for the guest in MiB (0: none): a sparse file in the run folder, attached as the
    /// first virtio disk and enabled by /init. Without guest swap a balloon stalls against memory the
    /// guest is using; with it the guest pages out its cold pages.
    /// </summary>
    public int GuestSwapMiB { get; init; }

    /// <summary>
    /// A scratch data disk in MiB (0: none): a sparse file of zeros in the run folder, attached as the
    /// virtio disk after the swap disk (the guest's /dev/vda without guest swap, /dev/vdb with it), for
    /// workloads that read a block device through the guest's page cache (the agent's mode=file).
    /// </summary>
    public int DataDiskMiB { get; init; }

    /// <summary>
    /// Guest RAM is a shared mapping of a file on disk (ram.img in the run folder, created sparse at the
    /// guest's memory size and removed with the folder) instead of QEMU's anonymous memory: the host can
    /// then page the guest out without host swap, by writing its pages to that file and dropping them
    /// (in effect ESX's per-VM swap file). KSM never merges file pages, so MemMerge has no effect then.
    /// </summary>
    public bool RamBackingFile { get; init; }

    /// <summary>The guest's device name of the data disk.</summary>
    public string DataDiskDevice => GuestSwapMiB > 0 ? "/dev/vdb" : "/dev/vda";

    /// <summary>The agent's settings, e.g. mode=toucher, alloc_mib=64, phases=16:5,32:0.</summary>
    public IReadOnlyDictionary<string, string> Agent { get; init; } = new Dictionary<string, string>();

    /// <summary>The problem with these options in one line, or null when they are valid.</summary>
    public string? Validate()
    {
        if (!NamePattern().IsMatch(Name))
        {
            return $"guest name '{Name}' must be 1-32 letters, digits, '-' or '_'";
        }

        if (MemoryMiB is < 64 or > 65536)
        {
            return $"guest {Name}: memory {MemoryMiB} MiB is outside 64..65536 MiB";
        }

        if (TcgCacheMiB is < 1 or > 4096)
        {
            return $"guest {Name}: TCG cache {TcgCacheMiB} MiB is outside 1..4096 MiB";
        }

        if (GuestSwapMiB is < 0 or > 65536)
        {
            return $"guest {Name}: guest swap {GuestSwapMiB} MiB is outside 0..65536 MiB";
        }

        if (DataDiskMiB is < 0 or > 65536)
        {
            return $"guest {Name}: data disk {DataDiskMiB} MiB is outside 0..65536 MiB";
        }

        if (GuestSwapMiB > 0 && Agent.TryGetValue("file", out var file) && file.StartsWith("/dev/vda", StringComparison.Ordinal))
        {
            return $"guest {Name}: the agent's file {file} is the guest's swap disk";
        }

        foreach (var (key, value) in Agent)
        {
            if (!AgentKeyPattern().IsMatch(key) || !AgentValuePattern().IsMatch(value))
            {
                return $"guest {Name}: agent setting '{key}={value}' may hold only letters, digits and _ . : , / - (no spaces)";
            }
        }

        if (!File.Exists(Image.KernelPath) || !File.Exists(Image.InitrdPath))
        {
            return $"guest {Name}: image {Image.Folder} is incomplete (run `memvisor host image`)";
        }

        return null;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[a-z_]{1,32}$")]
    private static partial Regex AgentKeyPattern();

    [GeneratedRegex("^[A-Za-z0-9_.:,/-]{1,200}$")]
    private static partial Regex AgentValuePattern();
}
