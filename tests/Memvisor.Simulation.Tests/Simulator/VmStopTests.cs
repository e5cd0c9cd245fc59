/*
 * A host that cannot serve a VM stops that VM, and the run goes on: a swap device that returns corrupt
 * data (the swapped VM's page cannot be read back intact) or one that fails every write (a fault finds
 * no machine page and none can be reclaimed). The VM is stopped through the power-off path, the run
 * records when and why (a note, the summary's per-VM "stopped"), and the other VM runs to the end with
 * its data intact. A scenario the simulator cannot run is refused whole before anything runs.
 */
using Memvisor.Core.Ports;
using Memvisor.Reporting;
using Memvisor.Scenarios;
using Memvisor.Testing.Fakes;

namespace Memvisor.Simulation.Tests.Simulator;

public class VmStopTests
{
    // "victim" can be swapped (min 0, no balloon driver) and needs more than the host has; "safe" is
    // guaranteed all of its memory (min = max: never swapped) and powers on first. No sharing (a victim
    // shared instead of written would free memory without the device) and a low threshold of 0.01 % (the
    // policy blocks the victim only at the last pages), so a device that fails writes exhausts memory.
    private const string TwoVms = """
        {
          "name": "stop",
          "seed": 3,
          "durationSeconds": 20,
          "sampleIntervalSeconds": 1,
          "host": { "memoryMB": 64, "swapMB": 256, "balancePeriodSeconds": 2, "lowPercent": 0.01, "sharing": false },
          "vms": [
            { "name": "safe", "memoryMB": 16, "minMB": 16, "overheadMB": 1, "balloonDriver": "absent",
              "workload": { "kind": "toucher", "workingSetMB": 12 } },
            { "name": "victim", "memoryMB": 96, "overheadMB": 1, "balloonDriver": "absent", "powerOnSeconds": 2,
              "workload": { "kind": "toucher", "workingSetMB": 80, "distribution": "uniform" } }
          ]
        }
        """;

    private static (SimulationResult Result, RunSummary Summary) Run(Action<InMemorySwapDevice> arm)
    {
        var scenario = ScenarioReader.Parse(TwoVms, "test scenario");
        using var host = new SimulatedHost(scenario, new SimulationOptions
        {
            SwapDevice = inner =>
            {
                // The fault is the in-memory device's; the simulator's swap file is not needed.
                inner.Dispose();
                var device = new InMemorySwapDevice("faulty swap");
                arm(device);
                return device;
            },
        });
        var result = host.Run(null, TestContext.Current.CancellationToken);
        return (result, RunSummary.From(result.Record));
    }

    private static void AssertOnlyTheVictimStopped(SimulationResult result, RunSummary summary, VmStopCause cause)
    {
        var stop = Assert.Single(result.Record.Stops);
        Assert.Equal("victim", stop.Vm);
        Assert.Equal(cause, stop.Cause);
        Assert.Contains(result.Notes, n => n.Contains("'victim' was stopped", StringComparison.Ordinal));
        Assert.Equal(stop, summary.Vms.Single(v => v.Name == "victim").Stopped);
        Assert.Null(summary.Vms.Single(v => v.Name == "safe").Stopped);
        Assert.False(result.Samples[^1].Vms.Single(v => v.Name == "victim").PoweredOn);

        // The run completed: every sample was taken, the other VM ran to the end with its data intact.
        Assert.Equal(20, result.Samples.Count);
        Assert.All(result.Samples, s => Assert.True(s.Vms.Single(v => v.Name == "safe").PoweredOn));
        Assert.All(summary.Vms, v => Assert.Equal(0, v.DataMismatches));
        Assert.True(summary.Vms.Single(v => v.Name == "safe").MeanThroughput > 0);
        Assert.Contains(ReportTables.Summary(summary), t => t.Id == "vm-stops" && t.Rows.Single()[0] == "victim");
        Assert.Contains("\"stopped\"", RunOutputs.SummaryJson(result.Record.Scenario, summary), StringComparison.Ordinal);
    }

    [Fact]
    public void A_swap_device_returning_corrupt_data_stops_the_swapped_vm_and_the_other_runs_on()
    {
        var (result, summary) = Run(device => device.CorruptReads = true);

        AssertOnlyTheVictimStopped(result, summary, VmStopCause.SwapReadFailed);
        Assert.True(result.Record.HostStats.Counters.SwapChecksumFailures > 0);
    }

    [Fact]
    public void A_swap_device_that_fails_every_write_exhausts_memory_stops_that_vm_and_the_other_runs_on()
    {
        var (result, summary) = Run(device => device.FailWrites = true);

        AssertOnlyTheVictimStopped(result, summary, VmStopCause.MachineMemoryExhausted);
        Assert.True(result.Record.HostStats.Counters.SwapWriteErrors > 0);
    }

    [Fact]
    public void A_run_without_faults_stops_no_vm_and_writes_no_stopped_field()
    {
        var (result, summary) = Run(_ => { });

        Assert.Empty(result.Record.Stops);
        Assert.DoesNotContain("\"stopped\"", RunOutputs.SummaryJson(result.Record.Scenario, summary), StringComparison.Ordinal);
        Assert.DoesNotContain(ReportTables.Summary(summary), t => t.Id == "vm-stops");
    }

    [Fact]
    public void A_scenario_core_would_refuse_is_refused_whole_before_anything_runs()
    {
        var scenario = ScenarioReader.Parse(TwoVms, "test scenario");
        scenario = scenario with { Vms = [.. scenario.Vms.Select(v => v with { MinMB = v.MemoryMB * 2 })] };

        var e = Assert.Throws<ScenarioException>(() => new SimulatedHost(scenario));
        Assert.Equal(2, e.Errors.Count);
        Assert.StartsWith("vms[0] ('safe')", e.Errors[0], StringComparison.Ordinal);
        Assert.StartsWith("vms[1] ('victim')", e.Errors[1], StringComparison.Ordinal);
    }
}
