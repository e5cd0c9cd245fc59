/*
 * A scenario: one host, its VMs, their guests and workloads, how long to run and with which seed.
 * The same model drives every substrate (`memvisor simulate` today); it is plain data, validated by
 * ScenarioReader, written by ScenarioWriter, and knows nothing of any substrate. Sizes are in MiB as
 * users write them. Closed sets are enums (ScenarioKinds.cs; Core's own where Core has the concept);
 * their names in files are in ScenarioNames.
 */
using System.Text.Json.Serialization;
using Memvisor.Core.Allocation;
using Memvisor.Core.Memory;

namespace Memvisor.Scenarios;

/// <summary>A whole scenario. As JSON (any serializer) it is written and read in the schema's names (ScenarioWriter, ScenarioReader).</summary>
[JsonConverter(typeof(ScenarioJsonConverter))]
public sealed record Scenario
{
    /// <summary>A name for reports.</summary>
    public string Name { get; init; } = "scenario";

    /// <summary>Free text for reports.</summary>
    public string Description { get; init; } = "";

    /// <summary>Seed of every random choice.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Simulated (or real) seconds to run.</summary>
    public double DurationSeconds { get; init; } = 300;

    /// <summary>Seconds between two rows of the time series.</summary>
    public double SampleIntervalSeconds { get; init; } = 1;

    /// <summary>The host.</summary>
    public HostSpec Host { get; init; } = new();

    /// <summary>The VMs, in power-on order.</summary>
    public IReadOnlyList<VmSpec> Vms { get; init; } = [];

    /// <summary>What each event costs a simulated guest (the simulator's defaults where not given).</summary>
    public LatencySpec Latencies { get; init; } = new();
}

/// <summary>
/// Simulated latencies in microseconds; null keeps the simulator's default (docs/simulator.md lists them).
/// Only the simulator reads them: on KVM the costs are real.
/// </summary>
public sealed record LatencySpec
{
    /// <summary>A host fault that only remaps a resident page (sampling trap, share comparison).</summary>
    public double? MinorFaultMicroseconds { get; init; }

    /// <summary>A host fault on a first touch (the host zeroes a page).</summary>
    public double? ZeroFillFaultMicroseconds { get; init; }

    /// <summary>A copy-on-write break of a shared page.</summary>
    public double? CopyOnWriteFaultMicroseconds { get; init; }

    /// <summary>A touch of a page the balloon held.</summary>
    public double? BalloonTouchFaultMicroseconds { get; init; }

    /// <summary>A host swap-in: the host swap device's latency per request (swap-ins also wait for what is queued).</summary>
    public double? HostSwapInMicroseconds { get; init; }

    /// <summary>The host swap device's bandwidth, MB/s.</summary>
    public double? SwapDeviceMBPerSecond { get; init; }

    /// <summary>A guest page fault that needs no I/O.</summary>
    public double? GuestMinorFaultMicroseconds { get; init; }

    /// <summary>A page read from the guest's virtual disk.</summary>
    public double? GuestDiskReadMicroseconds { get; init; }

    /// <summary>A page written to the guest's virtual disk (amortised).</summary>
    public double? GuestDiskWriteMicroseconds { get; init; }

    /// <summary>A DMA transfer copied through a bounce buffer.</summary>
    public double? BounceCopyMicroseconds { get; init; }
}

/// <summary>The host's memory and the knobs of every mechanism.</summary>
public sealed record HostSpec
{
    /// <summary>Machine memory, MiB.</summary>
    public double MemoryMB { get; init; } = 1024;

    /// <summary>Machine memory below which DMA devices can reach, MiB.</summary>
    public double DmaBoundaryMB { get; init; } = 4096;

    /// <summary>Swap area, MiB.</summary>
    public double SwapMB { get; init; } = 4096;

    /// <summary>Folder for the swap file (null: the temp folder).</summary>
    public string? SwapDirectory { get; init; }

    /// <summary>Idle memory tax rate tau in [0, 1).</summary>
    public double IdleTax { get; init; } = 0.75;

    /// <summary>Changes of the idle tax rate during the run, in increasing order of time (the paper's Figure 7 raises tau mid-run).</summary>
    public IReadOnlyList<IdleTaxChange> IdleTaxChanges { get; init; } = [];

    /// <summary>Seconds between two reallocations (Mem.BalancePeriod).</summary>
    public double BalancePeriodSeconds { get; init; } = 15;

    /// <summary>Free-memory thresholds, percent of machine memory.</summary>
    public double HighPercent { get; init; } = 6;

    /// <summary>Soft threshold, percent.</summary>
    public double SoftPercent { get; init; } = 4;

    /// <summary>Hard threshold, percent.</summary>
    public double HardPercent { get; init; } = 2;

    /// <summary>Low threshold, percent.</summary>
    public double LowPercent { get; init; } = 1;

