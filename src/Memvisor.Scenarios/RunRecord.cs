/*
 * What one run of a scenario produced, as a substrate records it: the statistics stream (one HostSample
 * per interval), the policy's exact log of free-memory state changes, Core's cumulative counters at the
 * end, notes on what the run could not do as the scenario said (refused VMs, faults), and the VMs
 * the host had to stop (machine memory exhausted, a swapped page unreadable). Plain data:
 * reporting turns it into the summary, the time series, charts and the report; no substrate is needed
 * to read it.
 */
using Memvisor.Core.Statistics;

namespace Memvisor.Scenarios;

/// <summary>A change of free-memory state, at the moment the policy made it.</summary>
/// <param name="TimeSeconds">Time of the change, seconds since the run started.</param>
/// <param name="From">The state before: high, soft, hard or low.</param>
/// <param name="To">The state after.</param>
public sealed record StateTransition(double TimeSeconds, string From, string To);

/// <summary>Why the host stopped a VM during a run.</summary>
public enum VmStopCause
{
    /// <summary>A fault found no free machine page and none could be reclaimed.</summary>
    MachineMemoryExhausted,

    /// <summary>A swapped page could not be read back intact (I/O error or checksum failure).</summary>
    SwapReadFailed,

    /// <summary>Admission control refused it at power-on (min + overhead, or max - min of swap, did not fit): it never ran.</summary>
    AdmissionRefused,

    /// <summary>A real guest stopped on its own: its QEMU exited, its guest crashed or never booted (real guests only).</summary>
    GuestDied,
}

/// <summary>A VM the host stopped because it could not serve it, or refused at power-on (the other VMs ran on).</summary>
/// <param name="Vm">The VM's name.</param>
/// <param name="TimeSeconds">When it was stopped, seconds since the run started.</param>
/// <param name="Cause">Why.</param>
/// <param name="Detail">What Core said, in words.</param>
public sealed record VmStop(string Vm, double TimeSeconds, VmStopCause Cause, string Detail);

/// <summary>What one run produced.</summary>
/// <param name="Scenario">The scenario that ran.</param>
/// <param name="Samples">One sample per interval, in time order.</param>
/// <param name="StateLog">Every free-memory state change, in time order.</param>
/// <param name="EndSeconds">When the run ended, seconds.</param>
/// <param name="Events">Events the substrate processed (0 when not counted).</param>
/// <param name="HostStats">Core's host counters at the end.</param>
/// <param name="VmStats">Core's counters of each VM that ran, at the end of the run or at its power-off.</param>
/// <param name="Notes">What the run could not do as the scenario said.</param>
/// <param name="Stops">VMs the host stopped because it could not serve them, in time order.</param>
public sealed record RunRecord(
    Scenario Scenario,
    IReadOnlyList<HostSample> Samples,
    IReadOnlyList<StateTransition> StateLog,
    double EndSeconds,
    long Events,
    HostMemoryStats HostStats,
    IReadOnlyList<VmMemoryStats> VmStats,
    IReadOnlyList<string> Notes,
    IReadOnlyList<VmStop> Stops);
