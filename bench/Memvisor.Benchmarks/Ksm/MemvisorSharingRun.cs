/*
 * Memvisor's side of the side-by-side, on the same mapping KSM will merge:
 *  - the references: plain read bandwidth and XxHash3 throughput over the buffer;
 *  - the memory manager: a VM whose guest page i lives at page i of the mapping is filled with the
 *    mix through faults, then every page is offered to MemoryManager.TryShare once (address order),
 *    with freed pages kept, or released to the host with MADV_DONTNEED in batches (what a real
 *    substrate must do to turn sharing into free host memory, as KSM does);
 *  - the sharing table and matcher alone over the buffer (no pmap, no guest mapping).
 * Each is one warm-up pass (so that measured passes run optimised code) and N measured passes from
 * a fresh state; wall time and process CPU time (clock_gettime) per pass, medians reported.
 */
using System.Diagnostics;
using Memvisor.Benchmarks.Buffer;
using Memvisor.Benchmarks.Engine;
using Memvisor.Core.Sharing;
using Memvisor.Native;

namespace Memvisor.Benchmarks.Ksm;

/// <summary>One timed pass.</summary>
internal readonly record struct TimedPass(double WallSeconds, double CpuSeconds);

/// <summary>What one engine achieved on the buffer.</summary>
internal sealed record SharingFigures(
    string Engine,
    TimedPass WarmUp,
    IReadOnlyList<TimedPass> Passes,
    double MedianWallSeconds,
    double MedianCpuSeconds,
    double ScanPagesPerSecond,
    long SharedPages,
    long PagesSaved,
    long MetadataBytes,
    double MetadataBytesPerMachinePage);

/// <summary>Measures the references and Memvisor's sharing.</summary>
internal static class MemvisorSharingRun
{
    /// <summary>Median pages/s of <paramref name="repeats"/> plain reads of the buffer.</summary>
    public static double ReadPagesPerSecond(MixedContentMapping buffer, int repeats) =>
        Median(repeats, () => ReadBandwidth.ReadAll(buffer.Mapping), buffer.PageCount);

    /// <summary>Median pages/s of <paramref name="repeats"/> XxHash3 passes over the buffer.</summary>
    public static double HashPagesPerSecond(MixedContentMapping buffer, int repeats) =>
        Median(repeats, () => HashAll(buffer), buffer.PageCount);

    /// <summary>MemoryManager.TryShare over a VM filled with the buffer's content, in the buffer's memory.</summary>
    public static SharingFigures MeasureManager(MixedContentMapping buffer, int passes, ReleaseMode release)
    {
        ManagerHost? last = null;
        var figures = Measure(
            release switch
            {
                ReleaseMode.Keep => "MemoryManager.TryShare",
                ReleaseMode.PerPage => "MemoryManager.TryShare + release (madvise per page)",
                _ => "MemoryManager.TryShare + release (process_madvise x1024)",
            },
            passes,
            buffer.PageCount,
            prepare: () =>
            {
                last?.Dispose();
                last = ManagerHost.Create(buffer.Mapping, release);
                last.FillGuest(buffer.Content);
            },
            pass: () => last!.ShareAll(),
            outcome: () => (last!.Manager.ShareTable.SharedCount, last.Manager.Pool.FreePages, last.Manager.ShareTable.MetadataBytes));
        last?.Dispose();
        return figures;
    }

    /// <summary>The sharing table and matcher alone over the buffer.</summary>
    public static SharingFigures MeasureTableOnly(MixedContentMapping buffer, int passes)
    {
        var pass = new BufferSharingPass(buffer.Mapping, XxHash3PageHasher.Instance);
        SharingPassResult result = default;
        return Measure(
            "PageShareTable + ShareMatcher only",
            passes,
            buffer.PageCount,
            prepare: pass.Reset,
            pass: () => result = pass.Run(),
            outcome: () => (result.SharedPages, result.PagesSaved, result.MetadataBytes));
    }

    private static SharingFigures Measure(string engine, int passes, int pages, Action prepare, Action pass, Func<(long Shared, long Saved, long MetadataBytes)> outcome)
    {
        prepare();
        var warmUp = Time(pass);
        var timed = new List<TimedPass>();
        for (var i = 0; i < passes; i++)
        {
            prepare();
            timed.Add(Time(pass));
        }

        var (shared, saved, metadata) = outcome();
        var wall = timed.Select(p => p.WallSeconds).Order().ElementAt(timed.Count / 2);
        var cpu = timed.Select(p => p.CpuSeconds).Order().ElementAt(timed.Count / 2);
        return new SharingFigures(engine, warmUp, timed, wall, cpu, pages / wall, shared, saved, metadata, (double)metadata / pages);
    }

    private static TimedPass Time(Action pass)
    {
        var cpuBefore = CpuClock.ProcessCpuNanoseconds();
        var wall = Stopwatch.StartNew();
        pass();
        wall.Stop();
        var cpu = CpuClock.ProcessCpuNanoseconds() - cpuBefore;
        return new TimedPass(wall.Elapsed.TotalSeconds, cpu / 1e9);
    }

    private static ulong HashAll(MixedContentMapping buffer)
    {
        var sum = 0UL;
        for (var page = 0; page < buffer.PageCount; page++)
        {
            sum += XxHash3PageHasher.Instance.Hash(buffer.Mapping.Page(page));
        }

        return sum;
    }

    private static double Median(int repeats, Func<ulong> run, int pages)
    {
        var seconds = new double[repeats];
        var sink = 0UL;
        for (var i = 0; i < repeats; i++)
        {
            var wall = Stopwatch.StartNew();
            sink += run();
            seconds[i] = wall.Elapsed.TotalSeconds;
        }

        GC.KeepAlive(sink);
        Array.Sort(seconds);
        return pages / seconds[repeats / 2];
    }
}
