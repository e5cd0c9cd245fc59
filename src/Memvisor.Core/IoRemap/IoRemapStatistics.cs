/*
 * Hot I/O page remapping (paper §7): what a transfer did, and the counters per VM and per host.
 */
namespace Memvisor.Core.IoRemap;

/// <summary>Which way a DMA transfer moves bytes.</summary>
public enum IoDirection : byte
{
    /// <summary>The device reads the guest page (a network transmit, a disk write).</summary>
    Transmit,

    /// <summary>The device writes the guest page (a network receive, a disk read).</summary>
    Receive,
}

/// <summary>How a DMA transfer reached the guest page.</summary>
public enum DmaPath : byte
{
    /// <summary>The page is in low memory: the device addressed it directly, no copy.</summary>
    Direct,

    /// <summary>The page is in high memory: the bytes were copied through a low bounce page.</summary>
    Bounced,
}

/// <summary>Hot I/O remapping counters of one VM, or of the host (all VMs, including powered-off ones).</summary>
public sealed record IoRemapStats
{
    /// <summary>DMA transfers to or from guest pages.</summary>
    public required long Transfers { get; init; }

    /// <summary>Transfers to pages in low memory (no copy).</summary>
    public required long DirectTransfers { get; init; }

    /// <summary>Transfers copied through a low bounce page, because the guest page was in high memory.</summary>
    public required long BounceCopies { get; init; }

    /// <summary>Direct transfers to pages that were in low memory because they had been remapped there: copies remapping saved.</summary>
    public required long CopiesAvoided { get; init; }

    /// <summary>Hot pages moved from high to low memory.</summary>
    public required long Remaps { get; init; }

    /// <summary>Cold pages moved from low to high memory because low memory ran short.</summary>
    public required long Demotions { get; init; }

    /// <summary>Remaps not done because low memory was at its reserve with no cold page to move out.</summary>
    public required long RemapsDeferred { get; init; }

    /// <summary>Hot shared pages given a private copy in low memory (their sharing broken) to be remapped.</summary>
    public required long SharedPagesUnshared { get; init; }

    /// <summary>Transfers that found the page not resident (untouched, swapped, ballooned, or shared for a receive) and faulted it in.</summary>
    public required long DeviceFaults { get; init; }
}

/// <summary>The host's zones and hot I/O remapping counters at one moment.</summary>
public sealed record IoRemapHostStats
{
    /// <summary>Machine pages below the DMA boundary.</summary>
    public required int LowZonePages { get; init; }

    /// <summary>Machine pages above the DMA boundary.</summary>
    public required int HighZonePages { get; init; }

    /// <summary>Free low pages.</summary>
    public required int FreeLowPages { get; init; }

    /// <summary>Free high pages.</summary>
    public required int FreeHighPages { get; init; }

    /// <summary>The low-memory reserve in force.</summary>
    public required int LowReservePages { get; init; }

    /// <summary>Bytes of per-page copy counters (2 bytes per guest page of each VM that has done I/O).</summary>
    public required long CounterBytes { get; init; }

    /// <summary>The counters summed over all VMs since the host started.</summary>
    public required IoRemapStats Totals { get; init; }
}
