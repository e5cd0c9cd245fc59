/*
 * Figure 6 on a real guest: Core's working-set estimator against the agent's truth through a toucher's
 * phases (small, large, small, larger, small).
 *
 * Method, as it differs from the paper's: ESX samples 100 random pages per period, invalidating their
 * mappings and counting the first touches (f = touched / sampled). Here the host's accessed bits do it for
 * every page: clear_refs at the start of a period, smaps Referenced of the guest-RAM mapping at its end
 * (QEMU runs with THP off, so each bit is a 4 KiB page), once mid-period as the partial count. That
 * changes three things: there is no sampling error (the paper's n = 100 has a binomial standard error
 * of up to 5% of memory per period); the cost grows with the guest's memory (a page-table walk, not 100
 * faults); and pages the host touches for the guest (QEMU's device emulation, e.g. virtio rings) count as
 * touched, as do the guest kernel's own accesses, which the agent's truth does not include. The
 * smoothing is Core's WorkingSetEstimator, the simulator's (slow and fast averages, the partial count,
 * the maximum of the three), with the default gains and an initial estimate of 0.
 */
using Memvisor.Core.Sampling;
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Launch;
using Memvisor.Reporting.Charts;
using static Memvisor.Experiments.RealGuests.RealGuestLab;

namespace Memvisor.Experiments.RealGuests;

/// <summary>The sampling experiment (Figure 6) on a real guest.</summary>
public sealed class RealSamplingExperiment : RealGuestExperiment<RealSamplingMeasurements>
{
    private const double MiB = 1 << 20;

    internal RealSamplingExperiment()
        : base(new SamplingExperiment())
    {
    }

    /// <inheritdoc/>
    private protected override async Task<RealSamplingMeasurements> MeasureRealAsync(ExperimentContext context, ExperimentResult simulated)
    {
        var setup = new RealSamplingSetup(
            MemoryMiB: 256,
            PeriodSeconds: context.Pick(2.0, 1.0),
            Phases: context.Pick<IReadOnlyList<(int, int)>>([(8, 20), (96, 30), (16, 80), (128, 30), (32, 80)], [(8, 8), (96, 10), (16, 30)]));
        var image = await ImageAsync(context).ConfigureAwait(false);
        var started = new List<QemuGuest>();
        var periods = new List<RealSamplingPeriod>();
        try
        {
            var phases = string.Join(',', setup.Phases.Select(p => $"{p.SetMiB}:{p.Seconds}"));
            await StartAsync(
                [new QemuGuestOptions
                {
                    Name = "toucher",
                    MemoryMiB = setup.MemoryMiB,
                    Image = image,
                    Agent = Agent("mode=toucher", $"alloc_mib={setup.Phases.Max(p => p.SetMiB)}", $"phases={phases}", "fill=unique", "period_s=1"),
                }],
                started,
                context).ConfigureAwait(false);
            var guest = started[0];
            var mapping = guest.RamMapping ?? throw new ExperimentException("guest toucher: its guest-RAM mapping was not found in /proc/PID/maps");
            var meter = new WorkingSetMeter(mapping, new SamplingOptions { PeriodSeconds = setup.PeriodSeconds, InitialActiveFraction = 0 });
            var count = (int)Math.Ceiling(setup.Phases.Sum(p => p.Seconds) / setup.PeriodSeconds);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            meter.StartPeriod();
            var seen = guest.Reports.Count;
            for (var i = 1; i <= count; i++)
            {
                await DelayUntil(clock, (i - 0.5) * setup.PeriodSeconds, context).ConfigureAwait(false);
                meter.ObservePartial();
                await DelayUntil(clock, i * setup.PeriodSeconds, context).ConfigureAwait(false);
                var reading = meter.CompletePeriod() ?? throw new ExperimentException($"guest toucher: QEMU is gone: {guest.DiagnosticTail()}");
                var reports = guest.Reports;
                var fresh = reports.Skip(seen).ToList();
                seen = reports.Count;
                var latest = Latest(guest);
                var truth = fresh.Count > 0 ? fresh.Average(r => (double)r.TouchedPages) : latest.TouchedPages;
                periods.Add(new RealSamplingPeriod(
                    clock.Elapsed.TotalSeconds,
                    latest.Phase,
                    truth / PagesPerMiB,
                    reading.ReferencedPages / (double)PagesPerMiB,
                    reading.EstimatePages / PagesPerMiB,
                    reading.Cost.TotalMilliseconds));
            }

            context.Report($"{periods.Count} periods of {setup.PeriodSeconds:0.#} s measured");
        }
        finally
        {
            await StopAllAsync(started).ConfigureAwait(false);
        }

        var (rises, falls, error) = Steps(periods);
        return new RealSamplingMeasurements(setup, periods, rises, falls, error, simulated);
    }

