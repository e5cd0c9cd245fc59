using System.Diagnostics;
using Memvisor.Testing;

namespace Memvisor.Cli.Tests;

/// <summary>
/// Faults of the environment during a run and signals, against the real `memvisor` process: a swap disk that
/// fills up or whose contents are corrupted or cut short under the run stops the VM that needed it (exit 5,
/// the outputs say which and why) and the others run on; Ctrl-C or SIGTERM at any moment, two runs into one
/// folder, or a bad output folder never leave a folder holding parts of two runs.
/// </summary>
public sealed class RunFaultTests : IDisposable
{
    private readonly OutputFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    // "victim" is swapped heavily (min 0, no balloon driver, needs more than the host has); "safe" is
    // guaranteed all of its memory (min = max: never swapped). As VmStopTests, but through a real swap file.
    private static string TwoVms(string swapDirectory, double seconds) => $$"""
        {
          "name": "stop", "seed": 3, "durationSeconds": {{seconds}},
          "host": { "memoryMB": 64, "swapMB": 256, "balancePeriodSeconds": 2, "lowPercent": 0.01, "sharing": false, "swapDirectory": "{{swapDirectory}}" },
          "vms": [
            { "name": "safe", "memoryMB": 16, "minMB": 16, "overheadMB": 1, "balloonDriver": "absent", "workload": { "kind": "toucher", "workingSetMB": 12 } },
            { "name": "victim", "memoryMB": 96, "overheadMB": 1, "balloonDriver": "absent", "powerOnSeconds": 2, "workload": { "kind": "toucher", "workingSetMB": 80, "distribution": "uniform" } }
          ]
        }
        """;

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir.Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static void AssertVictimStoppedAndSafeRanOn(MemvisorProcess.Outcome o, string outDir, string cause)
    {
        Assert.True(o.ExitCode == 5, $"exit {o.ExitCode}: {o.Stderr}");
        Assert.Contains($"the host stopped 1 VM(s) it could not serve (first: 'victim'", o.Stderr, StringComparison.Ordinal);
        Assert.Contains(cause, o.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", o.Stderr, StringComparison.Ordinal);
        var summary = File.ReadAllText(Path.Combine(outDir, "summary.json"));
        Assert.Contains(cause, summary, StringComparison.Ordinal);
        Assert.Contains("VMs the host stopped or refused", File.ReadAllText(Path.Combine(outDir, "report.html")), StringComparison.Ordinal);
        Assert.Contains("data mismatches 0", o.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("data mismatches 1", o.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_swap_disk_that_fills_up_stops_the_vm_that_needed_it_and_the_run_writes_its_outputs()
    {
        // The swap folder is a 2 MB tmpfs: the victim's 256 MB of reserved swap cannot be written.
        WithSmallDisk("2m", mount =>
        {
            var o = MemvisorProcess.Run(_dir.Path, "simulate", Write("full.json", TwoVms(mount, 20)), "--quiet", "--out", "out");
            AssertVictimStoppedAndSafeRanOn(o, Path.Combine(_dir.Path, "out"), "MachineMemoryExhausted");
            Assert.Empty(Directory.EnumerateFileSystemEntries(mount));
        });
    }

    /// <summary>Runs <paramref name="body"/> with a tmpfs of <paramref name="size"/> mounted in the test folder (root only).</summary>
    private void WithSmallDisk(string size, Action<string> body)
    {
        Assert.SkipUnless(Environment.UserName == "root", "mounting a small tmpfs needs root");
        var mount = Directory.CreateDirectory(Path.Combine(_dir.Path, $"disk-{size}")).FullName;
        Assert.Equal(0, MemvisorProcess.Tool("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", mount));
        try
        {
            body(mount);
        }
        finally
        {
            MemvisorProcess.Tool("umount", mount);
        }
    }

    [Theory]
    [InlineData("corrupt")]
    [InlineData("truncate")]
    public async Task A_swap_file_corrupted_or_cut_short_under_the_run_stops_the_vm_whose_page_is_lost(string fault)
    {
        // The run's swap file is unlinked once open; it is reached through /proc/PID/fd, as another process
        // (or a failing disk) could, and overwritten with zeros or truncated until the run ends.
        var swap = Directory.CreateDirectory(Path.Combine(_dir.Path, "swap")).FullName;
        // 600 simulated s: with the simulator's speed-ups a 60 s run ended in about a second, sometimes before
        // any page swapped out before the damage was read back (exit 0 in 2 of 4 runs).
        using var run = MemvisorProcess.Start(_dir.Path, "simulate", Write("fault.json", TwoVms(swap, 600)), "--quiet", "--out", "out");
        var stdout = run.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = run.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var damaged = 0;
        while (!run.HasExited)
        {
            foreach (var fd in SafeEnumerate($"/proc/{run.Id}/fd"))
            {
                try
                {
                    if (new FileInfo(fd).LinkTarget is { } target && target.Contains("memvisor-", StringComparison.Ordinal) && target.Contains(".swap", StringComparison.Ordinal))
                    {
                        // Through tools: the run holds the file locked (flock) against .NET's own FileStream.
                        var megabytes = (new FileInfo(fd).Length >> 20) + 1;
                        var done = fault == "truncate"
                            ? MemvisorProcess.Tool("truncate", "-s", "0", fd)
                            : MemvisorProcess.Tool("dd", "if=/dev/zero", $"of={fd}", "bs=1M", $"count={megabytes}", "conv=notrunc");
                        damaged += done == 0 ? 1 : 0;
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The run closed it meanwhile.
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
        }

        Assert.True(damaged > 0, "the swap file was reached");
        AssertVictimStoppedAndSafeRanOn(new MemvisorProcess.Outcome(run.ExitCode, await stdout, await stderr), Path.Combine(_dir.Path, "out"), "SwapReadFailed");
    }

    private static string[] SafeEnumerate(string dir)
    {
        try
        {
            return Directory.GetFileSystemEntries(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task A_signal_while_the_outputs_are_written_leaves_the_earlier_run_whole(string signal)
    {
        // A complete first run; the second (another seed) is signalled once its staging folder appears.
        Assert.Equal(0, MemvisorProcess.Run(_dir.Path, "simulate", "--quiet", "--duration", "20", "--seed", "1", "--out", "out").ExitCode);
        var before = Snapshot(Path.Combine(_dir.Path, "out"));

        using var run = MemvisorProcess.Start(_dir.Path, "simulate", "--quiet", "--duration", "20", "--seed", "2", "--out", "out");
        var stderr = run.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var waited = Stopwatch.StartNew();
        while (!run.HasExited && !Directory.EnumerateDirectories(_dir.Path, ".out.partial-*").Any() && waited.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TestContext.Current.CancellationToken);
        }

        MemvisorProcess.Signal(run, signal);
        Assert.True(run.WaitForExit(TimeSpan.FromSeconds(60)));
        var after = Snapshot(Path.Combine(_dir.Path, "out"));
        if (run.ExitCode == 130)
        {
            // Interrupted while writing: the first run, byte for byte.
            Assert.Contains("interrupted while writing; 'out' is as it was", await stderr, StringComparison.Ordinal);
            Assert.Equal(before, after);
        }
        else
        {
            // The signal came after the move: the second run, whole.
            Assert.Equal(0, run.ExitCode);
            Assert.Contains("\"seed\": 2", after["summary.json"], StringComparison.Ordinal);
            Assert.Equal(before.Keys.Order(), after.Keys.Order());
        }

        Assert.Empty(Directory.EnumerateDirectories(_dir.Path, ".out.*"));
    }

    [Fact]
    public async Task SIGTERM_mid_run_stops_it_with_exit_130_and_writes_nothing()
    {
        using var run = MemvisorProcess.Start(_dir.Path, "simulate", "--quiet", "--duration", "1000000", "--out", "out");
        var stderr = run.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await MemvisorProcess.WaitForCpu(run, TimeSpan.FromSeconds(1.5));
        Assert.False(run.HasExited);
        MemvisorProcess.Signal(run, "TERM");
        Assert.True(run.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(130, run.ExitCode);
        Assert.Contains("interrupted; nothing written", await stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out")));
    }

    [Theory]
    [InlineData("simulate")]
    [InlineData("experiment")]
    public async Task A_second_run_into_a_folder_another_run_is_using_is_refused_before_it_runs_and_leaves_nothing(string command)
    {
        // The first run holds 'out' from start to end; the second starts while it runs. Both ran to the end
        // before: the second's folder replaced the first's while both said done, or the loser left .out.old-PID.
        string[] Args(bool first) => command == "simulate"
            ? ["simulate", "--quiet", "--duration", first ? "300" : "2", "--seed", first ? "1" : "2", "--out", "out"]
            : ["experiment", first ? "all" : "io-remap", "--reduced", "--out", "out"];
        using var first = MemvisorProcess.Start(_dir.Path, Args(first: true));
        var firstOut = first.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var firstErr = first.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var lockFile = Path.Combine(_dir.Path, ".out.lock");
        var waited = Stopwatch.StartNew();
        while (!first.HasExited && !File.Exists(lockFile) && waited.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), TestContext.Current.CancellationToken);
        }

        if (first.HasExited)
        {
            Assert.Fail($"the first run ended before the second started: {await firstErr}");
        }

        var second = MemvisorProcess.Run(_dir.Path, Args(first: false));

        Assert.Equal(1, second.ExitCode);
        Assert.Equal(
            $"memvisor {command}: cannot write {(command == "simulate" ? "outputs" : "reports")} to --out 'out': another memvisor run is writing to it at this moment (its lock '{lockFile}' is held); wait for that run to end or choose another folder; nothing run.",
            second.Stderr.Trim());
        Assert.Equal("", second.Stdout);
        Assert.Equal([lockFile], Directory.EnumerateFileSystemEntries(_dir.Path, ".out*"));

        // The first run is not disturbed: it ends as it would have, its outputs whole, and the lock goes with it.
        MemvisorProcess.Interrupt(first);
        Assert.True(first.WaitForExit(TimeSpan.FromMinutes(2)));
        Assert.True(first.ExitCode is 0 or 130, await firstErr);
        await firstOut;
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path, ".out*"));
        if (command == "simulate" && first.ExitCode == 0)
        {
            Assert.Contains("\"seed\": 1", File.ReadAllText(Path.Combine(_dir.Path, "out", "summary.json")), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void What_a_killed_run_left_beside_the_folder_is_put_back_or_removed_by_the_next_run()
    {
        // A run killed outright (SIGKILL) between its two renames: the earlier run's folder renamed aside,
        // nothing in its place, and its staging folder half written. PIDs of processes that are gone.
        Assert.Equal(0, MemvisorProcess.Run(_dir.Path, "simulate", "--quiet", "--duration", "2", "--seed", "1", "--out", "out").ExitCode);
        var aside = Path.Combine(_dir.Path, ".out.old-999999999");
        var partial = Path.Combine(_dir.Path, ".out.partial-999999998");
        Directory.Move(Path.Combine(_dir.Path, "out"), aside);
        Directory.CreateDirectory(partial);
        File.WriteAllText(Path.Combine(partial, "summary.json"), "{ half");

        var o = MemvisorProcess.Run(_dir.Path, "simulate", "--quiet", "--duration", "2", "--seed", "2", "--out", "out");

        Assert.Equal(0, o.ExitCode);
        Assert.Contains($"memvisor simulate: note: removed '{partial}', left by a killed run.", o.Stderr, StringComparison.Ordinal);
        Assert.Contains($"memvisor simulate: note: put back '{Path.Combine(_dir.Path, "out")}', which a killed run had renamed to '{aside}'.", o.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path, ".out*"));
        Assert.Contains("\"seed\": 2", File.ReadAllText(Path.Combine(_dir.Path, "out", "summary.json")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("file")]
    [InlineData("input-folder")]
    [InlineData("under-a-file")]
    public void An_output_folder_that_cannot_be_replaced_is_refused_before_anything_runs(string kind)
    {
        var scenario = Write("s.json", """{ "durationSeconds": 2, "vms": [ { "name": "a", "memoryMB": 32 } ] }""");
        var blocker = Write("a-file", "keep me");
        var output = kind switch
        {
            "file" => blocker,
            "input-folder" => _dir.Path,
            _ => Path.Combine(blocker, "out"),
        };

        var o = MemvisorProcess.Run(_dir.Path, "simulate", scenario, "--quiet", "--out", output);

        Assert.Equal(1, o.ExitCode);
        Assert.Contains($"cannot write outputs to --out '{output}'", o.Stderr, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(blocker));
        Assert.True(File.Exists(scenario));
    }

    [Fact]
    public void A_read_only_output_file_system_is_refused_before_anything_runs()
    {
        // Root ignores permission bits: a read-only bind mount is read-only for root too.
        Assert.SkipUnless(Environment.UserName == "root", "a read-only bind mount needs root");
        var readOnly = Directory.CreateDirectory(Path.Combine(_dir.Path, "read-only")).FullName;
        Assert.Equal(0, MemvisorProcess.Tool("mount", "--bind", readOnly, readOnly));
        try
        {
            Assert.Equal(0, MemvisorProcess.Tool("mount", "-o", "remount,bind,ro", readOnly));
            var o = MemvisorProcess.Run(_dir.Path, "simulate", "--quiet", "--duration", "2", "--out", Path.Combine(readOnly, "out"));
            Assert.Equal(1, o.ExitCode);
            Assert.Contains("its folder cannot be written", o.Stderr, StringComparison.Ordinal);
            Assert.Contains("nothing run", o.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            MemvisorProcess.Tool("umount", readOnly);
        }
    }

    [Fact]
    public void A_disk_that_fills_while_the_outputs_are_written_leaves_the_folder_as_it_was()
    {
        // A 200 KB tmpfs: the probe fits, the charts and time series do not.
        WithSmallDisk("200k", mount =>
        {
            var o = MemvisorProcess.Run(_dir.Path, "simulate", "--quiet", "--duration", "30", "--out", Path.Combine(mount, "out"));
            Assert.Equal(1, o.ExitCode);
            Assert.Contains($"writing the outputs to '{Path.Combine(mount, "out")}' failed", o.Stderr, StringComparison.Ordinal);
            Assert.Contains("is as it was", o.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", o.Stderr, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(mount));
        });
    }

    [Fact]
    public async Task Ctrl_C_during_experiment_all_exits_130_and_writes_nothing()
    {
        using var run = MemvisorProcess.Start(_dir.Path, "experiment", "all", "--reduced", "--out", "out");
        var stderr = run.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await MemvisorProcess.WaitForCpu(run, TimeSpan.FromSeconds(3));
        Assert.False(run.HasExited);
        MemvisorProcess.Interrupt(run);
        Assert.True(run.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(130, run.ExitCode);
        Assert.Contains("interrupted", await stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out", "experiments")));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "out", "experiments.md")));
    }

    [Fact]
    public void An_experiments_folder_is_replaced_whole_and_a_users_file_in_it_is_refused()
    {
        // An earlier run's stale table (written in place, it survived the next run beside new files).
        var folder = Directory.CreateDirectory(Path.Combine(_dir.Path, "out", "experiments", "io-remap")).FullName;
        File.WriteAllText(Path.Combine(folder, "stale.csv"), "old");
        var o = MemvisorProcess.Run(_dir.Path, "experiment", "io-remap", "--reduced", "--out", "out");
        Assert.Equal(0, o.ExitCode);
        Assert.False(File.Exists(Path.Combine(folder, "stale.csv")));
        Assert.True(File.Exists(Path.Combine(folder, "report.md")));
        Assert.Empty(Directory.EnumerateDirectories(Path.GetDirectoryName(folder)!, ".*"));

        // A file that is not a report, chart or table is the user's: refused, left alone.
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        var refused = MemvisorProcess.Run(_dir.Path, "experiment", "io-remap", "--reduced", "--out", "out");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("notes.txt' is not an experiment's report, chart or table", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(folder, "notes.txt")));
    }

    [Fact]
    public void Scan_refuses_sources_whose_share_table_would_not_fit_before_reading_them()
    {
        // A sparse 4 TiB file: 2^30 pages, a 24 GiB share table; it used to be allocated before reading a byte.
        var sparse = Path.Combine(_dir.Path, "sparse.bin");
        using (var file = File.Create(sparse))
        {
            file.SetLength(4L << 40);
        }

        var o = MemvisorProcess.Run(_dir.Path, "scan", sparse, "--json");

        Assert.Equal(1, o.ExitCode);
        Assert.Contains("memvisor scan: the sources hold 1073741824 pages", o.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing scanned", o.Stderr, StringComparison.Ordinal);
        Assert.Empty(o.Stdout);
    }

    [Fact]
    public async Task Ctrl_C_stops_a_scan_with_exit_130()
    {
        // A sparse 64 GiB file takes minutes to read; scan ignored Ctrl-C and SIGTERM.
        var sparse = Path.Combine(_dir.Path, "big.bin");
        using (var file = File.Create(sparse))
        {
            file.SetLength(64L << 30);
        }

        using var run = MemvisorProcess.Start(_dir.Path, "scan", sparse, "--json");
        var stderr = run.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await MemvisorProcess.WaitForCpu(run, TimeSpan.FromSeconds(2));
        Assert.False(run.HasExited);
        MemvisorProcess.Interrupt(run);
        Assert.True(run.WaitForExit(TimeSpan.FromSeconds(30)), "the scan stopped after Ctrl-C");
        Assert.Equal(130, run.ExitCode);
        Assert.Contains("memvisor scan: interrupted", await stderr, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllText, StringComparer.Ordinal);
}
