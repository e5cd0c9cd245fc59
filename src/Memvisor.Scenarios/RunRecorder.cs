/*
 * Collects the statistics stream of a run in memory: one HostSample per sample interval, appended in time
 * order. Recording is an append to a pre-sized list (samples are immutable records, so nothing is copied);
 * the checks are a time comparison and a scan of the sample's VM names (pairwise for a few, through a set for many).
 */
using Memvisor.Scenarios;
using Memvisor.Core.Statistics;

namespace Memvisor.Scenarios;

/// <summary>Collects a run's samples.</summary>
public sealed class RunRecorder
{
    private readonly List<HostSample> _samples;

    /// <summary>A recorder with room for <paramref name="expectedSamples"/> samples before it grows.</summary>
    public RunRecorder(int expectedSamples = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(expectedSamples);
        _samples = new List<HostSample>(expectedSamples);
    }

    /// <summary>A recorder sized for <paramref name="scenario"/>: duration / sample interval + 2 samples.</summary>
    public static RunRecorder For(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var expected = scenario.SampleIntervalSeconds > 0 && double.IsFinite(scenario.DurationSeconds)
            ? Math.Min(10_000_000, (scenario.DurationSeconds / scenario.SampleIntervalSeconds) + 2)
            : 0;
        return new RunRecorder((int)expected);
    }

    /// <summary>The samples so far, in time order.</summary>
    public IReadOnlyList<HostSample> Samples => _samples;

    /// <summary>Number of samples so far.</summary>
    public int Count => _samples.Count;

    /// <summary>The latest sample, or null before the first.</summary>
    public HostSample? Last => _samples.Count == 0 ? null : _samples[^1];

    /// <summary>Appends a sample.</summary>
    /// <exception cref="ArgumentException">Its time is not finite, not after the previous sample's, or two of its VMs share a name.</exception>
    public void Record(HostSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        CheckNext(Last, sample);
        _samples.Add(sample);
    }

    /// <summary>Up to this many VMs a sample's names are compared pairwise (no allocation); beyond it through a set.</summary>
    private const int PairwiseCheckLimit = 64;

    /// <summary>Throws unless <paramref name="next"/> may follow <paramref name="previous"/> in a stream.</summary>
    public static void CheckNext(HostSample? previous, HostSample next)
    {
        if (!double.IsFinite(next.TimeSeconds) || next.TimeSeconds < 0)
            throw new ArgumentException($"{nameof(HostSample.TimeSeconds)} = {next.TimeSeconds}: must be a finite number >= 0.", nameof(next));
        if (previous is not null && !(next.TimeSeconds > previous.TimeSeconds))
            throw new ArgumentException($"{nameof(HostSample.TimeSeconds)} = {next.TimeSeconds}: must be after the previous sample's {previous.TimeSeconds}.", nameof(next));
        var vms = next.Vms;
        if (vms.Count > PairwiseCheckLimit)
        {
            // Many VMs (thousands): a set, not the pairwise scan (quadratic: a minute per run at 10,000 VMs).
            var seen = new HashSet<string>(vms.Count, StringComparer.Ordinal);
            foreach (var vm in vms)
            {
                if (!seen.Add(vm.Name))
                    throw new ArgumentException($"{nameof(HostSample.Vms)}: the VM name '{vm.Name}' appears twice at {next.TimeSeconds} s; names must be unique.", nameof(next));
            }

            return;
        }

        for (var i = 0; i < vms.Count; i++)
        {
            for (var j = i + 1; j < vms.Count; j++)
            {
                if (string.Equals(vms[i].Name, vms[j].Name, StringComparison.Ordinal))
                    throw new ArgumentException($"{nameof(HostSample.Vms)}: the VM name '{vms[i].Name}' appears twice at {next.TimeSeconds} s; names must be unique.", nameof(next));
            }
        }
    }
}
