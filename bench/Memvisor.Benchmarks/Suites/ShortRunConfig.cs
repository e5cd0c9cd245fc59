/*
 * The BenchmarkDotNet job every suite uses: one launch, one warm-up and five measured iterations of
 * one invocation each. Every benchmark here walks a whole buffer (about 0.1-1 s per invocation on
 * 1 GiB), so one invocation per iteration is precise enough, and a full run stays within minutes on a
 * 2-core machine. Results are reported per page (OperationsPerInvoke = pages in the buffer).
 * The job runs in process (InProcessEmitToolchain): on a shared 2-core machine a separate benchmark
 * build per run took over BenchmarkDotNet's two-minute build timeout, and every benchmark here sets up
 * its own state, so the isolation a child process buys matters little.
 */
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Memvisor.Benchmarks.Suites;

/// <summary>A short, fixed job for whole-buffer benchmarks.</summary>
internal sealed class ShortRunConfig : ManualConfig
{
    /// <summary>Buffer size of every suite: 1 GiB, as the issue asks.</summary>
    public const int BufferMegabytes = 1024;

    /// <summary>Pages in the buffer: the OperationsPerInvoke of every whole-buffer benchmark.</summary>
    public const int BufferPages = BufferMegabytes * 256;

    public ShortRunConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(1)
            .WithIterationCount(5)
            .WithInvocationCount(1)
            .WithUnrollFactor(1)
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("short"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(new PagesPerSecondColumn());
        HideColumns(Column.Error, Column.StdDev);
    }
}
