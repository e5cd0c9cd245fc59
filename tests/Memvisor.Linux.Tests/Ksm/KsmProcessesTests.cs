using Memvisor.Linux.Ksm;
using Memvisor.Linux.Procfs;
using Memvisor.Testing;

namespace Memvisor.Linux.Tests.Ksm;

/// <summary>Finding the processes registered with KSM, so that a ksmd measurement can refuse to run beside them.</summary>
public sealed class KsmProcessesTests : IDisposable
{
    private readonly OutputFolder _proc = new();

    public void Dispose() => _proc.Dispose();

    [Fact]
    public void Registered_processes_are_found_by_flags_or_rmap_items_and_the_caller_is_left_out()
    {
        Process(10, "qemu-system-x86", "ksm_rmap_items 0\nksm_zero_pages 0\nksm_merging_pages 0\nksm_process_profit 0\nksm_merge_any: no\nksm_mergeable: yes\n");
        Process(11, "bash", "ksm_rmap_items 0\nksm_zero_pages 0\nksm_merging_pages 0\nksm_process_profit 0\nksm_merge_any: no\nksm_mergeable: no\n");
        Process(12, "old-kernel", "ksm_rmap_items 4096\nksm_merging_pages 100\n");
        Process(13, "me", "ksm_rmap_items 99\nksm_mergeable: yes\n");
        Process(14, "merge-any", "ksm_rmap_items 0\nksm_merge_any: yes\nksm_mergeable: no\n");
        Directory.CreateDirectory(_proc.Full("15")); // exited: no ksm_stat
        Directory.CreateDirectory(_proc.Full("self"));

        var found = KsmProcesses.Registered(_proc.Path, exceptPid: 13);

        Assert.Equal([new KsmRegisteredProcess(10, "qemu-system-x86", 0), new KsmRegisteredProcess(12, "old-kernel", 4096), new KsmRegisteredProcess(14, "merge-any", 0)], found);
    }

    [Fact]
    public void This_machines_proc_can_be_read()
    {
        // Whatever runs here, the walk over the real /proc completes and never lists the caller.
        Assert.DoesNotContain(KsmProcesses.Registered("/proc", Environment.ProcessId), p => p.Pid == Environment.ProcessId);
    }

    [Fact]
    public void The_cpu_model_comes_from_cpuinfo()
    {
        var cpuinfo = _proc.Full("cpuinfo");
        File.WriteAllText(cpuinfo, "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13 64-Core Processor\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13 64-Core Processor\n");
        Assert.Equal("AMD EPYC 7B13 64-Core Processor", HostDescription.CpuModel(cpuinfo));
        Assert.StartsWith("AMD EPYC 7B13 64-Core Processor, ", HostDescription.Line(cpuinfo), StringComparison.Ordinal);
        Assert.Equal("unknown CPU", HostDescription.CpuModel(_proc.Full("missing")));
    }

    private void Process(int pid, string comm, string ksmStat)
    {
        var dir = Directory.CreateDirectory(_proc.Full(pid.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
        File.WriteAllText(Path.Combine(dir, "comm"), comm + "\n");
        File.WriteAllText(Path.Combine(dir, "ksm_stat"), ksmStat);
    }
}
