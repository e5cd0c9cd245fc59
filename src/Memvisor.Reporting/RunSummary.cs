/*
 * The summary of a run: the figures a reader wants first (mean throughput, peaks of swap and balloon,
 * memory saved by sharing, time in each free-memory state, data mismatches), computed from the
 * statistics stream by RunSummary.FromSamples, plus Core's cumulative counters (faults, COW breaks, swap
 * traffic, scanning) that the stream does not carry, attached with WithCounters from
 * MemoryManager.GetHostStats/GetVmStats at the end of the run: Core's counters structs embedded as
 * they are (summary.json writes them field by field; the report lists them from the same metadata). Plain data: written as summary.json and
 * summary.txt, read back by experiments.
 */
using Memvisor.Scenarios;
using System.Text.Json.Serialization;
using Memvisor.Core.Statistics;

namespace Memvisor.Reporting;

/// <summary>The summary of one run.</summary>
public sealed record RunSummary
{
    /// <summary>The scenario's name.</summary>
    public required string ScenarioName { get; init; }

    /// <summary>The seed the run used.</summary>
    public ulong Seed { get; init; }

    /// <summary>Time of the last sample, seconds (simulated or real).</summary>
    public double SimulatedSeconds { get; init; }

    /// <summary>Rows in the time series.</summary>
    public int SampleCount { get; init; }

    /// <summary>Events the engine processed (0 when not known).</summary>
    public long Events { get; init; }

    /// <summary>The host.</summary>
    public required HostSummary Host { get; init; }

    /// <summary>The VMs: scenario order, then VMs seen only in the samples in order of first appearance.</summary>
    public IReadOnlyList<VmSummary> Vms { get; init; } = [];

