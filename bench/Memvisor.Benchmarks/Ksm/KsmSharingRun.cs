/*
 * KSM's side of the side-by-side: Linux KSM merging the same buffer (anonymous memory, MADV_MERGEABLE)
 * with pages_to_scan high and sleep_millisecs 0; wall time and ksmd CPU time until sharing is steady;
 * then the cost of a write to a merged page (KSM's COW break). Every knob is restored afterwards,
 * also on failure or Ctrl+C, and all writable knobs are read before and after so the caller can show
 * that KSM was left as found. A journal in the temp directory repairs a run killed before restoring.
 */
using System.Diagnostics;
using Memvisor.Benchmarks.Buffer;
using Memvisor.Testing;
using Memvisor.Linux.Ksm;
using Memvisor.Native;

namespace Memvisor.Benchmarks.Ksm;

/// <summary>KSM's figures on the buffer.</summary>
internal sealed record KsmFigures(
    string Outcome,
    double WallSecondsToSteady,
    double? KsmdCpuSecondsToSteady,
    long FullScansToSteady,
    long PagesShared,
    long PagesSharing,
    long? KsmZeroPages,
    long PagesSaved,
    SharingExpectation Expected,
    long MaxPageSharing,
    int PagesToScan,
    double? CowBreakMicroseconds,
    IReadOnlyDictionary<string, string> KnobsBefore,
    IReadOnlyDictionary<string, string> KnobsAfter,
    bool KnobsRestored);

/// <summary>Runs KSM on the buffer and restores it.</summary>
internal static class KsmSharingRun
{
    private const int CowBreakSamplePages = 4096;

    /// <summary>Merges <paramref name="buffer"/> with KSM; null with <paramref name="reason"/> when KSM cannot be driven here.</summary>
    public static KsmFigures? Measure(MixedContentMapping buffer, SideBySideOptions options, TextWriter log, CancellationToken cancellation, out string? reason)
    {
        reason = KsmSysfs.WhyNotWritable(options.KsmDirectory);
        if (reason is not null)
        {
            return null;
        }

        // ksmd merges every registered process and bills it all to itself: with another one registered
        // (QEMU guests are, by default) its CPU time would not be this buffer's.
        var others = KsmProcesses.Registered("/proc", Environment.ProcessId);
        if (others.Count > 0)
        {
            reason = $"refused: {others.Count} other process(es) are registered with KSM ({string.Join(", ", others.Take(5).Select(p => $"{p.Command} pid {p.Pid}"))}); ksmd would merge and bill their pages too, so its CPU time would not measure this buffer. Stop them, or run with --skip-ksm.";
            return null;
        }

        var sysfs = Sysfs(options, log);
        IReadOnlyDictionary<string, string> before;
        var ksmdPid = KernelThreadCpu.FindKernelThread("ksmd");
        var ksmd = ksmdPid is { } pid ? new KernelThreadCpu(pid, CpuClock.ClockTicksPerSecond()) : null;
        var maxPageSharing = sysfs.ReadNumberIfPresent(KsmKnob.MaxPageSharing) ?? long.MaxValue;
        var expected = buffer.Content.ExpectedWithMaxSharing(maxPageSharing);

        KsmWaitResult result;
        double? cowBreak = null;
        // A journal in the temp folder survives a killed run; the next controller restores it (and says so).
        using (var controller = new KsmController(sysfs, Path.GetTempPath()))
        {
            foreach (var line in controller.Recovered)
            {
                log.WriteLine(line);
            }

            // Read once a killed run's changes are undone: what the controller will restore.
            before = ReadWritableKnobs(sysfs);
            try
            {
                controller.Set(KsmKnob.PagesToScan, options.PagesToScan);
                controller.Set(KsmKnob.SleepMilliseconds, 0);
                var baseline = KsmCounters.Read(sysfs);
                var cpuAtStart = ksmd?.CpuNanoseconds() ?? 0;
                var started = Stopwatch.StartNew();
                buffer.Mapping.Advise(MemoryAdvice.Mergeable);
                controller.Set(KsmKnob.Run, 1);
                var wait = new KsmWaitOptions(expected.PagesSaved, TimeSpan.FromSeconds(options.TimeoutSeconds), TimeSpan.FromMilliseconds(5));
                result = KsmConvergence.WaitForSteadySharing(sysfs, ksmd, baseline, started, cpuAtStart, wait, cancellation);
                if (result.Outcome != KsmWaitOutcome.TimedOut)
                {
                    cowBreak = MeasureCowBreakMicroseconds(buffer);
                }
            }
            finally
            {
                if (!controller.NothingMergedAtStart)
                {
                    // Other pages were merged before we started: run=2 would unmerge them too, so unmerge only ours.
                    buffer.Mapping.Advise(MemoryAdvice.Unmergeable);
                }
            }
        }

        var after = ReadWritableKnobs(sysfs);
        return new KsmFigures(
            result.Outcome.ToString(),
            result.WallTimeToSteady.TotalSeconds,
            ksmd is null ? null : result.KsmdCpuNanosecondsToSteady / 1e9,
            result.FullScansToSteady,
            result.Final.PagesShared,
            result.Final.PagesSharing,
            result.Final.KsmZeroPages,
            result.Final.PagesSaved,
            expected,
            maxPageSharing,
            options.PagesToScan,
            cowBreak,
            before,
            after,
            before.Count == after.Count && before.All(kv => after.TryGetValue(kv.Key, out var v) && v == kv.Value));
    }

    /// <summary>Every knob of the directory that its owner may write, with its value.</summary>
    public static IReadOnlyDictionary<string, string> ReadWritableKnobs(KsmSysfs sysfs)
    {
        var knobs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(sysfs.Directory))
        {
            if ((File.GetUnixFileMode(path) & UnixFileMode.UserWrite) != 0)
            {
                knobs[Path.GetFileName(path)] = sysfs.Read(Path.GetFileName(path));
            }
        }

        return knobs;
    }

    private static KsmSysfs Sysfs(SideBySideOptions options, TextWriter log) =>
        new(options.KsmDirectory, options.Verbose ? (knob, value) => log.WriteLine($"  ksm: {knob} <- {value}") : null);

    /// <summary>Mean cost of the first write to a merged page (a sample of duplicate pages).</summary>
    private static double MeasureCowBreakMicroseconds(MixedContentMapping buffer)
    {
        var written = 0;
        var wall = Stopwatch.StartNew();
        for (var page = 0; page < buffer.PageCount && written < CowBreakSamplePages; page++)
        {
            if (buffer.Content.KindOf(page) == PageContentKind.Duplicate)
            {
                buffer.Mapping.Page(page)[64]++;
                written++;
            }
        }

        return written == 0 ? 0 : wall.Elapsed.TotalMicroseconds / written;
    }
}
