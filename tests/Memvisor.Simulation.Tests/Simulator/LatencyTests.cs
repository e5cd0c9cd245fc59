using Memvisor.Reporting;
using Memvisor.Scenarios;
using Memvisor.Simulation;

namespace Memvisor.Simulation.Tests.Simulator;

/// <summary>A scenario's latencies reach the simulated guests: what a disk read costs sets a file server's throughput.</summary>
public class LatencyTests
{
    // One Linux VM of 32 MB serving a 96 MB file set: most reads miss its page cache and go to its disk.
    private const string FileServer = """
        { "name": "disk", "seed": 3, "durationSeconds": 20,
          "host": { "memoryMB": 256, "swapMB": 256 },
          "vms": [ { "name": "fs", "memoryMB": 32, "workload": { "kind": "fileserver", "fileSetMB": 96, "clients": 4 } } ] }
        """;

    [Fact]
    public void A_faster_guest_disk_in_the_scenario_raises_a_disk_bound_file_servers_throughput()
    {
        var slow = MeanThroughput(ScenarioReader.Parse(FileServer));
        var fast = MeanThroughput(ScenarioReader.Parse(FileServer.Replace("\"durationSeconds\": 20,", "\"durationSeconds\": 20, \"latencies\": { \"guestDiskReadMicroseconds\": 600, \"guestDiskTransferMicroseconds\": 10, \"guestDiskWriteMicroseconds\": 100 },", StringComparison.Ordinal)));

        // A disk ten times faster (reads 6 ms and 0.1 ms per page read ahead, writes 1 ms by default; 0.6 ms, 10 us
        // and 0.1 ms here): a disk-bound server must run several times faster.
        Assert.True(fast > 3 * slow, $"throughput {slow:0.#}/s with the default disk, {fast:0.#}/s with one ten times faster");
    }

    private static double MeanThroughput(Scenario scenario)
    {
        using var host = new SimulatedHost(scenario);
        var result = host.Run(null, TestContext.Current.CancellationToken);
        Assert.Equal(0, RunSummary.From(result.Record).Vms[0].DataMismatches);
        return RunSummary.From(result.Record).Vms[0].MeanThroughput;
    }
}
