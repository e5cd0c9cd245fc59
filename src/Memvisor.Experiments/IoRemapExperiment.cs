/*
 * io-remap (paper §7): hot I/O page remapping. A network card that can address only low memory (below
 * the DMA boundary) reaches a guest page in high memory through a low bounce buffer, one copy per
 * transfer. ESX counts copies per page and remaps a page that passes a threshold to a low machine page;
 * for network-heavy guests the paper says this cuts copies "by orders of magnitude" (no number given,
 * [recalled]; we read it as at least 100x). When low memory runs short, pages may move back to high memory:
 * the paper names that as being explored (future work), not as part of the system it measured, so the
 * demotion scenario goes beyond the paper and its report says so.
 *
 * The paper's setup: none is described beyond "network-heavy guests" on a PAE host with more than 4 GB.
 * Ours: a 512 MB host whose DMA boundary is 64 MB (a small boundary stands in for 4 GB of 64 GB: what
 * matters is that the VM's pages are high, which guest placement (high memory first) makes them, and the
 * run checks: with remapping off every transfer bounces), one Linux VM of 128 MB running the network
 * workload (an echo server: each packet is a DMA receive or transmit of one socket-buffer page, buffer
 * popularity Zipf(1)), with remapping on and off. The main pool is the workload's own default of 4 MB
 * (1,024 pages); a sweep over pools of 1 to 64 MB shows how the factor depends on how concentrated the
 * I/O is. A second scenario squeezes low memory (a 32 MB boundary, and a memory-hungry VM powered on a
 * third into the run) to show demotion: cold pages leave low memory, the hot buffers stay.
 * Differences: the threshold (16 copies), the count decay (halved every balance period, 15 s) and the
 * low-memory reserve are Memvisor's choices (the paper gives none); a bounce copy costs 2 us in the
 * simulator's latency model, so throughput barely moves; no real NIC, no interrupts or ring buffers.
 */
using System.Globalization;
using Memvisor.Scenarios;
using Memvisor.Core.Statistics;
using Memvisor.Reporting.Charts;
using Memvisor.Simulation;

namespace Memvisor.Experiments;

/// <summary>Hot I/O page remapping: bounce copies of a network-heavy guest with and without remapping (paper §7).</summary>
public sealed class IoRemapExperiment() : PaperExperiment<IoRemapMeasurements>("io-remap", "Hot I/O page remapping", "§7 (no figure); demotion beyond the paper")
{
    /// <summary>"Orders of magnitude", read as at least this factor.</summary>
    public const double OrdersOfMagnitudeFactor = 100;

    private const string NetVm = "net";
    internal const double MainPoolMB = 4;

    /// <summary>The scenario's default remap threshold, copies (Memvisor's choice).</summary>
    internal static readonly int DefaultThreshold = new HostSpec().IoRemapThresholdCopies;

