namespace Memvisor.Simulation.Guests;

/// <summary>What a simulated guest did and what it cost (cumulative; take differences for rates). A record: <c>counters with { }</c> is a snapshot, and snapshots compare by value.</summary>
public sealed record GuestCounters
{
    /// <summary>Work units the workload completed (accesses, file operations, pages zeroed: see the workload).</summary>
    public long WorkUnits { get; internal set; }

    /// <summary>Accesses to guest pages by the workload (each checked against the guest's record).</summary>
    public long Accesses { get; internal set; }

    /// <summary>Accesses by background work: kernel activity, the zero-page thread, reclaim reading pages it writes out.</summary>
    public long BackgroundAccesses { get; internal set; }

    /// <summary>DMA transfers of whole pages by the guest's network card (each checked against the guest's record).</summary>
    public long DmaTransfers { get; internal set; }

    /// <summary>DMA transfers copied through a low bounce buffer because the page was in high memory.</summary>
    public long DmaBounced { get; internal set; }

    /// <summary>Reads whose bytes differ from what the guest last wrote there: lost data. Must stay 0.</summary>
    public long DataMismatches { get; internal set; }

    /// <summary>File reads served from the page cache.</summary>
    public long PageCacheHits { get; internal set; }

    /// <summary>File pages read from the virtual disk.</summary>
    public long PageCacheMisses { get; internal set; }

    /// <summary>File pages read ahead of a miss in the same I/O.</summary>
    public long ReadaheadPages { get; internal set; }

    /// <summary>Windows: accesses that took a page back from the standby list (no I/O).</summary>
    public long StandbySoftFaults { get; internal set; }

    /// <summary>Windows: standby pages given up for other uses (their cached contents dropped).</summary>
    public long StandbyRepurposed { get; internal set; }

    /// <summary>Dirty file pages written back to the virtual disk.</summary>
    public long FileWriteBacks { get; internal set; }

    /// <summary>First touches of anonymous memory (guest zero-fill faults).</summary>
    public long GuestPageFaults { get; internal set; }

    /// <summary>Linux: reads of never-written anonymous memory that mapped the kernel's zero page instead of a frame.</summary>
    public long ZeroPageMaps { get; internal set; }

    /// <summary>Anonymous pages the guest wrote to its own swap.</summary>
    public long GuestSwapOuts { get; internal set; }

    /// <summary>Anonymous pages the guest read back from its own swap.</summary>
    public long GuestSwapIns { get; internal set; }

    /// <summary>Double paging: pages the host had swapped out that the guest then read in only to write them to its own disk (paper §3.1).</summary>
    public long DoublePagingReads { get; internal set; }

    /// <summary>Pages the Windows zero-page thread zeroed.</summary>
    public long PagesZeroedByThread { get; internal set; }

    /// <summary>Simulated time the workload computed.</summary>
    public long CpuNanoseconds { get; internal set; }

    /// <summary>Simulated time the workload waited for host faults (zero fill, copy-on-write, host swap-in, ...).</summary>
    public long HostStallNanoseconds { get; internal set; }

    /// <summary>Simulated time the workload waited for its guest: guest faults and virtual disk I/O (page-cache misses, guest swap, write-back).</summary>
    public long GuestStallNanoseconds { get; internal set; }

    /// <summary>Simulated time the host's sharing scanner took from the VM's CPU (hashing and comparing its pages).</summary>
    public long ScannerNanoseconds { get; internal set; }

    /// <summary>Simulated time the host did not run the VM (<see cref="GuestOs.Deschedule"/>).</summary>
    public long DescheduledNanoseconds { get; internal set; }

    /// <summary>Simulated time background work would have taken (not charged to the workload: it runs on otherwise idle CPU).</summary>
    public long BackgroundNanoseconds { get; internal set; }
}
