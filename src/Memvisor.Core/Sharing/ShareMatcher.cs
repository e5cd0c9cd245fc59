/*
 * Content-based page sharing: finding a page's twin (paper §4.2).
 *
 * Given a candidate page and its salted hash key, walk the frames whose kept hash bits match:
 *  - a shared frame: compare the candidate's bytes with the shared machine page; equal means share;
 *  - a hint frame: hash the hinted page again. If its hash changed, the hint is stale and is removed.
 *    If its hash is still the candidate's, compare the full contents; equal means share.
 * Anything that matched on hash bits but not on bytes is counted as a collision and never shared.
 * The same walk serves the memory manager (pages of running VMs) and `memvisor scan` (pages of
 * processes and files), through IShareContentSource.
 */
using Memvisor.Core.Memory;

namespace Memvisor.Core.Sharing;

/// <summary>Where the pages named by frames live, for <see cref="ShareMatcher"/>.</summary>
public interface IShareContentSource
{
    /// <summary>The bytes of a shared frame's machine page.</summary>
    ReadOnlySpan<byte> SharedPage(Mpn mpn);

    /// <summary>
    /// Prepares to compare the page a hint names: protects it against guest writes for the duration
    /// and returns its current bytes and salted hash key. False when the page can no longer be shared
    /// (it was freed, swapped or shared meanwhile): the hint is then stale.
    /// </summary>
    bool TryBeginHintCompare(VmId vm, Ppn ppn, out ReadOnlySpan<byte> content, out ulong key);

    /// <summary>Ends a comparison begun by <see cref="TryBeginHintCompare"/> that did not lead to sharing.</summary>
    void EndHintCompare(VmId vm, Ppn ppn);

    /// <summary>A stale hint frame was removed from the table; forget it on the page's side.</summary>
    void HintDropped(VmId vm, Ppn ppn);
}

/// <summary>
/// Where the matching walk counts what it did: a struct passed by reference (the memory manager's
/// <see cref="Statistics.HostCounters"/>, or <see cref="ShareMatchCounters"/>), so a count is a field
/// increment in the owner's counters.
/// </summary>
public interface IShareMatchCounts
{
    /// <summary>A full page comparison was performed.</summary>
    void FullCompare();

    /// <summary>A frame's hash bits matched but its page's bytes differed.</summary>
    void Collision();

    /// <summary>A hint was found stale (page changed or gone) and removed.</summary>
    void StaleHint();
}

/// <summary>Counters of the matching walk alone (for the scan estimator and benchmarks).</summary>
public struct ShareMatchCounters : IShareMatchCounts
{
    /// <summary>Hints found stale (page changed or gone) and removed.</summary>
    public long StaleHints { get; set; }

    /// <summary>Frames whose hash bits matched but whose page's bytes differed.</summary>
    public long Collisions { get; set; }

    /// <summary>Full page comparisons performed.</summary>
    public long FullCompares { get; set; }

    /// <inheritdoc/>
    public void FullCompare() => FullCompares++;

    /// <inheritdoc/>
    public void Collision() => Collisions++;

    /// <inheritdoc/>
    public void StaleHint() => StaleHints++;
}

/// <summary>What <see cref="ShareMatcher.Find"/> found.</summary>
public readonly record struct ShareMatch(FrameKind Kind, int Frame)
{
    /// <summary>Nothing equal was found.</summary>
    public static readonly ShareMatch None = new(FrameKind.Free, PageShareTable.NoFrame);
}

/// <summary>The matching walk of content-based page sharing.</summary>
public static class ShareMatcher
{
    /// <summary>Salts a content hash: equal pages of different salts get different keys, so they never meet.</summary>
    /// <remarks>Multiplying by an odd constant is a bijection on 64 bits, so distinct salts give distinct keys.</remarks>
    public static ulong SaltedKey(ulong contentHash, ulong salt) => contentHash ^ (salt * 0x9E3779B97F4A7C15UL);

    /// <summary>
    /// Finds a frame whose page has exactly the bytes of <paramref name="content"/>. On a hint match
    /// the hinted page stays protected (the caller turns it into a shared page); on no match every
    /// hinted page it looked at is released again.
    /// </summary>
    public static ShareMatch Find<TCounts>(PageShareTable table, ulong key, ReadOnlySpan<byte> content, IShareContentSource source, ref TCounts counters)
        where TCounts : struct, IShareMatchCounts
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(source);
        var frame = table.FindFirst(key);
        while (frame != PageShareTable.NoFrame)
        {
            var next = table.FindNext(frame, key);
            if (table.KindOf(frame) == FrameKind.Shared)
            {
                counters.FullCompare();
                if (content.SequenceEqual(source.SharedPage(table.SharedMpn(frame))))
                {
                    return new ShareMatch(FrameKind.Shared, frame);
                }

                counters.Collision();
            }
            else
            {
                var vm = table.HintVm(frame);
                var ppn = table.HintPpn(frame);
                if (!source.TryBeginHintCompare(vm, ppn, out var hinted, out var hintedKey))
                {
                    counters.StaleHint();
                    table.Remove(frame);
                    source.HintDropped(vm, ppn);
                }
                else if (!table.HintKeyMatches(frame, hintedKey))
                {
                    // The hinted page was written since it was hashed: the hint is stale.
                    source.EndHintCompare(vm, ppn);
                    counters.StaleHint();
                    table.Remove(frame);
                    source.HintDropped(vm, ppn);
                }
                else if (hintedKey != key)
                {
                    // Same kept bits, different full hash: a different page.
                    source.EndHintCompare(vm, ppn);
                    counters.Collision();
                }
                else
                {
                    counters.FullCompare();
                    if (content.SequenceEqual(hinted))
                    {
                        return new ShareMatch(FrameKind.Hint, frame);
                    }

                    source.EndHintCompare(vm, ppn);
                    counters.Collision();
                }
            }

            frame = next;
        }

        return ShareMatch.None;
    }
}
