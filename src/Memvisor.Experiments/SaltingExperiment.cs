/*
 * salting: what page sharing still saves when VMs may not share with each other (beyond the paper; §4's
 * later history in PAPER.md).
 *
 * Since 2014 ESXi salts page sharing per VM by default (Mem.ShareForceSalting): sharing is a side
 * channel (Flush+Reload across VMs; copy-on-write timing tells whether a page was shared), so a VM shares
 * pages only with VMs of its own salt. Windows merges only all-0x00/0xFF pages across security domains.
 * The paper predates both and has no number for them: the one-salt run (the paper's behaviour) is the
 * reference, and each mode is reported as its ratio of savings to it.
 *
 * Ours: one host, three runs that differ only in the salting: one salt for all VMs, a salt per VM, and
 * a salt per VM except for uniform (all-0x00 or all-0xFF) pages, which share across all VMs (Core's
 * ShareSaltMode.UniformPagesAcrossVms). The VMs: Linux guests of one image running the compute workload
 * and a file server, and Windows guests of one image, idle (their zero-page thread clears free memory).
 * Scan rates are set so each page is considered about four times in the run; steady state over the
 * last quarter.
 */
using Memvisor.Core.Memory;
using Memvisor.Scenarios;
using Memvisor.Reporting.Charts;

namespace Memvisor.Experiments;

/// <summary>Sharing with one salt, a salt per VM, and uniform pages only across VMs.</summary>
public sealed class SaltingExperiment() : PaperExperiment<SaltingMeasurements>("salting", "Page sharing with one salt, a salt per VM, and zero pages only across VMs", "beyond the paper: §4, later ESXi salting")
{
    /// <summary>Sizes at the reduced scale, times the full ones.</summary>
    internal const double ReducedScale = 0.35;

    private static readonly double OnePageMB = Core.Memory.PageGeometry.MegabytesFromPages(1);

