/*
 * What the scenario model means to the simulator: the built-in scenario, latencies against the
 * simulator's LatencyModel, tax changes reaching the policy, and a run's summary.json whose embedded
 * scenario runs again to the same samples. (The reader and writer alone: tests/Memvisor.Scenarios.Tests.)
 */
using System.Text.Json;
using Memvisor.Core.Allocation;
using Memvisor.Reporting;
using Memvisor.Scenarios;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Scenarios;
using Memvisor.Testing;

namespace Memvisor.Simulation.Tests.Scenarios;

public class ScenarioInSimulatorTests
{
    [Fact]
    public void The_built_in_default_scenario_is_valid_and_overcommits_by_more_than_half()
    {
        var s = BuiltInScenarios.Default;
        Assert.Equal(5, s.Vms.Count);
        Assert.True(s.Vms.Sum(v => v.MemoryMB) > 1.5 * s.Host.MemoryMB);
        Assert.Contains(s.Vms, v => v.Guest == GuestFlavour.Windows);
        Assert.Contains(s.Vms, v => v.Guest == GuestFlavour.Linux);
    }

    [Fact]
    public void Latencies_given_in_microseconds_replace_the_simulators_defaults_and_the_rest_stay()
    {
        var s = ScenarioReader.Parse("""{ "latencies": { "hostSwapInMicroseconds": 8000, "bounceCopyMicroseconds": 0.5 }, "vms": [ { "name": "a", "memoryMB": 64 } ] }""");
        var model = LatencyModel.From(s.Latencies);

        // 8000 us = 8,000,000 ns; 0.5 us = 500 ns; an unset latency keeps its default.
        Assert.Equal(8_000_000, model.HostSwapInNanoseconds);
        Assert.Equal(500, model.BounceCopyNanoseconds);
        Assert.Equal(LatencyModel.Default.GuestDiskReadNanoseconds, model.GuestDiskReadNanoseconds);
        Assert.Equal(LatencyModel.Default, LatencyModel.From(new LatencySpec()));
    }

    [Fact]
    public void The_schemas_latency_defaults_are_the_simulators_all_ten_of_them()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(RepositoryFiles.Path("docs/scenario.schema.json")));
        var latencies = schema.RootElement.GetProperty("properties").GetProperty("latencies").GetProperty("properties");
        var defaults = string.Join(", ", latencies.EnumerateObject().Select(p => $"\"{p.Name}\": {p.Value.GetProperty("default").GetRawText()}"));

        var s = ScenarioReader.Parse($$"""{ "latencies": { {{defaults}} }, "vms": [ { "name": "a", "memoryMB": 64 } ] }""");

        Assert.Equal(10, latencies.EnumerateObject().Count());
        Assert.Equal(LatencyModel.Default, LatencyModel.From(s.Latencies));
    }

    [Fact]
    public void Tax_changes_reach_the_simulated_policy()
    {
        var s = ScenarioReader.Parse("""
            { "host": { "idleTax": 0, "idleTaxChanges": [ { "atSeconds": 1200, "tau": 0.75 }, { "atSeconds": 1800, "tau": 0.5 } ] }, "vms": [ { "name": "a", "memoryMB": 64 } ] }
            """);
        Assert.Equal([new IdleTaxChange(1200, 0.75), new IdleTaxChange(1800, 0.5)], SimulatedHost.PolicyOptions(s.Host).IdleTaxChanges);
    }

    [Fact]
    public void The_scenario_in_summary_json_reads_back_equal_and_runs_again_to_the_same_samples()
    {
        var scenario = BuiltInScenarios.Default with { DurationSeconds = 20 };
        using var folder = new OutputFolder();
        var first = Run(scenario);
        RunOutputs.Write(folder.Path, scenario, first.Samples, RunSummary.From(first.Record), new ReportOptions { Charts = false });

        // As a user would: the "scenario" object of summary.json saved as a scenario file.
        using var summary = JsonDocument.Parse(File.ReadAllText(folder.Full(RunOutputs.SummaryJsonFile)));
        var file = folder.Full("again.json");
        File.WriteAllText(file, summary.RootElement.GetProperty("scenario").GetRawText());
        var again = ScenarioReader.ReadFile(file);

        Assert.Equivalent(scenario, again, strict: true);
        Assert.Equivalent(scenario, RunOutputs.ReadSummary(folder.Full(RunOutputs.SummaryJsonFile)).Scenario, strict: true);
        Assert.Equal(RunOutputs.TimeSeriesJson(scenario, first.Samples), RunOutputs.TimeSeriesJson(again, Run(again).Samples));
    }

    private static SimulationResult Run(Scenario scenario)
    {
        using var host = new SimulatedHost(scenario);
        return host.Run(null, TestContext.Current.CancellationToken);
    }
}
