/*
 * A whole scenario run on real guests, as `memvisor host run` does it (ScenarioGuests +
 * QemuScenarioRun): two 256 MiB guests of the same image on a 460 MiB budget (QEMU's own memory
 * included: with it the guests and QEMU overcommit the budget about 1.5x; at tau 0 the active guest
 * gets less than its working set needs, at 0.75 enough). "active" touches 96 MiB,
 * "idle" holds 96 MiB of the same seeded content and touches none. Idle tax 0 for 40 s, then 0.75.
 * Checked against the run's own statistics stream:
 *   - the working-set estimate is within 10% (or 8 MiB) of what each agent reports it touched, in
 *     settled samples (no major fault in the guest for the last four seconds: a guest ballooned below
 *     its working set thrashes on its swap disk, at the start when estimates begin at 0);
 *   - at tau 0.75 the idle guest's target is lower and the active guest's higher than at tau 0;
 *   - every guest's balloon is driven to a target of 16 MiB or more and reaches it;
 *   - KSM (where this host lets the run drive it) merges the two guests' identical pages, and each
 *     VM's shared figure is its QEMU's ksm_merging_pages, read beside the run while ksmd is settled;
 *   - no guest dies, no agent falls silent (the guest's OOM killer), and no QEMU is left afterwards.
 */
using Memvisor.Linux.Ksm;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Substrate;
using Memvisor.Scenarios;

namespace Memvisor.Qemu.Tests.RealGuests;

[Collection(RealGuestGroup.Name)]
public sealed class ScenarioRunTests
{
    private const double TaxRiseSeconds = 40;

    [Fact]
    public async Task A_scenario_run_estimates_working_sets_moves_memory_with_the_tax_and_leaves_nothing_behind()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;
        var image = await RealGuestRequirements.ImageAsync();
        var scenario = new Scenario
        {
            Name = "ci-real-guests",
            DurationSeconds = 80,
            SampleIntervalSeconds = 1,
            Host = new HostSpec
            {
                MemoryMB = 460,
                SwapMB = 512,
                IdleTax = 0,
                IdleTaxChanges = [new Core.Allocation.IdleTaxChange(TaxRiseSeconds, 0.75)],
                BalancePeriodSeconds = 2,
                SamplingPeriodSeconds = 2,
                SamplingInitialActivePercent = 0,
                ShareScanHostPagesPerSecond = 50_000,
            },
            Vms =
            [
                new VmSpec { Name = "active", MemoryMB = 256, MinMB = 64, Workload = new WorkloadSpec { Kind = WorkloadKind.Toucher, WorkingSetMB = 96 } },
                new VmSpec { Name = "idle", MemoryMB = 256, MinMB = 64, Workload = new WorkloadSpec { Kind = WorkloadKind.Idle, WorkingSetMB = 160 } },
            ],
        };
        var guests = ScenarioGuests.Of(scenario, image, ScenarioGuests.MachineAvailableMiB());
        var ksmDriven = KsmSysfs.WhyNotWritable() is null;
        var pids = new HashSet<int>();
        var ksmBeside = new List<(double Time, string Vm, double RunMiB, double ProcMiB)>();
        var ksmProcBefore = new Dictionary<string, double>();
        var ksmBefore = new Dictionary<string, double>();
        var progress = new SynchronousProgress(sample =>
        {
            foreach (var pid in GuestProcesses.Pids)
            {
                pids.Add(pid);
                var name = QemuName(pid);
                var vm = sample.Vms.FirstOrDefault(v => v.Name == name);
                if (vm is { PoweredOn: true } && File.Exists($"/proc/{pid}/ksm_merging_pages"))
                {
                    // Compared while ksmd is settled for the VM (its figure as at the sample before): the
                    // run read it up to a tick before this callback, and ksmd merges 50,000 pages a second.
                    var merging = long.Parse(File.ReadAllText($"/proc/{pid}/ksm_merging_pages").Trim(), System.Globalization.CultureInfo.InvariantCulture);
                    // ... and while the kernel's own figure is still too (a balloon inflating in the first seconds
                    // frees merged pages: CI saw 48.7 MiB in the run against 36.2 MiB in procfs at 4 s).
                    if (ksmBefore.TryGetValue(vm.Name, out var before) && Math.Abs(before - vm.SharedMB) < 0.5
                        && ksmProcBefore.TryGetValue(vm.Name, out var procBefore) && Math.Abs(procBefore - (merging / 256.0)) < 0.5)
                    {
                        ksmBeside.Add((sample.TimeSeconds, vm.Name, vm.SharedMB, merging / 256.0));
                    }

                    ksmBefore[vm.Name] = vm.SharedMB;
                    ksmProcBefore[vm.Name] = merging / 256.0;
                }
            }
        });

