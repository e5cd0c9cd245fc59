using Memvisor.Core.Memory;

namespace Memvisor.Core.Balloon;

/// <summary>What the guest's balloon driver says about itself. Written by the guest: a hint, never trusted.</summary>
public enum BalloonDriverStatus : byte
{
    /// <summary>No driver (not installed, or not yet loaded during boot). The state of a new channel.</summary>
    NotInstalled = 0,

    /// <summary>A driver is loaded but switched off in the guest.</summary>
    Disabled = 1,

    /// <summary>A driver is loaded and follows its target.</summary>
    Active = 2,
}

/// <summary>The host's answer to one entry of a balloon report: accepted, or the reason it was rejected.</summary>
public enum BalloonVerdict : byte
{
    /// <summary>The page went into (inflate) or out of (deflate) the balloon.</summary>
    Accepted = 0,

    /// <summary>The PPN is beyond the VM's configured memory.</summary>
    OutOfRange,

    /// <summary>The report claimed to come from another VM than the one the channel belongs to.</summary>
    ForeignVm,

    /// <summary>The PPN was listed earlier in the same report (the first listing got its own verdict).</summary>
    Duplicate,

    /// <summary>Inflate: the page is already in the balloon.</summary>
    AlreadyBallooned,

    /// <summary>Deflate: the page is not in the balloon.</summary>
    NotBallooned,

    /// <summary>Inflate: the balloon would grow beyond its limit (65% of configured memory by default, or the VM's cap), or ballooned and swapped pages together beyond max - min (the VM's min).</summary>
    OverLimit,

    /// <summary>Inflate: the balloon is at its target, and the page would go beyond it (but not beyond the limit).</summary>
    OverTarget,

    /// <summary>The report carried more entries than <see cref="BalloonOptions.MaxPagesPerReport"/>; this is one of the excess.</summary>
    ReportTooLarge,

    /// <summary>The VM the channel belonged to is powered off.</summary>
    VmPoweredOff,
}

/// <summary>The outcome of one balloon report.</summary>
/// <param name="Accepted">Entries that changed the balloon.</param>
/// <param name="Rejected">Entries rejected (each counted under its reason); they changed nothing.</param>
public readonly record struct BalloonReportResult(int Accepted, int Rejected);

/// <summary>
/// The paravirtual channel between the host and the balloon driver of one VM: the "shared page". The
/// host writes the target (through <see cref="BalloonHost.SetTarget"/>); the guest side (the simulator's
/// driver, or the KVM substrate copying the guest's shared page) polls the target, writes the driver's
/// status and submits inflate and deflate reports. Each report carries the VM the driver claims to be.
/// Everything the guest writes is validated by <see cref="BalloonHost"/> before it changes anything.
/// </summary>
public sealed class BalloonChannel
{
    private readonly BalloonHost _host;

    internal BalloonChannel(BalloonHost host, VmId vm, long incarnation, VmMemoryConfig config, BalloonOptions options, int limitPages)
    {
        _host = host;
        Vm = vm;
        Incarnation = incarnation;
        Config = config;
        Options = options;
        LimitPages = limitPages;
        Seen = new ulong[(config.MaxPages + 63) / 64];
        IsOpen = true;
    }

    /// <summary>The VM this channel belongs to.</summary>
    public VmId Vm { get; }

    /// <summary>The power-on of <see cref="Vm"/> it belongs to (<see cref="MemoryManager.IncarnationOf"/>): a later VM given the same id never gets it.</summary>
    internal long Incarnation { get; }

    /// <summary>The balloon size the host asks for, in pages. The guest driver polls it (about once per second).</summary>
    public int TargetPages { get; internal set; }

    /// <summary>The driver's own account of itself: written by the guest, read by the host as a hint.</summary>
    public BalloonDriverStatus DriverStatus { get; set; }

    /// <summary>False once the VM is powered off: every later report is rejected.</summary>
    public bool IsOpen { get; internal set; }

    /// <summary>The guest gave these pages to its balloon: the host takes their backing.</summary>
    /// <param name="claimedVm">The VM the driver says it belongs to.</param>
    /// <param name="ppns">The pages, as the guest listed them.</param>
    public BalloonReportResult Inflate(VmId claimedVm, ReadOnlySpan<Ppn> ppns) => _host.Process(this, claimedVm, ppns, [], inflate: true);

    /// <summary>As <see cref="Inflate(VmId, ReadOnlySpan{Ppn})"/>, and writes each entry's verdict to <paramref name="verdicts"/> (at least as long as <paramref name="ppns"/>).</summary>
    /// <remarks>A driver must give a page the host did not accept back to the guest: it is not in the balloon.</remarks>
    public BalloonReportResult Inflate(VmId claimedVm, ReadOnlySpan<Ppn> ppns, Span<BalloonVerdict> verdicts) => _host.Process(this, claimedVm, ppns, verdicts, inflate: true);

    /// <summary>The balloon gives these pages back to the guest.</summary>
    /// <param name="claimedVm">The VM the driver says it belongs to.</param>
    /// <param name="ppns">The pages, as the guest listed them.</param>
    public BalloonReportResult Deflate(VmId claimedVm, ReadOnlySpan<Ppn> ppns) => _host.Process(this, claimedVm, ppns, [], inflate: false);

    /// <summary>As <see cref="Deflate(VmId, ReadOnlySpan{Ppn})"/>, and writes each entry's verdict to <paramref name="verdicts"/> (at least as long as <paramref name="ppns"/>).</summary>
    public BalloonReportResult Deflate(VmId claimedVm, ReadOnlySpan<Ppn> ppns, Span<BalloonVerdict> verdicts) => _host.Process(this, claimedVm, ppns, verdicts, inflate: false);

    // The host's private record of the VM, kept with the channel (one object per VM).
    internal VmMemoryConfig Config { get; }

    internal BalloonOptions Options { get; }

    internal int LimitPages { get; }

    /// <summary>Pages in Ballooned state in the pmap, as of the host's last look.</summary>
    internal int SizePages { get; set; }

    /// <summary>A target fixed by the administrator (<see cref="BalloonHost.PinTarget"/>), which the policy's targets do not change; null: none.</summary>
    internal int? PinnedTargetPages { get; set; }

    /// <summary>Host timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the last progress toward the target, or of the moment the target was last set or met.</summary>
    internal long LastProgress { get; set; }

    /// <summary>One bit per PPN: listed in the report being processed (cleared after each report).</summary>
    internal ulong[] Seen { get; }

    internal long[] Rejections { get; } = new long[BalloonHost.VerdictCount];

    internal long Reports { get; set; }

    internal long PagesInflated { get; set; }

    internal long PagesDeflated { get; set; }
}
