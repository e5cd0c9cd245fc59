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
internal sealed class ManagedGuest(VmId id, QemuGuest guest, BalloonActuator balloon, GuestPager? pager)
{
    public VmId Id { get; } = id;

    public QemuGuest Guest { get; } = guest;

    public BalloonActuator Balloon { get; } = balloon;

    public GuestPager? Pager { get; } = pager;

    public int ConfiguredPages => Guest.Options.MemoryMiB * 256;

    public bool Alive { get; set; } = true;

    public bool Running { get; set; } = true;

    public double ConsumedPages { get; set; }

    public long OverheadPages { get; set; }

    public int ReferencedPages { get; set; }

    public int HostSwappedPages { get; set; }

    public int BalloonPages { get; set; }

    public long KsmMergingPages { get; set; }

    public long KsmZeroPages { get; set; }

    public TimeSpan ExecutionTime { get; set; }

    public BalloonProgress BalloonProgress { get; set; } = BalloonProgress.NoTarget;

    /// <summary>The balloon the policy asked for, in pages; null before its first request.</summary>
    public int? WantedBalloonPages { get; set; }

    public bool WantedBlocked { get; set; }

    public bool Blocked { get; set; }
}
