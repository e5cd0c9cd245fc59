/*
 * Figure 7 (§5.2): does the idle memory tax move idle memory to a VM that uses it, and does that help it?
 *
 * Paper [recalled]: a host with 512 MB, two VMs with equal shares and 256 MB each: VM1 an idle Windows
 * VM, VM2 a Linux VM running dbench. With tau = 0 (pure proportional share) both get about 179 MB.
 * Raising tau to 75% during the run moves idle memory from VM1 to VM2 and raises VM2's throughput by
 * more than 30%.
 *
 * Ours: the same host and VMs in one run, tau = 0 until the change and 0.75 from then on
 * (HostSpec.IdleTaxChanges, the paper's "raise tau during the run"). VM2 runs the simulated dbench-like
 * file server with 40 clients (as in the paper's Figure 2) over a 512 MB file set, larger than anything
 * it can get, so its throughput depends on its page cache. The run is long because the estimates start
 * at "fully active" and fall slowly (slow gain 0.1 per 30 s period): the idle VM's estimate has to come
 * down before the tax can see it idle, as it would on a host that has been up for a while.
 *
 * Where it differs: content-based sharing is off. Our idle Windows VM's memory is mostly free pages its
 * zero-page thread zeroed, which sharing would reclaim on its own (no tax needed), hiding the mechanism
 * under test; with sharing off memory can only move by the tax. ESX itself, its service console and
 * the paper's per-VM overheads took more of the 512 MB than our overhead model does; the host reserves
 * the VMkernel's 24 MB (host.reservedMB, ESX 2.0's documented figure), but the service console's share
 * is unknown, so our tau = 0 allocations are higher than 179 MB. Reduced scale: 64 MB VMs on a 128 MB host with a quarter of the
 * overhead, periods of 7.5 s (a quarter of the memory touched by the same file server in a quarter of
 * the time: about the same active fraction), 10 clients (each client's server process holds 1 MB).
 */
using Memvisor.Core.Allocation;
using Memvisor.Scenarios;
using Memvisor.Core.Statistics;
using Memvisor.Reporting.Charts;
using static Memvisor.Experiments.ExperimentReport;

namespace Memvisor.Experiments;

/// <summary>Paper Figure 7: the idle memory tax moves memory from an idle VM to a busy one.</summary>
public sealed class IdleTaxExperiment() : PaperExperiment<IdleTaxMeasurements>("idle-tax", "The idle memory tax moves memory from an idle VM to an active one", "Figure 7, §5.2")
{
    private const string Idle = "vm1-idle-windows";
    private const string Busy = "vm2-fileserver-linux";

    /// <summary>The change to tau = 0.75, and the end of the run, in sampling periods.</summary>
    private const int ChangePeriods = 40;
    private const int RunPeriods = 100;

    /// <summary>Length of each measuring window (the end of each tau phase), in sampling periods.</summary>
    private const int WindowPeriods = 20;

    /// <summary>
    /// Memory ESX keeps for itself on the paper's 512 MB host (host.reservedMB), scaled with the host at
    /// reduced scale: the VMkernel's 24 MB, ESX 2.0's documented figure (the paper gives none). The service
    /// console's memory in the paper's release is not known; ESX 2.0's recommended 192 MB could not have
    /// been there, since 512 - 216 MB leaves less than the 2 x 179 MB the paper's VMs got.
    /// </summary>
    private const double ReservedMBPer512 = 24;

    /// <summary>The tax rate raised to (the ESX default).</summary>
    private const double RaisedTau = 0.75;

