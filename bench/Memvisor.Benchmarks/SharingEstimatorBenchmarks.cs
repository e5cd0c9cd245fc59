/*
 * The hot loop of `memvisor scan` (paper §4): hash, table lookup and, on a match, a full compare, per
 * page, through SharingEstimator, on pages held in memory so that no I/O is measured. The mix is a
 * host's: a quarter zero pages, a third copies of a few thousand contents, the rest unique.
 */
using BenchmarkDotNet.Attributes;
using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;

namespace Memvisor.Benchmarks;

[MemoryDiagnoser]
public class SharingEstimatorBenchmarks
{
    private const int PageSize = PageGeometry.PageSizeBytes;
    private MemoryPageSource[] _sources = [];

    [Params(65_536)]
    public int Pages { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var common = new byte[4096 * PageSize];
        random.NextBytes(common);
        _sources = new MemoryPageSource[4];
        for (var s = 0; s < _sources.Length; s++)
        {
            var bytes = new byte[Pages / _sources.Length * PageSize];
            for (var p = 0; p < bytes.Length / PageSize; p++)
            {
                var page = bytes.AsSpan(p * PageSize, PageSize);
                switch (random.Next(12))
                {
                    case < 3:
                        break; // zero
                    case < 7:
                        common.AsSpan(random.Next(4096) * PageSize, PageSize).CopyTo(page);
                        break;
                    default:
                        random.NextBytes(page);
                        break;
                }
            }

            _sources[s] = new MemoryPageSource($"source {s}", bytes);
        }
    }

    [Benchmark]
    public long Estimate() => SharingEstimator.Run(_sources).Total.PagesSaved;

    private sealed class MemoryPageSource(string name, byte[] bytes) : IScanPageSource
    {
        public string Name => name;

        public long PageCount => bytes.Length / PageSize;

        public ScanSourceFacts Facts => default;

        public PageRun ReadPages(long firstIndex, Span<byte> buffer)
        {
            var count = (int)Math.Min(buffer.Length / PageSize, PageCount - firstIndex);
            bytes.AsSpan((int)firstIndex * PageSize, count * PageSize).CopyTo(buffer);
            return PageRun.Read(count);
        }
    }
}
