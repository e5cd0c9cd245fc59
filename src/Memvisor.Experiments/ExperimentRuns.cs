/*
 * The one way an experiment runs a scenario: in the simulator, with the experiment's seed, checking that no
 * guest read back data it did not write (a mismatch fails the experiment: a result built on lost data
 * means nothing), counting simulated seconds and runs, and keeping the simulator's notes. Also the small
 * reductions every experiment needs over a run's samples: one VM's series, a mean over a time window.
 */
using Memvisor.Scenarios;
using Memvisor.Core.Statistics;
using Memvisor.Simulation;

namespace Memvisor.Experiments;

/// <summary>Runs an experiment's scenarios and keeps count.</summary>
public sealed class ExperimentRuns(ExperimentContext context)
{
    private readonly List<string> _notes = [];

    /// <summary>Scenario runs made so far.</summary>
    public int Count { get; private set; }

    /// <summary>Simulated seconds so far.</summary>
    public double SimulatedSeconds { get; private set; }

    /// <summary>The simulator's notes of every run, each prefixed with the scenario's name (no repeats).</summary>
    public IReadOnlyList<string> Notes => _notes;

    /// <summary>Runs <paramref name="scenario"/> with the experiment's seed; returns its samples and summary.</summary>
    /// <exception cref="ExperimentException">A guest read back data it did not write, or the scenario is invalid.</exception>
    /// <exception cref="OperationCanceledException">The experiment was cancelled.</exception>
    public SimulationResult Run(Scenario scenario, SimulationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        context.CancellationToken.ThrowIfCancellationRequested();
        scenario = scenario with { Seed = context.Seed };
        context.Report($"{scenario.Name}: {scenario.DurationSeconds:0} simulated s, {scenario.Vms.Count} VM(s)");
        SimulationResult result;
        try
        {
            using var host = new SimulatedHost(scenario, options);
            result = host.Run(cancellationToken: context.CancellationToken);
        }
        catch (ScenarioException e)
        {
            throw new ExperimentException($"scenario '{scenario.Name}' is invalid: {e.Message}", e);
        }

        Count++;
        SimulatedSeconds += scenario.DurationSeconds;
        foreach (var note in result.Notes)
        {
            var line = $"{scenario.Name}: {note}";
            if (!_notes.Contains(line))
            {
                _notes.Add(line);
            }
        }

        var last = result.Samples.Count > 0 ? result.Samples[^1] : null;
        foreach (var vm in last?.Vms ?? [])
        {
            if (vm.DataMismatches != 0)
            {
                throw new ExperimentException($"scenario '{scenario.Name}': VM '{vm.Name}' read back data it did not write ({vm.DataMismatches} mismatches); the experiment's results would mean nothing.");
            }
        }

        return result;
    }

    /// <summary>One VM's value over time: (time s, value) for every sample in which the VM is powered on.</summary>
    public static (double[] Seconds, double[] Values) Series(IReadOnlyList<HostSample> samples, string vm, Func<VmSample, double> value)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(value);
        var seconds = new List<double>(samples.Count);
        var values = new List<double>(samples.Count);
        foreach (var sample in samples)
        {
            if (Find(sample, vm) is { PoweredOn: true } v)
            {
                seconds.Add(sample.TimeSeconds);
                values.Add(value(v));
            }
        }

        return ([.. seconds], [.. values]);
    }

    /// <summary>The host's value over time: (time s, value) for every sample.</summary>
    public static (double[] Seconds, double[] Values) HostSeries(IReadOnlyList<HostSample> samples, Func<HostSample, double> value)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(value);
        return ([.. samples.Select(s => s.TimeSeconds)], [.. samples.Select(value)]);
    }

    /// <summary>Mean of one VM's value over the samples with fromSeconds &lt; time &lt;= toSeconds in which it is on (NaN if none).</summary>
    public static double Mean(IReadOnlyList<HostSample> samples, string vm, Func<VmSample, double> value, double fromSeconds = double.NegativeInfinity, double toSeconds = double.PositiveInfinity)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(value);
        double sum = 0;
        var count = 0;
        foreach (var sample in samples)
        {
            if (sample.TimeSeconds > fromSeconds && sample.TimeSeconds <= toSeconds && Find(sample, vm) is { PoweredOn: true } v)
            {
                sum += value(v);
                count++;
            }
        }

        return count == 0 ? double.NaN : sum / count;
    }

    /// <summary>The VM named <paramref name="vm"/> in a sample.</summary>
    /// <exception cref="ArgumentException">No VM of that name.</exception>
    public static VmSample Find(HostSample sample, string vm)
    {
        ArgumentNullException.ThrowIfNull(sample);
        foreach (var v in sample.Vms)
        {
            if (v.Name == vm)
            {
                return v;
            }
        }

        throw new ArgumentException($"No VM named '{vm}' in the sample at {sample.TimeSeconds} s.", nameof(vm));
    }
}
