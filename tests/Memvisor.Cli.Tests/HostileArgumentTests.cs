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

    [Theory]
    [InlineData("bench", "memvisor: unknown command 'bench'; expected one of scan, simulate, experiment, host (memvisor --help says what each does).")]
    [InlineData("host frob", "memvisor host: unknown command 'frob'; expected one of doctor, image, run, attach (memvisor host --help says what each does).")]
    [InlineData("simulate --bogus", "memvisor simulate: unknown option '--bogus' (--help lists the options; a file whose name starts with '-' can be given as ./--bogus).")]
    [InlineData("host run --bogus", "memvisor host run: unknown option '--bogus' (--help lists the options; a file whose name starts with '-' can be given as ./--bogus).")]
    [InlineData("experiment balloon --substrate kvm", "memvisor experiment: --substrate 'kvm': expected one of simulator, qemu.")]
    [InlineData("host attach --qmp x --budget 10 --tau abc", "memvisor host attach: --tau 'abc': expected a number from 0 up to (not including) 1.")]
    [InlineData("scan --top abc --pid x", "memvisor scan: --pid expects a process id (a positive whole number), not 'x' (and 1 more problem(s)).")]
    [InlineData("host image --cache", "memvisor host image: --cache '': the folder name is empty; nothing built.")]
    [InlineData("experiment io-remap --reduced --out /proc", "memvisor experiment: cannot write reports to --out '/proc': its folder cannot be written")]
    public void A_command_line_that_does_not_parse_is_one_line_naming_the_command(string line, string expected)
    {
        // Before: "Required command was not provided." and "Unrecognized command or argument 'bench'." on two lines;
        // "'--bogus' does not exist"; .NET type names ("...ExperimentCommand+ExperimentSubstrate", "System.Double");
        // host image --cache '' built the image into the current folder; experiment --out /proc ran, then failed to write.
        string[] args = [.. line.Split(' '), .. line.EndsWith("--cache", StringComparison.Ordinal) ? new[] { "" } : []];
        var o = MemvisorProcess.Run(_dir.Path, args);
        Assert.Equal(1, o.ExitCode);
        Assert.Single(o.Stderr.Trim().Split('\n'));
        Assert.StartsWith(expected, o.Stderr.Trim(), StringComparison.Ordinal);
        Assert.Equal("", o.Stdout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path));
    }
}