    /// <summary>Whether content-based sharing runs.</summary>
    public bool Sharing { get; init; } = true;

    /// <summary>Pages scanned per second per VM.</summary>
    public double ShareScanPerVmPagesPerSecond { get; init; } = 50;

    /// <summary>Pages scanned per second for the whole host.</summary>
    public double ShareScanHostPagesPerSecond { get; init; } = 200;

    /// <summary>Page-sharing salts.</summary>
    public ShareSaltMode Salting { get; init; } = ShareSaltMode.SingleSalt;

    /// <summary>Working-set sampling period, seconds of VM time.</summary>
    public double SamplingPeriodSeconds { get; init; } = 30;

    /// <summary>Pages sampled per period.</summary>
    public int SamplingPages { get; init; } = 100;

    /// <summary>
    /// The active estimate of a VM before its first sampling period ends, percent of its memory. 100 (the
    /// default) does not tax a new VM's memory as idle on no evidence; lower values show only what is measured.
    /// </summary>
    public double SamplingInitialActivePercent { get; init; } = 100;

    /// <summary>Balloon limit, percent of configured memory (Mem.CtlMaxPercent).</summary>
    public double BalloonMaxPercent { get; init; } = 65;

    /// <summary>Whether hot I/O page remapping runs.</summary>
    public bool IoRemap { get; init; } = true;

    /// <summary>Bounce copies of a page before it is remapped to low memory.</summary>
    public int IoRemapThresholdCopies { get; init; } = 16;
}

/// <summary>One VM.</summary>
public sealed record VmSpec
{
    /// <summary>Unique name.</summary>
    public required string Name { get; init; }

    /// <summary>Configured memory (max), MiB.</summary>
    public required double MemoryMB { get; init; }

    /// <summary>Guaranteed memory (min), MiB.</summary>
    public double MinMB { get; init; }

    /// <summary>Shares: a preset (low, normal, high) or a number.</summary>
    public Shares Shares { get; init; } = Shares.Normal;

    /// <summary>Overhead memory, MiB (null: computed from the configured size).</summary>
    public double? OverheadMB { get; init; }

    /// <summary>The guest operating system.</summary>
    public GuestFlavour Guest { get; init; } = GuestFlavour.Linux;

    /// <summary>Guest image; VMs of the same image hold identical kernel and library pages.</summary>
    public string Image { get; init; } = "default";

    /// <summary>The balloon driver.</summary>
    public BalloonDriverSpec BalloonDriver { get; init; } = BalloonDriverSpec.Active;

    /// <summary>Per-VM balloon cap, MiB (sched.mem.maxmemctl); null: the host's percentage only.</summary>
    public double? BalloonMaxMB { get; init; }

    /// <summary>
    /// A fixed balloon target, MiB: the host keeps the balloon at this size whatever its policy would ask
    /// (as in the paper's Figure 2, a 256 MB VM ballooned down to a smaller size). Null: the policy sets
    /// the target. At least 0, below <see cref="MemoryMB"/> and within the balloon limit (the host's
    /// balloonMaxPercent of memoryMB, and <see cref="BalloonMaxMB"/>).
    /// </summary>
    public double? BalloonTargetMB { get; init; }

    /// <summary>Explicit page-sharing salt (sched.mem.pshare.salt).</summary>
    public ulong? ShareSalt { get; init; }

    /// <summary>Simulated second at which the VM powers on.</summary>
    public double PowerOnSeconds { get; init; }

    /// <summary>Simulated second at which the VM powers off (null: runs to the end).</summary>
    public double? PowerOffSeconds { get; init; }

    /// <summary>What the VM runs.</summary>
    public WorkloadSpec Workload { get; init; } = new();
}

/// <summary>One phase of a workload: from <see cref="StartSeconds"/> on, the working set is <see cref="WorkingSetMB"/>.</summary>
public sealed record WorkloadPhase(double StartSeconds, double WorkingSetMB);

/// <summary>What a VM runs.</summary>
public sealed record WorkloadSpec
{
    /// <summary>What runs.</summary>
    public WorkloadKind Kind { get; init; } = WorkloadKind.Idle;

    /// <summary>Working set (toucher, compute), MiB.</summary>
    public double WorkingSetMB { get; init; } = 64;

    /// <summary>Access distribution (toucher).</summary>
    public AccessPattern Distribution { get; init; } = AccessPattern.Uniform;

    /// <summary>Zipf exponent.</summary>
    public double ZipfExponent { get; init; } = 1.0;

    /// <summary>Changes of the working set over time (toucher).</summary>
    public IReadOnlyList<WorkloadPhase> Phases { get; init; } = [];

    /// <summary>File set size (fileserver), MiB.</summary>
    public double FileSetMB { get; init; } = 256;

    /// <summary>Clients (fileserver, as dbench's client count).</summary>
    public int Clients { get; init; } = 8;
}
