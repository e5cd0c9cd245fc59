/*
 * Figure 7 on real guests: two guests with equal shares on a budget they overflow, VM1 idle with its
 * memory full of data, VM2 touching random pages of a working set larger than its tau = 0 share as fast
 * as it can; Core's policy (QemuHostRun: the same HostMemoryPolicy as the simulator's) runs with tau = 0,
 * and mid-run the tax rises to 0.75. Both guests have guest swap, so a balloon can take memory they hold:
 * VM1 pages its idle data out, VM2 pages part of its working set and faults it back (its throughput).
 * Allocations (the policy's consumption: guest-RAM RSS, KSM pages billed at their part) and VM2's
 * throughput are compared over a window before and one after the change.
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Host;
using Memvisor.Core.Sampling;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Substrate;
using Memvisor.Reporting.Charts;
using static Memvisor.Experiments.RealGuests.RealGuestLab;

namespace Memvisor.Experiments.RealGuests;

/// <summary>The idle-tax experiment (Figure 7) on real guests.</summary>
public sealed class RealIdleTaxExperiment : RealGuestExperiment<RealIdleTaxMeasurements>
{
    /// <summary>QEMU's own memory per TCG guest (docs/qemu.md: 89-90 MiB measured), told to the policy as the VM's overhead.</summary>
    private const int QemuOverheadMiB = 96;

    internal RealIdleTaxExperiment()
        : base(new IdleTaxExperiment())
    {
    }

    /// <inheritdoc/>
    private protected override async Task<RealIdleTaxMeasurements> MeasureRealAsync(ExperimentContext context, ExperimentResult simulated)
    {
        var duration = context.Pick(240.0, 70.0);
        var setup = new RealIdleTaxSetup(MemoryMiB: 256, BudgetMiB: 560, IdleDataMiB: 160, BusySetMiB: 176, RaisedTau: 0.75, ChangeSeconds: duration / 2, DurationSeconds: duration, PeriodSeconds: 2);
        var image = await ImageAsync(context).ConfigureAwait(false);
        var options = new QemuRunOptions
        {
            BudgetPages = setup.BudgetMiB * PagesPerMiB,
            SwapCapacityPages = 2L * setup.MemoryMiB * PagesPerMiB,
            Tick = TimeSpan.FromSeconds(1),
            Duration = TimeSpan.FromSeconds(setup.DurationSeconds),
            BootTimeout = BootTimeout,
            Policy = new HostPolicyOptions
            {
                Allocation = new AllocationOptions { Tau = 0, BalancePeriodSeconds = setup.PeriodSeconds },
                Sampling = new SamplingOptions { PeriodSeconds = setup.PeriodSeconds, InitialActiveFraction = 0 },
                IdleTaxChanges = [new IdleTaxChange(setup.ChangeSeconds, setup.RaisedTau)],
            },
        };
        QemuRunGuest Guest(string name, string[] agent) => new(
            new QemuGuestOptions { Name = name, MemoryMiB = setup.MemoryMiB, Image = image, GuestSwapMiB = setup.MemoryMiB, Agent = Agent(agent) },
            new VmConfig { Name = name, MaxPages = setup.MemoryMiB * PagesPerMiB, MinPages = 64 * PagesPerMiB, OverheadPages = QemuOverheadMiB * PagesPerMiB },
            BalloonFloorMiB: 64);
        QemuRunGuest[] guests =
        [
            Guest("vm1-idle", ["mode=idle", $"alloc_mib={setup.IdleDataMiB}", "fill=unique"]),
            Guest("vm2-active", ["mode=toucher", $"alloc_mib={setup.BusySetMiB}", $"phases={setup.BusySetMiB}:0", "fill=unique", "order=random", "period_s=0.01"]),
        ];
        context.Report($"two {setup.MemoryMiB} MiB guests on {setup.BudgetMiB} MiB, tau 0 -> {setup.RaisedTau} at {setup.ChangeSeconds:0} s of {setup.DurationSeconds:0} s");
        QemuRunResult result;
        try
        {
            result = await QemuHostRun.RunAsync(options, guests, cancellationToken: context.CancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            throw new ExperimentException($"the run was refused: {e.Message}", e);
        }

        if (result.Refused.Count > 0 || result.Rows.Count == 0 || result.Rows[^1].Vms.Count != 2)
        {
            throw new ExperimentException($"the two guests did not run to the end: {string.Join("; ", result.Refused.Concat(result.Faults))}");
        }

        var ticks = new List<RealIdleTaxTick>();
        AgentReport? previous = null;
        foreach (var row in result.Rows)
        {
            var (idle, busy) = (row.Vms[0], row.Vms[1]);
            var rate = previous is not null && busy.Agent is { } now && now.Seconds > previous.Seconds ? (now.Work - previous.Work) / (now.Seconds - previous.Seconds) : double.NaN;
            previous = busy.Agent ?? previous;
            ticks.Add(new RealIdleTaxTick(row.Time.TotalSeconds, row.Tau, row.State.ToString().ToLowerInvariant(), Vm(idle, double.NaN), Vm(busy, rate)));
        }

        return new RealIdleTaxMeasurements(setup, ticks, Window(ticks, setup.BeforeWindow), Window(ticks, setup.AfterWindow), result.Faults, simulated);
    }

    /// <summary>Seconds in each free-memory state after the tax changed, and VM1's balloon at the end: whether the host was short of memory (it reclaims only then).</summary>
    private static string StatesAfter(RealIdleTaxMeasurements measured)
    {
        var after = measured.Ticks.Where(t => t.Seconds > measured.Setup.ChangeSeconds).ToList();
        var states = string.Join(", ", after.GroupBy(t => t.State).Select(g => $"{g.Key} {g.Count()} ticks"));
        return after.Count == 0 ? "no tick" : $"host {states}; VM1's balloon {F(after[^1].Idle.BalloonMiB, 1)} MiB at the end";
    }

    private static RealIdleTaxVm Vm(QemuRunVmRow vm, double rate) => new(
        vm.Policy.TargetPages / (double)PagesPerMiB,
        vm.Policy.ConsumedPages / PagesPerMiB,
        vm.Figures.BalloonPages / (double)PagesPerMiB,
        vm.Policy.ActiveFraction,
        rate);

    private static RealIdleTaxWindow Window(IReadOnlyList<RealIdleTaxTick> ticks, (double From, double To) window)
    {
        var inside = ticks.Where(t => t.Seconds > window.From && t.Seconds <= window.To).ToList();
        if (inside.Count == 0)
        {
            throw new ExperimentException($"no policy tick between {window.From:0} and {window.To:0} s");
        }

        var rates = inside.Select(t => t.Busy.Rate).Where(double.IsFinite).ToList();
        var mean = rates.Count > 0 ? rates.Average() : double.NaN;
        var se = rates.Count > 1 ? Math.Sqrt(rates.Sum(r => (r - mean) * (r - mean)) / (rates.Count - 1) / rates.Count) : double.NaN;
        return new RealIdleTaxWindow(
            inside.Average(t => t.Idle.ConsumedMiB),
            inside.Average(t => t.Busy.ConsumedMiB),
            inside.Average(t => t.Idle.TargetMiB),
            inside.Average(t => t.Busy.TargetMiB),
            inside.Average(t => t.Idle.ActiveFraction),
            inside.Average(t => t.Busy.ActiveFraction),
            mean,
            se);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ClaimResult> Judge(RealIdleTaxMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (before, after, setup, threshold) = (measured.Before, measured.After, measured.Setup, measured.MoveThresholdMiB);
        var (gain, se) = (measured.GainPercent, measured.GainStandardErrorPercent);
        return
        [
            new ClaimResult(
                ClaimId.IdleTaxEqualWithoutTax,
                ClaimText(measured.Simulator, ClaimId.IdleTaxEqualWithoutTax),
                Math.Abs(before.IdleConsumedMiB - before.BusyConsumedMiB) <= 0.05 * setup.MemoryMiB,
                $"mean consumption over {F(setup.BeforeWindow.From, 0)}-{F(setup.BeforeWindow.To, 0)} s: VM1 {F(before.IdleConsumedMiB, 1)} MiB, VM2 {F(before.BusyConsumedMiB, 1)} MiB (targets {F(before.IdleTargetMiB, 1)} / {F(before.BusyTargetMiB, 1)} MiB)")
            {
                Measured = Math.Abs(before.IdleConsumedMiB - before.BusyConsumedMiB),
                Paper = 0,
            },
            new ClaimResult(
                ClaimId.IdleTaxMovesIdleMemory,
                ClaimText(measured.Simulator, ClaimId.IdleTaxMovesIdleMemory),
                before.IdleConsumedMiB - after.IdleConsumedMiB > threshold && after.BusyConsumedMiB - before.BusyConsumedMiB > threshold,
                $"VM1 {F(before.IdleConsumedMiB, 1)} -> {F(after.IdleConsumedMiB, 1)} MiB, VM2 {F(before.BusyConsumedMiB, 1)} -> {F(after.BusyConsumedMiB, 1)} MiB (threshold {F(threshold, 1)} MiB); " +
                $"targets VM1 {F(before.IdleTargetMiB, 1)} -> {F(after.IdleTargetMiB, 1)}, VM2 {F(before.BusyTargetMiB, 1)} -> {F(after.BusyTargetMiB, 1)} MiB; active fractions before the change: VM1 {F(before.IdleActiveFraction)}, VM2 {F(before.BusyActiveFraction)}; after the change {StatesAfter(measured)}")
            {
                Measured = Math.Min(before.IdleConsumedMiB - after.IdleConsumedMiB, after.BusyConsumedMiB - before.BusyConsumedMiB),
            },
            new ClaimResult(
                ClaimId.IdleTaxRaisesThroughput,
                ClaimText(measured.Simulator, ClaimId.IdleTaxRaisesThroughput),
                gain > 2 * se,
                $"{F(before.BusyRate, 0)} -> {F(after.BusyRate, 0)} touches/s: {F(gain, 1)}% (standard error {F(se, 1)}%)")
            {
                Measured = gain,
                Paper = 30,
            },
            new ClaimResult(
                ClaimId.IdleTaxGainAsInPaper,
                ClaimText(measured.Simulator, ClaimId.IdleTaxGainAsInPaper),
                gain > 30,
                $"{F(gain, 1)}%: see why the numbers differ")
            {
                Measured = gain,
                Paper = 30,
            },
        ];
    }

    /// <inheritdoc/>
    protected override ExperimentResult Render(ExperimentContext context, ExperimentRuns runs, RealIdleTaxMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(measured);
        var (setup, ticks) = (measured.Setup, measured.Ticks);
        double[] t = [.. ticks.Select(x => x.Seconds)];
        ChartBand[] bands = [new("tau " + F(setup.RaisedTau), setup.ChangeSeconds, setup.DurationSeconds, "#EEEEEE")];
        var allocations = new ExperimentFigure("allocations", new LineChart
        {
            Title = "Allocations of the idle and the active guest (real guests)",
            XLabel = "time (s)",
            YLabel = "MiB",
            Series =
            [
                new ChartSeries("VM1 idle: consumed", t, [.. ticks.Select(x => x.Idle.ConsumedMiB)]),
                new ChartSeries("VM2 active: consumed", t, [.. ticks.Select(x => x.Busy.ConsumedMiB)]) { Line = SeriesLine.Dashed },
                new ChartSeries("VM1 target", t, [.. ticks.Select(x => x.Idle.TargetMiB)]) { Line = SeriesLine.Dotted },
                new ChartSeries("VM2 target", t, [.. ticks.Select(x => x.Busy.TargetMiB)]) { Line = SeriesLine.Dotted },
            ],
            Bands = bands,
        }, $"Guest-RAM consumption as the policy counts it, and its targets; shaded: tau = {F(setup.RaisedTau)} (the paper's Figure 7, top).");
        var rates = ticks.Where(x => double.IsFinite(x.Busy.Rate)).ToList();
        var throughput = new ExperimentFigure("throughput", new LineChart
        {
            Title = "The active guest's throughput (real guests)",
            XLabel = "time (s)",
            YLabel = "touches/s",
            Series = [new ChartSeries("VM2 active", [.. rates.Select(x => x.Seconds)], [.. rates.Select(x => x.Busy.Rate)])],
            Bands = bands,
        }, "The agent's random-page touches per second of its own clock; shaded: the raised tax.");
        var table = new ExperimentTable(
            "ticks",
            "Every policy tick",
            ["time (s)", "tau", "state", "VM1 target (MiB)", "VM1 consumed (MiB)", "VM1 balloon (MiB)", "VM1 f", "VM2 target (MiB)", "VM2 consumed (MiB)", "VM2 balloon (MiB)", "VM2 f", "VM2 touches/s"],
            [.. ticks.Select(x => (IReadOnlyList<string>)[
                F(x.Seconds, 0), F(x.Tau), x.State, F(x.Idle.TargetMiB, 1), F(x.Idle.ConsumedMiB, 1), F(x.Idle.BalloonMiB, 1), F(x.Idle.ActiveFraction),
                F(x.Busy.TargetMiB, 1), F(x.Busy.ConsumedMiB, 1), F(x.Busy.BalloonMiB, 1), F(x.Busy.ActiveFraction), double.IsFinite(x.Busy.Rate) ? F(x.Busy.Rate, 0) : "n/a"])]);
        var claims = Judge(measured);
        return RealResult(
            context,
            measured.Simulator,
            guestsBooted: 2,
            setup:
                "Paper [recalled]: host with 512 MB; two VMs, equal shares, 256 MB each; VM1 idle Windows, VM2 Linux running dbench; tau raised from 0 to 75%. " +
                $"Real guests: two {setup.MemoryMiB} MiB Linux guests under QEMU TCG with equal shares (min 64 MiB, balloon floor 64 MiB, each with {setup.MemoryMiB} MiB of guest swap) " +
                $"on a budget of {setup.BudgetMiB} MiB (QEMU's own memory, about 90 MiB per TCG guest, counted in it and told to the policy as each VM's overhead, {QemuOverheadMiB} MiB); VM1 fills {setup.IdleDataMiB} MiB and touches none of it; " +
                $"VM2 touches uniformly random pages of {setup.BusySetMiB} MiB as fast as it can. Core's policy (QemuHostRun) ticks every second with {F(setup.PeriodSeconds, 0)} s sampling and balance periods; " +
                $"tau = 0 until {F(setup.ChangeSeconds, 0)} s, then {F(setup.RaisedTau)}; {F(setup.DurationSeconds, 0)} s. Windows: the last 40% of each half. " +
                "The simulator column is `memvisor experiment idle-tax` at the same scale and seed.",
            shows: "The idle memory tax lets the host take memory from a VM that is not using it and give it to one that is: with tau = 0 memory follows shares alone; with tau = 0.75 idle memory is reclaimed first.",
            discussion:
                "The policy is the simulator's code; what differs is the substrate. Allocation here is guest-RAM RSS (what QEMU holds), which the balloon lowers only as fast as the guest pages its data out to its swap disk, " +
                "and the policy deflates a balloon only in the high free-memory state (docs/qemu.md), so VM2 regains memory only once VM1 has given enough for free memory to pass the high threshold. " +
                "The active fraction comes from accessed bits over the period, which also count the pages QEMU reads while a ballooned guest swaps (docs/qemu.md: an idle guest paging out reads f 0.24-0.52 for a period or two). " +
                "VM2's throughput is random touches per second under TCG: a touch that hits memory costs a few hundred nanoseconds, one that misses a guest swap-in through virtio-blk, so the gain measures how much of its set VM2 keeps resident; " +
                "dbench in the paper had a different sensitivity, so the size of the gain is not comparable, only its direction." +
                (measured.Faults.Count > 0 ? $" Faults during the run: {string.Join("; ", measured.Faults.Take(5))}." : "")) with
        {
            Figures = [allocations, throughput],
            Tables = [SideBySide.Table(measured.Simulator, claims, new Dictionary<ClaimId, string>()), table],
        };
    }

    private static string F(double value, int decimals = 2) => ExperimentReport.Number(value, decimals);
}
