/*
 * Issue 13's acceptance: the policy's steady-state targets against an independent analytic model of
 * min-funding revocation with the idle memory tax, written here from the paper's formula and nothing
 * of Core's (no MinFundingRevocation, no IdleMemoryTax, no PageByPageRevocation).
 *
 * The model. VM i has shares S_i, min_i, max_i and a working set of W_i pages that it keeps touching.
 * Holding P pages, its active fraction is f = min(1, W_i / P) and its adjusted shares-per-page ratio is
 *     rho_i(P) = S_i / (P * (f + k (1 - f))),   k = 1 / (1 - tau)          (paper §5.2)
 * Reclamation takes from the VM of least rho until the targets fit the pages the host gives VMs (machine
 * pages less the free target); so in steady state every VM strictly between its min and its max has the
 * same rho, a VM at its min has no less, a VM at its max no more. Here: the level is found by bisection
 * on the cost per share c = 1/rho, at which a VM holds the P where P * (f + k (1 - f)) = S c, clamped to
 * [min, max]; the pages held are non-decreasing in c, so the level where they sum to the available
 * pages is unique.
 *
 * Tolerance. The model is continuous; the policy hands out whole pages (at most one page per VM off the
 * water level, MinFundingRevocation's header) and estimates W by sampling: with every page of a VM
 * sampled (n = max) the fake's count is exact to a page. So the policy's target must be within 2 pages
 * per VM on the host of the model's (a VM's target also moves the level every other VM sees).
 */
using CsCheck;
using Memvisor.Core.Allocation;
using Memvisor.Core.Host;
using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;
using Memvisor.Testing;

namespace Memvisor.Core.Tests.Host;

public sealed class AnalyticModelTests
{
    private const int MachinePages = 4096;

    /// <summary>One VM of a configuration: shares, min, max and the pages it keeps touching.</summary>
    public sealed record ModelVm(double Shares, int MinPages, int MaxPages, int WorkingSetPages);

    private static readonly Gen<ModelVm> GenVm =
        from max in Gen.Int[256, 2048]
        from min in Gen.OneOf(Gen.Const(0), Gen.Int[0, max / 3])
        from shares in Gen.Int[1, 8].Select(s => s * 500.0)
        from working in Gen.OneOf(Gen.Const(0), Gen.Const(max), Gen.Int[0, max])
        select new ModelVm(shares, min, max, working);

    private static readonly Gen<(ModelVm[] Vms, double Tau)> GenConfiguration =
        from vms in GenVm.Array[2, 6]
        from tau in Gen.OneOf(Gen.Const(0.0), Gen.Const(0.5), Gen.Const(0.75))
        where vms.Sum(v => v.MinPages) <= MachinePages / 2
        select (vms, tau);

    /// <summary>The analytic steady state: pages per VM (continuous), by bisection on the cost per share.</summary>
    public static double[] AnalyticTargets(ModelVm[] vms, double tau, double availablePages)
    {
        var k = 1 / (1 - tau);
        if (vms.Sum(v => (double)v.MaxPages) <= availablePages)
        {
            return [.. vms.Select(v => (double)v.MaxPages)];
        }

        // Pages a VM holds at cost per share c: the P with P (f + k (1 - f)) = S c, f = min(1, W / P).
        double Held(ModelVm v, double c)
        {
            var cost = v.Shares * c;
            var pages = cost <= v.WorkingSetPages ? cost : v.WorkingSetPages + ((cost - v.WorkingSetPages) / k);
            return Math.Clamp(pages, v.MinPages, v.MaxPages);
        }

        double low = 0;
        var high = vms.Max(v => k * v.MaxPages / v.Shares);
        for (var i = 0; i < 200; i++)
        {
            var mid = (low + high) / 2;
            if (vms.Sum(v => Held(v, mid)) < availablePages)
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        return [.. vms.Select(v => Held(v, (low + high) / 2))];
    }

    /// <summary>The policy alone, over the fake ports: every guest uses all its memory and keeps touching its working set; balloons reclaim.</summary>
    private static int[] PolicyTargets(ModelVm[] vms, double tau, int seconds)
    {
        var options = PolicyScenarioSuite.Options(tau) with { Sampling = new SamplingOptions { PeriodSeconds = 1, SamplePages = 4096, SlowGain = 0.2, FastGain = 0.6 } };
        using var host = new FakePolicyScenarioHost(MachinePages, vms.Sum(v => v.MaxPages), options);
        var ids = new List<VmId>();
        for (var i = 0; i < vms.Length; i++)
        {
            var v = vms[i];
            ids.Add(host.PowerOn(new VmConfig { Name = $"vm{i}", MaxPages = v.MaxPages, MinPages = v.MinPages, OverheadPages = 0, Shares = Shares.Of(v.Shares) }, balloonDriver: true));
        }

        for (var i = 0; i < vms.Length; i++)
        {
            host.SetWorkload(ids[i], vms[i].MaxPages, vms[i].WorkingSetPages);
        }

        for (var t = 0; t < seconds * 10; t++)
        {
            host.Step();
        }

        host.Policy.Rebalance();
        return [.. ids.Select(id => host.Policy.PolicyOf(id).TargetPages)];
    }

    [Fact]
    public void The_policys_steady_state_targets_are_the_analytic_model_of_min_funding_revocation_with_the_idle_tax()
    {
        var available = new AllocationOptions().PagesAvailableToVms(MachinePages, 0);
        GenConfiguration.Sample(c =>
        {
            var model = AnalyticTargets(c.Vms, c.Tau, available);
            var policy = PolicyTargets(c.Vms, c.Tau, seconds: 90);
            var tolerance = 2 * c.Vms.Length;
            for (var i = 0; i < c.Vms.Length; i++)
            {
                Assert.True(
                    Math.Abs(policy[i] - model[i]) <= tolerance,
                    $"tau {c.Tau}, VM {i} of [{string.Join("; ", c.Vms)}]: policy {policy[i]} pages, model {model[i]:F1} (all: policy [{string.Join(", ", policy)}], model [{string.Join(", ", model.Select(m => m.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))}])");
            }
        }, iter: 150);
    }

    [Fact]
    public void The_analytic_model_reproduces_the_papers_two_vm_cases()
    {
        // Equal shares, 1000 pages each, 1200 available: tau = 0 splits equally whatever the activity;
        // with tau = 0.75 (k = 4) an idle VM and one active on 800 pages settle where 4 P1 = 800 + 4 (P2 - 800),
        // P1 + P2 = 1200: P1 = 300, P2 = 900.
        ModelVm[] vms = [new(1000, 0, 1000, 0), new(1000, 0, 1000, 800)];
        Assert.Equal([600, 600], AnalyticTargets(vms, 0, 1200).Select(p => Math.Round(p, 6)));
        Assert.Equal([300, 900], AnalyticTargets(vms, 0.75, 1200).Select(p => Math.Round(p, 6)));

        // min and max bind: the idle VM keeps its min 400, the active one gets the rest.
        ModelVm[] bound = [new(1000, 400, 1000, 0), new(1000, 0, 1000, 800)];
        Assert.Equal([400, 800], AnalyticTargets(bound, 0.75, 1200).Select(p => Math.Round(p, 6)));
    }
}
