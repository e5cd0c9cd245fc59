/*
 * Waiting for KSM to finish merging: wall time and ksmd CPU time to steady sharing.
 *
 * ksmd merges nothing on its first pass over new memory (a page enters the unstable tree only when its
 * checksum is unchanged since the previous pass), so "pages_sharing has not grown for a while" must
 * not be judged before sharing started. The wait ends when the pages saved reach the expected number,
 * or when they have not grown for SteadyFullScans further full scans, or at the timeout. The time and
 * CPU reported are those at the last growth: when sharing became complete, not when we noticed.
 * Counters are taken relative to a baseline, so that pages merged elsewhere do not count.
 */
using System.Diagnostics;

namespace Memvisor.Linux.Ksm;

/// <summary>When to stop waiting for KSM.</summary>
/// <param name="ExpectedPagesSaved">Pages saved at full sharing (relative to the baseline).</param>
/// <param name="Timeout">The longest wait.</param>
/// <param name="PollInterval">Time between readings.</param>
/// <param name="SteadyFullScans">Full scans without growth that count as steady.</param>
public sealed record KsmWaitOptions(long ExpectedPagesSaved, TimeSpan Timeout, TimeSpan PollInterval, int SteadyFullScans = 2);

/// <summary>How KSM's merging went.</summary>
/// <param name="Outcome">Why the wait ended.</param>
/// <param name="WallTimeToSteady">From start to the last growth of the pages saved.</param>
/// <param name="KsmdCpuNanosecondsToSteady">ksmd's CPU time from start to the last growth.</param>
/// <param name="Final">The last counters read, minus the baseline for the page counts.</param>
/// <param name="FullScansToSteady">Full scans completed by the last growth.</param>
public sealed record KsmWaitResult(KsmWaitOutcome Outcome, TimeSpan WallTimeToSteady, long KsmdCpuNanosecondsToSteady, KsmCounters Final, long FullScansToSteady);

/// <summary>Why the wait for KSM ended.</summary>
public enum KsmWaitOutcome
{
    /// <summary>The expected pages were saved.</summary>
    ReachedExpected,

    /// <summary>Sharing stopped growing below the expectation.</summary>
    Steady,

    /// <summary>The timeout passed.</summary>
    TimedOut,
}

/// <summary>Polls KSM's counters until sharing is complete.</summary>
public static class KsmConvergence
{
    /// <summary>
    /// Waits for sharing to complete. Call right after ksmd was started; <paramref name="started"/> and
    /// <paramref name="ksmdCpuAtStartNanoseconds"/> are the wall clock and ksmd CPU just before run=1.
    /// </summary>
    public static KsmWaitResult WaitForSteadySharing(
        KsmSysfs sysfs,
        KernelThreadCpu? ksmd,
        KsmCounters baseline,
        Stopwatch started,
        long ksmdCpuAtStartNanoseconds,
        KsmWaitOptions options,
        CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(sysfs);
        ArgumentNullException.ThrowIfNull(started);
        ArgumentNullException.ThrowIfNull(options);
        var bestSaved = 0L;
        var wallAtBest = TimeSpan.Zero;
        var cpuAtBest = 0L;
        var scansAtBest = 0L;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            Thread.Sleep(options.PollInterval);
            var now = KsmCounters.Read(sysfs);
            var elapsed = started.Elapsed;
            var relative = Relative(now, baseline);
            var scans = relative.FullScans;
            if (relative.PagesSaved > bestSaved)
            {
                bestSaved = relative.PagesSaved;
                wallAtBest = elapsed;
                cpuAtBest = (ksmd?.CpuNanoseconds() ?? 0) - ksmdCpuAtStartNanoseconds;
                scansAtBest = scans;
            }

            KsmWaitOutcome? outcome = bestSaved >= options.ExpectedPagesSaved ? KsmWaitOutcome.ReachedExpected
                : bestSaved > 0 && scans - scansAtBest >= options.SteadyFullScans ? KsmWaitOutcome.Steady
                : elapsed >= options.Timeout ? KsmWaitOutcome.TimedOut
                : null;
            if (outcome is { } done)
            {
                return new KsmWaitResult(done, wallAtBest, cpuAtBest, relative, scansAtBest);
            }
        }
    }

    private static KsmCounters Relative(KsmCounters now, KsmCounters baseline) => new(
        now.PagesShared - baseline.PagesShared,
        now.PagesSharing - baseline.PagesSharing,
        now.PagesUnshared - baseline.PagesUnshared,
        now.PagesVolatile - baseline.PagesVolatile,
        now.FullScans - baseline.FullScans,
        now.KsmZeroPages - baseline.KsmZeroPages);
}
