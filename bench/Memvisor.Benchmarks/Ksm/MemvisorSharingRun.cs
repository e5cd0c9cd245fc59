/*
 * Memvisor's side of the side-by-side: wall and process CPU time of full sharing passes over the
 * buffer (one warm-up pass, so that the measured passes run JIT-optimised code, then N measured
 * passes on a fresh table each); plus the references measured on the same buffer in the same run:
 * plain read bandwidth and XxHash3 throughput.
 */
using System.Diagnostics;
using Memvisor.Benchmarks.Buffer;
using Memvisor.Benchmarks.Engine;
using Memvisor.Core.Sharing;
using Memvisor.Kvm.Native;

namespace Memvisor.Benchmarks.Ksm;

/// <summary>One timed pass.</summary>
internal readonly record struct TimedPass(double WallSeconds, double CpuSeconds);

/// <summary>Memvisor's figures on the buffer.</summary>
internal sealed record MemvisorFigures(
    IReadOnlyList<TimedPass> Passes,
    TimedPass WarmUp,
    double MedianWallSeconds,
    double MedianCpuSeconds,
    double ScanPagesPerSecond,
    long SharedPages,
    long PagesSaved,
    long MetadataBytes,
    double MetadataBytesPerMachinePage,
    long FullCompares,
    long Collisions);

/// <summary>Measures the references and Memvisor's sharing pass.</summary>
internal static class MemvisorSharingRun
{
    /// <summary>Median pages/s of <paramref name="repeats"/> plain reads of the buffer.</summary>
    public static double ReadPagesPerSecond(MixedContentMapping buffer, int repeats) =>
        Median(repeats, () => ReadBandwidth.ReadAll(buffer.Mapping), buffer.PageCount);

    /// <summary>Median pages/s of <paramref name="repeats"/> XxHash3 passes over the buffer.</summary>
    public static double HashPagesPerSecond(MixedContentMapping buffer, int repeats) =>
        Median(repeats, () => HashAll(buffer), buffer.PageCount);

    /// <summary>One warm-up and <paramref name="passes"/> measured sharing passes.</summary>
    public static MemvisorFigures Measure(MixedContentMapping buffer, int passes)
    {
        var pass = new BufferSharingPass(buffer.Mapping, XxHash3PageHasher.Instance);
        var warmUp = Time(pass, out _);
        var timed = new List<TimedPass>();
        SharingPassResult result = default;
        for (var i = 0; i < passes; i++)
        {
            pass.Reset();
            timed.Add(Time(pass, out result));
        }

        var wall = timed.Select(p => p.WallSeconds).Order().ElementAt(timed.Count / 2);
        var cpu = timed.Select(p => p.CpuSeconds).Order().ElementAt(timed.Count / 2);
        return new MemvisorFigures(
            timed,
            warmUp,
            wall,
            cpu,
            buffer.PageCount / wall,
            result.SharedPages,
            result.PagesSaved,
            result.MetadataBytes,
            (double)result.MetadataBytes / buffer.PageCount,
            pass.Counters.FullCompares,
            pass.Counters.Collisions);
    }

    private static TimedPass Time(BufferSharingPass pass, out SharingPassResult result)
    {
        var cpuBefore = CpuClock.ProcessCpuNanoseconds();
        var wall = Stopwatch.StartNew();
        result = pass.Run();
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
