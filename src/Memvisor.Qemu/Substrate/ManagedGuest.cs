/*
 * One QEMU guest as the managing substrate keeps it: the guest, its balloon actuator and pager, the
 * figures of its last sample (in pages, so that the policy's synchronous reads are array lookups),
 * and what the policy asked for that is not yet sent (a balloon target, a block).
 */
using Memvisor.Core.Memory;
using Memvisor.Qemu.Actuation;
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Launch;

namespace Memvisor.Qemu.Substrate;

/// <summary>A guest under the policy.</summary>
internal sealed class ManagedGuest(VmId id, IQemuVm guest, BalloonActuator balloon, GuestPager? pager)
{
    public VmId Id { get; } = id;

    public IQemuVm Guest { get; } = guest;

    public BalloonActuator Balloon { get; } = balloon;

    public GuestPager? Pager { get; } = pager;

    public int ConfiguredPages => Guest.MemoryMiB * 256;

    /// <summary>Guest-RAM RSS at the last sample, in pages.</summary>
    public long RssPages { get; set; }

    /// <summary>Pages advised out (MADV_PAGEOUT) that RSS does not show gone yet: the kernel writes them out asynchronously.</summary>
    public PageOutInFlight InFlight { get; } = new();

    /// <summary>The balloon driver's statistics at the last sample.</summary>
    public Qmp.GuestMemoryStats? Stats { get; set; }

    /// <summary>Whether guest-statistics polling was asked for (once, at the first refresh).</summary>
    public bool StatsPollingAsked { get; set; }

    /// <summary>Referenced pages of the last completed measuring period.</summary>
    public int LastPeriodReferencedPages { get; set; }

    /// <summary>Wall time of the last smaps read plus the last clear_refs.</summary>
    public TimeSpan MeasureCost { get; set; }

    /// <summary>Wall time of the last clear_refs.</summary>
    public TimeSpan ClearCost { get; set; }

    /// <summary>Pages KSM merged with the zero page, if the kernel says.</summary>
    public long? KsmZeroPages { get; set; }

    /// <summary>Fault lines said for this guest (each said once).</summary>
    public HashSet<string> SaidFaults { get; } = [];

    public bool Alive { get; set; } = true;

    public bool Running { get; set; } = true;

    public double ConsumedPages { get; set; }

    public long OverheadPages { get; set; }

    public int ReferencedPages { get; set; }

    public int HostSwappedPages { get; set; }

    public int BalloonPages { get; set; }

    public long KsmMergingPages { get; set; }

    /// <summary>Pages ksmd merged (into KSM pages or the zero page) at the last sample; null when the kernel does not say.</summary>
    public long? MergedPages { get; set; }

    /// <summary><see cref="MergedPages"/> when the current measuring period began (see MergedLookTouched); null until known.</summary>
    public long? MergedPagesAtPeriodStart { get; set; }

    /// <summary>Running time while QEMU runs and the guest is not blocked, less what it stood waiting for its own disk (GuestStall).</summary>
    public TimeSpan ExecutionTime { get; set; }

    /// <summary>The guest's stalled share of time, from its agent's reports.</summary>
    public GuestStall Stall { get; } = new();

    public BalloonProgress BalloonProgress { get; set; } = BalloonProgress.NoTarget;

    /// <summary>The balloon the policy asked for, in pages; null before its first request.</summary>
    public int? WantedBalloonPages { get; set; }

    public bool WantedBlocked { get; set; }

    public bool Blocked { get; set; }
}
