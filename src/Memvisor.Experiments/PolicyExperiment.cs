/*
 * policy (paper Figure 8, §6): the allocation policy as a whole on an overcommitted host. The figure shows,
 * over time, the free-memory state, the aggregate allocation, active memory, balloon, shared and swapped
 * memory of all VMs, and two VMs in detail; the text says the host coped with mostly ballooning and little
 * paging (the peak is reported; under 20 MB swapped for the rest of the run).
 *
 * The paper's setup [recalled]: five Windows VMs on about 1 GB: an Exchange server and its client load, a
 * Citrix MetaFrame server and its client load, and SQL Server; 1472 MB configured plus about 160 MB of
 * overhead, over 60% overcommitted. The per-VM sizes are not in our summary of the paper.
 * Ours: a 1024 MB host, five Windows VMs (one image, so their kernels are shared), 1472 MB configured with
 * 32 MB of overhead each (160 MB), powered on 20 s apart and booted before the measured window: 300 s of
 * boot and warm-up (not measured: each Windows guest zeroes all its memory at boot, a burst of demand the
 * paper's run does not show), then 40 measured minutes (the paper's run was about an hour), one sample per s:
 *   exchange         320 MB  file server over a 384 MB mail store (4 clients): the store is read through the page cache;
 *   exchange-client  192 MB  compute, 24 MB of data: a load generator, mostly idle memory;
 *   citrix           384 MB  toucher, Zipf(0.8): users log on and off, the working set goes 64 -> 160 -> 240 -> 128 MB;
 *   citrix-client    192 MB  compute, 24 MB: a load generator;
 *   sql              384 MB  toucher, uniform: an idle database until a batch of queries works on 192 MB, then 64 MB.
 * Differences: the paper's VM sizes and workloads are unknown in detail (ours are stand-ins, chosen before
 * running, not fitted); the workloads' phases are fractions of the measured window. Claims and tables are
 * judged on the window alone (states from the policy's log clipped to it); the charts show the boot too,
 * shaded. The reduced scale keeps the shape at a quarter of the memory, a tenth of the window and a fifth of
 * the warm-up (sampling and balance periods a fifth, so the estimator has as many periods to settle).
 */
using System.Globalization;
using Memvisor.Scenarios;
using Memvisor.Core.Statistics;
using Memvisor.Reporting;
using Memvisor.Reporting.Charts;

namespace Memvisor.Experiments;

/// <summary>The allocation policy on an overcommitted host of mixed Windows VMs (paper Figure 8).</summary>
public sealed class PolicyExperiment() : PaperExperiment<PolicyMeasurements>("policy", "Allocation policy on an overcommitted host", "Figure 8, §6")
{
    /// <summary>The paper's bound on host swap for the run apart from its peak, MB on its ~1 GB host.</summary>
    public const double PaperSwapBoundMB = 20;

    private const string Client = "client";

    /// <summary>The free-memory states, from most to least free.</summary>
    internal static readonly string[] States = [FreeMemoryStates.High, FreeMemoryStates.Soft, FreeMemoryStates.Hard, FreeMemoryStates.Low];

    /// <summary>The VMs: name, configured MB at full scale, role, workload at full scale (phases in fractions of the run).</summary>
    private static readonly (string Name, double MemoryMB, string Role)[] Vms =
    [
        ("exchange", 320, "server"),
        ("exchange-client", 192, Client),
        ("citrix", 384, "server"),
        ("citrix-client", 192, Client),
        ("sql", 384, "server"),
    ];