    private static async Task DelayUntil(System.Diagnostics.Stopwatch clock, double seconds, ExperimentContext context)
    {
        var wait = TimeSpan.FromSeconds(seconds) - clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await WaitAsync(wait, context).ConfigureAwait(false);
        }
    }

    /// <summary>The steps between phases (their levels are the truth's mean over each phase's last quarter) and the mean tracking error there.</summary>
    internal static (List<RealSamplingStep> Rises, List<RealSamplingStep> Falls, double MeanErrorMiB) Steps(IReadOnlyList<RealSamplingPeriod> periods)
    {
        var runs = new List<(int First, int Last)>();
        for (var i = 0; i < periods.Count; i++)
        {
            if (i == 0 || periods[i].Phase != periods[i - 1].Phase)
            {
                runs.Add((i, i));
            }
            else
            {
                runs[^1] = (runs[^1].First, i);
            }
        }

        IEnumerable<int> LastQuarter((int First, int Last) run) =>
            Enumerable.Range(run.First, run.Last - run.First + 1).Where(i => i >= run.Last - ((run.Last - run.First + 1) / 4));
        double Level((int First, int Last) run) => LastQuarter(run).Average(i => periods[i].TruthMiB);

        var (rises, falls) = (new List<RealSamplingStep>(), new List<RealSamplingStep>());
        for (var r = 1; r < runs.Count; r++)
        {
            var (from, to) = (Level(runs[r - 1]), Level(runs[r]));
            var start = runs[r].First;
            double PeriodsTo(double share)
            {
                for (var i = start; i <= runs[r].Last; i++)
                {
                    var covered = (periods[i].EstimateMiB - from) / (to - from);
                    if (covered >= share)
                    {
                        return i - start + 1;
                    }
                }

                return double.NaN;
            }

            var step = new RealSamplingStep(periods[start].Seconds, from, to, PeriodsTo(0.5), PeriodsTo(0.9));
            (to > from ? rises : falls).Add(step);
        }

        var tracked = runs.SelectMany(LastQuarter).ToList();
        var error = tracked.Count == 0 ? double.NaN : tracked.Average(i => Math.Abs(periods[i].EstimateMiB - periods[i].TruthMiB));
        return (rises, falls, error);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ClaimResult> Judge(RealSamplingMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (slowestRise, fastestFall) = (measured.SlowestRise, measured.FastestFall);
        string Steps(IReadOnlyList<RealSamplingStep> steps) => string.Join("; ", steps.Select(s =>
            $"step at {F(s.AtSeconds, 0)} s from {F(s.FromMiB, 1)} to {F(s.ToMiB, 1)} MiB: half-way after {Periods(s.Periods50)} periods, 90% after {Periods(s.Periods90)}"));
        return
        [
            new ClaimResult(
                ClaimId.SamplingRisesFastFallsSlowly,
                ClaimText(measured.Simulator, ClaimId.SamplingRisesFastFallsSlowly),
                fastestFall >= 3 * slowestRise,
                $"slowest rise {Periods(slowestRise)} periods, fastest fall {Periods(fastestFall)} periods")
            {
                Measured = fastestFall / slowestRise,
            },
            new ClaimResult(
                ClaimId.SamplingRisesWithinTwoPeriods,
                ClaimText(measured.Simulator, ClaimId.SamplingRisesWithinTwoPeriods),
                slowestRise <= 2,
                Steps(measured.Rises) + "; counted from the period in which the step happened (its own count is partial)")
            {
                Measured = slowestRise,
                Paper = 1,
            },
            new ClaimResult(
                ClaimId.SamplingFallsSlowly,
                ClaimText(measured.Simulator, ClaimId.SamplingFallsSlowly),
                fastestFall >= 5,
                Steps(measured.Falls) + "; slow gain 0.1 predicts 21.9 periods to 90% (not reached within a phase: more than the phase's periods)")
            {
                Measured = fastestFall,
            },
            new ClaimResult(
                ClaimId.SamplingTracksTruth,
                ClaimText(measured.Simulator, ClaimId.SamplingTracksTruth),
                measured.MeanErrorPercent <= 10,
                $"mean absolute error {F(measured.MeanErrorMiB, 1)} MiB = {F(measured.MeanErrorPercent, 1)}% of {measured.Setup.MemoryMiB} MiB; Referenced counts the guest kernel's and QEMU's touches too, the truth only the agent's")
            {
                Measured = measured.MeanErrorPercent,
            },
        ];
    }

    /// <inheritdoc/>
    protected override ExperimentResult Render(ExperimentContext context, ExperimentRuns runs, RealSamplingMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(measured);
        var (setup, periods) = (measured.Setup, measured.Periods);
        double[] t = [.. periods.Select(p => p.Seconds)];
        var figure = new ExperimentFigure("estimate", new LineChart
        {
            Title = "Working-set estimate vs the agent's truth (real guest)",
            XLabel = "time (s)",
            YLabel = "MiB",
            Series =
            [
                new ChartSeries("truth (agent)", t, [.. periods.Select(p => p.TruthMiB)]),
                new ChartSeries("estimate (Core's estimator)", t, [.. periods.Select(p => p.EstimateMiB)]) { Line = SeriesLine.Dashed },
                new ChartSeries("Referenced in the period", t, [.. periods.Select(p => p.ReferencedMiB)]) { Line = SeriesLine.Dotted },
            ],
        }, $"Per {F(setup.PeriodSeconds, 1)} s period: the agent's touched pages, smaps Referenced of guest RAM, and the estimate fed by it (the paper's Figure 6 on a Linux TCG guest).");
        var table = new ExperimentTable(
            "periods",
            "Every period",
            ["time (s)", "phase", "truth (MiB)", "Referenced (MiB)", "estimate (MiB)", "measurement cost (ms)"],
            [.. periods.Select(p => (IReadOnlyList<string>)[F(p.Seconds, 1), $"{p.Phase}", F(p.TruthMiB, 1), F(p.ReferencedMiB, 1), F(p.EstimateMiB, 1), F(p.CostMilliseconds, 1)])]);
        var claims = Judge(measured);
        var notJudged = new Dictionary<ClaimId, string>
        {
            [ClaimId.SamplingBootSpikeFromZeroPageThread] = "a Windows guest's zero-page thread; the guests here are Linux (no Windows image can be built from Debian packages)",
            [ClaimId.SamplingBootSpikeMeasured] = "needs a Windows guest beside the Linux one",
        };
        var costs = periods.Select(p => p.CostMilliseconds).ToList();
        return RealResult(
            context,
            measured.Simulator,
            guestsBooted: 1,
            setup:
                "Paper [recalled]: a Windows VM runs a toucher whose working set changes; 100 pages sampled per 30 s period. " +
                $"Real guest: one {setup.MemoryMiB} MiB Linux guest under QEMU TCG whose agent touches, each second, every page of a working set that changes by phase " +
                $"({string.Join(", ", setup.Phases.Select(p => $"{p.SetMiB} MiB for {p.Seconds} s"))}); {F(setup.PeriodSeconds, 1)} s periods. " +
                "Method: referenced bits over the period for every page of guest RAM (clear_refs, then smaps Referenced; THP off for QEMU), not the paper's per-page sampling; " +
                "a partial count mid-period; Core's WorkingSetEstimator (the simulator's) with the default gains, starting at 0. Truth: the agent's touched pages per second, mean over the period. " +
                "The simulator column is `memvisor experiment sampling` at the same scale and seed.",
            shows: "Statistical sampling estimates a VM's working set without guest help; the estimate rises fast when the VM becomes active and falls slowly when it goes idle.",
            discussion:
                "Referenced bits count every page touched in the period, so there is no sampling error: the paper's 100 samples have a standard error of up to 5% of memory per period, ours none; " +
                "but the count includes the guest kernel's own pages (its page tables, slab, the agent's reporting) and what QEMU touches for the guest, a few MiB above the agent's truth. " +
                $"Each measurement walks the guest-RAM mapping's page tables: {F(costs.Min(), 1)}-{F(costs.Max(), 1)} ms here (the paper's cost is 100 page faults per 30 s). " +
                "The smoothing is the same code as the simulator's, so rises and falls take the same number of periods where the raw counts step cleanly; " +
                "the rise counts from the period in which the step happened, whose own count is partial, so 90% of a rise takes about 3 periods with the fast gain 0.5. " +
                "The boot-spike claims need a Windows guest (its zero-page thread): not measurable here.") with
        {
            Figures = [figure],
            Tables = [SideBySide.Table(measured.Simulator, claims, notJudged), table],
        };
    }

    private static string Periods(double periods) => double.IsFinite(periods) ? F(periods, 1) : "not within the phase";

    private static string F(double value, int decimals = 2) => ExperimentReport.Number(value, decimals);
}
