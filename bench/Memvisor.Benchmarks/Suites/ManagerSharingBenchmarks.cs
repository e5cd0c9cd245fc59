/*
 * Sharing through the memory manager (paper §4): a 1 GiB VM filled with the mixed content (a quarter
 * zero, half duplicates of 16 contents, a quarter unique) through faults, then every page offered to
 * MemoryManager.TryShare once: hashing, table lookup, full compare, pmap and guest-mapping updates,
 * freeing the redundant machine page. In address order, in random order (as the paper's scanner),
 * and in address order with freed pages released to the host (MADV_DONTNEED through process_madvise,
 * 1024 pages a call), as a real substrate must. Each iteration starts from a freshly filled VM (set
 * up outside the measurement).
 */
using BenchmarkDotNet.Attributes;
using Memvisor.Benchmarks.Buffer;
using Memvisor.Benchmarks.Engine;
using Memvisor.Testing;

namespace Memvisor.Benchmarks.Suites;

/// <summary>MemoryManager.TryShare throughput over a 1 GiB VM.</summary>
[Config(typeof(ShortRunConfig))]
public class ManagerSharingBenchmarks : ManagerSuite
{
    private const int Pages = ShortRunConfig.BufferPages;
    private readonly MixedPageContent _content = new(Pages);
    private int[] _randomOrder = [];

    /// <summary>Maps the machine memory.</summary>
    [GlobalSetup]
    public void Setup()
    {
        MapMachineMemory(Pages);
        _randomOrder = PageOrder.Random(Pages, seed: 7);
    }

    /// <summary>A fresh manager and a filled VM, keeping freed pages' backing.</summary>
    [IterationSetup(Targets = [nameof(TryShareAddressOrder), nameof(TryShareRandomOrder)])]
    public void FreshVm() => Fresh(_content, ReleaseMode.Keep);

    /// <summary>A fresh manager and a filled VM, releasing freed pages to the host in batches.</summary>
    [IterationSetup(Target = nameof(TryShareAddressOrderReleasing))]
    public void FreshVmReleasing() => Fresh(_content, ReleaseMode.Batched);

    /// <summary>Every page offered once, in address order.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public long TryShareAddressOrder() => Host.ShareAll();

    /// <summary>Every page offered once, in random order.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public long TryShareRandomOrder() => Host.ShareAll(_randomOrder);

    /// <summary>Every page offered once, in address order, freed pages released to the host.</summary>
    [Benchmark(OperationsPerInvoke = Pages)]
    public long TryShareAddressOrderReleasing() => Host.ShareAll();
}
