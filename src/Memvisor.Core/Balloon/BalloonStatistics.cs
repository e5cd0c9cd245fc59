using Memvisor.Core.Memory;

namespace Memvisor.Core.Balloon;

/// <summary>Balloon report entries rejected, by reason (a snapshot).</summary>
public sealed record BalloonRejections
{
    /// <summary>PPNs beyond the VM's configured memory.</summary>
    public long OutOfRange { get; init; }

    /// <summary>Entries of reports that claimed another VM.</summary>
    public long ForeignVm { get; init; }

    /// <summary>PPNs listed twice in one report.</summary>
    public long Duplicate { get; init; }

    /// <summary>Inflates of pages already in the balloon.</summary>
    public long AlreadyBallooned { get; init; }

    /// <summary>Deflates of pages not in the balloon.</summary>
    public long NotBallooned { get; init; }

    /// <summary>Inflates beyond the balloon limit.</summary>
    public long OverLimit { get; init; }

    /// <summary>Inflates beyond the target (within the limit).</summary>
    public long OverTarget { get; init; }

    /// <summary>Entries beyond the per-report maximum.</summary>
    public long ReportTooLarge { get; init; }

    /// <summary>Entries of reports sent after the VM was powered off.</summary>
    public long VmPoweredOff { get; init; }

    /// <summary>All rejected entries.</summary>
    public long Total => OutOfRange + ForeignVm + Duplicate + AlreadyBallooned + NotBallooned + OverLimit + OverTarget + ReportTooLarge + VmPoweredOff;

    /// <summary>The count for one reason (0 for <see cref="BalloonVerdict.Accepted"/>).</summary>
    public long this[BalloonVerdict reason] => reason switch
    {
        BalloonVerdict.OutOfRange => OutOfRange,
        BalloonVerdict.ForeignVm => ForeignVm,
        BalloonVerdict.Duplicate => Duplicate,
        BalloonVerdict.AlreadyBallooned => AlreadyBallooned,
        BalloonVerdict.NotBallooned => NotBallooned,
        BalloonVerdict.OverLimit => OverLimit,
        BalloonVerdict.OverTarget => OverTarget,
        BalloonVerdict.ReportTooLarge => ReportTooLarge,
        BalloonVerdict.VmPoweredOff => VmPoweredOff,
        _ => 0,
    };

    internal static BalloonRejections From(long[] counts) => new()
    {
        OutOfRange = counts[(int)BalloonVerdict.OutOfRange],
        ForeignVm = counts[(int)BalloonVerdict.ForeignVm],
        Duplicate = counts[(int)BalloonVerdict.Duplicate],
        AlreadyBallooned = counts[(int)BalloonVerdict.AlreadyBallooned],
        NotBallooned = counts[(int)BalloonVerdict.NotBallooned],
        OverLimit = counts[(int)BalloonVerdict.OverLimit],
        OverTarget = counts[(int)BalloonVerdict.OverTarget],
        ReportTooLarge = counts[(int)BalloonVerdict.ReportTooLarge],
        VmPoweredOff = counts[(int)BalloonVerdict.VmPoweredOff],
    };
}

/// <summary>One VM's balloon at one moment: what the reclamation policy and the reports need.</summary>
public sealed record BalloonVmStats
{
    /// <summary>The VM.</summary>
    public required VmId Vm { get; init; }

    /// <summary>What the driver last said about itself.</summary>
    public required BalloonDriverStatus DriverStatus { get; init; }

    /// <summary>False when the balloon has been away from its target without moving toward it for longer than the deadline.</summary>
    public required bool IsResponsive { get; init; }

    /// <summary>Pages in the balloon (pages in Ballooned state in the pmap).</summary>
    public required int SizePages { get; init; }

    /// <summary>The size the host asks for.</summary>
    public required int TargetPages { get; init; }

    /// <summary>The most the balloon may hold: min(MaxPercent of configured memory, MaxPages).</summary>
    public required int LimitPages { get; init; }

    /// <summary>How much more the balloon can take now: limit - size, or 0 when the driver is absent, disabled or unresponsive.</summary>
    public required int DeliverablePages { get; init; }

    /// <summary>Time since the balloon last moved toward its target (or the target was last set or met).</summary>
    public required TimeSpan SinceProgress { get; init; }

    /// <summary>Reports received.</summary>
    public required long Reports { get; init; }

    /// <summary>Pages accepted into the balloon.</summary>
    public required long PagesInflated { get; init; }

    /// <summary>Pages accepted out of the balloon.</summary>
    public required long PagesDeflated { get; init; }

    /// <summary>Entries rejected, by reason.</summary>
    public required BalloonRejections Rejections { get; init; }
}