    /// <summary>
    /// Computes every figure the samples allow. A sample stands for the interval that ends at its time
    /// (the first one for the interval from 0), so the free-memory state of a sample is counted for that
    /// interval. Means are over samples in which the VM was powered on; NaN when there are none.
    /// </summary>
    public static RunSummary FromSamples(Scenario scenario, IReadOnlyList<HostSample> samples, long events = 0)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(samples);
        var names = VmOrder.Of(scenario, samples);
        var vms = new List<VmSummary>(names.Count);
        // Each VM's sample found by name once per sample, not by a scan of the sample per VM (quadratic in VMs).
        var specs = new Dictionary<string, VmSpec>(StringComparer.Ordinal);
        foreach (var spec in scenario.Vms)
            specs.TryAdd(spec.Name, spec);
        var bySample = samples.Select(ByName).ToArray();
        foreach (var name in names)
            vms.Add(SummarizeVm(name, specs.GetValueOrDefault(name), samples, bySample));
        return new RunSummary
        {
            ScenarioName = scenario.Name,
            Seed = scenario.Seed,
            SimulatedSeconds = samples.Count == 0 ? 0 : samples[^1].TimeSeconds,
            SampleCount = samples.Count,
            Events = events,
            Host = SummarizeHost(scenario, samples),
            Vms = vms,
        };
    }

    /// <summary>The whole summary of a run as a substrate recorded it: samples, the exact state log, and Core's counters.</summary>
    public static RunSummary From(RunRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return FromSamples(record.Scenario, record.Samples, record.Events)
            .WithStateLog(record.StateLog, record.EndSeconds)
            .WithCounters(record.HostStats, record.VmStats)
            .WithStops(record.Stops);
    }

    /// <summary>Marks each VM the host stopped during the run with when and why.</summary>
    public RunSummary WithStops(IReadOnlyList<VmStop> stops)
    {
        ArgumentNullException.ThrowIfNull(stops);
        var first = new Dictionary<string, VmStop>(StringComparer.Ordinal);
        foreach (var stop in stops)
            first.TryAdd(stop.Vm, stop);
        return stops.Count == 0
            ? this
            : this with { Vms = [.. Vms.Select(v => first.TryGetValue(v.Name, out var s) ? v with { Stopped = s } : v)] };
    }

    /// <summary>Attaches Core's counters: the host's, and each VM's matched by name (VMs without stats keep null).</summary>
    public RunSummary WithCounters(HostMemoryStats host, IEnumerable<VmMemoryStats> vms)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(vms);
        var byName = new Dictionary<string, VmMemoryStats>(StringComparer.Ordinal);
        foreach (var vm in vms)
            byName[vm.Name] = vm;
        return this with
        {
            Host = Host with { Counters = host.Counters },
            Vms = [.. Vms.Select(v => byName.TryGetValue(v.Name, out var s) ? v with { Counters = s.Counters } : v)],
        };
    }

    /// <summary>
    /// Replaces the free-memory state figures inferred from samples (which miss excursions shorter than a
    /// sample interval) with the policy's exact log: each transition as it happened, the time in each state
    /// from 0 to <paramref name="endSeconds"/> (the run starts in high), and the final state.
    /// </summary>
    /// <exception cref="ArgumentException">Transitions out of time order, after the end, or not continuing from the previous state.</exception>
    public RunSummary WithStateLog(IReadOnlyList<StateTransition> transitions, double endSeconds)
    {
        ArgumentNullException.ThrowIfNull(transitions);
        var states = new List<string>(FreeMemoryStates.Ordered);
        var seconds = new Dictionary<string, double>(StringComparer.Ordinal);
        var state = FreeMemoryStates.High;
        var since = 0.0;
        foreach (var t in transitions)
        {
            if (t.TimeSeconds < since || t.TimeSeconds > endSeconds || !string.Equals(t.From, state, StringComparison.Ordinal))
                throw new ArgumentException($"State transition at {t.TimeSeconds} s from '{t.From}' to '{t.To}': expected from '{state}' at or after {since} s and by {endSeconds} s.", nameof(transitions));
            seconds[state] = seconds.GetValueOrDefault(state) + (t.TimeSeconds - since);
            if (!states.Contains(t.To))
                states.Add(t.To);
            state = t.To;
            since = t.TimeSeconds;
        }
        seconds[state] = seconds.GetValueOrDefault(state) + Math.Max(0, endSeconds - since);
        return this with
        {
            Host = Host with
            {
                FinalState = state,
                TimeInState = [.. states.Select(st => new StateTime(st, StateTime.Tidy(seconds.GetValueOrDefault(st))))],
                StateTransitions = [.. transitions],
            },
        };
    }

    private static HostSummary SummarizeHost(Scenario scenario, IReadOnlyList<HostSample> samples)
    {
        var states = new List<string>(FreeMemoryStates.Ordered);
        var seconds = new Dictionary<string, double>(StringComparer.Ordinal);
        var transitions = new List<StateTransition>();
        double minFree = double.NaN, sumFree = 0, peakSwap = 0, peakBalloon = 0, peakSaved = 0, previousTime = 0;
        string? previous = null;
        foreach (var s in samples)
        {
            if (!states.Contains(s.State))
                states.Add(s.State);
            seconds[s.State] = seconds.GetValueOrDefault(s.State) + Math.Max(0, s.TimeSeconds - previousTime);
            previousTime = s.TimeSeconds;
            if (previous is not null && !string.Equals(previous, s.State, StringComparison.Ordinal))
                transitions.Add(new StateTransition(s.TimeSeconds, previous, s.State));
            previous = s.State;
            minFree = double.IsNaN(minFree) ? s.FreeMB : Math.Min(minFree, s.FreeMB);
            sumFree += s.FreeMB;
            peakSwap = Math.Max(peakSwap, s.SwapUsedMB);
            peakBalloon = Math.Max(peakBalloon, s.BalloonMB);
            peakSaved = Math.Max(peakSaved, s.SharedSavedMB);
        }
        return new HostSummary
        {
            MemoryMB = samples.Count == 0 ? scenario.Host.MemoryMB : samples[^1].MemoryMB,
            SwapMB = scenario.Host.SwapMB,
            MinFreeMB = minFree,
            MeanFreeMB = samples.Count == 0 ? double.NaN : sumFree / samples.Count,
            PeakSwapUsedMB = peakSwap,
            PeakBalloonMB = peakBalloon,
            PeakSharedSavedMB = peakSaved,
            FinalSharedSavedMB = samples.Count == 0 ? 0 : samples[^1].SharedSavedMB,
            FinalState = previous ?? FreeMemoryStates.High,
            TimeInState = [.. states.Select(st => new StateTime(st, StateTime.Tidy(seconds.GetValueOrDefault(st))))],
            StateTransitions = transitions,
        };
    }

    private static Dictionary<string, VmSample> ByName(HostSample host)
    {
        var byName = new Dictionary<string, VmSample>(host.Vms.Count, StringComparer.Ordinal);
        foreach (var vm in host.Vms)
            byName.TryAdd(vm.Name, vm);
        return byName;
    }

    private static VmSummary SummarizeVm(string name, VmSpec? spec, IReadOnlyList<HostSample> samples, Dictionary<string, VmSample>[] bySample)
    {
        int on = 0;
        double sumThroughput = 0, sumActive = 0, sumGranted = 0, peakSwap = 0, peakBalloon = 0;
        double guestSwap = 0, hostSwapIn = 0, bounces = 0, doublePaging = 0, remaps = 0, secondsOn = 0, previousTime = 0;
        long mismatches = 0;
        VmSample? last = null;
        var real = new RealGuestTotals();
        for (var i = 0; i < samples.Count; i++)
        {
            var host = samples[i];
            var vm = bySample[i].GetValueOrDefault(name);
            if (vm is not null && vm.PoweredOn)
            {
                on++;
                secondsOn += Math.Max(0, host.TimeSeconds - previousTime);
                sumThroughput += vm.Throughput;
                sumActive += vm.ActiveEstimateMB;
                sumGranted += vm.GrantedMB;
                peakSwap = Math.Max(peakSwap, vm.SwappedMB);
                peakBalloon = Math.Max(peakBalloon, vm.BalloonMB);
                guestSwap += vm.GuestSwapPages;
                hostSwapIn += vm.HostSwapInPages;
                bounces += vm.BounceCopies;
                doublePaging += vm.DoublePagingPages;
                remaps += vm.IoRemaps;
                real.Add(vm, host.TimeSeconds - previousTime);
                last = vm;
            }
            if (vm is not null)
                mismatches = Math.Max(mismatches, vm.DataMismatches);
            previousTime = host.TimeSeconds;
        }
        return new VmSummary
        {
            Name = name,
            ConfiguredMB = last?.ConfiguredMB ?? spec?.MemoryMB ?? double.NaN,
            SecondsPoweredOn = secondsOn,
            MeanThroughput = on == 0 ? double.NaN : sumThroughput / on,
            MeanActiveEstimateMB = on == 0 ? double.NaN : sumActive / on,
            MeanGrantedMB = on == 0 ? double.NaN : sumGranted / on,
            FinalGrantedMB = last?.GrantedMB ?? double.NaN,
            FinalSharedSavedMB = last?.SharedSavedMB ?? double.NaN,
            PeakSwappedMB = peakSwap,
            PeakBalloonMB = peakBalloon,
            GuestSwapPages = guestSwap,
            HostSwapInPages = hostSwapIn,
            BounceCopies = bounces,
            DoublePagingPages = doublePaging,
            IoRemaps = remaps,
            DataMismatches = mismatches,
            Real = real.Summary(),
        };
    }

    internal static VmSample? Find(HostSample host, string name)
    {
        foreach (var vm in host.Vms)
        {
            if (string.Equals(vm.Name, name, StringComparison.Ordinal))
                return vm;
        }
        return null;
    }
}

