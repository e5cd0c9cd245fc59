/*
 * Core's policy driving real guests through the QEMU substrate's ports: two 256 MiB guests on a
 * budget they overflow, one touching its 96 MiB, one holding 96 MiB it never touches. At idle tax 0
 * the two get about the same target; raised to 0.75, the idle guest's target falls and the active
 * one's rises, the balloons follow over QMP, and the idle guest gives up more memory than the active
 * one. Nothing crashes; no QEMU is left.
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Host;
using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Substrate;

namespace Memvisor.Qemu.Tests.RealGuests;

[Collection(RealGuestGroup.Name)]
public sealed class PolicyOnRealGuestsTests
{
    private const int PagesPerMiB = 256;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan BootWait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Raising_the_idle_tax_moves_memory_from_the_idle_guest_to_the_active_one()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;
        var image = await RealGuestRequirements.ImageAsync();
        var guests = new List<QemuGuest>();
        try
        {
            guests.Add(await QemuGuest.StartAsync(Options("active", image, ["mode=toucher", "alloc_mib=96", "phases=96:0", "fill=unique"]), ct));
            guests.Add(await QemuGuest.StartAsync(Options("idle", image, ["mode=idle", "alloc_mib=96", "fill=unique"]), ct));
            foreach (var guest in guests)
            {
                var running = await guest.WaitForReportAsync(r => r.State == AgentState.Running, BootWait, ct);
                Assert.True(running is not null, $"{guest.Options.Name}: {guest.DiagnosticTail()}");
                await guest.Qmp.SetGuestStatsPollingIntervalAsync(1, cancellationToken: ct);
            }

            var host = new QemuHostMemory(budgetPages: 420 * PagesPerMiB, swapCapacityPages: 2 * 256 * PagesPerMiB, ksm: null, balloonStallTime: TimeSpan.FromSeconds(3));
            var policy = new HostMemoryPolicy(
                new HostPolicyOptions
                {
                    Allocation = new AllocationOptions { Tau = 0, BalancePeriodSeconds = 2 },
                    Sampling = new SamplingOptions { PeriodSeconds = 2, InitialActiveFraction = 0 },
                },
                host,
                host);
            var ids = new[] { new VmId(1), new VmId(2) };
            (int Active, int Idle) atTauZero = default;
            await host.RefreshAsync(TimeSpan.Zero, ct);
            output.WriteLine($"before: free {host.FreePages / PagesPerMiB} MiB of {host.MachinePages / PagesPerMiB}");
            for (var i = 0; i < guests.Count; i++)
            {
                var config = new VmConfig { Name = guests[i].Options.Name, MaxPages = 256 * PagesPerMiB, MinPages = 64 * PagesPerMiB };
                policy.Admit(config);
                host.Add(ids[i], guests[i], floorMiB: 64);
                policy.Add(ids[i], config);
            }

            for (var tick = 0; tick < 60; tick++)
            {
                if (tick == 28)
                {
                    policy.SetIdleTax(0.75);
                }

                await Task.Delay(Tick, ct);
                await host.RefreshAsync(Tick, ct);
                policy.Advance(Tick);
                await host.FlushAsync(ct);
                if (tick % 4 == 3)
                {
                    output.WriteLine($"t={(tick + 1) * Tick.TotalSeconds:0}s tau {policy.IdleTax} state {policy.States.State} free {host.FreePages / PagesPerMiB} MiB | "
                        + string.Join(" | ", ids.Select(id => Describe(policy, host, id))));
                }

                if (tick == 27)
                {
                    atTauZero = (policy.PolicyOf(ids[0]).TargetPages, policy.PolicyOf(ids[1]).TargetPages);
                }
            }

            var active = policy.PolicyOf(ids[0]);
            var idle = policy.PolicyOf(ids[1]);
            var activeFigures = host.FiguresOf(ids[0]);
            var idleFigures = host.FiguresOf(ids[1]);
            output.WriteLine(string.Join("\n", host.Faults));
            Assert.True(active.ActiveFraction > idle.ActiveFraction + 0.3, $"estimates: active {active.ActiveFraction:0.00}, idle {idle.ActiveFraction:0.00}");
            output.WriteLine($"targets at tau 0: active {atTauZero.Active / PagesPerMiB} MiB, idle {atTauZero.Idle / PagesPerMiB} MiB; at tau 0.75: active {active.TargetPages / PagesPerMiB} MiB, idle {idle.TargetPages / PagesPerMiB} MiB");
            Assert.InRange(atTauZero.Active - atTauZero.Idle, -8 * PagesPerMiB, 8 * PagesPerMiB);
            Assert.True(active.TargetPages > atTauZero.Active + (16 * PagesPerMiB), "the active guest's target rises with the tax");
            Assert.True(idle.TargetPages < atTauZero.Idle - (16 * PagesPerMiB), "the idle guest's target falls with the tax");
            Assert.True(idleFigures.BalloonPages > activeFigures.BalloonPages + (16 * PagesPerMiB), $"balloons: active {activeFigures.BalloonPages / PagesPerMiB} MiB, idle {idleFigures.BalloonPages / PagesPerMiB} MiB");
            Assert.All(guests, g => Assert.False(g.HasExited, $"{g.Options.Name} died: {g.DiagnosticTail()}"));
            Assert.All(guests, g => Assert.True(g.LatestReport!.Seconds > 20, $"{g.Options.Name}'s agent stopped reporting"));
        }
        finally
        {
            foreach (var guest in guests)
            {
                await guest.DisposeAsync();
            }
        }

        Assert.All(guests, g => Assert.True(g.HasExited));
    }

    private static string Describe(HostMemoryPolicy policy, QemuHostMemory host, VmId id)
    {
        var p = policy.PolicyOf(id);
        var f = host.FiguresOf(id);
        return $"{id}: f {p.ActiveFraction:0.00} target {p.TargetPages / PagesPerMiB} consumed {p.ConsumedPages / PagesPerMiB:0} ovhd {f.OverheadPages / PagesPerMiB} balloon {f.BalloonPages / PagesPerMiB}/{f.BalloonTargetPages / PagesPerMiB} MiB {f.BalloonProgress}";
    }

    private static QemuGuestOptions Options(string name, GuestImage image, string[] agent) => new()
    {
        Name = name,
        MemoryMiB = 256,
        Image = image,
        GuestSwapMiB = 256,
        Agent = agent.Select(a => a.Split('=')).ToDictionary(a => a[0], a => a[1]),
    };
}
