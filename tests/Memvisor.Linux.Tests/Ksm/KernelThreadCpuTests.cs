using Memvisor.Linux.Ksm;

namespace Memvisor.Linux.Tests.Ksm;

public sealed class KernelThreadCpuTests : IDisposable
{
    private const string KsmdStat = "37 (ksmd) S 2 0 0 0 -1 2097216 0 0 0 0 250 30 0 0 25 5 1 0 22 0 0";
    private readonly string _proc = Directory.CreateTempSubdirectory("memvisor-proc-test-").FullName;

    [Fact]
    public void Stat_fields_are_read_after_the_last_parenthesis_of_comm()
    {
        var (flags, user, system) = KernelThreadCpu.ParseStat("4242 (a (weird) name) R 1 2 3 4 5 64 0 0 0 0 17 4 0 0 20 0");

        Assert.Equal(64, flags);
        Assert.Equal(17, user);
        Assert.Equal(4, system);
    }

    [Fact]
    public void A_truncated_stat_line_is_a_format_error()
    {
        Assert.Throws<FormatException>(() => KernelThreadCpu.ParseStat("1 (x) S 0 0"));
        Assert.Throws<FormatException>(() => KernelThreadCpu.ParseStat("no parenthesis"));
    }

    [Fact]
    public void The_kernel_thread_is_found_and_a_user_process_of_the_same_name_is_not()
    {
        AddProcess(12, "ksmd", "12 (ksmd) S 1 0 0 0 -1 4194560 0 0 0 0 0 0 0 0 20 0");
        AddProcess(37, "ksmd", KsmdStat);
        AddProcess(40, "kswapd0", "40 (kswapd0) S 2 0 0 0 -1 2097216 0 0 0 0 0 0 0 0 20 0");
        Directory.CreateDirectory(Path.Combine(_proc, "self"));

        Assert.Equal(37, KernelThreadCpu.FindKernelThread("ksmd", _proc));
        Assert.Null(KernelThreadCpu.FindKernelThread("khugepaged", _proc));
    }

    [Fact]
    public void Cpu_time_is_utime_plus_stime_in_ticks_or_schedstat_when_present()
    {
        AddProcess(37, "ksmd", KsmdStat);
        var cpu = new KernelThreadCpu(37, clockTicksPerSecond: 100, _proc);

        Assert.Equal(2_800_000_000, cpu.StatCpuNanoseconds());
        Assert.Null(cpu.SchedstatCpuNanoseconds());
        Assert.Equal(2_800_000_000, cpu.CpuNanoseconds());

        File.WriteAllText(Path.Combine(_proc, "37", "schedstat"), "2812345678 154202 2\n");
        Assert.Equal(2_812_345_678, cpu.CpuNanoseconds());
    }

    public void Dispose() => Directory.Delete(_proc, recursive: true);

    private void AddProcess(int pid, string comm, string stat)
    {
        var directory = Directory.CreateDirectory(Path.Combine(_proc, pid.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
        File.WriteAllText(Path.Combine(directory, "comm"), comm + "\n");
        File.WriteAllText(Path.Combine(directory, "stat"), stat + "\n");
    }
}