    /// <inheritdoc/>
    protected override IdleTaxMeasurements Measure(ExperimentContext context, ExperimentRuns runs)
    {
        var period = context.Pick(30.0, 7.5);
        var vmMB = context.Pick(256.0, 64.0);
        var setup = new IdleTaxSetup(period, vmMB, 2 * vmMB, context.Pick<double?>(null, 26.0 * vmMB / 256), context.Pick(40, 10), ChangePeriods * period, RunPeriods * period, WindowPeriods * period);
        var samples = runs.Run(Scenario(period, setup.VmMB, setup.HostMB, setup.OverheadMB, setup.Clients, setup.ChangeSeconds, setup.EndSeconds)).Samples;
        TimeSeries Of(string vm, Func<VmSample, double> value) => TimeSeries.Of(samples, vm, value);
        var idleGranted = Of(Idle, v => v.GrantedMB);
        var timeline = new IdleTaxTimeline(
            idleGranted.Seconds,
            idleGranted.Values,
            Of(Idle, v => v.TargetMB).Values,
            Of(Idle, v => v.ActiveEstimateMB).Values,
            Of(Busy, v => v.GrantedMB).Values,
            Of(Busy, v => v.TargetMB).Values,
            Of(Busy, v => v.ActiveEstimateMB).Values,
            Of(Busy, v => v.TrueWorkingSetMB).Values,
            Of(Busy, v => v.Throughput).Values);
        return new IdleTaxMeasurements(
            setup,
            Phase(samples, setup.ChangeSeconds - setup.WindowSeconds, setup.ChangeSeconds),
            Phase(samples, setup.EndSeconds - setup.WindowSeconds, setup.EndSeconds),
            timeline);
    }

