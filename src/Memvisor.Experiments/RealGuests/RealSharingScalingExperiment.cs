/*
 * Figure 4 on real guests: 1..N identical guests (one kernel and initramfs, agents filling the same
 * seeded data) with KSM as the sharing mechanism under Memvisor's control: Core's policy (QemuHostRun)
 * sets the share scan rate, which the QEMU substrate writes as KSM's knobs (every knob saved first and
 * restored after each run, also on failure). use_zero_pages=1 merges zero pages with the kernel's zero
 * page, so they are counted apart (ksm_zero_pages per process). Each count is its own run, as in the
 * paper; the steady state is the mean over the last quarter.
 *
 * Per run, from each QEMU process: ksm_merging_pages (guest pages mapped to a KSM page) and
 * ksm_zero_pages; host-wide: pages_shared and pages_sharing, whose ratio says how many of the merged
 * pages are the one kept copy. Shared = merging + zero pages; reclaimed = merging x sharing / (shared +
 * sharing) + zero pages (the same billing as the policy's consumption). ksmd is host-wide: another
 * process merging at the same time would shift that ratio (none of this project's do unless a KSM test
 * runs at the same time).
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Host;
using Memvisor.Core.Sampling;
using Memvisor.Core.Sharing;
using Memvisor.Linux.Ksm;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Substrate;
using Memvisor.Reporting.Charts;
using static Memvisor.Experiments.RealGuests.RealGuestLab;

namespace Memvisor.Experiments.RealGuests;

/// <summary>The sharing-scaling experiment (Figure 4) on real guests.</summary>
public sealed class RealSharingScalingExperiment : RealGuestExperiment<RealSharingScalingMeasurements>
{
    internal RealSharingScalingExperiment()
        : base(new SharingScalingExperiment())
    {
    }

    /// <inheritdoc/>
    private protected override async Task<RealSharingScalingMeasurements> MeasureRealAsync(ExperimentContext context, ExperimentResult simulated)
    {
        if (KsmSysfs.WhyNotWritable() is { } why)
        {
            throw new ExperimentException($"KSM cannot be driven on this host: {why}");
        }

        var setup = new RealSharingScalingSetup(
            Counts: context.Pick<IReadOnlyList<int>>([1, 2, 3, 4], [1, 2]),
            MemoryMiB: 128,
            DataMiB: 48,
            DurationSeconds: context.Pick(60.0, 24.0),
            ScanPagesPerSecond: 50_000);
        var image = await ImageAsync(context).ConfigureAwait(false);
        var points = new List<RealSharingPoint>();
        foreach (var count in setup.Counts)
        {
            points.Add(await RunAsync(context, image, setup, count).ConfigureAwait(false));
        }

        return new RealSharingScalingMeasurements(setup, points, simulated);
    }

    private static async Task<RealSharingPoint> RunAsync(ExperimentContext context, GuestImage image, RealSharingScalingSetup setup, int count)
    {
        var pages = setup.MemoryMiB * PagesPerMiB;
        var options = new QemuRunOptions
        {
            // No memory pressure: min = max, and a budget well above the guests and QEMU's own memory.
            BudgetPages = count * 320L * PagesPerMiB,
            Tick = TimeSpan.FromSeconds(1),
            Duration = TimeSpan.FromSeconds(setup.DurationSeconds),
            BootTimeout = BootTimeout,
            DriveKsm = true,
            KsmMergeZeroPages = true,
            Policy = new HostPolicyOptions
            {
                Allocation = new AllocationOptions { BalancePeriodSeconds = 5 },
                Sampling = new SamplingOptions { PeriodSeconds = 5 },
                ShareScan = new ShareScanOptions { PerVmPagesPerSecond = setup.ScanPagesPerSecond, HostPagesPerSecond = setup.ScanPagesPerSecond },
            },
        };
        var guests = Enumerable.Range(1, count).Select(i => new QemuRunGuest(
            new QemuGuestOptions
            {
                Name = $"same-{i}",
                MemoryMiB = setup.MemoryMiB,
                Image = image,
                Agent = Agent("mode=toucher", $"alloc_mib={setup.DataMiB}", "phases=8:0", "fill=seeded", "seed=7", "touch=read", "period_s=1"),
            },
            new VmConfig { Name = $"same-{i}", MaxPages = pages, MinPages = pages },
            BalloonFloorMiB: setup.MemoryMiB)).ToList();
        context.Report($"{count} identical {setup.MemoryMiB} MiB guest(s), KSM under the policy, {setup.DurationSeconds:0} s");
        var samples = new RowRecorder();
        QemuRunResult result;
        try
        {
            result = await QemuHostRun.RunAsync(options, guests, samples, context.CancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            throw new ExperimentException($"the run of {count} guests was refused: {e.Message}", e);
        }

        if (result.Rows.Count == 0 || result.Rows[^1].Vms.Count != count)
        {
            throw new ExperimentException($"{count} guests did not run to the end: {string.Join("; ", result.Refused.Concat(result.Faults))}");
        }

        var steady = samples.Points.Where(p => p.Seconds > setup.DurationSeconds * 0.75).ToList();
        var point = new RealSharingPoint(
            count,
            count * setup.MemoryMiB,
            steady.Average(p => p.ResidentMiB),
            steady.Average(p => p.SharedMiB),
            steady.Average(p => p.ReclaimedMiB),
            steady.Average(p => p.ZeroMiB));
        context.Report($"{count} guest(s): shared {point.SharedMiB:0.0} MiB, reclaimed {point.ReclaimedMiB:0.0} MiB ({point.ZeroMiB:0.0} MiB zero pages)");
        return point;
    }

    /// <summary>Takes each row as the run reports it (synchronously), with KSM's host-wide counters at that moment.</summary>
    private sealed class RowRecorder : IProgress<QemuRunRow>
    {
        private readonly KsmSysfs _ksm = new();

        public List<(double Seconds, double ResidentMiB, double SharedMiB, double ReclaimedMiB, double ZeroMiB)> Points { get; } = [];

        public void Report(QemuRunRow value)
        {
            var counters = KsmCounters.Read(_ksm);
            var keptShare = counters.PagesShared + counters.PagesSharing > 0 ? counters.PagesSharing / (double)(counters.PagesShared + counters.PagesSharing) : 0;
            var merging = value.Vms.Sum(v => (double)v.Figures.KsmMergingPages);
            var zero = value.Vms.Sum(v => (double)(v.Figures.KsmZeroPages ?? 0));
            Points.Add((
                value.Time.TotalSeconds,
                value.Vms.Sum(v => v.Policy.ConsumedPages) / PagesPerMiB,
                (merging + zero) / PagesPerMiB,
                ((merging * keptShare) + zero) / PagesPerMiB,
                zero / PagesPerMiB));
        }
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ClaimResult> Judge(RealSharingScalingMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (points, one, last) = (measured.Points, measured.One, measured.Last);
        return
        [
            new ClaimResult(
                ClaimId.SharingGrowsWithVms,
                ClaimText(measured.Simulator, ClaimId.SharingGrowsWithVms),
                measured.Growing && last.ReclaimedMiB > 2 * one.ReclaimedMiB,
                $"reclaimed {string.Join(", ", points.Select(p => $"{p.Vms}: {F(p.ReclaimedMiB, 1)} MiB"))}; {(measured.Growing ? "never falls by more than 2% from one count to the next" : "falls from one count to the next")}.")
            {
                Measured = last.ReclaimedMiB / one.ReclaimedMiB,
            },
            new ClaimResult(
                ClaimId.SharingFractionGrowsWithVms,
                ClaimText(measured.Simulator, ClaimId.SharingFractionGrowsWithVms),
                last.ReclaimedPercent > one.ReclaimedPercent,
                $"{F(one.ReclaimedPercent, 1)}% at 1 VM, {F(last.ReclaimedPercent, 1)}% at {last.Vms}.")
            {
                Measured = last.ReclaimedPercent,
                Paper = 60,
            },
            new ClaimResult(
                ClaimId.SharingOneVmMostlyZeroPages,
                ClaimText(measured.Simulator, ClaimId.SharingOneVmMostlyZeroPages),
                one.ZeroMiB > one.ReclaimedMiB / 2,
                $"one VM reclaims {F(one.ReclaimedMiB, 1)} MiB, of which {F(one.ZeroMiB, 1)} MiB are zero pages.")
            {
                Measured = one.ReclaimedMiB > 0 ? 100 * one.ZeroMiB / one.ReclaimedMiB : 0,
                Paper = 100,
            },
        ];
    }

    /// <inheritdoc/>
    protected override ExperimentResult Render(ExperimentContext context, ExperimentRuns runs, RealSharingScalingMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(measured);
        var (setup, points) = (measured.Setup, measured.Points);
        double[] x = [.. points.Select(p => (double)p.Vms)];
        var figure = new ExperimentFigure("shared-reclaimed-mb", new LineChart
        {
            Title = "Shared and reclaimed memory vs identical guests (real guests, KSM)",
            XLabel = "identical guests",
            YLabel = "MiB",
            Series =
            [
                new ChartSeries("shared", x, [.. points.Select(p => p.SharedMiB)]),
                new ChartSeries("reclaimed", x, [.. points.Select(p => p.ReclaimedMiB)]) { Line = SeriesLine.Dashed },
                new ChartSeries("zero pages", x, [.. points.Select(p => p.ZeroMiB)]) { Line = SeriesLine.Dotted },
            ],
        }, "Steady state (last quarter of each run) of guest memory KSM merged and what that saved, zero pages apart (the paper's Figure 4, top).");
        var table = new ExperimentTable(
            "points",
            "Steady state per number of guests",
            ["guests", "configured (MiB)", "consumed after sharing (MiB)", "shared (MiB)", "reclaimed (MiB)", "zero pages (MiB)", "shared (%)", "reclaimed (%)"],
            [.. points.Select(p => (IReadOnlyList<string>)[$"{p.Vms}", F(p.ConfiguredMiB, 0), F(p.ResidentMiB, 1), F(p.SharedMiB, 1), F(p.ReclaimedMiB, 1), F(p.ZeroMiB, 1), F(p.SharedPercent, 1), F(p.ReclaimedPercent, 1)])]);
        var last = measured.Last;
        var claims = Judge(measured);
        var notJudged = new Dictionary<ClaimId, string>
        {
            [ClaimId.SharingCostsNoThroughput] = "TCG guests on a shared 2-core host: CPU-bound throughput varies between runs by more than the ±5% the claim tests (see the balloon experiment's repeats)",
        };
        return RealResult(
            context,
            measured.Simulator,
            guestsBooted: points.Sum(p => p.Vms),
            setup:
                "Paper [recalled]: 1..10 identical Linux VMs of 40 MB running SPEC95 for 30 min. " +
                $"Real guests: {string.Join(", ", setup.Counts)} identical {setup.MemoryMiB} MiB Linux guests under QEMU TCG (one kernel and initramfs; each agent fills {setup.DataMiB} MiB with the same seeded content and reads 8 MiB of it each second), " +
                $"each count its own run of {F(setup.DurationSeconds, 0)} s under Core's policy (QemuHostRun) with no memory pressure (min = max, a budget of 320 MiB per guest); " +
                $"the policy sets KSM's scan rate ({F(setup.ScanPagesPerSecond, 0)} pages/s for the host, like the simulator's raised rates), use_zero_pages=1 so zero pages are counted apart; " +
                "every KSM knob is saved before and restored after each run. Steady state: means over the last quarter. The simulator column is `memvisor experiment sharing-scaling` at the same scale and seed.",
            shows: "Identical VMs hold many identical pages (kernel, libraries, program data, zero pages), so the memory sharing saves grows with the number of VMs.",
            discussion:
                $"KSM is not ESX's scanner: it walks only memory marked mergeable (QEMU marks guest RAM), scans in address order rather than at random, and merges zero pages with the kernel's zero page when asked. " +
                $"What is identical here is the image (kernel text and data, the initramfs the guest unpacks) and the agents' seeded data; what differs is each guest's own state. " +
                $"At {last.Vms} guests {F(last.SharedPercent, 1)}% of configured memory is shared and {F(last.ReclaimedPercent, 1)}% reclaimed; the fraction is of configured memory, " +
                "most of which a TCG guest never touches (QEMU backs only what the guest used), so it is lower than it would be of the memory the guests hold. " +
                "One guest alone reclaims what it holds twice or more inside itself, and its zero pages: pages the guest kernel allocated and zeroed and never wrote, which free page reporting has not returned. " +
                "The paper's VMs ran SPEC95 with code shared between VMs; ours share an image and a data set, so the level differs; only the shape (growth with the count, zero pages for one VM) is compared.") with
        {
            Figures = [figure],
            Tables = [SideBySide.Table(measured.Simulator, claims, notJudged), table],
        };
    }

    private static string F(double value, int decimals = 2) => ExperimentReport.Number(value, decimals);
}