/// <summary>The host over a run.</summary>
public sealed record HostSummary
{
    /// <summary>Machine memory, MiB.</summary>
    public double MemoryMB { get; init; }

    /// <summary>Swap area, MiB.</summary>
    public double SwapMB { get; init; }

    /// <summary>Lowest free memory of any sample, MiB (NaN without samples).</summary>
    public double MinFreeMB { get; init; } = double.NaN;

    /// <summary>Mean free memory over the samples, MiB (NaN without samples).</summary>
    public double MeanFreeMB { get; init; } = double.NaN;

    /// <summary>Largest swap use of any sample, MiB.</summary>
    public double PeakSwapUsedMB { get; init; }

    /// <summary>Largest total balloon of any sample, MiB.</summary>
    public double PeakBalloonMB { get; init; }

    /// <summary>Largest memory saved by sharing of any sample, MiB.</summary>
    public double PeakSharedSavedMB { get; init; }

    /// <summary>Memory saved by sharing at the last sample, MiB.</summary>
    public double FinalSharedSavedMB { get; init; }

    /// <summary>Free-memory state at the last sample.</summary>
    public string FinalState { get; init; } = FreeMemoryStates.High;

    /// <summary>Seconds in each state: high, soft, hard, low (always listed), then any other state seen.</summary>
    public IReadOnlyList<StateTime> TimeInState { get; init; } = [];