        var result = await QemuScenarioRun.RunAsync(guests, progress, ct);

        foreach (var s in result.Samples.Where(s => (int)s.TimeSeconds % 5 == 0))
        {
            output.WriteLine($"t={s.TimeSeconds:0} {s.State} free {s.FreeMB:0} | " + string.Join(" | ", s.Vms.Select(v =>
                $"{v.Name}: target {v.TargetMB:0} granted {v.GrantedMB:0} est {v.ActiveEstimateMB:0.0} true {v.TrueWorkingSetMB:0.0} balloon {v.BalloonMB:0}/{v.BalloonTargetMB:0} {v.Real?.Balloon} ksm {v.SharedMB:0} ovhd {v.OverheadMB:0} measure {v.Real?.MeasureMilliseconds:0} ms")));
        }

        output.WriteLine("notes: " + string.Join("; ", result.Notes));
        Assert.Empty(result.Stops);
        Assert.DoesNotContain(result.Notes, n => n.Contains("stopped reporting", StringComparison.Ordinal) || n.Contains("QEMU exited", StringComparison.Ordinal));
        Assert.All(result.Samples[^1].Vms, v => Assert.True(v.PoweredOn, $"{v.Name} is off at the end"));

        // The working-set estimate against the agents' truth, in settled samples: after the first three
        // sampling periods, and with no major fault and no swap I/O in the guest for the last four seconds
        // (a guest ballooned below its working set thrashes on its swap disk, and its agent's pace is no
        // truth then; QEMU's own reads of pages the guest swaps out set their accessed bits), and with the
        // guest's balloon still (within 1 MiB) over those seconds: while its balloon inflates or deflates, the
        // guest kernel hands over or takes back pages, real accesses the agent does not report (CI saw the idle
        // guest's estimate at 8.6-16 MiB against its agent's 0 with those samples counted, 3.8 MiB without load).
        // The typical (median) sample is judged: guest RAM touched by neither the agent nor a balloon (CI saw
        // both guests' estimates jump by 16 and 30 MiB at once, 55 s in, and the idle one's decay from 32 MiB
        // over 25 s, as the paper's estimator does after a burst) is real access the agent cannot report.
        // Pages ksmd merges look referenced and the meter takes them off (MergedLookTouched): before it did,
        // CI saw the idle guest estimated at 54.8 MiB while ksmd re-merged its pages with the active guest's.
        foreach (var name in new[] { "active", "idle" })
        {
            var series = result.Samples.Select(s => (s.TimeSeconds, Vm: s.Vms.Single(v => v.Name == name))).ToList();
            var settled = series.Where((p, i) => p.TimeSeconds >= 12 && i >= 4
                && series.Skip(i - 4).Take(5).All(q => q.Vm.Real?.GuestMajorFaults == 0 && q.Vm.GuestSwapPages == 0
                    && Math.Abs(q.Vm.BalloonMB - p.Vm.BalloonMB) <= 1)).Select(p => p.Vm).ToList();
            output.WriteLine($"{name}: {settled.Count} settled samples of {series.Count}");
            Assert.True(settled.Count >= 10, $"{name} settled in only {settled.Count} samples");
            var estimate = settled.Average(v => v.ActiveEstimateMB);
            var truth = settled.Average(v => v.TrueWorkingSetMB);
            var differences = settled.Select(v => Math.Abs(v.ActiveEstimateMB - v.TrueWorkingSetMB)).Order().ToList();
            var error = differences[differences.Count / 2];
            output.WriteLine($"{name}: estimate {estimate:0.0} MiB, agent {truth:0.0} MiB, |difference| median {error:0.0} MiB, mean {differences.Average():0.0}, largest {differences[^1]:0.0}");
            Assert.True(error <= Math.Max(8, 0.1 * truth), $"{name}: estimate {estimate:0.0} MiB, agent {truth:0.0} MiB, median |difference| {error:0.0} MiB");
        }

