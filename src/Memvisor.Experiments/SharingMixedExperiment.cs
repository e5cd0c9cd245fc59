/*
 * sharing-mixed: page sharing on hosts of mixed guests and workloads (paper Figure 5 analogue, §4), and
 * the same measurement on this machine's real memory.
 *
 * Paper [recalled]: three production hosts. A: 10 Windows NT VMs, 2048 MB configured, 880 MB shared,
 * 673 MB (32.9%) reclaimed. B: 9 Linux VMs, 1846 MB, 539 MB shared, 345 MB (18.7%) reclaimed, 70 MB of
 * it zero pages. C: 5 Linux VMs, 1658 MB, 165 MB shared, 120 MB (7.2%) reclaimed, 25 MB zero pages.
 *
 * Ours: three simulated hosts with the paper's VM counts, guest flavours and total configured memory
 * (full scale; the reduced scale divides every size by 8, with a 40 MB floor per VM). Their VMs mix images (A: two Windows
 * releases, B: two Linux distributions, C: five different Linux images) and workloads (file server,
 * database-like toucher, compute, network, idle); the paper does not list its hosts' VMs, so this mix
 * is ours, chosen before any run. No memory pressure: what is reclaimed is reclaimed by sharing alone.
 * As in sharing-scaling, the scan rates are set so that the scanner considers each page about four
 * times in the run (the paper's hosts ran for days). Steady state: the last quarter of each run.
 *
 * Real memory: `memvisor scan`'s estimate (Core's SharingEstimator over Memvisor.Linux's ScanSourceSet) of every
 * readable process of the machine running the experiment, one process standing for one VM. It depends
 * on the machine and needs /proc (and root for physical frame numbers); where /proc cannot be read the
 * row is skipped and the report says why. It is the only part of any report that is not deterministic.
 */
using System.Diagnostics;
using Memvisor.Core.Memory;
using Memvisor.Scenarios;
using Memvisor.Core.Sharing;
using Memvisor.Linux.Scanning;
using Memvisor.Reporting;
using Memvisor.Reporting.Charts;

namespace Memvisor.Experiments;