    /// <summary>Means over the samples with from &lt; time &lt;= to.</summary>
    private static IdleTaxPhase Phase(IReadOnlyList<HostSample> samples, double from, double to)
    {
        var window = new Window(samples, from, to);
        var (throughput, throughputSe) = window.MeanAndStandardError(Busy, v => v.Throughput);
        return new IdleTaxPhase(
            window.Mean(Idle, v => v.GrantedMB),
            window.Mean(Busy, v => v.GrantedMB),
            window.Mean(Idle, v => v.TargetMB),
            window.Mean(Busy, v => v.TargetMB),
            window.Mean(Idle, v => v.ActiveEstimateMB),
            window.Mean(Busy, v => v.ActiveEstimateMB),
            window.Mean(Busy, v => v.TrueWorkingSetMB),
            throughput,
            throughputSe);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ClaimResult> Judge(IdleTaxMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (before, after, vmMB, moveThreshold) = (measured.Before, measured.After, measured.Setup.VmMB, measured.MoveThresholdMB);
        var (idleBefore, busyBefore, idleAfter, busyAfter) = (before.IdleGrantedMB, before.BusyGrantedMB, after.IdleGrantedMB, after.BusyGrantedMB);
        var (idleActiveBefore, busyActiveBefore) = (before.IdleActiveMB, before.BusyActiveMB);
        var (tpBefore, tpAfter, gainPercent, gainSe) = (before.BusyThroughput, after.BusyThroughput, measured.GainPercent, measured.GainStandardErrorPercent);
        return
        [
            new ClaimResult(
                ClaimId.IdleTaxEqualWithoutTax,
                "with tau = 0 and equal shares both VMs get about the same memory (within 5% of a VM's size)",
                Math.Abs(idleBefore - busyBefore) <= 0.05 * vmMB,
                $"mean over the last {WindowPeriods} periods before the change: VM1 {Number(idleBefore, 1)} MB, VM2 {Number(busyBefore, 1)} MB (targets {Number(before.IdleTargetMB, 1)} / {Number(before.BusyTargetMB, 1)} MB)")
            {
                Measured = Math.Abs(idleBefore - busyBefore),
                Paper = 0,
            },
            new ClaimResult(
                ClaimId.IdleTaxMovesIdleMemory,
                $"raising tau to {RaisedTau} moves idle memory from VM1 to VM2 (each allocation changes by more than 1% of machine memory, the hysteresis band)",
                idleBefore - idleAfter > moveThreshold && busyAfter - busyBefore > moveThreshold,
                $"VM1 {Number(idleBefore, 1)} -> {Number(idleAfter, 1)} MB, VM2 {Number(busyBefore, 1)} -> {Number(busyAfter, 1)} MB (threshold {Number(moveThreshold, 1)} MB); "
                    + $"active estimates before the change: VM1 {Number(idleActiveBefore, 1)} MB, VM2 {Number(busyActiveBefore, 1)} MB")
            {
                Measured = Math.Min(idleBefore - idleAfter, busyAfter - busyBefore),
            },
            new ClaimResult(
                ClaimId.IdleTaxRaisesThroughput,
                "and raises VM2's throughput (by more than two standard errors of the difference)",
                gainPercent > 2 * gainSe,
                $"{Number(tpBefore, 1)} -> {Number(tpAfter, 1)} operations/s: {Number(gainPercent, 1)}% (standard error {Number(gainSe, 1)}%)")
            {
                Measured = gainPercent,
                Paper = 30,
            },
            new ClaimResult(
                ClaimId.IdleTaxGainAsInPaper,
                "by more than 30%, as in the paper",
                gainPercent > 30,
                $"{Number(gainPercent, 1)}%: see why the numbers differ")
            {
                Measured = gainPercent,
                Paper = 30,
            },
        ];
    }

    /// <inheritdoc/>
    protected override ExperimentResult Render(ExperimentContext context, ExperimentRuns runs, IdleTaxMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (setup, before, after, line) = (measured.Setup, measured.Before, measured.After, measured.Timeline);
        var (period, vmMB, hostMB, clients, change, end, window) = (setup.PeriodSeconds, setup.VmMB, setup.HostMB, setup.Clients, setup.ChangeSeconds, setup.EndSeconds, setup.WindowSeconds);
        var (idleBefore, busyBefore, idleAfter, busyAfter) = (before.IdleGrantedMB, before.BusyGrantedMB, after.IdleGrantedMB, after.BusyGrantedMB);
        var (idleActiveBefore, busyActiveBefore, busyActiveAfter) = (before.IdleActiveMB, before.BusyActiveMB, after.BusyActiveMB);
        var (tpBefore, tpAfter, gainPercent) = (before.BusyThroughput, after.BusyThroughput, measured.GainPercent);
        var (t, idleAlloc, idleTarget, idleActive, busyAlloc, busyTarget, busyActive, busyTruth, throughput) =
            (line.Seconds, line.IdleGrantedMB, line.IdleTargetMB, line.IdleActiveMB, line.BusyGrantedMB, line.BusyTargetMB, line.BusyActiveMB, line.BusyTrueWorkingSetMB, line.BusyThroughput);

        // The paper's 179 MB is for 256 MB VMs on 512 MB; at reduced scale it scales with the VMs.
        var paperEqual = 179 * vmMB / 256;
        var comparisons = new List<PaperComparison>
        {
            new($"VM1 (idle) allocation at tau = 0", paperEqual, idleBefore, "MB") { Note = "[recalled] \"about 179 MB\" each" + (vmMB == 256 ? "" : ", scaled to the reduced VM size") },
            new($"VM2 (file server) allocation at tau = 0", paperEqual, busyBefore, "MB") { Note = "[recalled]" },
            new($"VM2 throughput gain after raising tau to {RaisedTau}", 30, gainPercent, "%") { Note = "[recalled] paper: \"more than 30%\"; its lower bound shown" },
        };

        var band = new ChartBand($"tau = {RaisedTau}", change, end, "#ffbb78");
        return Result(
            context,
            runs,
            setup: $"Paper [recalled]: 512 MB host; two VMs with equal shares and 256 MB each, VM1 idle Windows, VM2 Linux running dbench; tau = 0, then raised to 0.75 during the run. "
                + $"Ours: {Number(hostMB, 0)} MB host, VMs of {Number(vmMB, 0)} MB with normal shares, VM1 an idle Windows guest, VM2 a Linux guest running the simulated file server "
                + $"({clients} clients, {Number(2 * vmMB, 0)} MB file set); one run of {Number(end, 0)} s with tau = 0 until {Number(change, 0)} s and {RaisedTau} from then on; "
                + $"sampling 100 pages per {Number(period, 0)} s; content-based sharing off. Allocations and throughput are means over the last {Number(window, 0)} s of each tau phase.",
            shows: "That pure proportional share lets an idle VM keep memory an active VM could use, and that the idle memory tax "
                + "(idle pages cost k = 1/(1 - tau) times active ones in min-funding revocation) takes it back and gives it to the VM that uses it, improving its performance.",
            discussion: "Allocation at tau = 0: the paper's 179 MB each is what was left of 512 MB after ESX itself and the VMs' overheads; "
                + $"our host keeps {Number(ReservedMBPer512 * hostMB / 512, 0)} MB for the VMkernel (ESX 2.0's documented figure; the paper gives none, and its service console's share is unknown), "
                + $"the VMs' modelled overhead and a 7% free target back, so each VM gets {Number(idleBefore, 0)} MB, but the split is equal as the paper's is. "
                + $"How much moves at tau = {RaisedTau} depends on how active the file server looks to sampling: the tax charges an idle page k = 4 times an active one, so with equal shares the targets settle where "
                + $"A1 + 4 (P1 - A1) = A2 + 4 (P2 - A2), i.e. P2 - P1 = 0.75 (A2 - A1). Our file server touches {Number(busyActiveBefore, 0)} MB per period by the estimate "
                + $"(true working set {Number(before.BusyTrueWorkingSetMB, 0)} MB): its Zipf-popular files are hot, the tail of its page cache is touched less than once per 30 s, "
                + "so sampling counts that tail as idle too, although its hits are what the larger cache buys. "
                + $"After the change the estimates were VM1 {Number(after.IdleActiveMB, 1)} MB and VM2 {Number(busyActiveAfter, 1)} MB, so the rule puts the targets "
                + $"{Number(0.75 * (busyActiveAfter - after.IdleActiveMB), 0)} MB apart; they were {Number(after.BusyTargetMB - after.IdleTargetMB, 0)} MB apart "
                + "(VM2 may hold a little more than its target while free memory stays above the high threshold). "
                + "The throughput gain then follows from the simulated file server's hit-rate curve over the memory moved; dbench on the paper's hardware, with its own cache behaviour and disk, is not that model. "
                + "Sharing is off (see the setup). The estimates start at fully active and fall at the slow gain, so the first part of the run is the estimates settling; the tau = 0 window is taken after that.") with
        {
            Comparisons = comparisons,
            Figures =
            [
                new ExperimentFigure("allocation", new LineChart
                {
                    Title = "Allocation of the idle VM and the file server",
                    XLabel = "time (s)",
                    YLabel = "memory (MB)",
                    Bands = [band],
                    Series =
                    [
                        new ChartSeries("VM1 (idle Windows) allocation", t, idleAlloc) { Color = "#1f77b4" },
                        new ChartSeries("VM1 target", t, idleTarget) { Line = SeriesLine.Dashed, Color = "#1f77b4" },
                        new ChartSeries("VM1 active estimate", t, idleActive) { Line = SeriesLine.Dotted, Color = "#1f77b4" },
                        new ChartSeries("VM2 (file server) allocation", t, busyAlloc) { Color = "#d62728" },
                        new ChartSeries("VM2 target", t, busyTarget) { Line = SeriesLine.Dashed, Color = "#d62728" },
                        new ChartSeries("VM2 active estimate", t, busyActive) { Line = SeriesLine.Dotted, Color = "#d62728" },
                    ],
                }, $"Allocations (solid), targets (dashed) and active estimates (dotted); tau = 0 until {Number(change, 0)} s, {RaisedTau} in the shaded part."),
                new ExperimentFigure("throughput", new LineChart
                {
                    Title = "File server throughput (VM2)",
                    XLabel = "time (s)",
                    YLabel = "operations per second",
                    Bands = [band],
                    Series = [new ChartSeries("VM2 throughput", t, throughput) { Color = "#d62728" }],
                }, "VM2's operations per second, per sample interval."),
            ],
            Tables =
            [
                new ExperimentTable("phases", "Means over the last " + Number(window, 0) + " s of each tau phase",
                    ["tau", "VM1 allocation (MB)", "VM2 allocation (MB)", "VM1 active estimate (MB)", "VM2 active estimate (MB)", "VM2 throughput (ops/s)"],
                    [
                        ["0", Number(idleBefore, 1), Number(busyBefore, 1), Number(idleActiveBefore, 1), Number(busyActiveBefore, 1), Number(tpBefore, 1)],
                        [Number(RaisedTau, 2), Number(idleAfter, 1), Number(busyAfter, 1), Number(after.IdleActiveMB, 1), Number(busyActiveAfter, 1), Number(tpAfter, 1)],
                    ]),
                new ExperimentTable("timeseries", "Both VMs over time",
                    ["time (s)", "VM1 allocation (MB)", "VM1 target (MB)", "VM2 allocation (MB)", "VM2 target (MB)", "VM1 active (MB)", "VM2 active (MB)", "VM2 true working set (MB)", "VM2 throughput (ops/s)"],
                    [.. t.Select((x, i) => (IReadOnlyList<string>)
                        [Number(x, 0), Number(idleAlloc[i], 1), Number(idleTarget[i], 1), Number(busyAlloc[i], 1), Number(busyTarget[i], 1), Number(idleActive[i], 1), Number(busyActive[i], 1), Number(busyTruth[i], 1), Number(throughput[i], 1)])]),
            ],
        };
    }

    private static Scenario Scenario(double period, double vmMB, double hostMB, double? overheadMB, int clients, double change, double end) => new()
    {
        Name = "idle-tax",
        DurationSeconds = end,
        SampleIntervalSeconds = period / 6,
        Host = new HostSpec
        {
            MemoryMB = hostMB,
            ReservedMB = ReservedMBPer512 * hostMB / 512,
            IdleTax = 0,
            IdleTaxChanges = [new IdleTaxChange(change, RaisedTau)],
            Sharing = false,
            SamplingPeriodSeconds = period,
            BalancePeriodSeconds = period / 2,
        },
        Vms =
        [
            new VmSpec { Name = Idle, MemoryMB = vmMB, OverheadMB = overheadMB, Guest = GuestFlavour.Windows, Workload = new WorkloadSpec { Kind = WorkloadKind.Idle } },
            new VmSpec { Name = Busy, MemoryMB = vmMB, OverheadMB = overheadMB, Guest = GuestFlavour.Linux, Workload = new WorkloadSpec { Kind = WorkloadKind.FileServer, FileSetMB = 2 * vmMB, Clients = clients } },
        ],
    };

    /// <summary>The samples with from &lt; time &lt;= to.</summary>
    private sealed class Window(IReadOnlyList<HostSample> samples, double from, double to)
    {
        public double Mean(string vm, Func<VmSample, double> value) => ExperimentRuns.Mean(samples, vm, value, from, to);

        /// <summary>Mean and its standard error (samples taken as independent).</summary>
        public (double Mean, double StandardError) MeanAndStandardError(string vm, Func<VmSample, double> value)
        {
            var values = samples.Where(s => s.TimeSeconds > from && s.TimeSeconds <= to).Select(s => value(ExperimentRuns.Find(s, vm))).ToArray();
            if (values.Length < 2)
            {
                return (double.NaN, double.NaN);
            }

            var mean = values.Average();
            var variance = values.Sum(x => (x - mean) * (x - mean)) / (values.Length - 1);
            return (mean, Math.Sqrt(variance / values.Length));
        }
    }
}
