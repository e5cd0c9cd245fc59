using Memvisor.Core.Allocation;
using Memvisor.Core.Memory;

namespace Memvisor.Core.Host;

/// <summary>
/// A VM's memory configuration as users give it (paper §6.1): min, max, shares, overhead, balloon
/// limit and share salt. <see cref="Validate"/> names the field and the rule that is broken.
/// </summary>
public sealed record VmConfig
{
    /// <summary>A name for tables and errors.</summary>
    public required string Name { get; init; }

    /// <summary>Configured memory (max), pages.</summary>
    public required int MaxPages { get; init; }

    /// <summary>Guaranteed memory (min), pages.</summary>
    public int MinPages { get; init; }

    /// <summary>Shares (low/normal/high presets per MB of configured memory, or a number).</summary>
    public Shares Shares { get; init; } = Shares.Normal;

    /// <summary>Overhead memory in pages; null: <see cref="DefaultOverheadPages"/>.</summary>
    public int? OverheadPages { get; init; }

    /// <summary>Balloon cap in pages (sched.mem.maxmemctl); null: the host's percentage only.</summary>
    public int? BalloonMaxPages { get; init; }

    /// <summary>Page-sharing salt; null: the host's default.</summary>
    public ulong? ShareSalt { get; init; }

    /// <summary>
    /// Overhead when none is given: a 4 MB frame buffer plus pmap, shadow page tables and VMM data,
    /// modelled as 24 MB + 8 MB per GB of configured memory. The paper reports about 32 MB for a
    /// typical VM, more above 1 GB: this gives 26 MB at 256 MB, 32 MB at 1 GB, 56 MB at 4 GB.
    /// </summary>
    public static int DefaultOverheadPages(int maxPages) =>
        (int)PageGeometry.PagesFromMegabytes(24 + (8 * PageGeometry.MegabytesFromPages(maxPages) / 1024));

    /// <summary>The overhead this VM is charged.</summary>
    public int EffectiveOverheadPages => OverheadPages ?? DefaultOverheadPages(MaxPages);

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and rule when invalid.</summary>
    public void Validate()
    {
        ToMemoryConfig().Validate();
        if (BalloonMaxPages is < 0)
        {
            throw new ArgumentException($"VM '{Name}' balloon limit: {BalloonMaxPages} pages; must not be negative.");
        }
    }

    /// <summary>The part the memory manager needs.</summary>
    public VmMemoryConfig ToMemoryConfig() => new()
    {
        Name = Name,
        MaxPages = MaxPages,
        MinPages = MinPages,
        OverheadPages = EffectiveOverheadPages,
        ShareSalt = ShareSalt,
    };
}
