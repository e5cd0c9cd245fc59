/*
 * The sharing scanner's CPU (hashing every page it scans, comparing pages whose hashes match) runs on the
 * CPUs the VMs run on: the simulator takes it from the VMs, so "sharing costs no throughput" is a claim
 * a run can refute. At ESX 2's 50 pages/s per VM it is negligible; scanning a VM's whole memory several
 * times a second is not.
 */
using Memvisor.Scenarios;

namespace Memvisor.Simulation.Tests.Simulator;

public class ScannerCpuTests
{
    private static (double Throughput, double ScannerSeconds) Run(double scanPagesPerSecond, LatencySpec? latencies = null)
    {
        var scenario = ScenarioReader.Parse($$"""
            { "durationSeconds": 10, "seed": 5,
              "host": { "memoryMB": 256, "swapMB": 256, "shareScanPerVmPagesPerSecond": {{scanPagesPerSecond}}, "shareScanHostPagesPerSecond": {{scanPagesPerSecond}} },
              "vms": [ { "name": "vm", "memoryMB": 64, "workload": { "kind": "compute", "workingSetMB": 16 } } ] }
            """);
        using var host = new SimulatedHost(latencies is null ? scenario : scenario with { Latencies = latencies });
        var samples = host.Run(null, TestContext.Current.CancellationToken).Samples;
        return (samples.Skip(5).Average(s => s.Vms[0].Throughput), host.ScannerNanoseconds / 1e9);
    }

    [Fact]
    public void A_very_high_share_scan_rate_costs_the_vm_throughput()
    {
        var (esx2, esx2Scanner) = Run(50);
        var (aggressive, aggressiveScanner) = Run(40_000);

        // At most 50 pages/s (only private pages are hashed) at 5 us each: at most 0.25 ms of CPU per second.
        Assert.InRange(esx2Scanner, 1e-4, 0.003);
        // Up to 40,000 pages/s at 5 us each: up to a fifth of the VM's CPU, plus comparisons.
        Assert.True(aggressiveScanner > 0.5, $"scanner CPU {aggressiveScanner} s");
        Assert.True(aggressive < esx2 * 0.85, $"{aggressive:0} accesses/s scanning 40,000 pages/s, {esx2:0} at 50 pages/s");
    }

    [Fact]
    public void A_scanner_that_costs_nothing_costs_no_throughput()
    {
        var free = new LatencySpec { ShareScanHashMicroseconds = 0, ShareCompareMicroseconds = 0 };
        var (aggressive, scanner) = Run(40_000, free);
        var (esx2, _) = Run(50, free);
        Assert.Equal(0, scanner);
        Assert.InRange(aggressive, esx2 * 0.97, esx2 * 1.03);
    }
}
