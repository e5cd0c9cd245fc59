using Memvisor.Linux.Ksm;

namespace Memvisor.Linux.Tests.Ksm;

public class KsmControllerTests
{
    [Fact]
    public async Task A_second_controller_of_the_hosts_KSM_waits_until_the_first_has_restored()
    {
        Assert.SkipUnless(Directory.Exists(KsmSysfs.DefaultDirectory), "no /sys/kernel/mm/ksm on this host");

        // Neither controller changes a knob: only the lock between them is exercised.
        var first = new KsmController(new KsmSysfs());
        var second = Task.Run(() => new KsmController(new KsmSysfs()), TestContext.Current.CancellationToken);
        await Task.Delay(750, TestContext.Current.CancellationToken);
        Assert.False(second.IsCompleted, "two controllers of the host's KSM at once");

        first.Dispose();
        using var next = await second.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Empty(next.Originals);
    }

    [Fact]
    public void Dispose_restores_every_changed_knob()
    {
        using var ksm = new FakeKsmDirectory();

        using (var controller = new KsmController(ksm.Sysfs()))
        {
            controller.Start(pagesToScan: 10_000, sleepMilliseconds: 0);
            Assert.Equal("1", ksm.Read("run"));
            Assert.Equal("10000", ksm.Read("pages_to_scan"));
            Assert.Equal("0", ksm.Read("sleep_millisecs"));
        }

        Assert.Equal("0", ksm.Read("run"));
        Assert.Equal("100", ksm.Read("pages_to_scan"));
        Assert.Equal("20", ksm.Read("sleep_millisecs"));
        Assert.Equal("256", ksm.Read("max_page_sharing"));
    }

    [Fact]
    public void Knobs_are_restored_when_the_measurement_throws()
    {
        using var ksm = new FakeKsmDirectory();

        Assert.Throws<InvalidOperationException>(() => MeasureAndFail(ksm.Sysfs()));

        Assert.Equal("0", ksm.Read("run"));
        Assert.Equal("100", ksm.Read("pages_to_scan"));
        Assert.Equal("20", ksm.Read("sleep_millisecs"));
    }

    private static void MeasureAndFail(KsmSysfs sysfs)
    {
        using var controller = new KsmController(sysfs);
        controller.Start(5000, 0);
        throw new InvalidOperationException("measurement failed");
    }

    [Fact]
    public void The_original_is_the_value_before_the_first_change_not_an_intermediate_one()
    {
        using var ksm = new FakeKsmDirectory();

        using (var controller = new KsmController(ksm.Sysfs()))
        {
            controller.Set(KsmKnob.PagesToScan, 500);
            controller.Set(KsmKnob.PagesToScan, 9000);
            Assert.Single(controller.Originals);
            Assert.Equal(new KnobSnapshot("pages_to_scan", "100"), controller.Originals[0]);
        }

        Assert.Equal("100", ksm.Read("pages_to_scan"));
    }

    [Fact]
    public void When_nothing_was_merged_and_run_was_0_it_unmerges_with_run_2_then_writes_run_last()
    {
        using var ksm = new FakeKsmDirectory();

        using (var controller = new KsmController(ksm.Sysfs()))
        {
            controller.Start(10_000, 0);
            ksm.Writes.Clear();
        }

        Assert.Equal([("run", "2"), ("sleep_millisecs", "20"), ("pages_to_scan", "100"), ("run", "0")], ksm.Writes);
    }

    [Fact]
    public void When_other_pages_were_merged_it_stops_ksmd_without_unmerging_them()
    {
        using var ksm = new FakeKsmDirectory(pagesShared: 3, pagesSharing: 40);

        using (var controller = new KsmController(ksm.Sysfs()))
        {
            Assert.False(controller.NothingMergedAtStart);
            controller.Start(10_000, 0);
            ksm.Writes.Clear();
        }

        Assert.DoesNotContain(("run", "2"), ksm.Writes);
        Assert.Equal(("run", "0"), ksm.Writes[0]);
        Assert.Equal("0", ksm.Read("run"));
    }

    [Fact]
    public void A_running_ksmd_is_set_running_again_with_its_old_settings()
    {
        using var ksm = new FakeKsmDirectory();
        ksm.Write("run", "1");

        using (var controller = new KsmController(ksm.Sysfs()))
        {
            controller.Start(10_000, 0);
            ksm.Writes.Clear();
        }

        Assert.Equal(("run", "0"), ksm.Writes[0]);
        Assert.Equal(("run", "1"), ksm.Writes[^1]);
        Assert.Equal("1", ksm.Read("run"));
        Assert.Equal("100", ksm.Read("pages_to_scan"));
    }