/// <summary>Sharing on mixed hosts (Figure 5) and on this machine's processes.</summary>
public sealed class SharingMixedExperiment() : PaperExperiment<SharingMixedMeasurements>("sharing-mixed", "Page sharing on hosts of mixed guests and workloads", "Figure 5, §4")
{
    /// <inheritdoc/>
    protected override SharingMixedMeasurements Measure(ExperimentContext context, ExperimentRuns runs)
    {
        var scale = context.Pick(1.0, 0.125);
        var seconds = context.Pick(40.0, 6.0);
        var points = new List<MixedHostPoint>();
        foreach (var host in Hosts(scale))
        {
            var scenario = Scenario(host, seconds);
            var state = SharingSteadyState.Of(runs.Run(scenario));
            points.Add(new MixedHostPoint(host, host.Vms.Sum(v => v.MemoryMB), state));
        }

        context.Report("real memory: scanning this machine's processes");
        var real = ScanThisMachine(context.CancellationToken);
        return new SharingMixedMeasurements(scale, seconds, points, real);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ClaimResult> Judge(SharingMixedMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (points, a, b, c, ordered) = (measured.Hosts, measured.A, measured.B, measured.C, measured.CReclaimsLeast);
        return
        [
            new ClaimResult(
                ClaimId.MixedEveryHostReclaims,
                "sharing reclaims memory on every mixed host",
                points.All(p => p.ReclaimedPercent > 1),
                string.Join("; ", points.Select(p => $"{p.Host.Name}: {SharingScalingExperiment.Mb(p.State.SavedMB)} MB = {SharingScalingExperiment.Pct(p.State.SavedMB, p.ConfiguredMB)} reclaimed")) + ".")
            {
                Measured = points.Min(p => p.ReclaimedPercent),
                Paper = points.Min(p => p.PaperReclaimedPercent),
            },
            new ClaimResult(
                ClaimId.MixedFewDifferentImagesReclaimLeast,
                "the host of few VMs of different images (C) reclaims the smallest fraction",
                ordered,
                $"reclaimed A {SharingScalingExperiment.Pct(a.State.SavedMB, a.ConfiguredMB)}, B {SharingScalingExperiment.Pct(b.State.SavedMB, b.ConfiguredMB)}, C {SharingScalingExperiment.Pct(c.State.SavedMB, c.ConfiguredMB)} (paper: 32.9%, 18.7%, 7.2%); " +
                $"zero pages are {SharingScalingExperiment.Pct(b.State.ZeroMB, b.State.SharedMB)} of B's shared memory and {SharingScalingExperiment.Pct(c.State.ZeroMB, c.State.SharedMB)} of C's" +
                (ordered ? "." : ": C's VMs, larger and busier, hold anonymous memory allocated but not yet written (zero), which a host running for days would have written; sharing between images plays no part in it."))
            {
                Measured = c.ReclaimedPercent,
                Paper = c.PaperReclaimedPercent,
            },
            new ClaimResult(
                ClaimId.MixedLinuxHostsShareZeroPages,
                "zero pages are part of what is shared on the Linux hosts",
                b.State.ZeroMB > 0 && c.State.ZeroMB > 0,
                $"zero pages: B {SharingScalingExperiment.Mb(b.State.ZeroMB)} MB, C {SharingScalingExperiment.Mb(c.State.ZeroMB)} MB (paper: 70 MB, 25 MB).")
            {
                Measured = Math.Min(b.State.ZeroMB, c.State.ZeroMB),
            },
        ];
    }

    /// <inheritdoc/>
    protected override ExperimentResult Render(ExperimentContext context, ExperimentRuns runs, SharingMixedMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (points, scale, seconds, real) = (measured.Hosts, measured.Scale, measured.Seconds, measured.Real);
        var comparisons = new List<PaperComparison>();
        foreach (var p in points)
        {
            var scaleNote = scale == 1 ? "" : $"; sizes ×{scale}: compare percentages";
            comparisons.Add(new PaperComparison($"host {p.Host.Name}: reclaimed, % of VM memory", p.PaperReclaimedPercent, p.ReclaimedPercent, "%") { Note = "[recalled]" + scaleNote });
            comparisons.Add(new PaperComparison($"host {p.Host.Name}: shared, % of VM memory", SharingScalingExperiment.Percent(p.Host.PaperSharedMB, p.Host.PaperMB), SharingScalingExperiment.Percent(p.State.SharedMB, p.ConfiguredMB), "%") { Note = $"paper: {p.Host.PaperSharedMB:0} of {p.Host.PaperMB:0} MB" });
            if (p.Host.PaperZeroMB is { } zero)
            {
                comparisons.Add(new PaperComparison($"host {p.Host.Name}: zero pages, % of VM memory", SharingScalingExperiment.Percent(zero, p.Host.PaperMB), SharingScalingExperiment.Percent(p.State.ZeroMB, p.ConfiguredMB), "%") { Note = $"paper: {zero:0} MB" });
            }
        }

        var rows = points.Select(p => (IReadOnlyList<string>)[
            $"{p.Host.Name} (simulated)", p.Host.Vms.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), p.Host.Guest, SharingScalingExperiment.Mb(p.ConfiguredMB), SharingScalingExperiment.Mb(p.State.TouchedMB),
            SharingScalingExperiment.Mb(p.State.SharedMB), SharingScalingExperiment.Mb(p.State.SavedMB), SharingScalingExperiment.Mb(p.State.ZeroMB),
            SharingScalingExperiment.Mb(p.ReclaimedPercent), SharingScalingExperiment.Mb(SharingScalingExperiment.Percent(p.State.SavedMB, p.State.TouchedMB)), SharingScalingExperiment.Mb(p.PaperReclaimedPercent)]).ToList();
        if (real.Estimate is { } estimate)
        {
            var t = estimate.Total;
            rows.Add([
                "this machine's processes (real)", estimate.Sources.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), "processes", SharingScalingExperiment.Mb(PageGeometry.MegabytesFromPages(t.PagesScanned)), SharingScalingExperiment.Mb(PageGeometry.MegabytesFromPages(t.PagesScanned)),
                SharingScalingExperiment.Mb(PageGeometry.MegabytesFromPages(t.SharingPages)), SharingScalingExperiment.Mb(PageGeometry.MegabytesFromPages(t.PagesSaved)), SharingScalingExperiment.Mb(PageGeometry.MegabytesFromPages(t.ZeroPages)),
                SharingScalingExperiment.Mb(SharingScalingExperiment.Percent(t.PagesSaved, t.PagesScanned)), SharingScalingExperiment.Mb(SharingScalingExperiment.Percent(t.PagesSaved, t.PagesScanned)), "-"]);
        }

