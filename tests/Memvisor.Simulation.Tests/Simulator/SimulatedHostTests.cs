/*
 * The simulated host end to end (`memvisor simulate`): a small overcommitted scenario (three VMs of
 * 64 + 64 + 48 MB on a 64 MB host, all of one image) in which pages are shared, a balloon inflates,
 * the host swaps, the guest swaps under its balloon, and a network card bounces DMA through 16 MB of
 * low memory until hot pages are remapped. Runs are short (20-30 simulated seconds).
 */
using Memvisor.Scenarios;
using Memvisor.Testing;
using Memvisor.Reporting;
using Memvisor.Simulation;

namespace Memvisor.Simulation.Tests.Simulator;

public class SimulatedHostTests
{
    private const string Overcommitted = """
        {
          "name": "no-loss",
          "seed": 7,
          "durationSeconds": 30,
          "sampleIntervalSeconds": 1,
          "host": { "memoryMB": 64, "swapMB": 512, "dmaBoundaryMB": 16, "balancePeriodSeconds": 5,
                    "samplingPeriodSeconds": 5, "samplingPages": 50,
                    "shareScanPerVmPagesPerSecond": 800, "shareScanHostPagesPerSecond": 2400, "ioRemapThresholdCopies": 4 },
          "vms": [
            { "name": "ballooned", "memoryMB": 64, "overheadMB": 2, "image": "img",
              "workload": { "kind": "toucher", "workingSetMB": 56 } },
            { "name": "swapped", "memoryMB": 64, "overheadMB": 2, "image": "img", "balloonDriver": "absent",
              "workload": { "kind": "toucher", "workingSetMB": 56, "distribution": "zipf" } },
            { "name": "net", "memoryMB": 48, "overheadMB": 2, "image": "img",
              "workload": { "kind": "network", "workingSetMB": 4 } }
          ]
        }
        """;

    private static Scenario Scenario(ulong? seed = null, double? duration = null)
    {
        var scenario = ScenarioReader.Parse(Overcommitted, "test scenario");
        return scenario with { Seed = seed ?? scenario.Seed, DurationSeconds = duration ?? scenario.DurationSeconds };
    }

    private static SimulationResult Run(Scenario scenario)
    {
        using var host = new SimulatedHost(scenario);
        return host.Run(null, TestContext.Current.CancellationToken);
    }

    private static void RunInto(Scenario scenario, OutputFolder folder)
    {
        var result = Run(scenario);
        RunOutputs.Write(folder.Path, scenario, result.Samples, RunSummary.From(result.Record));
    }

    [Fact]
    public void The_same_scenario_and_seed_write_byte_identical_outputs()
    {
        var scenario = Scenario(duration: 20);
        using var first = new OutputFolder();
        using var second = new OutputFolder();
        RunInto(scenario, first);
        RunInto(scenario, second);

        Assert.Equal(first.Files(), second.Files());
        Assert.Contains(RunOutputs.VmsCsvFile, first.Files());
        foreach (var file in first.Files())
        {
            Assert.True(File.ReadAllBytes(first.Full(file)).AsSpan().SequenceEqual(File.ReadAllBytes(second.Full(file))), $"{file} differs between two runs of one seed");
        }
    }

    [Fact]
    public void A_different_seed_gives_different_results()
    {
        var a = Run(Scenario(seed: 7, duration: 20));
        var b = Run(Scenario(seed: 8, duration: 20));

        Assert.Equal(a.Samples.Count, b.Samples.Count);
        Assert.NotEqual(TimeSeriesCsv.VmsCsv(a.Samples), TimeSeriesCsv.VmsCsv(b.Samples));
    }

    [Fact]
    public void No_data_is_lost_while_the_host_shares_balloons_swaps_and_remaps()
    {
        var scenario = Scenario();
        // CheckConsistencyAtEnd is on by default: Run throws if Core's invariants are broken at the end.
        using var host = new SimulatedHost(scenario, new SimulationOptions { CheckConsistencyAtEnd = true });
        var result = host.Run(null, TestContext.Current.CancellationToken);

        // 30 s at one sample per second: samples at 1, 2, ..., 30 s.
        Assert.Equal(30, result.Samples.Count);
        Assert.All(result.Samples[^1].Vms, vm => Assert.True(vm.PoweredOn, $"{vm.Name} ran to the end"));
        Assert.All(RunSummary.From(result.Record).Vms, vm => Assert.Equal(0, vm.DataMismatches));

        // Every mechanism the check is meant to cover did run.
        var vms = result.Samples.SelectMany(s => s.Vms).ToList();
        Assert.True(RunSummary.From(result.Record).Host.PeakSharedSavedMB > 0, "pages were shared (one image)");
        Assert.True(RunSummary.From(result.Record).Host.PeakBalloonMB > 0, "a balloon inflated");
        Assert.True(RunSummary.From(result.Record).Host.PeakSwapUsedMB > 0, "the host swapped");
        Assert.True(vms.Where(v => v.Name == "ballooned").Sum(v => v.GuestSwapPages) > 0, "the ballooned guest paged to its own swap");
        Assert.True(vms.Where(v => v.Name == "net").Sum(v => v.BounceCopies) > 0, "DMA bounced through low memory");
        Assert.True(vms.Where(v => v.Name == "net").Sum(v => v.IoRemaps) > 0, "hot I/O pages were remapped to low memory");
        Assert.True(vms.Sum(v => v.DoublePagingPages) > 0, "a guest paged out a page the host had swapped (double paging)");
        Assert.Empty(result.Notes);
    }

    [Fact]
    public void A_vm_admission_control_refuses_stays_off_and_is_named_in_the_notes()
    {
        // 16 MB of host memory, of which the host keeps its low threshold (1%, 0.16 MB) free; each VM is charged
        // 2 MB of overhead and guaranteed 5.5 MB: 7.5 + 7.5 fit, the third VM's 7.5 MB does not (0.84 MB unreserved).
        var scenario = Scenario(duration: 3) with
        {
            Host = Scenario().Host with { MemoryMB = 16, DmaBoundaryMB = 8 },
            Vms = [.. Scenario().Vms.Select(v => v with { MinMB = 5.5, MemoryMB = 32, Workload = new WorkloadSpec { Kind = WorkloadKind.Idle } })],
        };
        var result = Run(scenario);

        var refused = Assert.Single(result.Notes);
        Assert.Contains("'net'", refused, StringComparison.Ordinal);
        Assert.All(result.Samples, s => Assert.False(s.Vms.Single(v => v.Name == "net").PoweredOn));
        Assert.All(result.Samples, s => Assert.True(s.Vms.Single(v => v.Name == "ballooned").PoweredOn));
    }
}
