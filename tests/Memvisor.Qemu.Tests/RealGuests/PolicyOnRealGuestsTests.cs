/*
 * Core's policy driving real guests through the QEMU substrate (QemuHostRun): two 256 MiB guests on
 * a budget they overflow, one touching its 96 MiB, one holding 96 MiB it never touches, and a third
 * that admission control refuses. At idle tax 0 the two get the same target; when the tax rises to
 * 0.75 the idle guest's target falls and the active one's rises, the balloons follow over QMP, and
 * the idle guest gives up more memory than the active one. Nothing crashes; no QEMU is left.
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Host;
using Memvisor.Core.Sampling;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Substrate;

namespace Memvisor.Qemu.Tests.RealGuests;

[Collection(RealGuestGroup.Name)]
public sealed class PolicyOnRealGuestsTests
{
    private const int PagesPerMiB = 256;

    [Fact]
    public async Task Raising_the_idle_tax_moves_memory_from_the_idle_guest_to_the_active_one()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;
        var image = await RealGuestRequirements.ImageAsync();
        var options = new QemuRunOptions
        {
            BudgetPages = 460 * PagesPerMiB, // QEMU's own ~90 MiB per guest is now charged (host run's overhead rule): 420 left the host in low with nothing above target
            SwapCapacityPages = 2 * 256 * PagesPerMiB,
            Tick = TimeSpan.FromMilliseconds(500),
            Duration = TimeSpan.FromSeconds(30),
            Policy = new HostPolicyOptions
            {
                Allocation = new AllocationOptions { Tau = 0, BalancePeriodSeconds = 2 },
                Sampling = new SamplingOptions { PeriodSeconds = 2, InitialActiveFraction = 0 },
                IdleTaxChanges = [new IdleTaxChange(AtSeconds: 14, Tau: 0.75)],
            },
        };
        QemuRunGuest[] guests =
        [
            Guest("active", image, 64, ["mode=toucher", "alloc_mib=96", "phases=96:0", "fill=unique"]),
            Guest("idle", image, 64, ["mode=idle", "alloc_mib=96", "fill=unique"]),
            Guest("greedy", image, 250, ["mode=idle"]),
        ];

        var result = await QemuHostRun.RunAsync(options, guests, new Progress<QemuRunRow>(_ => { }), ct);

        foreach (var row in result.Rows.Where((_, i) => i % 4 == 3))
        {
            output.WriteLine($"t={row.Time.TotalSeconds:0}s tau {row.Tau} {row.State} free {row.FreePages / PagesPerMiB} MiB | " + string.Join(" | ", row.Vms.Select(Describe)));
        }

        output.WriteLine("refused: " + string.Join("; ", result.Refused));
        output.WriteLine("faults: " + string.Join("; ", result.Faults));
        var atTauZero = result.Rows.Last(r => r.Tau == 0);
        var last = result.Rows[^1];
        Assert.Single(result.Refused);
        Assert.StartsWith("greedy:", result.Refused[0], StringComparison.Ordinal);
        Assert.Equal(["active", "idle"], last.Vms.Select(v => v.Name));
        var (active0, idle0) = (atTauZero.Vms[0].Policy.TargetPages, atTauZero.Vms[1].Policy.TargetPages);
        var (active, idle) = (last.Vms[0], last.Vms[1]);
        output.WriteLine($"targets at tau 0: active {active0 / PagesPerMiB} MiB, idle {idle0 / PagesPerMiB} MiB; at 0.75: active {active.Policy.TargetPages / PagesPerMiB} MiB, idle {idle.Policy.TargetPages / PagesPerMiB} MiB");
        Assert.InRange(active0 - idle0, -8 * PagesPerMiB, 8 * PagesPerMiB);

        // Judged over the taxed window after its first balance period, not at one instant: the active guest's
        // measured fraction follows its agent's pace, which a TCG guest sharing 2 cores with other test
        // projects cannot always keep (CI saw f 0.25-0.45 and the target at 130-140 MiB from tick to tick).
        // At tau 0 the targets are equal whatever the fractions, so every MiB they move apart is the tax's.
        var taxed = result.Rows.Where(r => r.Tau > 0 && r.Time.TotalSeconds >= 16).ToList();
        double Mean(int vm, Func<QemuRunVmRow, double> figure) => taxed.Average(r => figure(r.Vms[vm]));
        var (activeTarget, idleTarget) = (Mean(0, v => v.Policy.TargetPages), Mean(1, v => v.Policy.TargetPages));
        var (activeHeld, idleHeld) = (Mean(0, v => v.Policy.ConsumedPages), Mean(1, v => v.Policy.ConsumedPages));
        output.WriteLine($"taxed window ({taxed.Count} rows): targets active {activeTarget / PagesPerMiB:0.0}, idle {idleTarget / PagesPerMiB:0.0} MiB; held {activeHeld / PagesPerMiB:0.0} / {idleHeld / PagesPerMiB:0.0} MiB; f {Mean(0, v => v.Policy.ActiveFraction):0.00} / {Mean(1, v => v.Policy.ActiveFraction):0.00}");
        Assert.True(activeTarget > active0 + (8 * PagesPerMiB), "the active guest's target rises with the tax");
        Assert.True(idleTarget < idle0 - (8 * PagesPerMiB), "the idle guest's target falls with the tax");
        Assert.True(Mean(0, v => v.Policy.ActiveFraction) > Mean(1, v => v.Policy.ActiveFraction) + 0.2);
        Assert.True(activeHeld > idleHeld + (16 * PagesPerMiB), "the active guest holds more memory than the idle one");
        Assert.All(last.Vms, v => Assert.True(v.Figures.Alive, $"{v.Name} died"));
        Assert.All(last.Vms, v => Assert.True(v.Agent!.Seconds > 20, $"{v.Name}'s agent stopped reporting"));
        Assert.Empty(GuestProcesses.Pids);
    }

    private static string Describe(QemuRunVmRow vm) =>
        $"{vm.Name}: f {vm.Policy.ActiveFraction:0.00} target {vm.Policy.TargetPages / PagesPerMiB} consumed {vm.Policy.ConsumedPages / PagesPerMiB:0} "
        + $"ovhd {vm.Figures.OverheadPages / PagesPerMiB} balloon {vm.Figures.BalloonPages / PagesPerMiB}/{vm.Figures.BalloonTargetPages / PagesPerMiB} MiB {vm.Figures.BalloonProgress}";

    private static QemuRunGuest Guest(string name, GuestImage image, int minMiB, string[] agent) => new(
        new QemuGuestOptions
        {
            Name = name,
            MemoryMiB = 256,
            Image = image,
            GuestSwapMiB = 256,
            Agent = agent.Select(a => a.Split('=')).ToDictionary(a => a[0], a => a[1]),
        },
        new VmConfig { Name = name, MaxPages = 256 * PagesPerMiB, MinPages = minMiB * PagesPerMiB, OverheadPages = ScenarioGuests.QemuOverheadMiB * PagesPerMiB },
        BalloonFloorMiB: 64);
}
