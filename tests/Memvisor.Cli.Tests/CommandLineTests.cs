using Memvisor.Testing;

namespace Memvisor.Cli.Tests;

/// <summary>
/// The command line as a user meets it: each bad input gets one line naming the problem, exit code 1, and
/// nothing run or written; Ctrl-C stops a run with exit code 130 and leaves no partial outputs.
/// </summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly OutputFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Bare_memvisor_prints_its_commands()
    {
        var o = MemvisorProcess.Run(_dir.Path);
        Assert.Equal(0, o.ExitCode);
        Assert.Contains("simulate", o.Stdout, StringComparison.Ordinal);
        Assert.Contains("experiment", o.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Required command", o.Stdout + o.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--duration", "abc", "--duration 'abc': expected a number")]
    [InlineData("--duration", "1e308", "--duration '1e308': expected a number greater than 0 and at most 10000000")]
    [InlineData("--duration", "-5", "--duration '-5'")]
    [InlineData("--seed", "abc", "--seed 'abc': expected a whole number")]
    public void A_bad_flag_value_is_one_clear_line_and_nothing_runs(string flag, string value, string expected)
    {
        var o = MemvisorProcess.Run(_dir.Path, "simulate", flag, value, "--out", "out");
        Assert.Equal(1, o.ExitCode);
        Assert.Contains(expected, o.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", o.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", o.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out")));
    }

    [Fact]
    public void A_run_shorter_than_one_sample_interval_is_refused_before_it_runs()
    {
        // It used to run, print NaN means and exit 0.
        var o = MemvisorProcess.Run(_dir.Path, "simulate", "--duration", "0.5", "--out", "out");
        Assert.Equal(1, o.ExitCode);
        Assert.Contains("durationSeconds: 0.5 s is shorter than sampleIntervalSeconds (1 s): the run would take no sample.", o.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", o.Stdout + o.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out")));
    }

    [Fact]
    public void A_run_in_which_admission_refused_every_vm_says_so_in_its_outputs_and_exit_code()
    {
        // It used to exit 0, with the refusal only on stderr.
        var scenario = Path.Combine(_dir.Path, "too-big.json");
        File.WriteAllText(scenario, """
            { "name": "too-big", "durationSeconds": 3,
              "host": { "memoryMB": 64, "swapMB": 256 },
              "vms": [ { "name": "big", "memoryMB": 128, "minMB": 100, "guest": "linux", "workload": { "kind": "idle" } } ] }
            """);
        var o = MemvisorProcess.Run(_dir.Path, "simulate", scenario, "--quiet", "--out", "out");
        Assert.Equal(4, o.ExitCode);
        Assert.Contains("admission control refused every VM", o.Stderr, StringComparison.Ordinal);
        var summary = File.ReadAllText(Path.Combine(_dir.Path, "out", "summary.json"));
        Assert.Contains("AdmissionRefused", summary, StringComparison.Ordinal);
        Assert.Contains("VMs the host stopped or refused", File.ReadAllText(Path.Combine(_dir.Path, "out", "report.html")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("scan", "--top", "abc", "--top 'abc': expected a whole number from 1 to 1000000")]
    [InlineData("scan", "--top", "0", "--top '0': expected a whole number from 1 to 1000000")]
    [InlineData("scan", "--bogus", "x", "unknown option '--bogus'")]
    [InlineData("experiment", "idle-tax", "--seed=abc", "--seed 'abc': expected a whole number")]
    public void Other_commands_bad_arguments_are_one_clear_line(string command, string a, string b, string expected)
    {
        var o = MemvisorProcess.Run(_dir.Path, command, a, b);
        Assert.Equal(1, o.ExitCode);
        Assert.Contains(expected, o.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", o.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Experiments_on_real_guests_are_listed_and_one_only_the_simulator_runs_is_refused_before_anything_runs()
    {
        var list = MemvisorProcess.Run(_dir.Path, "experiment", "list", "--substrate", "qemu");
        Assert.Equal(0, list.ExitCode);
        Assert.Equal(["balloon", "double-paging", "sharing-scaling", "sampling", "idle-tax"], list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]));

        var o = MemvisorProcess.Run(_dir.Path, "experiment", "salting", "--substrate", "qemu", "--out", "out");
        Assert.Equal(1, o.ExitCode);
        Assert.Equal("memvisor experiment: no real-guest experiment named 'salting'; expected one of: balloon, double-paging, sharing-scaling, sampling, idle-tax, all, list.", o.Stderr.Trim());
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out")));
    }

    [Theory]
    [InlineData("", "the file name is empty")]
    [InlineData("/dev/zero", "'/dev/zero' is a device, not a regular file")]
    [InlineData("missing.json", "'missing.json' does not exist")]
    [InlineData(".", "'.' is a folder, not a file")]
    public void A_scenario_path_that_is_not_a_regular_file_is_refused_before_anything_runs(string path, string expected)
    {
        var o = MemvisorProcess.Run(_dir.Path, "simulate", path, "--out", "out");
        Assert.Equal(1, o.ExitCode);
        Assert.Equal($"memvisor simulate: {expected}; nothing run.", o.Stderr.Trim());
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out")));
    }

    [Fact]
    public void A_named_pipe_as_scenario_is_refused_instead_of_blocking()
    {
        var fifo = Path.Combine(_dir.Path, "pipe.json");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]))
        {
            mkfifo.WaitForExit();
        }

        var o = MemvisorProcess.Run(_dir.Path, "simulate", fifo, "--out", "out");
        Assert.Equal(1, o.ExitCode);
        Assert.Contains("is a named pipe, not a regular file", o.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_folder_holding_other_files_is_refused_and_left_alone()
    {
        var outDir = Directory.CreateDirectory(Path.Combine(_dir.Path, "mine")).FullName;
        File.WriteAllText(Path.Combine(outDir, "notes.txt"), "keep me");
        var o = MemvisorProcess.Run(_dir.Path, "simulate", "--duration", "2", "--out", outDir);
        Assert.Equal(1, o.ExitCode);
        Assert.Contains("holds files that are not a Memvisor run's outputs (notes.txt)", o.Stderr, StringComparison.Ordinal);
        Assert.Equal(["notes.txt"], Directory.EnumerateFileSystemEntries(outDir).Select(Path.GetFileName));
    }

    [Fact]
    public void A_second_run_replaces_the_first_runs_folder_whole()
    {
        Assert.Equal(0, MemvisorProcess.Run(_dir.Path, "simulate", "--quiet", "--duration", "3", "--seed", "1", "--out", "out").ExitCode);
        Assert.Equal(0, MemvisorProcess.Run(_dir.Path, "simulate", "--quiet", "--duration", "2", "--seed", "2", "--out", "out").ExitCode);
        var summary = File.ReadAllText(Path.Combine(_dir.Path, "out", "summary.json"));
        Assert.Contains("\"seed\": 2", summary, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateDirectories(_dir.Path, ".out.*"));
    }

    [Fact]
    public async Task Ctrl_C_stops_a_run_with_exit_code_130_says_so_and_writes_nothing()
    {
        using var run = MemvisorProcess.Start(_dir.Path, "simulate", "--quiet", "--duration", "1000000", "--out", "out");
        var stderr = run.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        // Wait until the run is under way (its signal handler is installed before the command starts): a
        // second and a half of CPU is past a cold start, however slowly a loaded machine gives it.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (run.TotalProcessorTime < TimeSpan.FromSeconds(1.5) && waited.Elapsed < TimeSpan.FromMinutes(2) && !run.HasExited)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
            run.Refresh();
        }

        Assert.False(run.HasExited, "the run was still going when interrupted");
        MemvisorProcess.Interrupt(run);
        Assert.True(run.WaitForExit(TimeSpan.FromSeconds(30)), "the run stopped after Ctrl-C");
        Assert.Equal(130, run.ExitCode);
        Assert.Contains("interrupted", await stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out")));
        Assert.Empty(Directory.EnumerateDirectories(_dir.Path, ".out.*"));
    }
}
