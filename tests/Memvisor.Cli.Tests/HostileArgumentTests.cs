using Memvisor.Testing;

namespace Memvisor.Cli.Tests;

/// <summary>Odd arguments found by playing the hostile user: each is one clear line (or help), never an exception or a hang.</summary>
public sealed class HostileArgumentTests : IDisposable
{
    private readonly OutputFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_command_group_without_its_command_prints_its_help()
    {
        // `memvisor host` printed only "Required command was not provided." and exited 1.
        var o = MemvisorProcess.Run(_dir.Path, "host");
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("doctor", o.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Required command", o.Stdout + o.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("simulate", "memvisor simulate: cannot write outputs to --out '': the folder name is empty; nothing run.")]
    [InlineData("experiment", "memvisor experiment: cannot write reports to --out '': the folder name is empty; nothing run.")]
    public void An_empty_output_folder_name_is_one_line(string command, string expected)
    {
        // simulate --out "" ended in an unhandled ArgumentException.
        var o = command == "simulate"
            ? MemvisorProcess.Run(_dir.Path, "simulate", "--quiet", "--duration", "2", "--out", "")
            : MemvisorProcess.Run(_dir.Path, "experiment", "io-remap", "--reduced", "--out", "");
        Assert.Equal(1, o.ExitCode);
        Assert.Equal(expected, o.Stderr.Trim());
    }

    [Fact]
    public void Scan_refuses_a_named_pipe_instead_of_blocking_forever()
    {
        // Opening a FIFO blocked until a writer came, and no signal ended it.
        var fifo = Path.Combine(_dir.Path, "pipe");
        Assert.Equal(0, MemvisorProcess.Tool("mkfifo", fifo));
        var o = MemvisorProcess.Run(_dir.Path, "scan", fifo, "--json");
        Assert.Equal(1, o.ExitCode);
        Assert.Equal($"memvisor scan: '{fifo}' is a named pipe, not a regular file; nothing scanned.", o.Stderr.Trim());
    }

    [Theory]
    [InlineData("/proc/self/mem", "memvisor scan: '/proc/self/mem' is a process's memory as procfs shows it, not a file of pages; scan the process with --pid N; nothing scanned.")]
    [InlineData("/proc/meminfo", "memvisor scan: '/proc/meminfo' is a file of the kernel's proc file system, whose size says nothing of its contents; scan files of pages (memory dumps, core files) or processes (--pid N); nothing scanned.")]
    [InlineData("/sys/kernel/mm/transparent_hugepage/enabled", "memvisor scan: '/sys/kernel/mm/transparent_hugepage/enabled' is a file of the kernel's sysfs file system, whose size says nothing of its contents; scan files of pages (memory dumps, core files) or processes (--pid N); nothing scanned.")]
    public void Scan_refuses_files_of_kernel_file_systems_in_one_line(string path, string expected)
    {
        // procfs and sysfs call these regular files of size 0 (or 4096): they were scanned as 0 pages, exit 0.
        Assert.SkipUnless(File.Exists(path), $"{path} does not exist here");
        var o = MemvisorProcess.Run(_dir.Path, "scan", path, "--json");
        Assert.Equal(1, o.ExitCode);
        Assert.Equal(expected, o.Stderr.Trim());
        Assert.Equal("", o.Stdout);
    }
}
