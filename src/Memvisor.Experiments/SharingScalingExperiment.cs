/*
 * sharing-scaling: content-based page sharing grows with the number of identical VMs (paper Figure 4, §4).
 *
 * Paper [recalled]: 1..10 identical Linux VMs of 40 MB each, booted from the same image, run SPEC95 for
 * 30 minutes. Shared memory (pages that map a shared frame) and reclaimed memory (pages freed by sharing)
 * grow with the number of VMs: at 10 VMs about 67% of VM memory is shared and nearly 60% reclaimed; one
 * VM alone reclaims about 5 MB, mostly zero pages. Aggregate throughput with sharing on versus off
 * differs by -1.6%..+1.8%.
 *
 * Ours: the same VM count sweep, 40 MB Linux guests of one image running the compute workload
 * (ComputeWorkload: code read from the image's library file, 16 MB of private data, its default size)
 * on a host large enough that nothing is reclaimed but by sharing. Each count runs twice, sharing on and
 * off. The paper's 30 minutes at ESX 2.x's scan rates (50 pages/s per VM, 200 per host) are compressed
 * into a shorter run with the rates raised by the same factor: the scanner then considers each page as
 * many times as in the paper, so it reaches the same steady state, only sooner. Shared and reclaimed
 * memory are the means over the last quarter of the run.
 *
 * Where we differ: a simulated guest touches only the memory its kernel and workload use (untouched
 * guest pages are never backed), and its image is a kernel plus one library file: the paper's guests
 * had full page caches, more identical kernel data and the SPEC binaries and inputs, all identical.
 */
using Memvisor.Scenarios;
using Memvisor.Core.Statistics;
using Memvisor.Reporting.Charts;

namespace Memvisor.Experiments;

/// <summary>Sharing and reclaimed memory versus the number of identical VMs (Figure 4).</summary>
public sealed class SharingScalingExperiment() : PaperExperiment<SharingScalingMeasurements>("sharing-scaling", "Page sharing versus the number of identical VMs", "Figure 4, §4")
{
    /// <summary>Configured memory of each VM, MB (the paper's).</summary>
    public const double VmMB = 40;

    /// <summary>The paper's run: 30 minutes.</summary>
    public const double PaperSeconds = 1800;

