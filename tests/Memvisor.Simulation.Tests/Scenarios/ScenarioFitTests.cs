/*
 * Scenarios the simulator cannot run are refused before anything runs, one line per problem naming the
 * VM: a VM smaller than its guest's kernel, a workload larger than its guest can hold, share-scan rates
 * beyond a real scanner. Overhead that would fill the host is refused by admission control (the VM is
 * recorded as refused, with the reason) instead of being admitted and stopped at its first touch.
 */
using Memvisor.Scenarios;

namespace Memvisor.Simulation.Tests.Scenarios;

public class ScenarioFitTests
{
    private static Scenario Vm(string vmJson, string host = """{ "memoryMB": 256, "swapMB": 512 }""") =>
        ScenarioReader.Parse($$"""{ "name": "fit", "durationSeconds": 3, "host": {{host}}, "vms": [ {{vmJson}} ] }""");

    private static string Refusal(Scenario scenario) =>
        Assert.Single(Assert.Throws<ScenarioException>(() => SimulatedHost.Validate(scenario)).Errors);

    [Fact]
    public void A_vm_smaller_than_its_guest_kernel_is_refused_naming_the_vm_and_the_size_it_needs()
    {
        // Linux: 2048 kernel pages + 1.5% reserved; 4 MiB = 1024 pages holds none of it.
        var line = Refusal(Vm("""{ "name": "tiny", "memoryMB": 4 }"""));
        Assert.Equal("vms[0] ('tiny').memoryMB: 4 MiB (1024 pages) is smaller than its guest's kernel (linux image 'default' takes 2064 pages at boot); expected at least 8.13 MiB.", line);

        // The size it names is enough, and one page less is not.
        SimulatedHost.Validate(Vm("""{ "name": "tiny", "memoryMB": 8.13 }"""));
        Assert.Contains("('tiny').memoryMB", Refusal(Vm("""{ "name": "tiny", "memoryMB": 8.12 }""")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "kind": "toucher", "workingSetMB": 1048576 }""", "workload.workingSetMB: 1048576 MiB for a toucher workload")]
    [InlineData("""{ "kind": "toucher", "workingSetMB": 16, "phases": [ { "startSeconds": 1, "workingSetMB": 200 } ] }""", "workload.phases[0].workingSetMB: 200 MiB for a toucher workload")]
    [InlineData("""{ "kind": "compute", "workingSetMB": 150 }""", "workload.workingSetMB: 150 MiB for a compute workload")]
    [InlineData("""{ "kind": "zeroing", "workingSetMB": 150 }""", "workload.workingSetMB: 150 MiB for a zeroing workload")]
    [InlineData("""{ "kind": "network", "workingSetMB": 150 }""", "workload.workingSetMB: 150 MiB for a network workload")]
    [InlineData("""{ "kind": "fileserver", "clients": 200 }""", "workload.clients: 200 clients (1 MiB of process memory each: 200 MiB) for a fileserver workload")]
    public void A_workload_larger_than_its_guest_can_hold_is_refused_naming_the_vm_and_the_field(string workload, string expected)
    {
        // A 64 MiB Linux guest holds 64 MiB less 8.96 MiB of kernel (2048 + 246 pages), plus 64 MiB of its own swap.
        var line = Refusal(Vm($$"""{ "name": "small", "memoryMB": 64, "workload": {{workload}} }"""));
        Assert.StartsWith($"vms[0] ('small').{expected} is more than what guest 'small' can hold: 64 MiB less ", line, StringComparison.Ordinal);
        Assert.EndsWith("MiB of kernel, plus 64 MiB of guest swap = 119.04 MiB; expected at most 119.04 MiB.", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_working_set_above_the_vms_memory_but_within_its_guest_swap_runs_as_double_paging_needs()
    {
        SimulatedHost.Validate(Vm("""{ "name": "pager", "memoryMB": 64, "workload": { "kind": "toucher", "workingSetMB": 80 } }"""));
        SimulatedHost.Validate(Vm("""{ "name": "pager", "memoryMB": 64, "workload": { "kind": "toucher", "workingSetMB": 119 } }"""));
    }

    [Fact]
    public void A_file_server_needs_at_least_one_file()
    {
        // fileSetMB 0 passed validation and threw ArgumentException at the VM's power-on ("bug:", exit 3).
        SimulatedHost.Validate(Vm("""{ "name": "files", "memoryMB": 64, "workload": { "kind": "fileserver", "fileSetMB": 0.0625 } }"""));
        Assert.Equal(
            "vms[0] ('files').workload.fileSetMB: 0.05 MiB is less than one file of the file server (16 pages); expected at least 0.0625 MiB.",
            Refusal(Vm("""{ "name": "files", "memoryMB": 64, "workload": { "kind": "fileserver", "fileSetMB": 0.05 } }""")));
    }

    [Fact]
    public void A_file_set_may_exceed_the_vms_memory_up_to_64_times()
    {
        SimulatedHost.Validate(Vm("""{ "name": "files", "memoryMB": 64, "workload": { "kind": "fileserver", "fileSetMB": 4096 } }"""));
        Assert.Equal(
            "vms[0] ('files').workload.fileSetMB: 4097 MiB is more than 64 times the VM's memory (64 MiB); expected at most 4096.",
            Refusal(Vm("""{ "name": "files", "memoryMB": 64, "workload": { "kind": "fileserver", "fileSetMB": 4097 } }""")));
    }

    [Fact]
    public void A_workload_kind_that_does_not_use_a_size_is_not_held_to_it()
    {
        // An idle VM keeps the schema's default workingSetMB (64) whatever its size.
        SimulatedHost.Validate(Vm("""{ "name": "idle", "memoryMB": 16, "workload": { "kind": "idle", "workingSetMB": 1048576 } }"""));
    }

    [Fact]
    public void Share_scan_rates_built_in_code_are_held_to_the_readers_bound()
    {
        var scenario = Vm("""{ "name": "a", "memoryMB": 64 }""");
        scenario = scenario with { Host = scenario.Host with { ShareScanPerVmPagesPerSecond = 1e9 } };
        Assert.Equal("host.shareScanPerVmPagesPerSecond: 1000000000 pages/s; expected at most 1000000 (4 GiB hashed per second).", Refusal(scenario));
    }

    [Fact]
    public void A_vm_whose_overhead_would_fill_the_host_is_refused_at_admission_with_the_reason()
    {
        // 64 MiB of overhead on a 64 MiB host: min + overhead fit machine memory exactly, but nothing would
        // be left for a single guest page (it was admitted, then stopped at its first touch).
        var scenario = Vm("""{ "name": "fat", "memoryMB": 32, "overheadMB": 64, "workload": { "kind": "toucher", "workingSetMB": 16 } }""", """{ "memoryMB": 64, "swapMB": 256 }""");
        using var host = new SimulatedHost(scenario);
        var result = host.Run(null, TestContext.Current.CancellationToken);

        var stop = Assert.Single(result.Record.Stops);
        Assert.Equal(VmStopCause.AdmissionRefused, stop.Cause);
        Assert.Equal(0, stop.TimeSeconds);
        Assert.Contains("VM 'fat' cannot power on: machine memory is 0.64 MB (164 pages) short", stop.Detail, StringComparison.Ordinal);
        Assert.Contains("of which the host keeps 0.64 MB (164 pages) free", stop.Detail, StringComparison.Ordinal);
        Assert.All(result.Samples, s => Assert.False(s.Vms.Single().PoweredOn));
    }

    [Fact]
    public void Overhead_that_would_fill_the_host_across_several_vms_refuses_the_vm_that_would_fill_it()
    {
        // 32 + 32 MiB of overhead on 64 MiB: the first is admitted and runs; the second would leave nothing free.
        var scenario = ScenarioReader.Parse("""
            { "name": "fill", "durationSeconds": 5, "host": { "memoryMB": 64, "swapMB": 256 },
              "vms": [ { "name": "first", "memoryMB": 32, "overheadMB": 32, "workload": { "kind": "toucher", "workingSetMB": 16 } },
                       { "name": "second", "memoryMB": 32, "overheadMB": 32, "powerOnSeconds": 1, "workload": { "kind": "toucher", "workingSetMB": 16 } } ] }
            """);
        using var host = new SimulatedHost(scenario);
        var result = host.Run(null, TestContext.Current.CancellationToken);

        var stop = Assert.Single(result.Record.Stops);
        Assert.Equal(("second", VmStopCause.AdmissionRefused), (stop.Vm, stop.Cause));
        Assert.Contains("VM 'second' cannot power on: machine memory is", stop.Detail, StringComparison.Ordinal);
        Assert.All(result.Samples, s => Assert.True(s.Vms.Single(v => v.Name == "first").PoweredOn));
        Assert.True(result.Samples[^1].Vms.Single(v => v.Name == "first").Throughput > 0);
    }
}