    /// <inheritdoc/>
    protected override PolicyMeasurements Measure(ExperimentContext context, ExperimentRuns runs)
    {
        var scenario = Scenario(context);
        var run = runs.Run(scenario);
        var allSamples = run.Samples;
        var host = scenario.Host;
        var duration = scenario.DurationSeconds;
        var windowFrom = WarmupSeconds(context);
        var memoryScale = host.MemoryMB / 1024;

        // Swap and reclamation over the measured window (the VMs have booted); the boot's peak beside it.
        var samples = allSamples.Where(s => s.TimeSeconds > windowFrom).ToList();
        var swapBound = PaperSwapBoundMB * memoryScale;
        var swapped = samples.Select(s => s.SwapUsedMB).ToArray();
        var reclaiming = samples.Where(s => s.BalloonMB + s.SwapUsedMB > 0).ToList();
        var reclamation = new PolicyReclamation(
            swapBound,
            swapped.Max(),
            swapped.Count(s => s < swapBound) / (double)swapped.Length,
            Median(swapped),
            reclaiming.Count == 0 ? double.NaN : reclaiming.Average(s => s.BalloonMB / (s.BalloonMB + s.SwapUsedMB)),
            samples.Max(s => s.BalloonMB),
            samples.Max(s => s.SharedSavedMB))
        {
            BootPeakSwapMB = allSamples.Where(s => s.TimeSeconds <= windowFrom).Select(s => s.SwapUsedMB).DefaultIfEmpty(0).Max(),
        };

        // Time in each state over the window, from the policy's exact log of transitions (not from the 1 s samples).
        var log = run.Record.StateLog;
        var secondsIn = SecondsInStates(log, windowFrom, duration);
        var bootSecondsIn = SecondsInStates(log, 0, windowFrom);
        var transitions = log.Count(t => t.TimeSeconds > windowFrom);

        // Allocation versus activity over the last third of the window (after the boot spike of the estimates has decayed).
        var from = duration - ((duration - windowFrom) / 3);
        var vmRows = scenario.Vms.Select(v => new PolicyVm(
            v.Name,
            v.MemoryMB,
            Vms.First(x => x.Name == v.Name).Role,
            ExperimentRuns.Mean(samples, v.Name, s => s.Shares, from),
            ExperimentRuns.Mean(samples, v.Name, s => s.TargetMB, from),
            ExperimentRuns.Mean(samples, v.Name, Held, from),
            ExperimentRuns.Mean(samples, v.Name, s => s.ActiveEstimateMB, from),
            ExperimentRuns.Mean(samples, v.Name, s => s.TrueWorkingSetMB, from),
            samples.Max(s => ExperimentRuns.Find(s, v.Name).BalloonMB),
            samples.Max(s => ExperimentRuns.Find(s, v.Name).SwappedMB),
            ExperimentRuns.Mean(samples, v.Name, s => s.SharedSavedMB, from),
            ExperimentRuns.Mean(samples, v.Name, s => s.Throughput, from))).ToList();

        // Entitlement without the idle tax: the held memory split in proportion to shares (tau = 0).
        var heldTotal = vmRows.Sum(r => r.HeldMB);
        var sharesTotal = vmRows.Sum(r => r.Shares);
        var rows = vmRows.Select(r => r with { EntitlementMB = heldTotal * r.Shares / sharesTotal }).ToList();
        return new PolicyMeasurements(scenario, Stagger(context), windowFrom, reclamation, secondsIn, transitions, rows, allSamples) { BootSecondsInState = bootSecondsIn };
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ClaimResult> Judge(PolicyMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (window, secondsIn, transitions, states) = (measured.WindowSeconds, measured.SecondsInState, measured.StateTransitions, States);
        var bootIn = measured.BootSecondsInState;
        var r = measured.Reclamation;
        var (swapBound, peakSwap, underBound, medianSwap, balloonShare, peakBalloon, peakShared) = (r.SwapBoundMB, r.PeakSwapMB, r.UnderBoundFraction, r.MedianSwapMB, r.BalloonShare, r.PeakBalloonMB, r.PeakSharedSavedMB);
        var (rank, leastActive, mostActive, movedMB, tracks) = (measured.RankCorrelation, measured.LeastActive, measured.MostActive, measured.MovedMB, measured.AllocationTracksActivity);
        return
        [
            new ClaimResult(
                ClaimId.PolicyMostlyHighOrSoft,
                "the host reclaims mostly before memory gets tight: hard and low are brief excursions, high and soft hold at least 95% of the measured window",
                (secondsIn[FreeMemoryStates.High] + secondsIn[FreeMemoryStates.Soft]) >= 0.95 * window,
                $"time in each state over the {N(window / 60)} measured minutes: {string.Join(", ", states.Select(s => $"{s} {N(secondsIn[s])} s ({N(secondsIn[s] / window * 100)}%)"))}; {transitions} transitions (the policy's log, 0.1 s steps). " +
                $"During the boot before it: hard {N(bootIn.GetValueOrDefault(FreeMemoryStates.Hard))} s, low {N(bootIn.GetValueOrDefault(FreeMemoryStates.Low))} s.")
            {
                Measured = (secondsIn[FreeMemoryStates.High] + secondsIn[FreeMemoryStates.Soft]) / window * 100,
            },
            new ClaimResult(
                ClaimId.PolicyBallooningDoesMost,
                $"ballooning does most of the reclamation and host swapping stays small (under {N(swapBound)} MB for most of the measured window)",
                balloonShare > 0.5 && underBound > 0.5,
                $"over the window balloons held {N(balloonShare * 100)}% of balloon + swap on average (peak balloon {N(peakBalloon)} MB, peak swap {N(peakSwap)} MB, median swap {N(medianSwap)} MB); " +
                $"swap under {N(swapBound)} MB for {N(underBound * 100)}% of the window; during the boot before it swap peaked at {N(r.BootPeakSwapMB)} MB. " +
                (underBound > 0.5 ? "" : $"Swap does not stay under {N(swapBound)} MB: pages swapped at random are cold and are not read back, so they stay swapped to the end. ") +
                $"Sharing saved up to {N(peakShared)} MB besides.")
            {
                Measured = balloonShare * 100,
            },
            new ClaimResult(
                ClaimId.PolicyAllocationTracksActivity,
                "allocation tracks active memory: idle VMs lose memory to active ones",
                tracks,
                $"last third of the window, machine memory held (granted minus sharing savings) vs active estimate: rank correlation {N(rank)} over the five VMs; " +
                $"least active {string.Join(" and ", leastActive.Select(r => $"{r.Name} hold {N(r.HeldMB)} MB for {N(r.ActiveMB)} MB active (entitlement by shares alone {N(r.EntitlementMB)} MB)"))}; " +
                $"most active {mostActive.Name} holds {N(mostActive.HeldMB)} MB for {N(mostActive.ActiveMB)} MB active (entitlement {N(mostActive.EntitlementMB)} MB); " +
                $"{N(movedMB)} MB held away from VMs below their entitlement.")
            {
                Measured = rank,
            },
        ];
    }

    /// <inheritdoc/>
    protected override ExperimentResult Render(ExperimentContext context, ExperimentRuns runs, PolicyMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(measured);
        var (scenario, samples, rows, secondsIn, states) = (measured.Scenario, measured.Samples, measured.Vms, measured.SecondsInState, States);
        var (host, duration, memoryScale, configured, overhead, overcommitPercent) = (scenario.Host, scenario.DurationSeconds, measured.MemoryScale, measured.ConfiguredMB, measured.OverheadMB, measured.OvercommitPercent);
        var r = measured.Reclamation;
        var (swapBound, peakSwap, underBound, medianSwap, balloonShare) = (r.SwapBoundMB, r.PeakSwapMB, r.UnderBoundFraction, r.MedianSwapMB, r.BalloonShare);
        var swapped = samples.Select(s => s.SwapUsedMB).ToArray();
        var comparisons = new List<PaperComparison>
        {
            new("overcommitment (configured + overhead over machine memory)", 60, overcommitPercent, "%")
            {
                Note = "paper: 1472 MB + ~160 MB overhead on \"about 1 GB\", \"over 60%\" [recalled]; ours exactly 1024 MB",
            },
            new("host swap for most of the measured window (median)", PaperSwapBoundMB * memoryScale, medianSwap, "MB")
            {
                Note = "paper [recalled]: most of the run had under 20 MB swapped; a bound, not a measurement" + (memoryScale < 1 ? "; scaled to this host" : ""),
            },
            new($"share of the measured window with under {N(swapBound)} MB swapped", double.NaN, underBound * 100, "%")
            {
                Note = "paper: \"most of the run\" [recalled], no share given",
            },
            new("peak host swap in the measured window", double.NaN, peakSwap, "MB")
            {
                Note = $"the paper reports its peak; the value is not in our summary of the paper, so no ratio; ours during the boot before the window: {N(r.BootPeakSwapMB)} MB",
            },
            new("ballooning's share of reclaimed memory (balloon / (balloon + swap), mean over the window)", double.NaN, balloonShare * 100, "%")
            {
                Note = "paper: no number; \"most\" reclamation by ballooning is the claim below",
            },
        };

        // The boot and warm-up before the measured window are drawn too, shaded grey.
        IReadOnlyList<ChartBand> bands = [new ChartBand("boot (not measured)", 0, measured.WindowFromSeconds, "#DDDDDD"), .. RunCharts.StateBands(samples)];
        var time = samples.Select(s => s.TimeSeconds).ToArray();
        double[] Sum(Func<VmSample, double> value) => [.. samples.Select(h => h.Vms.Where(v => v.PoweredOn).Sum(value))];
        var figures = new List<ExperimentFigure>
        {
            new("free-memory", new LineChart
            {
                Title = "Host free memory and free-memory state",
                XLabel = "time (s)",
                YLabel = "free memory (MB)",
                Series = [new ChartSeries("free memory", time, [.. samples.Select(s => s.FreeMB)])],
                Bands = bands,
                ReferenceLines =
                [
                    new ChartReferenceLine("high threshold", host.MemoryMB * host.HighPercent / 100, "#009E73"),
                    new ChartReferenceLine("soft threshold", host.MemoryMB * host.SoftPercent / 100, "#E69F00"),
                    new ChartReferenceLine("hard threshold", host.MemoryMB * host.HardPercent / 100, "#D55E00"),
                    new ChartReferenceLine("low threshold", host.MemoryMB * host.LowPercent / 100, "#B00020"),
                ],
            }, "Free machine memory; shaded: the host in soft, hard or low state (as in Figure 8(a)); lines: the state thresholds."),
            new("aggregate", new LineChart
            {
                Title = "All VMs: allocation, active, balloon, shared, swapped",
                XLabel = "time (s)",
                YLabel = "memory (MB)",
                Series =
                [
                    new ChartSeries("allocated (granted)", time, Sum(v => v.GrantedMB)),
                    new ChartSeries("active estimate", time, Sum(v => v.ActiveEstimateMB)),
                    new ChartSeries("balloon", time, [.. samples.Select(s => s.BalloonMB)]),
                    new ChartSeries("shared", time, Sum(v => v.SharedMB)),
                    new ChartSeries("swapped (host)", time, swapped),
                ],
                Bands = bands,
            }, "All VMs together, as in Figure 8(b): memory granted, the sampled active estimate, balloons, memory mapping shared pages and host swap; shaded: free-memory state."),
        };
        foreach (var name in new[] { "sql", "exchange-client" })
        {
            ChartSeries Of(string label, Func<VmSample, double> value, SeriesLine line = SeriesLine.Solid)
            {
                var (seconds, values) = ExperimentRuns.Series(samples, name, value);
                return new ChartSeries(label, seconds, values) { Line = line };
            }

            figures.Add(new ExperimentFigure("vm-" + name, new LineChart
            {
                Title = $"{name}: allocation, active, balloon, shared, swapped",
                XLabel = "time (s)",
                YLabel = "memory (MB)",
                Series =
                [
                    Of("allocated (granted)", v => v.GrantedMB),
                    Of("target", v => v.TargetMB, SeriesLine.Dashed),
                    Of("active estimate", v => v.ActiveEstimateMB),
                    Of("true working set", v => v.TrueWorkingSetMB, SeriesLine.Dotted),
                    Of("balloon", v => v.BalloonMB),
                    Of("shared", v => v.SharedMB),
                    Of("swapped", v => v.SwappedMB),
                ],
                Bands = bands,
            }, name == "sql"
                ? "The SQL server in detail: idle, then a batch of queries on 192 MB (from 40% of the measured window), then 64 MB (from 80%); grey: the boot before the window."
                : "The Exchange client load generator in detail: a small, steady working set in 192 MB."));
        }

        var tables = new List<ExperimentTable>
        {
            new("vms", "Per VM, last third of the measured window (means; peaks over the window)",
                ["VM", "role", "configured (MB)", "shares", "target (MB)", "held (MB)", "entitlement by shares (MB)", "active estimate (MB)", "true working set (MB)", "peak balloon (MB)", "peak swapped (MB)", "saved by sharing (MB)", "throughput (units/s)"],
                [.. rows.Select(r => (IReadOnlyList<string>)
                [
                    r.Name, r.Role, N(r.ConfiguredMB), N(r.Shares), N(r.TargetMB), N(r.HeldMB), N(r.EntitlementMB), N(r.ActiveMB), N(r.TrueWorkingSetMB),
                    N(r.PeakBalloonMB), N(r.PeakSwappedMB), N(r.SharedSavedMB), N(r.Throughput),
                ])]),
            new("states", "Time in each free-memory state, measured window (and the boot before it)",
                ["state", "seconds", "share of window (%)", "seconds during boot"],
                [.. states.Select(s => (IReadOnlyList<string>)[s, N(secondsIn[s]), N(secondsIn[s] / measured.WindowSeconds * 100), N(measured.BootSecondsInState.GetValueOrDefault(s))])]),
            new("aggregate", "All VMs over time (every 10th sample)",
                ["time (s)", "state", "free (MB)", "granted (MB)", "active estimate (MB)", "balloon (MB)", "shared (MB)", "saved by sharing (MB)", "swapped (MB)"],
                [.. samples.Where((_, i) => i % 10 == 9).Select(s => (IReadOnlyList<string>)
                [
                    N(s.TimeSeconds), s.State, N(s.FreeMB), N(s.Vms.Sum(v => v.GrantedMB)), N(s.Vms.Sum(v => v.ActiveEstimateMB)), N(s.BalloonMB),
                    N(s.Vms.Sum(v => v.SharedMB)), N(s.SharedSavedMB), N(s.SwapUsedMB),
                ])]),
        };

        return Result(
            context,
            runs,
            setup: ($"Paper [recalled]: five Windows VMs (Exchange server and client load, Citrix MetaFrame server and client load, SQL Server), 1472 MB configured plus ~160 MB overhead on ~1 GB. " +
                $"Ours: a {N(host.MemoryMB)} MB host (tau 0.75, thresholds 6/4/2/1%), five Windows VMs of one image, {N(configured)} MB configured plus {N(overhead)} MB overhead, powered on {N(measured.StaggerSeconds)} s apart and booted before the measured window: {N(measured.WindowFromSeconds)} s of boot and warm-up, then {N(measured.WindowSeconds / 60)} measured minutes ({N(duration)} simulated s in all; the paper's run was about an hour); workload phases are fractions of the window: " +
                string.Join("; ", scenario.Vms.Select(v => $"{v.Name} {N(v.MemoryMB)} MB ({ReportTables.WorkloadText(v.Workload)})")) +
                ". Servers are the file server (a mail store read through the page cache) and touchers (a terminal server whose users log on and off, a database idle until a batch of queries); the client load generators are small compute jobs whose memory is mostly idle." +
                (context.Reduced ? $" Reduced: a quarter of the memory, a tenth of the window, sampling period {N(host.SamplingPeriodSeconds)} s and balance period {N(host.BalancePeriodSeconds)} s." : "")),
            shows: "Whether the whole policy (sharing, ballooning, the idle tax, swapping as a last resort, the free-memory states) keeps a 60% overcommitted host running with little host swapping, and moves memory from idle VMs to active ones.",
            discussion:
                "The paper's VM sizes, workloads and run length are not known in detail, so ours are stand-ins and the numbers can only be compared in kind. " +
                "Sharing (the Windows guests zero their free memory, and zero pages are shared) and ballooning do most of the reclamation. " +
                $"The VMs boot before the measured window: each Windows guest's zero-page thread touches all of its memory, faster than balloons inflate, a burst of demand the paper's figure does not show (during the boot: hard {N(measured.BootSecondsInState.GetValueOrDefault(FreeMemoryStates.Hard))} s, low {N(measured.BootSecondsInState.GetValueOrDefault(FreeMemoryStates.Low))} s, swap up to {N(r.BootPeakSwapMB)} MB). " +
                $"Host swapping picks its pages at random; the cold ones are not read back, so what was swapped stays swapped until touched (ESX would keep them too): swap at the window's start {N(WindowStartSwapMB(measured))} MB. " +
                "The targets follow min-funding revocation with the idle tax: a VM's target counts its active pages at cost 1 and idle ones at cost 4, so the least active VMs lose memory first; " +
                "memory a VM does not use (below its target) is not handed to the others (targets partition memory by shares and activity, not by demand), and in the high state nothing is reclaimed, so held memory follows targets only under pressure. " +
                "Active estimates start at 100% after each boot (the zero-page thread touches everything) and fall slowly by design, so the first part of the run allocates by shares more than by activity; allocation against activity is judged on the last third of the window. " +
                "Time in each state comes from the policy's own log of transitions (it steps every 0.1 s), so short visits between two samples count too.") with
        {
            Comparisons = comparisons,
            Figures = figures,
            Tables = tables,
        };
    }

    /// <summary>The scenario at the context's scale.</summary>
    internal static Scenario Scenario(ExperimentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var m = context.Pick(1.0, 0.25); // memory scale
        var t = context.Pick(1.0, 0.2); // time scale of the periods and the boot
        var warmup = WarmupSeconds(context);
        var window = context.Pick(2400.0, 240.0);
        double At(double fraction) => warmup + (fraction * window);
        var stagger = Stagger(context);
        WorkloadSpec Workload(string name) => name switch
        {
            "exchange" => new WorkloadSpec { Kind = WorkloadKind.FileServer, FileSetMB = 384 * m, Clients = 4 },
            "citrix" => new WorkloadSpec
            {
                Kind = WorkloadKind.Toucher, WorkingSetMB = 64 * m, Distribution = AccessPattern.Zipf, ZipfExponent = 0.8,
                Phases = [new(At(0.2), 160 * m), new(At(0.45), 240 * m), new(At(0.75), 128 * m)],
            },
            "sql" => new WorkloadSpec
            {
                Kind = WorkloadKind.Toucher, WorkingSetMB = 32 * m, Distribution = AccessPattern.Uniform,
                Phases = [new(At(0.4), 192 * m), new(At(0.8), 64 * m)],
            },
            _ => new WorkloadSpec { Kind = WorkloadKind.Compute, WorkingSetMB = 24 * m },
        };
        return new Scenario
        {
            Name = "policy",
            DurationSeconds = warmup + window,
            SampleIntervalSeconds = 1,
            Host = new HostSpec
            {
                MemoryMB = 1024 * m,
                SwapMB = 2048 * m,
                IdleTax = 0.75,
                SamplingPeriodSeconds = 30 * t,
                BalancePeriodSeconds = 15 * t,
            },
            Vms = [.. Vms.Select((v, i) => new VmSpec
            {
                Name = v.Name,
                MemoryMB = v.MemoryMB * m,
                OverheadMB = 32 * m,
                Guest = GuestFlavour.Windows,
                Image = "win2k",
                PowerOnSeconds = i * stagger,
                Workload = Workload(v.Name),
            })],
        };
    }

    /// <summary>
    /// Seconds in each free-memory state between <paramref name="from"/> and <paramref name="to"/>, from the
    /// policy's log of transitions (the run starts in high); a state never entered has 0.
    /// </summary>
    internal static IReadOnlyDictionary<string, double> SecondsInStates(IReadOnlyList<StateTransition> log, double from, double to)
    {
        ArgumentNullException.ThrowIfNull(log);
        var seconds = States.ToDictionary(s => s, _ => 0.0);
        var state = FreeMemoryStates.High;
        var since = 0.0;
        void Count(double until) => seconds[state] = seconds.GetValueOrDefault(state) + Math.Max(0, Math.Min(until, to) - Math.Max(since, from));
        foreach (var t in log)
        {
            Count(t.TimeSeconds);
            state = t.To;
            since = t.TimeSeconds;
        }

        Count(to);
        return seconds;
    }

    private static double WindowStartSwapMB(PolicyMeasurements measured) =>
        measured.Samples.FirstOrDefault(s => s.TimeSeconds > measured.WindowFromSeconds)?.SwapUsedMB ?? double.NaN;

    /// <summary>Memory a VM holds of the machine: granted minus its part of the sharing savings.</summary>
    private static double Held(VmSample v) => v.GrantedMB - v.SharedSavedMB;

    private static double Stagger(ExperimentContext context) => context.Pick(20.0, 4.0);

    /// <summary>Boot and warm-up before the measured window: every VM powered on and zeroed, estimates settling.</summary>
    private static double WarmupSeconds(ExperimentContext context) => context.Pick(300.0, 60.0);

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Spearman's rank correlation (average ranks on ties).</summary>
    internal static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var rx = Ranks(x);
        var ry = Ranks(y);
        var mx = rx.Average();
        var my = ry.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < rx.Length; i++)
        {
            sxy += (rx[i] - mx) * (ry[i] - my);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - my) * (ry[i] - my);
        }

        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    private static double[] Ranks(IReadOnlyList<double> values)
    {
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && values[order[j + 1]] == values[order[i]])
            {
                j++;
            }

            for (var k = i; k <= j; k++)
            {
                ranks[order[k]] = (i + j) / 2.0;
            }

            i = j + 1;
        }

        return ranks;
    }

    private static string N(double value) => ExperimentReport.Number(value, 1);

}
