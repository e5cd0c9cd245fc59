/*
 * The statistics stream of a run: one row per sample interval, with the host's figures and each VM's,
 * in esxtop's terms and in MiB. Simulation and KVM runs produce the same stream; the live table, the
 * CSV/JSON time series, the summary and the HTML report all read it. Nothing in it depends on the wall
 * clock or the machine the run happened on, so two runs of the same scenario and seed compare byte for byte.
 */
using System.Text.Json.Serialization;

namespace Memvisor.Scenarios;

/// <summary>One VM at one sample time.</summary>
public sealed record VmSample
{
    /// <summary>The VM's name.</summary>
    public required string Name { get; init; }

    /// <summary>Configured memory (max), MiB.</summary>
    public double ConfiguredMB { get; init; }

    /// <summary>Guaranteed memory (min), MiB.</summary>
    public double MinMB { get; init; }

    /// <summary>Shares (resolved number).</summary>
    public double Shares { get; init; }

    /// <summary>Allocation target set by the policy, MiB.</summary>
    public double TargetMB { get; init; }

    /// <summary>Memory backed by machine pages (private + shared), MiB.</summary>
    public double GrantedMB { get; init; }

    /// <summary>Private memory, MiB.</summary>
    public double PrivateMB { get; init; }

    /// <summary>Estimated active memory (statistical sampling), MiB.</summary>
    public double ActiveEstimateMB { get; init; }

    /// <summary>True working set: pages the guest touched in the last sampling period of its execution time, the stretch the estimate covers (simulator only; NaN when unknown), MiB.</summary>
    public double TrueWorkingSetMB { get; init; } = double.NaN;

    /// <summary>Balloon size, MiB.</summary>
    public double BalloonMB { get; init; }

    /// <summary>Balloon target, MiB.</summary>
    public double BalloonTargetMB { get; init; }

    /// <summary>Swapped to the host swap area, MiB.</summary>
    public double SwappedMB { get; init; }

    /// <summary>Swap target, MiB.</summary>
    public double SwapTargetMB { get; init; }

    /// <summary>Memory mapping shared pages, MiB.</summary>
    public double SharedMB { get; init; }

    /// <summary>This VM's part of the memory saved by sharing, MiB.</summary>
    public double SharedSavedMB { get; init; }

    /// <summary>Zero pages shared, MiB.</summary>
    public double ZeroMB { get; init; }

    /// <summary>Overhead memory, MiB.</summary>
    public double OverheadMB { get; init; }

    /// <summary>Work units per second over the last interval.</summary>
    public double Throughput { get; init; }

    /// <summary>Guest-side swap I/O over the last interval, pages (double paging shows here).</summary>
    public double GuestSwapPages { get; init; }

    /// <summary>Host swap-ins over the last interval, pages.</summary>
    public double HostSwapInPages { get; init; }

    /// <summary>I/O bounce copies over the last interval.</summary>
    public double BounceCopies { get; init; }

    /// <summary>Data mismatches the guest found (must stay 0).</summary>
    public long DataMismatches { get; init; }

    /// <summary>Powered on at this sample.</summary>
    public bool PoweredOn { get; init; } = true;

    /// <summary>
    /// Double paging over the last interval, pages (paper §3.1): pages the host had swapped out that the
    /// guest then read back only to write them to its own disk (simulator only; 0 when unknown).
    /// </summary>
    public double DoublePagingPages { get; init; }

    /// <summary>Hot I/O pages remapped from high to low memory over the last interval (paper §7).</summary>
    public double IoRemaps { get; init; }

    /// <summary>What only a real guest has (guest statistics, QEMU, KSM, the measurement's cost); null, and left out of JSON, in simulated runs.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RealGuestSample? Real { get; init; }
}

/// <summary>
/// Figures only a real guest under QEMU has, beside the figures every substrate shares (a real run's
/// granted memory is guest-RAM RSS, its overhead QEMU's own memory, its shared memory the pages KSM merged).
/// NaN where the source did not answer.
/// </summary>
public sealed record RealGuestSample
{
    /// <summary>Memory the guest's kernel manages (balloon driver statistics: MemTotal), MiB.</summary>
    public double GuestTotalMB { get; init; } = double.NaN;

    /// <summary>Memory the guest does not use at all (MemFree), MiB.</summary>
    public double GuestFreeMB { get; init; } = double.NaN;

    /// <summary>The guest's estimate of memory available to new work (MemAvailable), MiB.</summary>
    public double GuestAvailableMB { get; init; } = double.NaN;

    /// <summary>Major page faults in the guest over the last interval.</summary>
    public double GuestMajorFaults { get; init; } = double.NaN;

    /// <summary>The share of the guest's time its CPUs stood waiting for I/O (its agent's iowait), left out of its execution time, percent.</summary>
    public double StalledPercent { get; init; } = double.NaN;

    /// <summary>Pages whose accessed bit QEMU's guest RAM showed in the last completed measuring period (smaps Referenced), MiB.</summary>
    public double ReferencedMB { get; init; } = double.NaN;

    /// <summary>Wall time of the last working-set measurement (smaps read + clear_refs), milliseconds.</summary>
    public double MeasureMilliseconds { get; init; } = double.NaN;

    /// <summary>Pages of the VM merged by KSM (/proc/PID/ksm_merging_pages), MiB.</summary>
    public double KsmMergingMB { get; init; } = double.NaN;

    /// <summary>The balloon: no-target, at-target, moving or stalled (off target and not moving).</summary>
    public string Balloon { get; init; } = "no-target";

    /// <summary>The guest is paused by the policy (low state; only where host paging works).</summary>
    public bool Paused { get; init; }
}

/// <summary>The host at one sample time.</summary>
public sealed record HostSample
{
    /// <summary>Seconds since the run started.</summary>
    public double TimeSeconds { get; init; }

    /// <summary>Machine memory, MiB.</summary>
    public double MemoryMB { get; init; }

    /// <summary>Free machine memory, MiB.</summary>
    public double FreeMB { get; init; }

    /// <summary>Free-memory state: high, soft, hard or low.</summary>
    public string State { get; init; } = "high";

    /// <summary>Memory saved by sharing, MiB.</summary>
    public double SharedSavedMB { get; init; }

    /// <summary>Swap area in use, MiB.</summary>
    public double SwapUsedMB { get; init; }

    /// <summary>Balloons over all VMs, MiB.</summary>
    public double BalloonMB { get; init; }

    /// <summary>The VMs.</summary>
    public IReadOnlyList<VmSample> Vms { get; init; } = [];
}
