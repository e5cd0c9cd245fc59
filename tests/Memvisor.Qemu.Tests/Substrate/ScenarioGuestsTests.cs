/*
 * A scenario as real guests, without booting any: the budget is checked against the machine, sizes a
 * QEMU guest cannot have are refused in one line each, QEMU's own memory is charged as the overhead
 * when the scenario gives none, the balloon floor keeps min and the balloon limit, workloads become
 * the agent's settings (phases as SET:SECONDS), and what real guests cannot honour is named.
 */
using Memvisor.Core.Allocation;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Substrate;
using Memvisor.Scenarios;

namespace Memvisor.Qemu.Tests.Substrate;

public sealed class ScenarioGuestsTests : IDisposable
{
    // Each test's own image folder, deleted after it (a static one was left in the temp folder by every run).
    private readonly GuestImage _image = FakeImage();

    public void Dispose() => Directory.Delete(_image.Folder, recursive: true);

    [Fact]
    public void The_built_in_scenario_maps_whole_with_QEMU_overhead_charged_and_nothing_unhonoured()
    {
        var guests = ScenarioGuests.Of(BuiltInRun.Scenario, _image, availableMiB: 100_000);

        Assert.Empty(guests.Unhonoured);
        Assert.Equal(704 * 256, guests.Options.BudgetPages);
        Assert.Equal(["web", "batch", "idle"], guests.Guests.Select(g => g.Options.Name));
        Assert.All(guests.Guests, g => Assert.Equal(ScenarioGuests.QemuOverheadMiB * 256, g.Config.EffectiveOverheadPages));
        Assert.All(guests.Guests, g => Assert.Equal(192, g.Options.GuestSwapMiB));
        var batch = guests.Guests[1].Options.Agent;
        Assert.Equal("toucher", batch["mode"]);
        Assert.Equal("32:60,128:0", batch["phases"]);
        Assert.Equal("128", batch["alloc_mib"]);
        Assert.Equal("idle", guests.Guests[2].Options.Agent["mode"]);
        Assert.Equal("128", guests.Guests[2].Options.Agent["alloc_mib"]);
        Assert.NotEqual(guests.Guests[0].Options.Agent["seed"], guests.Guests[1].Options.Agent["seed"]);
    }

    [Fact]
    public void A_budget_the_machine_does_not_have_and_a_fractional_memory_size_are_refused_before_anything_runs()
    {
        var scenario = BuiltInRun.Scenario with
        {
            Vms = [.. BuiltInRun.Scenario.Vms.Take(2), BuiltInRun.Scenario.Vms[2] with { MemoryMB = 100.5 }],
        };

        var e = Assert.Throws<ScenarioException>(() => ScenarioGuests.Of(scenario, _image, availableMiB: 500));

        Assert.Contains(e.Errors, l => l.StartsWith("host.memoryMB: 704 MiB is more than this machine has available (500 MiB)", StringComparison.Ordinal));
        Assert.Contains(e.Errors, l => l.StartsWith("vms[2] ('idle').memoryMB: 100.5", StringComparison.Ordinal));
    }

    [Fact]
    public void The_balloon_floor_keeps_the_min_and_the_balloon_limit()
    {
        var spec = new VmSpec { Name = "vm", MemoryMB = 512, MinMB = 100 };

        Assert.Equal(180, ScenarioGuests.Guest(spec, _image, balloonMaxPercent: 65).BalloonFloorMiB);
        Assert.Equal(100, ScenarioGuests.Guest(spec, _image, balloonMaxPercent: 90).BalloonFloorMiB);
        Assert.Equal(412, ScenarioGuests.Guest(spec with { BalloonMaxMB = 100 }, _image, balloonMaxPercent: 90).BalloonFloorMiB);
        Assert.Equal(64, ScenarioGuests.Guest(spec with { MinMB = 0 }, _image, balloonMaxPercent: 100).BalloonFloorMiB);
    }

    [Fact]
    public void What_real_guests_cannot_honour_is_named_with_the_VMs_it_concerns()
    {
        var scenario = new Scenario
        {
            Vms =
            [
                new VmSpec { Name = "win", MemoryMB = 256, Guest = GuestFlavour.Windows },
                new VmSpec { Name = "net", MemoryMB = 256, Workload = new WorkloadSpec { Kind = WorkloadKind.Network } },
                new VmSpec { Name = "zipf", MemoryMB = 256, Workload = new WorkloadSpec { Kind = WorkloadKind.Toucher, Distribution = AccessPattern.Zipf } },
                new VmSpec { Name = "late", MemoryMB = 256, PowerOnSeconds = 30 },
                new VmSpec { Name = "fine", MemoryMB = 256 },
            ],
        };

        var said = ScenarioGuests.UnhonouredFeatures(scenario);

        Assert.Equal(
            [
                "Windows guests: they run Linux (win)",
                "network workloads: they run idle (net)",
                "Zipf access: uniform (zipf)",
                "power-on and power-off times: every guest boots at the start and runs to the end (late)",
            ],
            said);
        Assert.DoesNotContain(said, s => s.Contains("fine", StringComparison.Ordinal));
    }

    [Fact]
    public void Guests_of_one_image_share_a_seed_and_a_zeroing_workload_writes_zero_pages()
    {
        var a = ScenarioGuests.AgentSettings(new VmSpec { Name = "a", MemoryMB = 256, Image = "debian" });
        var b = ScenarioGuests.AgentSettings(new VmSpec { Name = "b", MemoryMB = 256, Image = "debian" });
        var zero = ScenarioGuests.AgentSettings(new VmSpec { Name = "z", MemoryMB = 256, Workload = new WorkloadSpec { Kind = WorkloadKind.Zeroing, WorkingSetMB = 32 } });

        Assert.Equal(a["seed"], b["seed"]);
        Assert.Equal("zero", zero["fill"]);
        Assert.Equal("write", zero["touch"]);
        Assert.Equal("32:0", zero["phases"]);
    }

    private static GuestImage FakeImage()
    {
        var folder = Directory.CreateTempSubdirectory("memvisor-fake-image-").FullName;
        File.WriteAllText(Path.Combine(folder, "vmlinuz"), "");
        File.WriteAllText(Path.Combine(folder, "initrd.gz"), "");
        return new GuestImage(folder, Path.Combine(folder, "vmlinuz"), Path.Combine(folder, "initrd.gz"), "test", "0000", Reused: true);
    }
}