    [Fact]
    public void A_knob_that_cannot_be_restored_is_reported_after_the_others_were_restored()
    {
        using var ksm = new FakeKsmDirectory();
        var controller = new KsmController(ksm.Sysfs());
        controller.Start(10_000, 0);
        File.Delete(Path.Combine(ksm.Path, "sleep_millisecs"));
        Directory.CreateDirectory(Path.Combine(ksm.Path, "sleep_millisecs"));

        var error = Assert.Throws<AggregateException>(controller.Dispose);

        Assert.Contains("sleep_millisecs", error.Message, StringComparison.Ordinal);
        Assert.Equal("100", ksm.Read("pages_to_scan"));
        Assert.Equal("0", ksm.Read("run"));
    }

    [Fact]
    public void A_journal_folder_that_is_not_a_folder_is_refused_before_any_knob_is_touched()
    {
        using var ksm = new FakeKsmDirectory();
        var notAFolder = Path.Combine(ksm.JournalFolder, "memvisor-ksm-journal-1.txt");

        var error = Assert.Throws<ArgumentException>(() => new KsmController(ksm.Sysfs(), notAFolder));

        Assert.Contains(notAFolder, error.Message, StringComparison.Ordinal);
        Assert.Equal("100", ksm.Read("pages_to_scan"));
        Assert.Empty(Directory.GetFiles(ksm.JournalFolder));
        using var next = new KsmController(ksm.Sysfs(), ksm.JournalFolder); // the host's lock was not taken
    }

    [Fact]
    public void The_journal_holds_the_originals_until_they_are_restored()
    {
        using var ksm = new FakeKsmDirectory();

        using (var controller = new KsmController(ksm.Sysfs(), ksm.JournalFolder))
        {
            controller.Start(10_000, 0);
            var journal = File.ReadAllLines(ksm.JournalPath);
            Assert.Contains($"#sysfs={ksm.Path}", journal);
            Assert.Contains($"#pid={Environment.ProcessId}", journal);
            Assert.Contains("pages_to_scan=100", journal);
            Assert.Contains("sleep_millisecs=20", journal);
            Assert.Contains("run=0", journal);
        }

        Assert.False(File.Exists(ksm.JournalPath));
    }

    [Fact]
    public void A_journal_left_by_a_killed_run_restores_the_knobs()
    {
        using var ksm = new FakeKsmDirectory();
        var killed = new KsmController(ksm.Sysfs(), ksm.JournalFolder);
        killed.Start(10_000, 0);

        // The process dies here: no Dispose. A later run finds the journal.
        var restored = KsmController.RestoreFromJournal(ksm.Sysfs(), ksm.JournalPath);

        Assert.Equal(3, restored.Count);
        Assert.Equal("0", ksm.Read("run"));
        Assert.Equal("100", ksm.Read("pages_to_scan"));
        Assert.Equal("20", ksm.Read("sleep_millisecs"));
        Assert.Contains(("run", "2"), ksm.Writes);
        Assert.False(File.Exists(ksm.JournalPath));
    }

    [Fact]
    public void Counters_are_read_including_the_optional_zero_page_count()
    {
        using var ksm = new FakeKsmDirectory(pagesShared: 17, pagesSharing: 1000);
        ksm.Write("ksm_zero_pages", "5");
        ksm.Write("full_scans", "2");

        var counters = KsmCounters.Read(ksm.Sysfs());

        Assert.Equal(new KsmCounters(17, 1000, 0, 0, 2, 5), counters);
        Assert.Equal(1005, counters.PagesSaved);
        File.Delete(Path.Combine(ksm.Path, "ksm_zero_pages"));
        Assert.Null(KsmCounters.Read(ksm.Sysfs()).KsmZeroPages);
    }

    [Fact]
    public void A_directory_without_run_is_reported_as_unusable()
    {
        using var ksm = new FakeKsmDirectory();
        File.Delete(Path.Combine(ksm.Path, "run"));

        Assert.Contains("does not exist", KsmSysfs.WhyNotWritable(ksm.Path), StringComparison.Ordinal);
    }

    [Fact]
    public void A_writable_directory_is_usable()
    {
        using var ksm = new FakeKsmDirectory();

        Assert.Null(KsmSysfs.WhyNotWritable(ksm.Path));
    }

    /// <summary>A journal as a process killed mid-run leaves it: it changed run, pages_to_scan and sleep_millisecs.</summary>
    private static string KilledJournal(FakeKsmDirectory ksm, int pid, long? startTicks, string? sysfs = null)
    {
        var path = KsmJournal.PathFor(ksm.JournalFolder, pid);
        KsmJournal.Write(path, new KsmJournalContents(sysfs ?? ksm.Path, pid, startTicks, true,
            [new KnobSnapshot("pages_to_scan", "100"), new KnobSnapshot("sleep_millisecs", "20"), new KnobSnapshot("run", "0")]));
        ksm.Write("pages_to_scan", "2000");
        ksm.Write("sleep_millisecs", "0");
        ksm.Write("run", "1");
        return path;
    }