        // The idle tax moves memory from the idle guest to the active one.
        var atZero = result.Samples.Last(s => s.TimeSeconds < TaxRiseSeconds);
        var atTax = result.Samples[^1];
        double Target(HostSample s, string vm) => s.Vms.Single(v => v.Name == vm).TargetMB;
        output.WriteLine($"targets at tau 0: active {Target(atZero, "active"):0}, idle {Target(atZero, "idle"):0} MiB; at 0.75: active {Target(atTax, "active"):0}, idle {Target(atTax, "idle"):0} MiB");
        Assert.True(Target(atTax, "active") > Target(atZero, "active") + 16, "the active guest's target rises with the tax");
        Assert.True(Target(atTax, "idle") < Target(atZero, "idle") - 16, "the idle guest's target falls with the tax");

        // Balloons reach their targets: a target of 16 MiB or more that the policy holds for 8 s is reached
        // (query-balloon within 2 MiB) by the end of the hold, and at least one guest's balloon is driven to
        // such a target and gets there. (Which guest is ballooned at start-up, and whether the idle one is
        // ballooned after the tax rises, depends on how much free memory KSM has made by then: CI once saw
        // the idle guest's 136 MiB start-up target dropped at 8 s, when the host reached high, and the host
        // stay in high after the rise with 63 MiB free.)
        var reachedAny = false;
        foreach (var name in new[] { "active", "idle" })
        {
            var vms = result.Samples.Select(s => (s.TimeSeconds, Vm: s.Vms.Single(v => v.Name == name))).ToList();
            var reached = vms.FirstOrDefault(p => p.Vm.BalloonTargetMB >= 16 && Math.Abs(p.Vm.BalloonMB - p.Vm.BalloonTargetMB) <= 2);
            output.WriteLine($"{name}: balloon reached {reached.Vm?.BalloonTargetMB:0} MiB at {reached.TimeSeconds:0} s");
            reachedAny |= reached.Vm is not null;
            for (var first = 0; first < vms.Count;)
            {
                var target = vms[first].Vm.BalloonTargetMB;
                var last = first;
                while (last + 1 < vms.Count && Math.Abs(vms[last + 1].Vm.BalloonTargetMB - target) < 0.5)
                {
                    last++;
                }

                if (target >= 16 && vms[last].TimeSeconds - vms[first].TimeSeconds >= 8)
                {
                    Assert.True(Math.Abs(vms[last].Vm.BalloonMB - target) <= 2, $"{name}: balloon {vms[last].Vm.BalloonMB:0.0} MiB after {target:0.0} MiB held {vms[first].TimeSeconds:0}-{vms[last].TimeSeconds:0} s");
                }

                first = last + 1;
            }
        }

        Assert.True(reachedAny, "no guest's balloon reached a target of 16 MiB or more");

        // KSM per VM: the run's figure is the QEMU process's ksm_merging_pages.
        if (ksmDriven)
        {
            // KSM is host-wide: another process restoring its knobs can unmerge in mid-run, so the merge
            // is checked at its peak, and the figures against the kernel's at every sample.
            Assert.True(ksmBeside.Count >= 20, $"ksmd was settled at only {ksmBeside.Count} samples");
            Assert.All(ksmBeside, k => Assert.True(Math.Abs(k.RunMiB - k.ProcMiB) <= Math.Max(2, 0.03 * k.ProcMiB), $"{k.Vm} at {k.Time} s: run {k.RunMiB:0.0} MiB, ksm_merging_pages {k.ProcMiB:0.0} MiB"));
            foreach (var name in new[] { "active", "idle" })
            {
                var peak = result.Samples.Max(s => s.Vms.Single(v => v.Name == name).SharedMB);
                Assert.True(peak >= 24, $"{name}: KSM merged at most {peak:0.0} MiB of the guests' identical 96 MiB");
            }
        }

        Assert.Empty(GuestProcesses.Pids);
        Assert.NotEmpty(pids);
        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"QEMU {pid} is still running"));
    }

    private static string QemuName(int pid)
    {
        try
        {
            var arguments = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            var at = Array.IndexOf(arguments, "-name");
            return at >= 0 && at + 1 < arguments.Length ? arguments[at + 1] : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    private sealed class SynchronousProgress(Action<HostSample> report) : IProgress<HostSample>
    {
        public void Report(HostSample value) => report(value);
    }
}
