/*
 * One pass of content-based page sharing (paper §4) over a buffer of pages, on Core's PageShareTable
 * and ShareMatcher directly: hash each page, look for an equal shared page or hinted page, and share
 * (shared frame: one more reference; hint: the hinted page becomes a shared frame with two), or leave
 * a hint. The buffer stands for one VM's memory with PPN = page index = MPN; "sharing" a page records
 * the MPN it would map to and counts the page saved. Remapping the guest and freeing the redundant
 * page are the substrate's work and are not part of this pass (the memory-manager benchmarks include
 * Core's pmap work).
 *
 * Hot path: no allocation (the table and the per-page array are made once per pass object).
 */
using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Native;

namespace Memvisor.Benchmarks.Engine;

/// <summary>What a sharing pass achieved.</summary>
/// <param name="PagesScanned">Pages hashed and looked up.</param>
/// <param name="SharedPages">Shared frames at the end: machine pages backing shared content.</param>
/// <param name="PagesSaved">Pages that now map another page's copy.</param>
/// <param name="MetadataBytes">Bytes of the page-sharing table.</param>
internal readonly record struct SharingPassResult(long PagesScanned, long SharedPages, long PagesSaved, long MetadataBytes);

/// <summary>Shares the pages of a mapping with Core's table and matcher.</summary>
internal sealed class BufferSharingPass : IShareContentSource
{
    private static readonly VmId Vm = new(1);
    private readonly AnonymousMapping _memory;
    private readonly IPageHasher _hasher;
    private readonly uint[] _mappedMpn;
    private ShareMatchCounters _counters;
    private PageShareTable _table;
    private long _saved;

    /// <summary>Prepares a pass over every page of <paramref name="memory"/>.</summary>
    public BufferSharingPass(AnonymousMapping memory, IPageHasher hasher)
    {
        _memory = memory;
        _hasher = hasher;
        _mappedMpn = new uint[checked((int)memory.PageCount)];
        _table = new PageShareTable(_mappedMpn.Length);
        Reset();
    }

    /// <summary>The matcher's counters of the last pass.</summary>
    public ShareMatchCounters Counters => _counters;

    /// <summary>Forgets all sharing (a fresh table), ready for another pass.</summary>
    public void Reset()
    {
        _table = new PageShareTable(_mappedMpn.Length);
        Array.Fill(_mappedMpn, Mpn.None.Value);
        _saved = 0;
        _counters = default;
    }

    /// <summary>Scans every page once, in <paramref name="order"/> (page indices) or in address order when null.</summary>
    public SharingPassResult Run(int[]? order = null)
    {
        var pages = _mappedMpn.Length;
        for (var i = 0; i < pages; i++)
        {
            ScanPage(order is null ? i : order[i]);
        }

        return new SharingPassResult(pages, _table.SharedCount, _saved, _table.MetadataBytes);
    }

    /// <summary>Tries to share page <paramref name="page"/>.</summary>
    public void ScanPage(int page)
    {
        if (_mappedMpn[page] != Mpn.None.Value)
        {
            return;
        }

        ReadOnlySpan<byte> content = _memory.Page(page);
        var key = _hasher.Hash(content);
        var match = ShareMatcher.Find(_table, key, content, this, ref _counters);
        switch (match.Kind)
        {
            case FrameKind.Shared:
                _table.SetRefCount(match.Frame, _table.RefCount(match.Frame) + 1);
                _mappedMpn[page] = _table.SharedMpn(match.Frame).Value;
                _saved++;
                break;
            case FrameKind.Hint:
                var hinted = _table.HintPpn(match.Frame).Value;
                _table.Remove(match.Frame);
                _table.AddShared(key, new Mpn(hinted), 2);
                _mappedMpn[hinted] = hinted;
                _mappedMpn[page] = hinted;
                _saved++;
                break;
            default:
                _table.AddHint(key, Vm, new Ppn((uint)page));
                break;
        }
    }

    /// <inheritdoc/>
    public ReadOnlySpan<byte> SharedPage(Mpn mpn) => _memory.Page(mpn.Value);

    /// <inheritdoc/>
    public bool TryBeginHintCompare(VmId vm, Ppn ppn, out ReadOnlySpan<byte> content, out ulong key)
    {
        if (_mappedMpn[ppn.Value] != Mpn.None.Value)
        {
            content = default;
            key = 0;
            return false;
        }

        content = _memory.Page(ppn.Value);
        key = _hasher.Hash(content);
        return true;
    }

    /// <inheritdoc/>
    public void EndHintCompare(VmId vm, Ppn ppn)
    {
        // Nothing to unprotect: the buffer is not written during a pass.
    }

    /// <inheritdoc/>
    public void HintDropped(VmId vm, Ppn ppn)
    {
        // The pass keeps no per-page hint state.
    }
}
