/*
 * What the double-paging experiment measures (§3.1): for each of its two runs (balloon driver active, or
 * absent so the host swaps), paging I/O at both levels over the run and from when the balloon is at its target, mean
 * throughput, balloon and host-swapped memory over the window, and the series the charts show.
 */
using Memvisor.Reporting;

namespace Memvisor.Experiments;

/// <summary>The double-paging experiment's setup at its scale.</summary>
/// <param name="HostMB">Machine memory.</param>
/// <param name="VmMB">The guest's configured memory.</param>
/// <param name="OverheadMB">The VM's overhead (null: the simulator's default).</param>
/// <param name="WorkingSetMB">The toucher's working set (larger than the guest).</param>
/// <param name="DurationSeconds">Simulated seconds per run.</param>
/// <param name="WindowFromSeconds">Start of the averaged window (it ends with the run).</param>
/// <param name="Seed">Seed of both runs.</param>
public sealed record DoublePagingSetup(double HostMB, double VmMB, double? OverheadMB, double WorkingSetMB, double DurationSeconds, double WindowFromSeconds, ulong Seed);

/// <summary>One run's figures: pages over the run unless "window" says over the "at target" window; means over the averaged window.</summary>
/// <param name="Label">How memory was reclaimed: "ballooning" or "host swapping".</param>
/// <param name="Throughput">Mean accesses/s over the window.</param>
/// <param name="GuestSwapPages">Pages the guest moved to and from its own swap.</param>
/// <param name="HostSwapOuts">Pages the host swapped out.</param>
/// <param name="HostSwapIns">Pages the host swapped in.</param>
/// <param name="DoublePagingPages">Pages the guest read back from host swap only to write them to its own swap.</param>
/// <param name="WindowDoublePagingPages">Double-paging reads in the "at target" window (<see cref="DoublePagingMeasurements.AtTargetFromSeconds"/>).</param>
/// <param name="WindowHostSwapIns">Host swap-ins in the "at target" window.</param>
/// <param name="WindowGuestSwapPages">Guest swap I/O in the "at target" window.</param>
/// <param name="BalloonMB">Mean balloon over the window.</param>
/// <param name="SwappedMB">Mean host-swapped memory over the window.</param>
/// <param name="ThroughputSeries">Accesses/s over time.</param>
/// <param name="DoublePagingSeries">Double-paging reads per second over time.</param>
/// <param name="HardSeconds">Seconds the host spent in the hard state over the run (the policy's log).</param>
/// <param name="LowSeconds">Seconds in the low state over the run.</param>
public sealed record DoublePagingRun(
    string Label,
    double Throughput,
    double GuestSwapPages,
    double HostSwapOuts,
    double HostSwapIns,
    double DoublePagingPages,
    double WindowDoublePagingPages,
    double WindowHostSwapIns,
    double WindowGuestSwapPages,
    double BalloonMB,
    double SwappedMB,
    TimeSeries ThroughputSeries,
    TimeSeries DoublePagingSeries,
    double HardSeconds,
    double LowSeconds)
{
    /// <summary>How far the host's free memory fell, in words from the measurement (e.g. "the host went briefly to hard for 0.6 s").</summary>
    public string Excursion(double durationSeconds)
    {
        var tight = HardSeconds + LowSeconds;
        if (tight <= 0)
        {
            return "the host stayed in high or soft (never hard)";
        }

        var low = LowSeconds > 0 ? $" and to low for {NumberText.Fixed(LowSeconds, 1)} s" : "";
        return $"the host went {(tight < 0.05 * durationSeconds ? "briefly " : "")}to hard for {NumberText.Fixed(HardSeconds, 1)} s{low}";
    }
}

/// <summary>Everything the double-paging experiment measured.</summary>
/// <param name="Setup">The setup it ran.</param>
/// <param name="Ballooned">The run with the balloon driver active.</param>
/// <param name="Swapped">The run with the driver absent: host swapping alone.</param>
public sealed record DoublePagingMeasurements(DoublePagingSetup Setup, DoublePagingRun Ballooned, DoublePagingRun Swapped)
{
    /// <summary>
    /// Start of the "at target" window of both runs' window counts (it ends with the run): from the ballooned
    /// run's mechanism state, where its balloon stays at its balloon target and the host swaps none of its pages out.
    /// </summary>
    public double AtTargetFromSeconds { get; init; }
}