    /// <inheritdoc/>
    protected override IoRemapMeasurements Measure(ExperimentContext context, ExperimentRuns runs)
    {
        ArgumentNullException.ThrowIfNull(context);
        var duration = context.Pick(120.0, 40.0);
        double[] pools = context.Pick<double[]>([1, MainPoolMB, 16, 64], [MainPoolMB]);
        var points = new List<IoRemapPool>();
        foreach (var pool in pools)
        {
            context.Report($"io-remap: {pool} MB socket buffers, remapping on and off");
            var on = runs.Run(Scenario(pool, remap: true, duration));
            var off = runs.Run(Scenario(pool, remap: false, duration));
            points.Add(new IoRemapPool(pool, Measure(on.Samples, duration), Measure(off.Samples, duration)));
        }

        // The threshold is Memvisor's choice (the paper gives none): the main pool again with remapping on at
        // other thresholds; the run without remapping does not depend on it.
        var main = points.Single(p => p.PoolMB == MainPoolMB);
        int[] thresholds = context.Pick<int[]>([4, 8, 16, 32, 64], [4, 16, 64]);
        var byThreshold = thresholds.Select(n => n == DefaultThreshold
            ? main
            : new IoRemapPool(MainPoolMB, Measure(runs.Run(Scenario(MainPoolMB, remap: true, duration, n)).Samples, duration), main.Off) { ThresholdCopies = n }).ToList();
        return new IoRemapMeasurements(duration, points, RunDemotion(context, duration * 1.5)) { ByThreshold = byThreshold };
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ClaimResult> Judge(IoRemapMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (points, main, demotion) = (measured.Pools, measured.Main, measured.Demotion);
        var factor = main.SteadyFactor;
        var placedHigh = main.Off.BouncedFraction;
        return
        [
            new ClaimResult(
                ClaimId.IoRemapCutsBounceCopies,
                "remapping cuts bounce copies by orders of magnitude (>= 100x) for a network-heavy guest",
                factor.Value >= OrdersOfMagnitudeFactor,
                ($"4 MB of socket buffers, last half of the run: {N(main.Off.SteadyBouncesPerSecond)} copies/s without remapping, {N(main.On.SteadyBouncesPerSecond)} with: {(factor.LowerBound ? ">= " : "")}{N(factor.Value)}x (whole run {N(main.WholeRunFactor)}x). " +
                    $"Without remapping {N(placedHigh * 100)}% of transfers bounced, so the VM's buffers were in high memory. " +
                    (points.Count > 1 ? $"Across pools: {string.Join(", ", points.Select(p => $"{N(p.PoolMB)} MB {(p.SteadyFactor.LowerBound ? ">= " : "")}{N(p.SteadyFactor.Value)}x"))}: the factor reaches orders of magnitude only when the hot buffers carry nearly all transfers; a long Zipf tail of buffers below the threshold keeps bouncing. " : "") +
                    $"The factor hinges on the threshold (Memvisor's {DefaultThreshold} copies; the paper gives none): by threshold {string.Join(", ", measured.ByThreshold.Select(p => $"{p.ThresholdCopies} copies {(p.SteadyFactor.LowerBound ? ">= " : "")}{N(p.SteadyFactor.Value)}x"))}; it holds at {ThresholdsWhereItHolds(measured)} copies."))
            {
                Measured = factor.Value,
            },
            new ClaimResult(
                ClaimId.IoRemapDemotesWhenLowIsShort,
                "beyond the paper (it names moving pages back to high memory as future work): when low memory runs short, pages move back to high memory (demotion) and hot pages stay low",
                demotion.Demotions > 0 && demotion.AfterBouncesPerSecond <= Math.Max(1, demotion.SqueezedBouncesPerSecond),
                ($"low memory held guest pages below its {N(demotion.ReserveMB)} MB reserve until a {N(demotion.FillerMB)} MB VM powered off at {N(demotion.FillerOffSeconds)} s; " +
                    $"{demotion.Demotions} cold pages were then demoted from low to high memory, {demotion.Remaps} hot pages were remapped low in all, {demotion.RemapsDeferred} remaps deferred while low memory was at its reserve; " +
                    $"the network VM's bounce copies: {N(demotion.SqueezedBouncesPerSecond)}/s while squeezed, {N(demotion.AfterBouncesPerSecond)}/s in the last third; free low memory at the end {N(demotion.FreeLowMB)} of {N(demotion.LowZoneMB)} MB."))
            {
                Measured = demotion.Demotions,
            },
        ];
    }

    /// <inheritdoc/>
    protected override ExperimentResult Render(ExperimentContext context, ExperimentRuns runs, IoRemapMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(measured);
        var (duration, points, main, demotion) = (measured.DurationSeconds, measured.Pools, measured.Main, measured.Demotion);
        var pools = points.Select(p => p.PoolMB);
        var factor = main.SteadyFactor;
        var comparisons = new List<PaperComparison>
        {
            new("bounce copies cut by remapping (steady state, 4 MB buffers)", double.NaN, factor.Value, "x")
            {
                Note = $"paper: \"orders of magnitude\" [recalled], no number; the claim below reads it as >= {N(OrdersOfMagnitudeFactor)}x" + (factor.LowerBound ? "; ours is a lower bound (no copies at all in the window)" : ""),
            },
            new("bounce copies cut by remapping (whole run incl. warm-up, 4 MB buffers)", double.NaN, main.WholeRunFactor, "x") { Note = "as above; the warm-up copies (one threshold's worth per hot page) count here" },
            new("throughput gain from remapping (4 MB buffers)", double.NaN, ((main.On.Throughput / main.Off.Throughput) - 1) * 100, "%")
            {
                Note = "the paper gives no throughput number; a bounce copy costs 2 us against 250 us of protocol work per packet here",
            },
        };

        var figures = new List<ExperimentFigure>
        {
            new("bounce-copies", new LineChart
            {
                Title = "Bounce copies per second, 4 MB of socket buffers",
                XLabel = "time (s)",
                YLabel = "bounce copies per second (copies/s)",
                Series =
                [
                    BounceSeries("remapping off", main.Off.Bounces),
                    BounceSeries("remapping on", main.On.Bounces),
                ],
            }, "Bounce copies of the network VM per second, with hot I/O page remapping off and on; with it on, hot buffers move to low memory after 16 copies and stop bouncing."),
            new("demotion", new LineChart
            {
                Title = "Low memory runs short: bounce copies of the network VM",
                XLabel = "time (s)",
                YLabel = "bounce copies per second (copies/s)",
                Series = [BounceSeries("network VM, remapping on", demotion.Bounces)],
                ReferenceLines = [],
            }, $"The network VM (4 MB of buffers) on a 512 MB host with a 256 MB DMA boundary; two Windows VMs fill high memory and most of low memory; one powers off at {N(demotion.FillerOffSeconds)} s, and cold low pages move to high memory."),
        };
        if (points.Count > 1)
        {
            figures.Add(new ExperimentFigure("factor-by-pool", new BarChart
            {
                Title = "Bounce copies per second by socket-buffer pool",
                YLabel = "bounce copies per second (copies/s)",
                Categories = [.. points.Select(p => N(p.PoolMB) + " MB")],
                Groups =
                [
                    new BarGroup("remapping off", [.. points.Select(p => p.Off.SteadyBouncesPerSecond)]),
                    new BarGroup("remapping on", [.. points.Select(p => p.On.SteadyBouncesPerSecond)]),
                ],
            }, "Steady-state bounce copies per second (last half of each run) for socket-buffer pools of different sizes."));
        }

        var tables = new List<ExperimentTable>
        {
            new("pools", "Bounce copies by socket-buffer pool (remapping on vs off)",
                ["buffers (MB)", "off: copies/s (last half)", "on: copies/s (last half)", "factor (last half)", "off: copies (run)", "on: copies (run)", "factor (run)", "off: packets/s", "on: packets/s", "off: share of transfers bounced (%)"],
                [.. points.Select(p => (IReadOnlyList<string>)
                [
                    N(p.PoolMB), N(p.Off.SteadyBouncesPerSecond), N(p.On.SteadyBouncesPerSecond), (p.SteadyFactor.LowerBound ? ">= " : "") + N(p.SteadyFactor.Value),
                    N(p.Off.TotalBounces), N(p.On.TotalBounces), N(p.WholeRunFactor), N(p.Off.Throughput), N(p.On.Throughput), N(p.Off.BouncedFraction * 100),
                ])]),
            new("thresholds", $"Bounce copies by remap threshold, {N(MainPoolMB)} MB of buffers (the threshold is Memvisor's choice; the paper gives none)",
                ["threshold (copies)", "on: copies/s (last half)", "factor (last half)", $"orders of magnitude (>= {N(OrdersOfMagnitudeFactor)}x)", "on: copies (run)", "factor (run)"],
                [.. measured.ByThreshold.Select(p => (IReadOnlyList<string>)
                [
                    p.ThresholdCopies.ToString(CultureInfo.InvariantCulture), N(p.On.SteadyBouncesPerSecond), (p.SteadyFactor.LowerBound ? ">= " : "") + N(p.SteadyFactor.Value),
                    p.SteadyFactor.Value >= OrdersOfMagnitudeFactor ? "yes" : "no", N(p.On.TotalBounces), N(p.WholeRunFactor),
                ])]),
            new("demotion", "Low memory runs short (256 MB DMA boundary on 512 MB, then a VM powers off)",
                ["quantity", "value"],
                [
                    ["network VM bounce copies/s while low memory is short", N(demotion.SqueezedBouncesPerSecond)],
                    ["network VM bounce copies/s, last third", N(demotion.AfterBouncesPerSecond)],
                    ["pages remapped low", demotion.Remaps.ToString(CultureInfo.InvariantCulture)],
                    ["pages demoted to high memory", demotion.Demotions.ToString(CultureInfo.InvariantCulture)],
                    ["remaps deferred (low memory at its reserve)", demotion.RemapsDeferred.ToString(CultureInfo.InvariantCulture)],
                    ["free low memory at the end (MB)", N(demotion.FreeLowMB)],
                    ["low-memory reserve (MB)", N(demotion.ReserveMB)],
                    ["host swap used at the end (MB)", N(demotion.SwapUsedMB)],
                ]),
            new("bounce-series", "Bounce copies per sample interval, 4 MB of buffers",
                ["time (s)", "remapping off (copies)", "remapping on (copies)"],
                [.. main.Off.Bounces.Seconds.Select((t, i) => (IReadOnlyList<string>)
                    [N(t), N(main.Off.Bounces.Values[i]), N(main.On.Bounces.Values[i])])]),
        };

        return Result(
            context,
            runs,
            setup: ($"Paper: network-heavy guests on a PAE host whose devices reach only the low 4 GB; no figure or setup given. " +
                $"Ours: a 512 MB host with a 64 MB DMA boundary (guest pages are placed high first, so the VM is backed by high memory), one 128 MB Linux VM running an echo server " +
                $"(each packet a DMA receive or transmit of one socket-buffer page, Zipf(1) buffer popularity, 250 us of protocol work per packet), {N(duration)} simulated s with hot-page remapping on and off " +
                $"(threshold {new HostSpec().IoRemapThresholdCopies} copies, counts halved every 15 s). Buffer pools: {string.Join(", ", pools.Select(p => N(p) + " MB"))} (4 MB is the workload's default); the 4 MB pool again at remap thresholds {string.Join(", ", measured.ByThreshold.Select(p => p.ThresholdCopies))} copies. " +
                $"Second scenario (demotion, beyond the paper: §7 names moving pages back to high memory as future work): a 512 MB host with a 256 MB boundary (64 MB reserve), sharing off, the network VM (32 MB, 4 MB of buffers) powered on first, then two idle Windows VMs of {N(demotion.FillerMB)} and 200 MB whose zero-page threads fill high memory and most of low memory; the first powers off at {N(demotion.FillerOffSeconds)} s; {N(demotion.DurationSeconds)} s."),
            shows: "Whether counting bounce copies per page and remapping hot pages to low memory removes most copies for a network-heavy guest, and what happens when low memory runs short.",
            discussion:
                "The paper gives no number, so the comparison is against our reading of \"orders of magnitude\" (>= 100x). Whether remapping gets there depends on how concentrated the I/O is: " +
                "a page is remapped once its count (halved every balance period) reaches the threshold, so with a small pool of buffers (the usual case for a network stack that recycles its buffers) every buffer becomes hot and, after a warm-up of one threshold's worth of copies per buffer, nothing bounces; " +
                "with a large pool and Zipf popularity the tail of rarely used buffers never reaches the threshold and keeps bouncing, and the factor drops to a few times. The steady-state factor excludes the warm-up, the whole-run factor includes it, so it grows with the run's length. " +
                "Throughput hardly changes here because the latency model charges 2 us per bounce copy against 250 us of protocol processing per packet; on the paper's hardware, copies also cost memory bandwidth and CPU shared with other VMs, which the simulator does not model. " +
                "Demotion is Memvisor's, not the paper's (the paper mentions it only as something being explored): it moves only cold low pages (no transfer since the clock hand last passed), so hot buffers keep their low pages while the squeeze lasts.") with
        {
            Comparisons = comparisons,
            Figures = figures,
            Tables = tables,
            // The demotion scenario runs outside ExperimentRuns (RunDemotion), so it is counted here.
            SimulatedSeconds = runs.SimulatedSeconds + demotion.DurationSeconds,
            Runs = runs.Count + 1,
        };
    }

    /// <summary>The main scenario: one network VM in high memory, remapping on or off.</summary>
    internal static Scenario Scenario(double poolMB, bool remap, double durationSeconds, int? thresholdCopies = null) => new()
    {
        Name = string.Create(CultureInfo.InvariantCulture, $"io-remap-{poolMB}mb-{(remap ? "on" : "off")}{(thresholdCopies is { } t ? $"-threshold-{t}" : "")}"),
        DurationSeconds = durationSeconds,
        SampleIntervalSeconds = 1,
        Host = new HostSpec { MemoryMB = 512, SwapMB = 512, DmaBoundaryMB = 64, IoRemap = remap, IoRemapThresholdCopies = thresholdCopies ?? DefaultThreshold, Sharing = false },
        Vms =
        [
            new VmSpec { Name = NetVm, MemoryMB = 128, Guest = GuestFlavour.Linux, Workload = new WorkloadSpec { Kind = WorkloadKind.Network, WorkingSetMB = poolMB } },
        ],
    };

    private static IoRemapDemotion RunDemotion(ExperimentContext context, double durationSeconds)
    {
        // 512 MB, half of it low (reserve 64 MB). The network VM powers on first (its pages go high); two
        // Windows guests, whose zero-page threads touch all their memory at boot, fill high memory and then
        // most of low memory, below the reserve. A third into the run the first of them powers off: high
        // memory is free again, and cold low pages can move there.
        const double fillerMB = 224;
        var fillerOff = Math.Round(durationSeconds / 3);
        VmSpec Windows(string name, double memoryMB, double on, double? off = null) => new()
        {
            Name = name, MemoryMB = memoryMB, OverheadMB = 8, Guest = GuestFlavour.Windows, PowerOnSeconds = on, PowerOffSeconds = off,
            Workload = new WorkloadSpec { Kind = WorkloadKind.Idle },
        };
        var scenario = new Scenario
        {
            Name = "io-remap-demotion",
            Seed = context.Seed,
            DurationSeconds = durationSeconds,
            SampleIntervalSeconds = 1,
            Host = new HostSpec { MemoryMB = 512, SwapMB = 512, DmaBoundaryMB = 256, IoRemap = true, Sharing = false },
            Vms =
            [
                new VmSpec { Name = NetVm, MemoryMB = 32, OverheadMB = 8, Guest = GuestFlavour.Linux, Workload = new WorkloadSpec { Kind = WorkloadKind.Network, WorkingSetMB = MainPoolMB } },
                Windows("filler", fillerMB, 1, fillerOff),
                Windows("cold", 200, 8),
            ],
        };
        context.CancellationToken.ThrowIfCancellationRequested();
        context.Report($"{scenario.Name}: {durationSeconds:0} simulated s, 3 VM(s)");

        // Run here rather than through ExperimentRuns: the demotion counters live in Core (IoRemapHostStats), not in the samples.
        using var host = new SimulatedHost(scenario);
        var result = host.Run(cancellationToken: context.CancellationToken);
        var io = host.Controller.Manager.GetIoRemapHostStats();
        foreach (var vm in result.Samples.Count > 0 ? result.Samples[^1].Vms : [])
        {
            if (vm.DataMismatches != 0)
            {
                throw new ExperimentException($"scenario '{scenario.Name}': VM '{vm.Name}' read back data it did not write ({vm.DataMismatches} mismatches).");
            }
        }

        const double mbPerPage = 4096.0 / (1024 * 1024);
        return new IoRemapDemotion
        {
            DurationSeconds = durationSeconds,
            FillerMB = fillerMB,
            FillerOffSeconds = fillerOff,
            Bounces = TimeSeries.Of(result.Samples, NetVm, v => v.BounceCopies),
            SqueezedBouncesPerSecond = BouncesPerSecond(result.Samples, fillerOff / 2, fillerOff),
            AfterBouncesPerSecond = BouncesPerSecond(result.Samples, durationSeconds * 2 / 3, durationSeconds),
            Remaps = io.Totals.Remaps,
            Demotions = io.Totals.Demotions,
            RemapsDeferred = io.Totals.RemapsDeferred,
            FreeLowMB = io.FreeLowPages * mbPerPage,
            LowZoneMB = io.LowZonePages * mbPerPage,
            ReserveMB = io.LowReservePages * mbPerPage,
            SwapUsedMB = result.Samples.Count > 0 ? result.Samples[^1].SwapUsedMB : 0,
        };
    }

    /// <summary>The thresholds at which remapping cut copies by orders of magnitude, listed ("none" if none).</summary>
    private static string ThresholdsWhereItHolds(IoRemapMeasurements measured)
    {
        var holding = measured.ByThreshold.Where(p => p.SteadyFactor.Value >= OrdersOfMagnitudeFactor).Select(p => p.ThresholdCopies.ToString(CultureInfo.InvariantCulture)).ToList();
        return holding.Count == 0 ? "none" : string.Join(", ", holding);
    }

    private static IoRemapRun Measure(IReadOnlyList<HostSample> samples, double durationSeconds)
    {
        double total = 0;
        double packets = 0;
        foreach (var s in samples)
        {
            var vm = ExperimentRuns.Find(s, NetVm);
            total += vm.BounceCopies;
            packets += vm.Throughput; // packets per second over a 1 s interval
        }

        return new IoRemapRun(
            BouncesPerSecond(samples, durationSeconds / 2, durationSeconds),
            total,
            ExperimentRuns.Mean(samples, NetVm, v => v.Throughput),
            packets == 0 ? 0 : total / packets,
            samples.Count,
            TimeSeries.Of(samples, NetVm, v => v.BounceCopies));
    }

    /// <summary>Bounce copies per second of the network VM over fromSeconds &lt; t &lt;= toSeconds (1 s samples).</summary>
    private static double BouncesPerSecond(IReadOnlyList<HostSample> samples, double fromSeconds, double toSeconds) =>
        ExperimentRuns.Mean(samples, NetVm, v => v.BounceCopies, fromSeconds, toSeconds);

    private static ChartSeries BounceSeries(string label, TimeSeries bounces) => new(label, bounces.Seconds, bounces.Values);

    private static string N(double value) => ExperimentReport.Number(value, value >= 100 ? 0 : 2);
}
