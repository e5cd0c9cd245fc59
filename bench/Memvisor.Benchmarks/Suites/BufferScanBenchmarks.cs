/*
 * Scan throughput over one buffer of mixed content (a quarter zero, half duplicates of 16 contents, a
 * quarter unique): the plain read of every byte (the baseline: BenchmarkDotNet's Ratio column is each
 * benchmark's time per page over the read's), XxHash3 of every page, and the full sharing pass on
 * Core's PageShareTable and ShareMatcher in address order and in random order (the paper scans at
 * random). All in one run, on the same buffer, reported per page.
 */
using BenchmarkDotNet.Attributes;
using Memvisor.Benchmarks.Buffer;
using Memvisor.Benchmarks.Engine;
using Memvisor.Core.Sharing;

namespace Memvisor.Benchmarks.Suites;

/// <summary>Read, hash and sharing-scan throughput over the same buffer.</summary>
[Config(typeof(ShortRunConfig))]
public class BufferScanBenchmarks : IDisposable
{
    private const int Pages = ShortRunConfig.BufferPages;

    // Reads and hashes take about 40 ms per pass over 1 GiB: four passes make an iteration long enough to time.
    private const int ReadPasses = 4;
    private MixedContentMapping? _buffer;
    private BufferSharingPass? _pass;
    private int[] _randomOrder = [];

    /// <summary>Maps and fills the buffer.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _buffer = MixedContentMapping.Create(ShortRunConfig.BufferMegabytes);
        _pass = new BufferSharingPass(_buffer.Mapping, XxHash3PageHasher.Instance);
        _randomOrder = PageOrder.Random(_buffer.PageCount, seed: 7);
    }

    /// <summary>A fresh table before every sharing pass.</summary>
    [IterationSetup(Targets = [nameof(SharingScanAddressOrder), nameof(SharingScanRandomOrder)])]
    public void ResetSharing() => _pass!.Reset();

    /// <summary>Reads every byte once.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Pages * ReadPasses)]
    public ulong ReadEveryByte()
    {
        var sum = 0UL;
        for (var pass = 0; pass < ReadPasses; pass++)
        {
            sum += ReadBandwidth.ReadAll(_buffer!.Mapping);
        }

        return sum;
    }

    /// <summary>XxHash3 of every page.</summary>
    [Benchmark(OperationsPerInvoke = Pages * ReadPasses)]
    public ulong HashEveryPage()
    {
        var mapping = _buffer!.Mapping;
        var sum = 0UL;
        for (var pass = 0; pass < ReadPasses; pass++)
        {
            for (var page = 0L; page < mapping.PageCount; page++)
            {
                sum += XxHash3PageHasher.Instance.Hash(mapping.Page(page));
            }
        }

        return sum;
    }

    /// <summary>The sharing pass, pages in address order.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public long SharingScanAddressOrder() => _pass!.Run().PagesSaved;

    /// <summary>The sharing pass, pages in a random order.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public long SharingScanRandomOrder() => _pass!.Run(_randomOrder).PagesSaved;

    /// <summary>Unmaps the buffer.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
        GC.SuppressFinalize(this);
    }
}
