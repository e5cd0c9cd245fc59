using System.Diagnostics;
using Memvisor.Linux.Ksm;

namespace Memvisor.Linux.Tests.Ksm;

public class KsmConvergenceTests
{
    [Fact]
    public void The_wait_ends_when_the_expected_pages_are_saved_counting_from_the_baseline()
    {
        using var ksm = new FakeKsmDirectory(pagesShared: 1, pagesSharing: 10);
        var sysfs = ksm.Sysfs();
        var baseline = KsmCounters.Read(sysfs);
        ksm.Write("pages_sharing", "110");
        ksm.Write("full_scans", "2");

        var result = KsmConvergence.WaitForSteadySharing(sysfs, null, baseline, Stopwatch.StartNew(), 0, Options(expected: 100), CancellationToken.None);

        Assert.Equal(KsmWaitOutcome.ReachedExpected, result.Outcome);
        Assert.Equal(100, result.Final.PagesSharing);
        Assert.Equal(2, result.FullScansToSteady);
    }

    [Fact]
    public void The_wait_does_not_call_sharing_steady_before_any_page_was_merged()
    {
        using var ksm = new FakeKsmDirectory();
        var sysfs = ksm.Sysfs();
        var baseline = KsmCounters.Read(sysfs);
        ksm.Write("full_scans", "5");

        var result = KsmConvergence.WaitForSteadySharing(sysfs, null, baseline, Stopwatch.StartNew(), 0, Options(expected: 100), CancellationToken.None);

        Assert.Equal(KsmWaitOutcome.TimedOut, result.Outcome);
    }

    [Fact]
    public void Sharing_that_stops_growing_for_two_full_scans_is_steady()
    {
        using var ksm = new FakeKsmDirectory();
        var sysfs = ksm.Sysfs();
        var baseline = KsmCounters.Read(sysfs);
        ksm.Write("pages_sharing", "50");
        ksm.Write("full_scans", "1");
        var polls = 0;
        var observing = new KsmSysfs(ksm.Path);

        // Each poll reads full_scans; advance it between polls from a second reader of the same files.
        using var timer = new Timer(_ => ksm.Write("full_scans", (1 + Interlocked.Increment(ref polls)).ToString(System.Globalization.CultureInfo.InvariantCulture)), null, 20, 20);
        var result = KsmConvergence.WaitForSteadySharing(observing, null, baseline, Stopwatch.StartNew(), 0, Options(expected: 100, timeoutSeconds: 30), CancellationToken.None);

        Assert.Equal(KsmWaitOutcome.Steady, result.Outcome);
        Assert.Equal(50, result.Final.PagesSharing);

        // The scans counted to the best sharing are those seen at the first poll: 1, or more when the
        // machine is so loaded that the timer ran before the first poll (seen in CI).
        Assert.InRange(result.FullScansToSteady, 1, result.Final.FullScans - 2);
    }

    [Fact]
    public void Cancellation_stops_the_wait()
    {
        using var ksm = new FakeKsmDirectory();
        var sysfs = ksm.Sysfs();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Throws<OperationCanceledException>(() =>
            KsmConvergence.WaitForSteadySharing(sysfs, null, KsmCounters.Read(sysfs), Stopwatch.StartNew(), 0, Options(expected: 1), cancelled.Token));
    }

    private static KsmWaitOptions Options(long expected, int timeoutSeconds = 0) =>
        new(expected, TimeSpan.FromSeconds(timeoutSeconds), TimeSpan.FromMilliseconds(1));
}
