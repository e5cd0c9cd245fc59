/*
 * Issue 13's acceptance: the policy's steady-state targets against an independent analytic model of
 * min-funding revocation with the idle memory tax (Memvisor.Testing's AnalyticRevocationModel, written
 * from the paper's formula and nothing of Core's), over the policy alone (the fake ports).
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

    /// <summary>The policy alone, over the fake ports: every guest uses all its memory and keeps touching its working set; balloons reclaim.</summary>
    private static int[] PolicyTargets(ModelVm[] vms, double tau, int seconds)
    {
        var options = PolicyScenarioSuite.Options(tau) with { Sampling = new SamplingOptions { PeriodSeconds = 1, SamplePages = 4096, SlowGain = 0.2, FastGain = 0.6 } };
        using var host = new FakePolicyScenarioHost(MachinePages, (int)vms.Sum(v => v.MaxPages), options);
        var ids = new List<VmId>();
        for (var i = 0; i < vms.Length; i++)
        {
            var v = vms[i];
            ids.Add(host.PowerOn(new VmConfig { Name = $"vm{i}", MaxPages = (int)v.MaxPages, MinPages = (int)v.MinPages, OverheadPages = 0, Shares = Shares.Of(v.Shares) }, balloonDriver: true));
        }

        for (var i = 0; i < vms.Length; i++)
        {
            host.SetWorkload(ids[i], (int)vms[i].MaxPages, (int)vms[i].WorkingSetPages);
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
            var model = AnalyticRevocationModel.Targets(c.Vms, c.Tau, available);
            var policy = PolicyTargets(c.Vms, c.Tau, seconds: 90);
            var tolerance = 2 * c.Vms.Length;
            for (var i = 0; i < c.Vms.Length; i++)
            {
                Assert.True(
                    Math.Abs(policy[i] - model[i]) <= tolerance,
                    $"tau {c.Tau}, VM {i} of [{string.Join("; ", c.Vms)}]: policy {policy[i]} pages, model {model[i]:F1} (all: policy [{string.Join(", ", policy)}], model [{string.Join(", ", model.Select(m => m.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))}])");
            }
        }, iter: 600);
    }

    /// <summary>
    /// A counterexample the property above found against an earlier policy (kept so the case is checked on
    /// every run, not only when the generator happens to draw one): three VMs' working sets fill their whole
    /// memory and together exceed what the host has, so each is squeezed below its working set. A policy
    /// that counts a squeezed VM's active pages as f = 1 of what it holds (not of its estimate) reads every
    /// page beyond as idle, taxes it, and leaves it short of the model (1,075 pages against 1,114).
    /// </summary>
    [Fact]
    public void A_vm_squeezed_below_its_working_set_gets_the_models_target()
    {
        ModelVm[] vms =
        [
            new(2000, 289, 1116, 1116), new(2000, 543, 2045, 84), new(3000, 0, 1296, 826),
            new(500, 202, 1651, 1651), new(1500, 0, 1980, 1980),
        ];
        var model = AnalyticRevocationModel.Targets(vms, 0.75, new AllocationOptions().PagesAvailableToVms(MachinePages, 0));
        var policy = PolicyTargets(vms, 0.75, seconds: 90);
        for (var i = 0; i < vms.Length; i++)
        {
            Assert.True(Math.Abs(policy[i] - model[i]) <= 2 * vms.Length, $"VM {i}: policy {policy[i]} pages, model {model[i]:F1}");
        }
    }

    [Fact]
    public void The_analytic_model_reproduces_the_papers_two_vm_cases()
    {
        // Equal shares, 1000 pages each, 1200 available: tau = 0 splits equally whatever the activity;
        // with tau = 0.75 (k = 4) an idle VM and one active on 800 pages settle where 4 P1 = 800 + 4 (P2 - 800),
        // P1 + P2 = 1200: P1 = 300, P2 = 900.
        ModelVm[] vms = [new(1000, 0, 1000, 0), new(1000, 0, 1000, 800)];
        Assert.Equal([600, 600], AnalyticRevocationModel.Targets(vms, 0, 1200).Select(p => Math.Round(p, 6)));
        Assert.Equal([300, 900], AnalyticRevocationModel.Targets(vms, 0.75, 1200).Select(p => Math.Round(p, 6)));

        // min and max bind: the idle VM keeps its min 400, the active one gets the rest.
        ModelVm[] bound = [new(1000, 400, 1000, 0), new(1000, 0, 1000, 800)];
        Assert.Equal([400, 800], AnalyticRevocationModel.Targets(bound, 0.75, 1200).Select(p => Math.Round(p, 6)));
    }
}