        return Result(
            context,
            runs,
            setup:
                "Paper: three production ESX hosts (A: 10 Windows NT VMs, 2048 MB; B: 9 Linux VMs, 1846 MB; C: 5 Linux VMs, 1658 MB), sharing measured in use. " +
                $"Ours: simulated hosts with the same VM counts, guest flavours and total memory{(scale == 1 ? "" : $" scaled by {scale} (40 MB floor per VM)")}, " +
                "mixing images (A: two Windows releases; B: two Linux distributions; C: five different Linux images) and workloads (file server, database-like toucher, compute, network, idle); " +
                $"{seconds:0} simulated s each, scan rates set so each page is considered about four times, steady state over the last quarter; no memory pressure. " +
                "Real memory: `memvisor scan` (one salt) over every readable process of the machine that ran the experiment, each process standing for a VM.",
            shows: "Sharing saves memory on real, mixed hosts too, not only on identical VMs: most on hosts of many VMs of the same OS, least on a few VMs of different images, with zero pages part of it.",
            discussion:
                "The paper's hosts ran real applications for a long time; ours run a mix of modelled workloads for seconds, so the levels differ and only their order and rough size can be compared. " +
                "What a simulated guest shares is its image's kernel and library pages (with VMs of the same image), zero pages (kernel uninitialised data, anonymous memory not yet written, " +
                "and on Windows every free page the zero-page thread has cleared), while workload data and file contents are private to each VM; " +
                "real guests also share identical application binaries, page-cache contents of common files and identical kernel data. " +
                "Windows guests zero their free memory (the zero-page thread), which the host then shares as one zero page: on host A nearly all memory is zero pages, far above the paper's 32.9%, " +
                "because a simulated Windows guest with a small working set leaves most of its memory free and zeroed, where the paper's long-running servers had filled theirs with caches and data. " +
                "The Linux guests, in turn, never touch most of their memory (a simulated guest backs only what it uses), so their percentages of configured memory are low; as a percentage of touched memory (the table) B and C are closer to A. " +
                "The real-memory row is processes, not VMs: the kernel already shares libraries and forked pages between processes (left out when we are root), so what remains is mostly zero pages and copies of data. " +
                "The mix of VMs is ours: the paper does not describe its hosts' VMs beyond flavour and count.") with
        {
            Comparisons = comparisons,
            Figures =
            [
                new ExperimentFigure("hosts", new BarChart
                {
                    Title = "Reclaimed memory on mixed hosts",
                    XLabel = "host",
                    YLabel = "% of VM memory",
                    Categories = [.. points.Select(p => p.Host.Name)],
                    Groups =
                    [
                        new BarGroup("paper: reclaimed", [.. points.Select(p => p.PaperReclaimedPercent)]),
                        new BarGroup("Memvisor: reclaimed", [.. points.Select(p => p.ReclaimedPercent)]),
                        new BarGroup("Memvisor: zero pages", [.. points.Select(p => SharingScalingExperiment.Percent(p.State.ZeroMB, p.ConfiguredMB))]),
                    ],
                }, "Reclaimed memory as a percentage of configured VM memory on the three hosts, the paper's beside ours (Figure 5)."),
            ],
            Tables =
            [
                new ExperimentTable("hosts", "Hosts (simulated) and this machine's processes (real)",
                    ["host", "VMs", "guests", "VM memory (MB)", "touched (MB)", "shared (MB)", "reclaimed (MB)", "zero (MB)", "reclaimed (% of VM memory)", "reclaimed (% of touched)", "paper reclaimed (% of VM memory)"],
                    rows),
                new ExperimentTable("vms", "The simulated hosts' VMs",
                    ["host", "VM", "guest", "image", "memory (MB)", "workload"],
                    [.. points.SelectMany(p => p.Host.Vms.Select(v => (IReadOnlyList<string>)[p.Host.Name, v.Name, ScenarioNames.Of(v.Guest), v.Image, SharingScalingExperiment.Mb(v.MemoryMB), ReportTables.WorkloadText(v.Workload)]))]),
            ],
            Notes = [.. runs.Notes, .. real.Notes.Select(n => "real memory: " + n)],
        };
    }

    /// <summary>
    /// Scans every readable process of this machine as `memvisor scan` does; when /proc cannot be read
    /// (not Linux, or nothing readable) returns no estimate and the reason.
    /// </summary>
    internal static RealMemoryScan ScanThisMachine(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc/self"))
        {
            return new RealMemoryScan(null, ["skipped: this machine has no /proc (not Linux), so its processes' memory cannot be read."]);
        }

        try
        {
            using var sources = ScanSourceSet.Open([], [], Environment.ProcessId);
            if (sources.PageCount == 0)
            {
                return new RealMemoryScan(null, ["skipped: no process's memory could be read through /proc (permissions); " + string.Join(" ", ScanNotes.NotScanned(sources))]);
            }

            var clock = Stopwatch.StartNew();
            var estimate = SharingEstimator.Run(sources.Sources, new SharingEstimatorOptions(), cancellationToken: cancellationToken);
            return new RealMemoryScan(estimate, ScanNotes.Describe(estimate, sources, clock.Elapsed));
        }
        catch (Exception e) when (e is ScanSourceException or IOException or UnauthorizedAccessException)
        {
            return new RealMemoryScan(null, [$"skipped: the processes of this machine could not be read ({e.Message})."]);
        }
    }

    /// <summary>The three hosts, sizes multiplied by <paramref name="scale"/> (each VM at least 40 MB).</summary>
    internal static IReadOnlyList<MixedHost> Hosts(double scale)
    {
        VmSpec Vm(string name, GuestFlavour guest, string image, double mb, WorkloadKind kind, double size = 0, int clients = 8) => new()
        {
            Name = name,
            Guest = guest,
            Image = image,
            MemoryMB = Math.Max(40, Math.Round(mb * scale)),
            Workload = kind switch
            {
                WorkloadKind.FileServer => new WorkloadSpec { Kind = kind, FileSetMB = Math.Max(8, size * scale), Clients = clients },
                WorkloadKind.Toucher => new WorkloadSpec { Kind = kind, WorkingSetMB = Math.Max(4, size * scale), Distribution = AccessPattern.Zipf },
                WorkloadKind.Idle => new WorkloadSpec { Kind = kind },
                _ => new WorkloadSpec { Kind = kind, WorkingSetMB = Math.Max(4, size * scale) },
            },
        };
        const GuestFlavour W = GuestFlavour.Windows;
        const GuestFlavour L = GuestFlavour.Linux;
        return
        [
            new MixedHost("A", "10 Windows", 2048, 880, 673, null,
            [
                Vm("a1-web", W, "winnt4", 256, WorkloadKind.FileServer, 384), Vm("a2-sql", W, "winnt4", 256, WorkloadKind.Toucher, 128), Vm("a3-oracle", W, "winnt4", 256, WorkloadKind.Toucher, 96),
                Vm("a4-java", W, "winnt4", 256, WorkloadKind.Compute, 64), Vm("a5-vb", W, "winnt4", 160, WorkloadKind.Compute, 32), Vm("a6-idle", W, "winnt4", 160, WorkloadKind.Idle),
                Vm("a7-files", W, "winnt4", 160, WorkloadKind.FileServer, 128, 4), Vm("a8-net", W, "win2000", 160, WorkloadKind.Network, 32), Vm("a9-idle", W, "win2000", 192, WorkloadKind.Idle),
                Vm("a10-dev", W, "win2000", 192, WorkloadKind.Compute, 48),
            ]),
            new MixedHost("B", "9 Linux", 1846, 539, 345, 70,
            [
                Vm("b1-web", L, "redhat72", 256, WorkloadKind.FileServer, 256), Vm("b2-mail", L, "redhat72", 256, WorkloadKind.Network, 64), Vm("b3-db", L, "redhat72", 256, WorkloadKind.Toucher, 96),
                Vm("b4-app", L, "redhat72", 192, WorkloadKind.Compute, 48), Vm("b5-idle", L, "redhat72", 192, WorkloadKind.Idle), Vm("b6-files", L, "redhat72", 192, WorkloadKind.FileServer, 128, 4),
                Vm("b7-net", L, "debian30", 192, WorkloadKind.Network, 32), Vm("b8-app", L, "debian30", 155, WorkloadKind.Compute, 32), Vm("b9-idle", L, "debian30", 155, WorkloadKind.Idle),
            ]),
            new MixedHost("C", "5 Linux", 1658, 165, 120, 25,
            [
                Vm("c1-db", L, "redhat71", 512, WorkloadKind.Toucher, 384), Vm("c2-files", L, "suse80", 512, WorkloadKind.FileServer, 768, 16), Vm("c3-app", L, "debian30", 256, WorkloadKind.Compute, 160),
                Vm("c4-net", L, "mandrake82", 256, WorkloadKind.Network, 128), Vm("c5-db", L, "redhat72", 122, WorkloadKind.Toucher, 64),
            ]),
        ];
    }

    /// <summary>The scenario of one host.</summary>
    internal static Scenario Scenario(MixedHost host, double seconds)
    {
        ArgumentNullException.ThrowIfNull(host);
        return new Scenario
        {
            Name = $"sharing-mixed-{host.Name}",
            DurationSeconds = seconds,
            SampleIntervalSeconds = seconds / 40,
            Host = QuietHost(host.Vms, seconds),
            Vms = host.Vms,
        };
    }

    /// <summary>
    /// A host for <paramref name="vms"/> with enough memory that only sharing reclaims, and scan rates
    /// at which the scanner considers each page about four times in <paramref name="seconds"/>.
    /// </summary>
    internal static HostSpec QuietHost(IReadOnlyList<VmSpec> vms, double seconds)
    {
        const double ScansPerPage = 4;
        var totalMB = vms.Sum(v => v.MemoryMB);
        return new HostSpec
        {
            MemoryMB = Math.Ceiling((totalMB * 1.1) + (40 * vms.Count) + 128),
            SwapMB = totalMB,
            ShareScanPerVmPagesPerSecond = ScansPerPage * PageGeometry.PagesFromMegabytes(vms.Max(v => v.MemoryMB)) / seconds,
            ShareScanHostPagesPerSecond = ScansPerPage * PageGeometry.PagesFromMegabytes(totalMB) / seconds,
        };
    }
}
