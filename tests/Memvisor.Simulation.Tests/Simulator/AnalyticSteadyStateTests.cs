/*
 * Issue 13's acceptance, over a whole simulated run: the targets the simulated policy settles on are the
 * independent analytic model's (Memvisor.Testing's AnalyticRevocationModel, from the paper's formula),
 * fed with what the guests really touch: each VM's true working set (pages touched in the last sampling
 * period of its execution time, averaged over the last minute), its shares, min and max, and the pages
 * the host gives VMs (machine memory less the VMs' overhead and the free target).
 *
 * Steady state. The idle guests read their installed files into free memory (16 pages/s each), so the
 * host's free memory falls until, at about 275 s on this host, it starts reclaiming from "big" (the VM
 * furthest over its target): the balloon takes some 20,000 pages in one interval and the guest swaps as
 * many out, reading each page as it writes it, touches both the truth and the sampler see. For a period
 * the true working set jumps to 22,000-30,000 pages while the estimate, a moving average, follows
 * behind: a transient, not the steady state the model describes. The run ends at 240 s, before any
 * reclamation, and the test checks that none happened in the minute it averages.
 *
 * Tolerance. The policy sees W only through sampling: n = 1000 pages per 5 s period, so one period's
 * count has a standard error of at most sqrt(0.25 / 1000) = 1.6% of a VM's memory (averaged over periods,
 * less), and the estimate is the maximum of three moving averages (biased up). A VM's target is allowed 1%
 * of the pages for VMs off the model's; seen when written: at most 0.2% (126 pages of 71,800).
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Memory;
using Memvisor.Scenarios;
using Memvisor.Testing;

namespace Memvisor.Simulation.Tests.Simulator;

public sealed class AnalyticSteadyStateTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.75)]
    public void A_simulated_hosts_steady_state_targets_are_the_analytic_models(double tau)
    {
        // Three Linux VMs of 192 MB on a 384 MB host: a toucher over 160 MB, one over 48 MB with twice the
        // shares, and an idle VM with a 32 MB min.
        var scenario = new Scenario
        {
            Name = "analytic",
            Seed = 7,
            DurationSeconds = 240,
            SampleIntervalSeconds = 5,
            Host = new HostSpec { MemoryMB = 384, SwapMB = 1024, Sharing = false, IdleTax = tau, SamplingPeriodSeconds = 5, SamplingPages = 1000 },
            Vms =
            [
                new VmSpec { Name = "big", MemoryMB = 192, Workload = new WorkloadSpec { Kind = WorkloadKind.Toucher, WorkingSetMB = 160 } },
                new VmSpec { Name = "small", MemoryMB = 192, Shares = Shares.High, Workload = new WorkloadSpec { Kind = WorkloadKind.Toucher, WorkingSetMB = 48 } },
                new VmSpec { Name = "idle", MemoryMB = 192, MinMB = 32, Workload = new WorkloadSpec { Kind = WorkloadKind.Idle } },
            ],
        };
        using var host = new SimulatedHost(scenario);
        var samples = host.Run(null, TestContext.Current.CancellationToken).Samples;
        var last = samples[^1];
        var window = samples.Where(s => s.TimeSeconds > scenario.DurationSeconds - 60).ToList();
        Assert.All(window, s => Assert.All(s.Vms, v => Assert.True(v.BalloonMB == 0 && v.SwappedMB == 0 && v.GuestSwapPages == 0,
            $"{v.Name} at {s.TimeSeconds} s: balloon {v.BalloonMB} MB, host swap {v.SwappedMB} MB, guest swap {v.GuestSwapPages} pages; the host reclaimed, not a steady state")));
        static double Pages(double mb) => mb * 256;

        var overhead = last.Vms.Sum(v => Pages(v.OverheadMB));
        var machine = (long)Pages(scenario.Host.MemoryMB);
        var available = new AllocationOptions().PagesAvailableToVms(machine, (long)Math.Round(overhead));
        var vms = scenario.Vms.Select((spec, i) => new ModelVm(
            spec.Shares.Resolve((long)Pages(spec.MemoryMB)),
            Pages(spec.MinMB),
            Pages(spec.MemoryMB),
            window.Average(s => Pages(s.Vms[i].TrueWorkingSetMB)))).ToArray();
        var model = AnalyticRevocationModel.Targets(vms, tau, available);
        var tolerance = 0.01 * available;
        for (var i = 0; i < vms.Length; i++)
        {
            var target = Pages(last.Vms[i].TargetMB);
            Assert.True(Math.Abs(target - model[i]) <= tolerance,
                $"tau {tau}, {last.Vms[i].Name}: target {target:F0} pages, model {model[i]:F0} (working set {vms[i].WorkingSetPages:F0}, estimate {Pages(last.Vms[i].ActiveEstimateMB):F0}); all targets [{string.Join(", ", last.Vms.Select(v => Pages(v.TargetMB).ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}], model [{string.Join(", ", model.Select(m => m.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}]");
        }
    }
}
