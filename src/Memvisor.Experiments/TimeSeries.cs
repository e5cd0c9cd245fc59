/*
 * A value over simulated time, as measurement records keep it for charts and time-series tables: the
 * sample times and the values, index by index.
 */
using Memvisor.Scenarios;

namespace Memvisor.Experiments;

/// <summary>A value over time.</summary>
/// <param name="Seconds">Sample times, simulated s.</param>
/// <param name="Values">The value at each time.</param>
public sealed record TimeSeries(IReadOnlyList<double> Seconds, IReadOnlyList<double> Values)
{
    /// <summary>One VM's value in every sample in which it is powered on (as <see cref="ExperimentRuns.Series"/>).</summary>
    public static TimeSeries Of(IReadOnlyList<HostSample> samples, string vm, Func<VmSample, double> value)
    {
        var (seconds, values) = ExperimentRuns.Series(samples, vm, value);
        return new TimeSeries(seconds, values);
    }
}
