/*
 * Costs per page of the manager's fault paths, each iteration from a fresh VM set up outside the
 * measurement:
 *  - COW break (paper §4.1): a 1 GiB VM of the mixed content is shared, then the guest writes one byte
 *    to each of its 196,608 shared pages (zero and duplicate pages): fault -> allocate -> copy -> remap;
 *  - swap-out (§3.3): all pages of a 256 MiB VM of unique pages swapped out in random order, batched
 *    writes to the swap file (after a failed share attempt each: swap-out always tries sharing first);
 *  - swap-in: after that, the guest reads each page: fault -> allocate -> read the slot -> checksum.
 * The swap file is a real file in the temp folder, so swap I/O goes through the page cache.
 */
using BenchmarkDotNet.Attributes;
using Memvisor.Benchmarks.Engine;
using Memvisor.Testing;
using Memvisor.Core.Memory;

namespace Memvisor.Benchmarks.Suites;

/// <summary>COW break, swap-out and swap-in cost per page.</summary>
[Config(typeof(ShortRunConfig))]
public class CowAndSwapBenchmarks : ManagerSuite
{
    private const int CowPages = ShortRunConfig.BufferPages;
    private const int SharedPages = CowPages / 4 * 3;
    private const int SwapPages = 256 * 256;
    private Ppn[] _targets = [];

    /// <summary>Maps the machine memory for the COW break.</summary>
    [GlobalSetup(Target = nameof(CowBreak))]
    public void SetupCow() => MapMachineMemory(CowPages);

    /// <summary>Maps the machine memory for swapping.</summary>
    [GlobalSetup(Targets = [nameof(SwapOut), nameof(SwapIn)])]
    public void SetupSwap() => MapMachineMemory(SwapPages);

    /// <summary>A VM whose zero and duplicate pages are all shared.</summary>
    [IterationSetup(Target = nameof(CowBreak))]
    public void SharedVm()
    {
        Fresh(new MixedPageContent(CowPages), ReleaseMode.Keep);
        Host.ShareAll();
        _targets = Host.PagesIn(PageState.Shared);
        Check(_targets.Length == SharedPages, $"{_targets.Length} shared pages, expected {SharedPages}");
    }

    /// <summary>A VM of unique pages, all resident.</summary>
    [IterationSetup(Target = nameof(SwapOut))]
    public void UniqueVm() => Fresh(UniqueContent(), ReleaseMode.Keep, swappable: true);

    /// <summary>A VM of unique pages, all swapped out.</summary>
    [IterationSetup(Target = nameof(SwapIn))]
    public void SwappedVm()
    {
        Fresh(UniqueContent(), ReleaseMode.Keep, swappable: true);
        Host.Manager.SwapOut(Host.Guest.Id, SwapPages);
        _targets = Host.PagesIn(PageState.Swapped);
        Check(_targets.Length == SwapPages, $"{_targets.Length} swapped pages, expected {SwapPages}");
    }

    /// <summary>One guest write to each shared page.</summary>
    [Benchmark(OperationsPerInvoke = SharedPages)]
    public int CowBreak()
    {
        var guest = Host.Guest;
        foreach (var ppn in _targets)
        {
            guest.PageForWrite(ppn)[0]++;
        }

        return _targets.Length;
    }

    /// <summary>Every page swapped out.</summary>
    [Benchmark(OperationsPerInvoke = SwapPages)]
    public int SwapOut() => Host.Manager.SwapOut(Host.Guest.Id, SwapPages).SwappedOut;

    /// <summary>One guest read of each swapped page.</summary>
    [Benchmark(OperationsPerInvoke = SwapPages)]
    public int SwapIn()
    {
        var guest = Host.Guest;
        var sum = 0;
        foreach (var ppn in _targets)
        {
            sum += guest.PageForRead(ppn)[8];
        }

        return sum;
    }

    private static MixedPageContent UniqueContent() => new(SwapPages, zeroFraction: 0, duplicateFraction: 0);

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Benchmark set-up went wrong: {what}.");
        }
    }
}