    /// <summary>The PID of a process that has exited (and been reaped).</summary>
    private static int DeadPid()
    {
        using var done = System.Diagnostics.Process.Start("true");
        done.WaitForExit();
        return done.Id;
    }

    [Fact]
    public void A_controller_restores_what_a_dead_process_left_changed_before_it_saves_originals()
    {
        // Before: the journal stayed in the temp folder, and the next controller saved run=1, pages_to_scan 2000
        // and sleep 0 as the originals, restoring those from then on.
        using var ksm = new FakeKsmDirectory();
        var pid = DeadPid();
        var journal = KilledJournal(ksm, pid, startTicks: 12345);

        using (var controller = new KsmController(ksm.Sysfs(), ksm.JournalFolder))
        {
            Assert.Equal(
                [$"restored KSM's pages_to_scan=100, sleep_millisecs=20, run=0, which process {pid} changed and ended without restoring (journal {journal}, removed)"],
                controller.Recovered);
            Assert.False(File.Exists(journal));
            Assert.Equal(("0", "100", "20"), (ksm.Read("run"), ksm.Read("pages_to_scan"), ksm.Read("sleep_millisecs")));
            controller.Start(5000, 0);
            Assert.Equal(
                [new KnobSnapshot("pages_to_scan", "100"), new KnobSnapshot("sleep_millisecs", "20"), new KnobSnapshot("run", "0")],
                controller.Originals);
        }

        Assert.Equal(("0", "100", "20"), (ksm.Read("run"), ksm.Read("pages_to_scan"), ksm.Read("sleep_millisecs")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(ksm.JournalFolder));
    }

    [Fact]
    public void A_journal_of_a_live_process_is_left_alone_and_one_of_a_reused_pid_or_a_zombie_is_not()
    {
        using var ksm = new FakeKsmDirectory();
        using var proc = new FakeProcDirectory();
        proc.Add(101, state: "S", startTicks: 500);
        proc.Add(102, state: "S", startTicks: 900);
        proc.Add(103, state: "Z", startTicks: 700);
        var live = KilledJournal(ksm, 101, startTicks: 500);
        var reused = KilledJournal(ksm, 102, startTicks: 600);
        var zombie = KilledJournal(ksm, 103, startTicks: 700);

        using (var controller = new KsmController(ksm.Sysfs(), ksm.JournalFolder, proc.Path))
        {
            Assert.Equal(2, controller.Recovered.Count);
            Assert.Contains("process 102", controller.Recovered[0], StringComparison.Ordinal);
            Assert.Contains("process 103", controller.Recovered[1], StringComparison.Ordinal);
        }

        Assert.True(File.Exists(live));
        Assert.False(File.Exists(reused));
        Assert.False(File.Exists(zombie));
    }

    [Fact]
    public void A_journal_of_another_ksm_directory_is_left_alone()
    {
        // A test's fake directory and the host's KSM never restore each other's knobs.
        using var ksm = new FakeKsmDirectory();
        var other = KilledJournal(ksm, DeadPid(), startTicks: 1, sysfs: KsmSysfs.DefaultDirectory);

        using (var controller = new KsmController(ksm.Sysfs(), ksm.JournalFolder))
        {
            Assert.Empty(controller.Recovered);
        }

        Assert.True(File.Exists(other));
        Assert.Equal("2000", ksm.Read("pages_to_scan"));
    }

    [Fact]
    public void A_journal_that_cannot_be_restored_is_kept_and_the_controller_says_why()
    {
        using var ksm = new FakeKsmDirectory();
        var pid = DeadPid();
        var journal = KilledJournal(ksm, pid, startTicks: 1);
        File.Delete(Path.Combine(ksm.Path, "sleep_millisecs"));
        Directory.CreateDirectory(Path.Combine(ksm.Path, "sleep_millisecs"));

        var error = Assert.Throws<IOException>(() => new KsmController(ksm.Sysfs(), ksm.JournalFolder));

        Assert.StartsWith($"KSM in {ksm.Path} was left changed by process {pid}, which ended without restoring it, and restoring its originals (pages_to_scan=100, sleep_millisecs=20, run=0) from {journal} failed", error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(journal));
    }
}

/// <summary>A temporary directory standing in for /proc: PID folders with a stat line each.</summary>
internal sealed class FakeProcDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("memvisor-proc-test-").FullName;

    /// <summary>Adds process <paramref name="pid"/> in <paramref name="state"/>, started <paramref name="startTicks"/> after boot.</summary>
    public void Add(int pid, string state, long startTicks)
    {
        var folder = Directory.CreateDirectory(System.IO.Path.Combine(Path, pid.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
        // pid (comm) state, then fields 4..21, then starttime (22).
        File.WriteAllText(System.IO.Path.Combine(folder, "stat"), $"{pid} (a (b) c) {state} {string.Join(' ', Enumerable.Repeat("0", 18))} {startTicks} 0 0\n");
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