    /// <inheritdoc/>
    protected override SharingScalingMeasurements Measure(ExperimentContext context, ExperimentRuns runs)
    {
        var seconds = context.Pick(60.0, 8.0);
        var setup = new SharingScalingSetup(
            context.Pick<int[]>([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 2, 3]),
            // Sharing off only at some counts: throughput is compared there (it keeps the run under two minutes).
            context.Pick<int[]>([1, 4, 7, 10], [1, 3]),
            seconds,
            PaperSeconds / seconds);
        var points = new List<SharingScalingPoint>();
        foreach (var n in setup.Counts)
        {
            var on = SharingSteadyState.Of(runs.Run(Scenario(n, setup.Seconds, setup.ScanSpeedup, sharing: true)));
            var off = setup.OffCounts.Contains(n) ? SharingSteadyState.Of(runs.Run(Scenario(n, setup.Seconds, setup.ScanSpeedup, sharing: false))) : null;
            points.Add(new SharingScalingPoint(n, on, off));
        }

        return new SharingScalingMeasurements(setup, points);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ClaimResult> Judge(SharingScalingMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (points, one, last, compared, changes, growing) = (measured.Points, measured.One, measured.Last, measured.Compared, measured.ThroughputChanges, measured.Growing);
        return
        [
            new ClaimResult(
                ClaimId.SharingGrowsWithVms,
                "sharing grows with the number of identical VMs",
                growing && last.On.SavedMB > 2 * one.On.SavedMB,
                $"reclaimed {string.Join(", ", points.Select(p => $"{p.Vms}: {Mb(p.On.SavedMB)} MB"))}; {(growing ? "never falls by more than 2% from one count to the next" : "falls from one count to the next")}.")
            {
                Measured = last.On.SavedMB / one.On.SavedMB,
            },
            new ClaimResult(
                ClaimId.SharingFractionGrowsWithVms,
                "the fraction of VM memory reclaimed grows with the number of VMs",
                Percent(last.On.SavedMB, last.ConfiguredMB) > Percent(one.On.SavedMB, one.ConfiguredMB),
                $"{Pct(one.On.SavedMB, one.ConfiguredMB)} at 1 VM, {Pct(last.On.SavedMB, last.ConfiguredMB)} at {last.Vms}.")
            {
                Measured = Percent(last.On.SavedMB, last.ConfiguredMB),
                Paper = 60,
            },
            new ClaimResult(
                ClaimId.SharingOneVmMostlyZeroPages,
                "one VM alone reclaims mostly zero pages",
                one.On.ZeroSavedMB > one.On.SavedMB / 2,
                $"one VM reclaims {Mb(one.On.SavedMB)} MB, of which {Mb(one.On.ZeroSavedMB)} MB are zero pages.")
            {
                Measured = Percent(one.On.ZeroSavedMB, one.On.SavedMB),
            },
            new ClaimResult(
                ClaimId.SharingCostsNoThroughput,
                "sharing costs next to no throughput (within ±5%)",
                changes.All(c => Math.Abs(c) <= 5),
                $"throughput with sharing on vs off: {string.Join(", ", compared.Select(p => $"{p.Vms} VMs: {Signed(p.ThroughputChangePercent)}%"))}.")
            {
                Measured = changes.Max(Math.Abs),
                Paper = 1.8,
            },
        ];
    }

    /// <inheritdoc/>
    protected override ExperimentResult Render(ExperimentContext context, ExperimentRuns runs, SharingScalingMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (points, one, last, changes) = (measured.Points, measured.One, measured.Last, measured.ThroughputChanges);
        var (counts, offCounts, seconds, speedup) = (measured.Setup.Counts, measured.Setup.OffCounts, measured.Setup.Seconds, measured.Setup.ScanSpeedup);
        return Result(
            context,
            runs,
            setup:
                $"Paper: 1..10 identical Linux VMs of {VmMB:0} MB (one image) running SPEC95 for 30 min on ESX 2.x (scan 50 pages/s per VM, 200 per host). " +
                $"Ours: {string.Join(", ", counts)} VMs of {VmMB:0} MB, Linux guests of one image, each running the compute workload (code from the image's library, 16 MB private data), " +
                $"on a 1024 MB host (no memory pressure); {seconds:0} simulated s per run, sharing on (and off at {string.Join(", ", offCounts)} VMs, for throughput), scan rates raised {speedup:0}x " +
                $"({50 * speedup:0} pages/s per VM, {200 * speedup:0} per host) so each page is considered as often as in the paper's 30 min. " +
                "Steady state: means over the last quarter of each run.",
            shows: "Identical VMs hold many identical pages (kernel, libraries, program code, zero pages), so the memory sharing saves grows with the number of VMs, at no noticeable cost in throughput.",
            discussion:
                $"The shape holds: reclaimed memory grows about linearly with the VM count, since each added VM brings the same kernel and code pages, of which the host keeps one copy; the shared fraction is flat from 2 VMs on (about {Pct(last.On.SharedMB, last.ConfiguredMB)}: each VM's kernel and code), and the reclaimed fraction approaches it as (n - 1) / n. " +
                $"The level is lower than the paper's: a simulated guest backs only what it touches (about {Mb(one.On.TouchedMB)} MB of its {VmMB:0} MB: kernel, kernel structures, the benchmark's code and data), " +
                "so at most the image's kernel and library pages plus zero pages can be shared, while the 16 MB of benchmark data are private to each VM; " +
                "the paper's Linux guests had touched most of their memory (page cache of the same files, identical kernel data, the same SPEC binaries and inputs), all of it candidates. " +
                "One VM alone shares what it holds twice, almost only zero pages: kernel zero pages (uninitialised data) and data pages not yet written. " +
                "Throughput moves little because a shared page costs nothing to read and one copy-on-write fault to write; the benchmark writes its private data, which is rarely shared. " +
                "The scan rates are raised so the steady state is reached within the run: they set only how fast it is reached, not where it lies.") with
        {
            Comparisons =
            [
                new PaperComparison($"shared at {last.Vms} VMs, % of VM memory", 67, Percent(last.On.SharedMB, last.ConfiguredMB), "%") { Note = last.Vms == 10 ? "[recalled]" : $"[recalled]; paper at 10 VMs, ours at {last.Vms}" },
                new PaperComparison($"reclaimed at {last.Vms} VMs, % of VM memory", 60, Percent(last.On.SavedMB, last.ConfiguredMB), "%") { Note = "paper: \"nearly 60%\"" },
                new PaperComparison("reclaimed by one VM alone", 5, one.On.SavedMB, "MB") { Note = "[recalled] \"about 5 MB\"" },
                new PaperComparison("zero pages in one VM's reclaimed memory", double.NaN, Percent(one.On.ZeroSavedMB, one.On.SavedMB), "%") { Note = "paper: \"mostly zero pages\" [recalled], no number" },
                new PaperComparison("throughput change with sharing on, largest drop", -1.6, changes.Min(), "%") { Note = "paper: range -1.6..+1.8 over the VM counts" },
                new PaperComparison("throughput change with sharing on, largest gain", 1.8, changes.Max(), "%") { Note = "paper: range -1.6..+1.8 over the VM counts" },
            ],
            Figures =
            [
                new ExperimentFigure("shared-reclaimed-mb", new LineChart
                {
                    Title = "Shared and reclaimed memory vs identical VMs",
                    XLabel = "VMs",
                    XValues = AxisValues.Counts,
                    YLabel = "MB",
                    Series =
                    [
                        new ChartSeries("VM memory", [.. points.Select(p => (double)p.Vms)], [.. points.Select(p => p.ConfiguredMB)]) { Line = SeriesLine.Dotted },
                        new ChartSeries("shared", [.. points.Select(p => (double)p.Vms)], [.. points.Select(p => p.On.SharedMB)]),
                        new ChartSeries("reclaimed", [.. points.Select(p => (double)p.Vms)], [.. points.Select(p => p.On.SavedMB)]),
                        new ChartSeries("reclaimed: zero pages", [.. points.Select(p => (double)p.Vms)], [.. points.Select(p => p.On.ZeroSavedMB)]) { Line = SeriesLine.Dashed },
                    ],
                }, "Steady-state shared and reclaimed memory, MB, as identical 40 MB VMs are added (the paper's Figure 4, top)."),
                new ExperimentFigure("shared-reclaimed-percent", new LineChart
                {
                    Title = "Shared and reclaimed, % of VM memory",
                    XLabel = "VMs",
                    XValues = AxisValues.Counts,
                    YLabel = "% of VM memory",
                    Series =
                    [
                        new ChartSeries("shared", [.. points.Select(p => (double)p.Vms)], [.. points.Select(p => Percent(p.On.SharedMB, p.ConfiguredMB))]),
                        new ChartSeries("reclaimed", [.. points.Select(p => (double)p.Vms)], [.. points.Select(p => Percent(p.On.SavedMB, p.ConfiguredMB))]),
                    ],
                    ReferenceLines = [new ChartReferenceLine("paper: shared at 10 VMs", 67, "#888888"), new ChartReferenceLine("paper: reclaimed at 10 VMs", 60, "#bbbbbb")],
                }, "The same as a percentage of the VMs' configured memory, with the paper's values at 10 VMs."),
            ],
            Tables =
            [
                new ExperimentTable("points", "Steady state per VM count",
                    ["VMs", "VM memory (MB)", "touched (MB)", "shared (MB)", "reclaimed (MB)", "zero reclaimed (MB)", "shared (% of VM memory)", "reclaimed (% of VM memory)", "throughput on (accesses/s)", "throughput off (accesses/s)", "change (%)"],
                    [.. points.Select(p => (IReadOnlyList<string>)[
                        p.Vms.ToString(System.Globalization.CultureInfo.InvariantCulture), Mb(p.ConfiguredMB), Mb(p.On.TouchedMB), Mb(p.On.SharedMB), Mb(p.On.SavedMB), Mb(p.On.ZeroSavedMB),
                        Mb(Percent(p.On.SharedMB, p.ConfiguredMB)), Mb(Percent(p.On.SavedMB, p.ConfiguredMB)),
                        ExperimentReport.Number(p.On.Throughput, 1), p.Off is null ? "-" : ExperimentReport.Number(p.Off.Throughput, 1), p.Off is null ? "-" : Signed(p.ThroughputChangePercent)])]),
            ],
        };
    }

    /// <summary>The scenario of <paramref name="vms"/> identical VMs.</summary>
    internal static Scenario Scenario(int vms, double seconds, double scanSpeedup, bool sharing) => new()
    {
        Name = $"sharing-scaling-{vms}vm-{(sharing ? "on" : "off")}",
        DurationSeconds = seconds,
        SampleIntervalSeconds = seconds / 40,
        Host = new HostSpec
        {
            MemoryMB = 1024,
            SwapMB = 1024,
            Sharing = sharing,
            ShareScanPerVmPagesPerSecond = 50 * scanSpeedup,
            ShareScanHostPagesPerSecond = 200 * scanSpeedup,
        },
        Vms = [.. Enumerable.Range(1, vms).Select(i => new VmSpec
        {
            Name = $"vm{i}",
            MemoryMB = VmMB,
            Guest = GuestFlavour.Linux,
            Image = "linux-spec",
            Workload = new WorkloadSpec { Kind = WorkloadKind.Compute, WorkingSetMB = 16 },
        })],
    };

    internal static double Percent(double part, double whole) => whole == 0 ? double.NaN : 100 * part / whole;

    internal static string Mb(double value) => ExperimentReport.Number(value, 1);

    internal static string Pct(double part, double whole) => $"{ExperimentReport.Number(Percent(part, whole), 1)}%";

    internal static string Signed(double value) => (value >= 0 ? "+" : "") + ExperimentReport.Number(value, 3);
}