    /// <inheritdoc/>
    protected override SaltingMeasurements Measure(ExperimentContext context, ExperimentRuns runs)
    {
        var seconds = context.Pick(40.0, 8.0);
        var vms = Vms(context.Pick(1.0, ReducedScale));
        (ShareSaltMode Salting, string Label)[] modes = [(ShareSaltMode.SingleSalt, "one salt"), (ShareSaltMode.PerVm, "salt per VM"), (ShareSaltMode.UniformPagesAcrossVms, "zero pages across VMs")];
        var points = new List<SaltingMode>();
        foreach (var (salting, label) in modes)
        {
            // Zero frames: one for one salt and for uniform pages across VMs, one per VM with a salt per VM.
            var zeroFrames = salting == ShareSaltMode.PerVm ? vms.Count : 1;
            points.Add(new SaltingMode(salting, label, SharingSteadyState.Of(runs.Run(Scenario(salting, vms, seconds)), zeroFrames)));
        }

        return new SaltingMeasurements(seconds, vms, points);
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ClaimResult> Judge(SaltingMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (one, perVm, zeroOnly, vms) = (measured.One, measured.PerVm, measured.ZeroOnly, measured.Vms);
        double Ratio(SaltingMode p) => measured.ShareOfOneSalt(p);
        return
        [
            new ClaimResult(
                ClaimId.SaltPerVmSavesLess,
                "a salt per VM gives up the sharing between VMs: it saves less than one salt",
                perVm.State.SavedMB < one.State.SavedMB,
                $"reclaimed: one salt {SharingScalingExperiment.Mb(one.State.SavedMB)} MB, salt per VM {SharingScalingExperiment.Mb(perVm.State.SavedMB)} MB ({ExperimentReport.Number(Ratio(perVm), 3)} of it).")
            {
                Measured = Ratio(perVm),
            },
            new ClaimResult(
                ClaimId.SaltZeroPagesAcrossVmsAddOnePagePerVm,
                "sharing zero pages across VMs keeps the zero pages' saving and nothing more: a salt per VM plus one zero page per VM",
                zeroOnly.State.SavedMB > perVm.State.SavedMB && zeroOnly.State.SavedMB - perVm.State.SavedMB <= OnePageMB * vms.Count,
                $"reclaimed: zero pages across VMs {SharingScalingExperiment.Mb(zeroOnly.State.SavedMB)} MB ({ExperimentReport.Number(Ratio(zeroOnly), 3)} of one salt's), " +
                $"salt per VM {SharingScalingExperiment.Mb(perVm.State.SavedMB)} MB: {ExperimentReport.Number((zeroOnly.State.SavedMB - perVm.State.SavedMB) / OnePageMB, 1)} pages more, " +
                $"at most one per VM expected ({vms.Count} VMs: {vms.Count} zero frames become one).")
            {
                Measured = (zeroOnly.State.SavedMB - perVm.State.SavedMB) / OnePageMB,
            },
        ];
    }

    /// <inheritdoc/>
    protected override ExperimentResult Render(ExperimentContext context, ExperimentRuns runs, SaltingMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (points, one, perVm, zeroOnly, vms, seconds, configured) = (measured.Modes, measured.One, measured.PerVm, measured.ZeroOnly, measured.Vms, measured.Seconds, measured.ConfiguredMB);
        double Ratio(SaltingMode p) => measured.ShareOfOneSalt(p);
        return Result(
            context,
            runs,
            setup:
                $"One host, {vms.Count} VMs ({string.Join(", ", vms.Select(v => $"{v.Name}: {ScenarioNames.Of(v.Guest)} {v.MemoryMB:0} MB {ScenarioNames.Of(v.Workload.Kind)}"))}; Linux guests of one image, Windows guests of one image), " +
                $"{configured:0} MB configured, no memory pressure; three runs of {seconds:0} simulated s differing only in the salting; scan rates set so each page is considered about four times; steady state over the last quarter. " +
                "The paper has no number for salting: the one-salt run (the paper's behaviour) is the reference.",
            shows: "How much of sharing's saving comes from sharing between VMs, which salting gives up to close the side channel, and how much of it zero pages alone keep.",
            discussion:
                "With a salt per VM only pages repeated within one VM are shared, and in a simulated guest those are almost only zero pages: " +
                "the kernel and library pages that VMs of one image have in common are no longer shared. " +
                "Sharing zero (and all-0xFF) pages across VMs adds back only what a per-VM salt already nearly has: a VM's zero pages share within the VM anyway, " +
                "so crossing VMs saves one machine page per VM (its own zero frame), not the zero pages' saving itself. " +
                "The zero-only rule is therefore about closing the side channel at no cost, not about saving memory: " +
                "what salting gives up is the identical non-zero pages across VMs, here the images' kernel and libraries. " +
                "How much that is depends on how much of the saving came from identical images: for identical VMs (sharing-scaling) most of it; " +
                "here the Windows guests' zero-page thread makes zero pages the larger part. The paper has no number for salting.") with
        {
            Comparisons =
            [
                new PaperComparison("saving kept with a salt per VM, % of one salt's", double.NaN, 100 * perVm.State.SavedMB / one.State.SavedMB, "%") { Note = $"paper has no number for salting; ours: {SharingScalingExperiment.Mb(perVm.State.SavedMB)} MB reclaimed against {SharingScalingExperiment.Mb(one.State.SavedMB)} MB with one salt (the paper's behaviour)" },
                new PaperComparison("saving kept with zero pages across VMs, % of one salt's", double.NaN, 100 * zeroOnly.State.SavedMB / one.State.SavedMB, "%") { Note = $"paper has no number for salting; ours: {SharingScalingExperiment.Mb(zeroOnly.State.SavedMB)} MB reclaimed against {SharingScalingExperiment.Mb(one.State.SavedMB)} MB with one salt" },
            ],
            Figures =
            [
                new ExperimentFigure("salting", new BarChart
                {
                    Title = "Memory reclaimed by sharing, by salting",
                    XLabel = "salting",
                    YLabel = "MB",
                    Categories = [.. points.Select(p => p.Label)],
                    Groups =
                    [
                        new BarGroup("shared", [.. points.Select(p => p.State.SharedMB)]),
                        new BarGroup("reclaimed", [.. points.Select(p => p.State.SavedMB)]),
                        new BarGroup("reclaimed: zero pages", [.. points.Select(p => p.State.ZeroSavedMB)]),
                    ],
                }, "Shared and reclaimed memory, MB, with one salt for all VMs, a salt per VM, and a salt per VM except for zero (and all-0xFF) pages."),
            ],
            Tables =
            [
                new ExperimentTable("modes", "Steady state per salting",
                    ["salting", "VM memory (MB)", "touched (MB)", "shared (MB)", "reclaimed (MB)", "reclaimed (pages)", "zero (MB)", "zero reclaimed (MB)", "reclaimed (% of VM memory)", "of one salt's saving"],
                    [.. points.Select(p => (IReadOnlyList<string>)[
                        p.Label, SharingScalingExperiment.Mb(configured), SharingScalingExperiment.Mb(p.State.TouchedMB), SharingScalingExperiment.Mb(p.State.SharedMB), SharingScalingExperiment.Mb(p.State.SavedMB),
                        ExperimentReport.Number(p.State.SavedMB / OnePageMB, 1), SharingScalingExperiment.Mb(p.State.ZeroMB), SharingScalingExperiment.Mb(p.State.ZeroSavedMB), SharingScalingExperiment.Mb(SharingScalingExperiment.Percent(p.State.SavedMB, configured)), ExperimentReport.Number(Ratio(p), 3)])]),
            ],
        };
    }

    /// <summary>The VMs of the host, sizes multiplied by <paramref name="scale"/>.</summary>
    internal static IReadOnlyList<VmSpec> Vms(double scale)
    {
        VmSpec Vm(string name, GuestFlavour guest, string image, double mb, WorkloadSpec workload) =>
            new() { Name = name, Guest = guest, Image = image, MemoryMB = Math.Round(mb * scale), Workload = workload };
        var compute = new WorkloadSpec { Kind = WorkloadKind.Compute, WorkingSetMB = 16 * scale };
        var files = new WorkloadSpec { Kind = WorkloadKind.FileServer, FileSetMB = 64 * scale, Clients = 4 };
        return
        [
            Vm("linux1", GuestFlavour.Linux, "linux-a", 80, compute), Vm("linux2", GuestFlavour.Linux, "linux-a", 80, compute),
            Vm("linux3", GuestFlavour.Linux, "linux-a", 80, compute), Vm("linux4", GuestFlavour.Linux, "linux-a", 80, files),
            Vm("windows1", GuestFlavour.Windows, "windows-a", 96, new WorkloadSpec()), Vm("windows2", GuestFlavour.Windows, "windows-a", 96, new WorkloadSpec()),
        ];
    }

    /// <summary>The host with <paramref name="salting"/>.</summary>
    internal static Scenario Scenario(ShareSaltMode salting, IReadOnlyList<VmSpec> vms, double seconds)
    {
        ArgumentNullException.ThrowIfNull(vms);
        return new Scenario
        {
            Name = $"salting-{ScenarioNames.Of(salting)}",
            DurationSeconds = seconds,
            SampleIntervalSeconds = seconds / 40,
            Host = SharingMixedExperiment.QuietHost(vms, seconds) with { Salting = salting },
            Vms = vms,
        };
    }
}
