/*
 * How the sampling experiment's claim "the estimate follows an increase within 1-2 periods" depends on the
 * estimator's free parameters: the fast average's gain (the paper gives none; Memvisor's default is 0.5)
 * and the pages sampled per period (the paper's 100). One short run per value, each the same Linux VM and
 * toucher (no zero-page thread, so nothing but the toucher moves the truth) with estimates starting at 0%
 * and one large step up of the working set: the periods the estimate takes to cover 90% of the step, and
 * how far it strays from the truth once the step has settled (the noise a larger gain lets through).
 * Every other setting is the main run's; the gain is set through SimulationOptions.Policy (the scenario
 * format does not carry it), the sample count through host.samplingPages.
 */
using Memvisor.Scenarios;
using Memvisor.Simulation;

namespace Memvisor.Experiments;

/// <summary>One run of the sweep: the estimator's parameters and how it followed the step up.</summary>
/// <param name="FastGain">The fast average's gain.</param>
/// <param name="SamplePages">Pages sampled per period.</param>
/// <param name="Rise">The estimate's response to the step up.</param>
/// <param name="SettledErrorPercent">Mean |estimate - truth| over the last quarter of the run, % of the VM's memory.</param>
public sealed record SamplingSensitivityPoint(double FastGain, int SamplePages, SamplingStep Rise, double SettledErrorPercent)
{
    /// <summary>Whether the estimate covered 90% of the step within <see cref="SamplingExperiment.RiseWithinPeriods"/> periods.</summary>
    public bool RisesWithinClaim => Rise.Periods90 <= SamplingExperiment.RiseWithinPeriods;
}

/// <summary>The sweep over the fast gain (at the default sample count) and over the sample count (at the default gain).</summary>
/// <param name="ByGain">One point per fast gain, ascending.</param>
/// <param name="BySamplePages">One point per sample count, ascending (the default's point is the gain sweep's).</param>
/// <param name="StepFromMB">The toucher's configured working set before the step.</param>
/// <param name="StepToMB">After the step.</param>
/// <param name="StepAtSeconds">When the step happens in each run.</param>
/// <param name="RunSeconds">Each run's length.</param>
public sealed record SamplingSensitivity(
    IReadOnlyList<SamplingSensitivityPoint> ByGain, IReadOnlyList<SamplingSensitivityPoint> BySamplePages, double StepFromMB, double StepToMB, double StepAtSeconds, double RunSeconds)
{
    /// <summary>The gains for which the claim held, as text: "0.7-1" when they are contiguous, else listed ("none" if none).</summary>
    public string GainsWhereClaimHolds
    {
        get
        {
            var holding = ByGain.Where(p => p.RisesWithinClaim).Select(p => p.FastGain).ToList();
            if (holding.Count == 0)
            {
                return "none";
            }

            var contiguous = ByGain.SkipWhile(p => !p.RisesWithinClaim).TakeWhile(p => p.RisesWithinClaim).Count() == holding.Count;
            return contiguous
                ? (holding.Count == 1 ? G(holding[0]) : $"{G(holding[0])}-{G(holding[^1])}")
                : string.Join(", ", holding.Select(G));
        }
    }

    /// <summary>Periods to 90% at the lowest gain over those at the highest (how much the gain sets the rise).</summary>
    public double LowestOverHighestGainPeriods => ByGain[0].Rise.Periods90 / ByGain[^1].Rise.Periods90;

    private static string G(double gain) => ExperimentReport.Number(gain, 2);
}

/// <summary>Runs the sweep.</summary>
internal static class SamplingSweep
{
    /// <summary>The step: from this share of the VM's memory to the next, at <see cref="StepPeriods"/>, run to <see cref="RunPeriods"/>.</summary>
    private const double FromFraction = 16.0 / 256, ToFraction = 208.0 / 256;

    private const int StepPeriods = 8, RunPeriods = 24;

    /// <summary>The sweep at the context's scale; every run through <paramref name="runs"/>.</summary>
    public static SamplingSensitivity Run(ExperimentContext context, ExperimentRuns runs, double period, double memoryMB)
    {
        var defaults = new Core.Sampling.SamplingOptions();
        double[] gains = context.Pick<double[]>([0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], [0.3, 0.5, 1.0]);
        int[] pages = context.Pick<int[]>([25, 50, 100, 200, 400], [25, 100, 400]);
        var byGain = gains.Select(g => Point(runs, period, memoryMB, g, defaults.SamplePages)).ToList();
        var byPages = pages.Select(n => n == defaults.SamplePages && byGain.FirstOrDefault(p => p.FastGain == defaults.FastGain) is { } same
            ? same
            : Point(runs, period, memoryMB, defaults.FastGain, n)).ToList();
        return new SamplingSensitivity(byGain, byPages, FromFraction * memoryMB, ToFraction * memoryMB, StepPeriods * period, RunPeriods * period);
    }

    private static SamplingSensitivityPoint Point(ExperimentRuns runs, double period, double memoryMB, double fastGain, int samplePages)
    {
        const string Vm = "toucher";
        var stepAt = StepPeriods * period;
        var end = RunPeriods * period;
        var scenario = new Scenario
        {
            Name = FormattableString.Invariant($"sampling-gain-{fastGain:0.##}-pages-{samplePages}"),
            DurationSeconds = end,
            SampleIntervalSeconds = period / 6,
            Host = new HostSpec { MemoryMB = 1024, SamplingPeriodSeconds = period, BalancePeriodSeconds = period / 2, SamplingPages = samplePages, SamplingInitialActivePercent = 0 },
            Vms =
            [
                new VmSpec
                {
                    Name = Vm,
                    MemoryMB = memoryMB,
                    Guest = GuestFlavour.Linux,
                    Workload = new WorkloadSpec { Kind = WorkloadKind.Toucher, WorkingSetMB = FromFraction * memoryMB, Phases = [new WorkloadPhase(stepAt, ToFraction * memoryMB)] },
                },
            ],
        };
        var options = new SimulationOptions { Policy = p => p with { Sampling = p.Sampling with { FastGain = fastGain, SlowGain = Math.Min(p.Sampling.SlowGain, fastGain) } } };
        var samples = runs.Run(scenario, options).Samples;
        var (t, est) = ExperimentRuns.Series(samples, Vm, v => v.ActiveEstimateMB);
        var (_, truth) = ExperimentRuns.Series(samples, Vm, v => v.TrueWorkingSetMB);

        // Levels: the truth over the last three periods before the step, and over the last quarter after it.
        var settledFrom = end - ((end - stepAt) / 4);
        var from = SamplingExperiment.MeanOver(t, truth, stepAt - (3 * period), stepAt);
        var to = SamplingExperiment.MeanOver(t, truth, settledFrom, end);
        double Reach(double fraction) => SamplingExperiment.PeriodsUntil(t, est, stepAt, end, period, e => e >= from + (fraction * (to - from)));
        var rise = new SamplingStep(stepAt, from, to, Up: true, Reach(0.5), Reach(0.9));
        var error = Enumerable.Range(0, t.Length).Where(i => t[i] > settledFrom).Select(i => Math.Abs(est[i] - truth[i])).DefaultIfEmpty(double.NaN).Average();
        return new SamplingSensitivityPoint(fastGain, samplePages, rise, 100 * error / memoryMB);
    }
}