    /// <summary>Every change of state between two consecutive samples, in time order.</summary>
    public IReadOnlyList<StateTransition> StateTransitions { get; init; } = [];

    /// <summary>Core's counters at the end of the run (null when not attached).</summary>
    public HostCounters? Counters { get; init; }
}

/// <summary>Seconds spent in one free-memory state.</summary>
/// <param name="State">high, soft, hard or low.</param>
/// <param name="Seconds">Seconds in that state.</param>
public sealed record StateTime(string State, double Seconds)
{
    /// <summary>
    /// A sum of differences of transition times, rounded to the nanosecond: the differences of binary
    /// fractions of a second leave noise in the last bits (121.80000000000001 for 121.8 s).
    /// </summary>
    public static double Tidy(double seconds) => Math.Round(seconds, 9);
}

/// <summary>One VM over a run.</summary>
public sealed record VmSummary
{
    /// <summary>The VM's name.</summary>
    public required string Name { get; init; }

    /// <summary>Configured memory (max), MiB.</summary>
    public double ConfiguredMB { get; init; }

    /// <summary>Seconds the VM was powered on (by the samples' intervals).</summary>
    public double SecondsPoweredOn { get; init; }

    /// <summary>Mean throughput over powered-on samples, work units per second (NaN: never on).</summary>
    public double MeanThroughput { get; init; } = double.NaN;

    /// <summary>Mean active-memory estimate over powered-on samples, MiB.</summary>
    public double MeanActiveEstimateMB { get; init; } = double.NaN;

    /// <summary>Mean granted memory over powered-on samples, MiB.</summary>
    public double MeanGrantedMB { get; init; } = double.NaN;

    /// <summary>Granted memory at the last powered-on sample, MiB.</summary>
    public double FinalGrantedMB { get; init; } = double.NaN;

    /// <summary>This VM's part of the memory saved by sharing at the last powered-on sample, MiB.</summary>
    public double FinalSharedSavedMB { get; init; } = double.NaN;

    /// <summary>Largest host swap of any sample, MiB.</summary>
    public double PeakSwappedMB { get; init; }

    /// <summary>Largest balloon of any sample, MiB.</summary>
    public double PeakBalloonMB { get; init; }

    /// <summary>Guest-side swap I/O summed over the samples, pages.</summary>
    public double GuestSwapPages { get; init; }

    /// <summary>Host swap-ins summed over the samples, pages.</summary>
    public double HostSwapInPages { get; init; }

    /// <summary>I/O bounce copies summed over the samples.</summary>
    public double BounceCopies { get; init; }

    /// <summary>Double paging summed over the samples, pages (paper §3.1).</summary>
    public double DoublePagingPages { get; init; }

    /// <summary>Hot I/O pages remapped to low memory, summed over the samples.</summary>
    public double IoRemaps { get; init; }

    /// <summary>Data mismatches the guest found (the largest count of any sample; must be 0).</summary>
    public long DataMismatches { get; init; }

    /// <summary>Core's counters for the VM (null when not attached).</summary>
    public VmCounters? Counters { get; init; }

    /// <summary>What only a real guest has (null, and left out of summary.json, in simulated runs).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RealGuestSummary? Real { get; init; }

    /// <summary>When and why the host stopped the VM during the run (null, and left out of summary.json, when it was not).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public VmStop? Stopped { get; init; }
}

