using Memvisor.Scenarios;
using Memvisor.Simulation;

namespace Memvisor.Simulation.Tests.Simulator;

/// <summary>Where a new VM's active estimate starts is the scenario's choice (host.samplingInitialActivePercent).</summary>
public class SamplingStartTests
{
    // One idle Linux VM of 64 MB; sampling periods of 30 s, so the first samples come before any period ends.
    private const string Idle = """
        { "name": "start", "seed": 5, "durationSeconds": 5,
          "host": { "memoryMB": 256, "swapMB": 256 SAMPLING },
          "vms": [ { "name": "idle", "memoryMB": 64, "workload": { "kind": "idle" } } ] }
        """;

    [Theory]
    [InlineData("", 64.0)]
    [InlineData(", \"samplingInitialActivePercent\": 25", 16.0)]
    public void Before_the_first_period_ends_the_estimate_is_the_scenarios_starting_percentage(string field, double expectedMB)
    {
        // Default 100% of 64 MB = 64 MB; 25% = 16 MB: no period has ended by 5 s, and the idle guest's few
        // kernel touches (the current period's partial count) stay below either.
        Assert.All(Run(field), s => Assert.Equal(expectedMB, s.Vms[0].ActiveEstimateMB, 6));
    }

    [Fact]
    public void Starting_at_zero_shows_only_what_sampling_has_measured()
    {
        // Only the partial count of sampled pages the idle guest's kernel touched: a few percent of 64 MB.
        Assert.All(Run(", \"samplingInitialActivePercent\": 0"), s => Assert.InRange(s.Vms[0].ActiveEstimateMB, 0, 6.4));
    }

    private static IReadOnlyList<HostSample> Run(string field)
    {
        var scenario = ScenarioReader.Parse(Idle.Replace(" SAMPLING", field, StringComparison.Ordinal));
        using var host = new SimulatedHost(scenario);
        return host.Run(null, TestContext.Current.CancellationToken).Samples;
    }
}
