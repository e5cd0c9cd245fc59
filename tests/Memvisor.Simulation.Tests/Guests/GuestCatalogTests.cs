using Memvisor.Scenarios;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Scenarios;
using Memvisor.Simulation.Workloads;

namespace Memvisor.Simulation.Tests.Guests;

public sealed class GuestCatalogTests
{
    [Fact]
    public void The_default_scenario_maps_to_guests_and_workloads_with_sizes_in_pages()
    {
        var scenario = BuiltInScenarios.Default;
        var workloads = scenario.Vms.Select(vm => GuestCatalog.Workload(vm.Workload)).ToList();
        Assert.Equal(scenario.Vms.Select(vm => ScenarioNames.Of(vm.Workload.Kind)), workloads.Select(w => w.Name));

        // db: a Zipf(0.8) toucher of 160 MB = 160 * 256 = 40,960 pages, growing to 240 MB (61,440) at 120 s and shrinking to 80 MB (20,480) at 220 s.
        var db = scenario.Vms.Single(vm => vm.Name == "db");
        var toucher = Assert.IsType<ToucherWorkload>(GuestCatalog.Workload(db.Workload));
        Assert.Equal(40_960, toucher.Options.WorkingSetPages);
        Assert.Equal(AccessPattern.Zipf, toucher.Options.Pattern);
        Assert.Equal(0.8, toucher.Options.ZipfExponent);
        Assert.Equal([new ToucherPhase(120, 61_440), new ToucherPhase(220, 20_480)], toucher.Options.Phases);

        var options = GuestCatalog.Options(db, scenario.Seed, 1);
        Assert.Equal(GuestFlavour.Windows, options.Flavour);
        Assert.Equal("win2k", options.ImageOrDefault.Name);
        Assert.NotEqual(GuestCatalog.Options(db, scenario.Seed, 2).Seed, options.Seed);

        var idle = scenario.Vms.Single(vm => vm.Name == "idle");
        Assert.Null(GuestCatalog.BalloonDriver(idle));
        Assert.True(GuestCatalog.BalloonDriver(db)!.Enabled);
    }
}
