/*
 * Machine memory for the benchmarks: the pages of one anonymous mapping, MPN = page index.
 *
 * The memory manager allocates a VM's page where the substrate prefers; this substrate prefers MPN =
 * PPN, so a single VM's guest page i lives at page i of the mapping: the very bytes and addresses
 * Linux KSM merges in the side-by-side. Freed pages can be given back to the host (MADV_DONTNEED), as
 * a real substrate must do to turn sharing into free host memory (the KVM substrate punches holes in
 * its memfd): one madvise per page, or in batches of 1024 pages per process_madvise call (one TLB
 * flush per batch). A batched page that is allocated again before its batch goes out is taken out of
 * the batch (the pool touches every page it hands out, through GetPage), so a reused page is never
 * released under its new owner. Flush sends the last partial batch.
 */
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Native;

namespace Memvisor.Benchmarks.Engine;

/// <summary>What happens to the backing of a freed machine page.</summary>
internal enum ReleaseMode
{
    /// <summary>Kept (as the simulator does).</summary>
    Keep,

    /// <summary>Released at once, one madvise(MADV_DONTNEED) per page.</summary>
    PerPage,

    /// <summary>Released in batches of up to 1024 pages per process_madvise(MADV_DONTNEED).</summary>
    Batched,
}

/// <summary>Machine pages backed by an <see cref="AnonymousMapping"/>.</summary>
internal sealed class MappingMachineMemory : IMachineMemory
{
    private const int BatchPages = 1024;
    private readonly AnonymousMapping _mapping;
    private readonly ReleaseMode _release;
    private readonly byte[] _pageState;
    private readonly uint[] _batch = new uint[BatchPages];
    private int _batchCount;
    private long _releasedCount;

    /// <summary>Serves the pages of <paramref name="mapping"/>, releasing freed pages as <paramref name="release"/> says.</summary>
    public MappingMachineMemory(AnonymousMapping mapping, ReleaseMode release)
    {
        _mapping = mapping;
        _release = release;
        PageCount = checked((int)mapping.PageCount);
        _pageState = new byte[PageCount];
    }

    private enum PageBacking : byte
    {
        InUse = 0,
        Pending = 1,
        Released = 2,
    }

    /// <inheritdoc/>
    public int PageCount { get; }

    /// <inheritdoc/>
    public long ResidentPages => PageCount - _releasedCount;

    /// <summary>Pages released to the host so far.</summary>
    public long ReleasedPages => _releasedCount;

    /// <inheritdoc/>
    public void Zero(Mpn mpn) => GetPage(mpn).Clear();

    /// <inheritdoc/>
    public Span<byte> GetPage(Mpn mpn)
    {
        switch ((PageBacking)_pageState[mpn.Value])
        {
            case PageBacking.Pending:
                // Reused before its batch went out: it must not be released any more.
                _pageState[mpn.Value] = (byte)PageBacking.InUse;
                break;
            case PageBacking.Released:
                // Touching a released page faults a fresh zero page in again.
                _pageState[mpn.Value] = (byte)PageBacking.InUse;
                _releasedCount--;
                break;
        }

        return _mapping.Page(mpn.Value);
    }

    /// <inheritdoc/>
    public Mpn PreferredPlacement(VmId vm, Ppn ppn) => ppn.Value < (uint)PageCount ? new Mpn(ppn.Value) : Mpn.None;

    /// <inheritdoc/>
    public void Discard(Mpn mpn)
    {
        if (_release == ReleaseMode.Keep || _pageState[mpn.Value] != (byte)PageBacking.InUse)
        {
            return;
        }

        if (_release == ReleaseMode.PerPage)
        {
            _mapping.Advise(MemoryAdvice.DontNeed, mpn.Value, 1);
            _pageState[mpn.Value] = (byte)PageBacking.Released;
            _releasedCount++;
            return;
        }

        _pageState[mpn.Value] = (byte)PageBacking.Pending;
        _batch[_batchCount++] = mpn.Value;
        if (_batchCount == BatchPages)
        {
            Flush();
        }
    }

    /// <summary>Releases the pages still waiting in the current batch.</summary>
    public void Flush()
    {
        var n = 0;
        for (var i = 0; i < _batchCount; i++)
        {
            var page = _batch[i];
            if (_pageState[page] == (byte)PageBacking.Pending)
            {
                _batch[n++] = page;
                _pageState[page] = (byte)PageBacking.Released;
            }
        }

        if (n > 0)
        {
            _mapping.AdvisePages(MemoryAdvice.DontNeed, _batch.AsSpan(0, n));
            _releasedCount += n;
        }

        _batchCount = 0;
    }
}