/// <summary>One real guest over a run: its working-set estimate against its agent's truth, QEMU, KSM, the guest's own paging.</summary>
public sealed record RealGuestSummary
{
    /// <summary>Mean of the working set the guest's agent really touched, MiB (NaN when the agent never said).</summary>
    public double MeanTrueWorkingSetMB { get; init; } = double.NaN;

    /// <summary>Mean of |active estimate - true working set| over the samples that have both, MiB.</summary>
    public double MeanEstimateErrorMB { get; init; } = double.NaN;

    /// <summary>Largest QEMU overhead (its own resident memory beside guest RAM), MiB.</summary>
    public double PeakOverheadMB { get; init; }

    /// <summary>Pages merged by KSM at the last powered-on sample, MiB.</summary>
    public double FinalKsmMergingMB { get; init; } = double.NaN;

    /// <summary>Major page faults in the guest, summed over the samples.</summary>
    public double GuestMajorFaults { get; init; }

    /// <summary>Seconds the balloon stood stalled (off target, not moving).</summary>
    public double BalloonStalledSeconds { get; init; }

    /// <summary>Mean wall time of one working-set measurement, milliseconds.</summary>
    public double MeanMeasureMilliseconds { get; init; } = double.NaN;
}

/// <summary>Accumulates a VM's real-guest figures over its powered-on samples.</summary>
internal sealed class RealGuestTotals
{
    private int _samples, _truthSamples, _measureSamples;
    private double _truth, _error, _peakOverhead, _faults, _stalled, _measure, _ksm = double.NaN;

    public void Add(VmSample vm, double intervalSeconds)
    {
        if (vm.Real is not { } real)
            return;
        _samples++;
        _peakOverhead = Math.Max(_peakOverhead, vm.OverheadMB);
        if (double.IsFinite(vm.TrueWorkingSetMB))
        {
            _truthSamples++;
            _truth += vm.TrueWorkingSetMB;
            _error += Math.Abs(vm.ActiveEstimateMB - vm.TrueWorkingSetMB);
        }
        if (double.IsFinite(real.GuestMajorFaults))
            _faults += real.GuestMajorFaults;
        if (real.Balloon == "stalled")
            _stalled += Math.Max(0, intervalSeconds);
        if (double.IsFinite(real.MeasureMilliseconds))
        {
            _measureSamples++;
            _measure += real.MeasureMilliseconds;
        }
        _ksm = real.KsmMergingMB;
    }

    public RealGuestSummary? Summary() => _samples == 0 ? null : new RealGuestSummary
    {
        MeanTrueWorkingSetMB = _truthSamples == 0 ? double.NaN : _truth / _truthSamples,
        MeanEstimateErrorMB = _truthSamples == 0 ? double.NaN : _error / _truthSamples,
        PeakOverheadMB = _peakOverhead,
        FinalKsmMergingMB = _ksm,
        GuestMajorFaults = _faults,
        BalloonStalledSeconds = _stalled,
        MeanMeasureMilliseconds = _measureSamples == 0 ? double.NaN : _measure / _measureSamples,
    };
}

/// <summary>The names of the free-memory states (paper §6).</summary>
public static class FreeMemoryStates
{
    /// <summary>Free memory at least the high threshold: no reclamation.</summary>
    public const string High = "high";

    /// <summary>Ballooning.</summary>
    public const string Soft = "soft";

    /// <summary>Forcible paging.</summary>
    public const string Hard = "hard";

    /// <summary>Paging, and VMs above target are blocked.</summary>
    public const string Low = "low";

    /// <summary>The states from most to least free memory.</summary>
    public static IReadOnlyList<string> Ordered { get; } = [High, Soft, Hard, Low];
}

/// <summary>The order in which VMs appear in tables and charts.</summary>
internal static class VmOrder
{
    /// <summary>Scenario order, then VMs found only in the samples in order of first appearance.</summary>
    public static IReadOnlyList<string> Of(Scenario scenario, IReadOnlyList<HostSample> samples)
    {
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var vm in scenario.Vms)
        {
            if (seen.Add(vm.Name))
                names.Add(vm.Name);
        }
        foreach (var host in samples)
        {
            foreach (var vm in host.Vms)
            {
                if (seen.Add(vm.Name))
                    names.Add(vm.Name);
            }
        }
        return names;
    }
}
