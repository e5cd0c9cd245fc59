/*
 * The pmap (paper §2): for each VM, guest physical page number -> machine page, with flags.
 *
 * Every guest page is in exactly one state. The entry's Value is the MPN (private, shared) or the swap
 * slot (swapped); Frame is the share-table frame: the shared frame a shared page maps, or the hint
 * frame a private page left when it was scanned (NoFrame if none), so that the hint can be dropped
 * as soon as the page stops being private.
 */
using Memvisor.Core.Sharing;

namespace Memvisor.Core.Memory;

/// <summary>The state of one guest physical page.</summary>
public enum PageState : byte
{
    /// <summary>Never touched since power-on (or given back by the balloon): no backing at all.</summary>
    Untouched = 0,

    /// <summary>Backed by a machine page of its own, mapped writable.</summary>
    Private = 1,

    /// <summary>Maps a shared machine page copy-on-write.</summary>
    Shared = 2,

    /// <summary>Its contents are in a host swap slot.</summary>
    Swapped = 3,

    /// <summary>Handed to the host by the guest's balloon driver: no backing; the guest promised not to use it.</summary>
    Ballooned = 4,
}

/// <summary>Extra marks on a pmap entry.</summary>
[Flags]
public enum PageMarks : byte
{
    /// <summary>No marks.</summary>
    None = 0,

    /// <summary>A shared page whose contents are all zero.</summary>
    Zero = 1,

    /// <summary>Temporarily write-protected while the sharing scanner compares it.</summary>
    Comparing = 2,

    /// <summary>Chosen as a swap victim in the batch being written.</summary>
    SwapPending = 4,

    /// <summary>Mapping invalidated so that the next guest access is counted (working-set sampling).</summary>
    Sampled = 8,
}

/// <summary>One pmap entry (internal: it is mutated in place through refs).</summary>
internal struct PmapEntry
{
    /// <summary>MPN (private, shared) or swap slot (swapped).</summary>
    public uint Value;

    /// <summary>Share-table frame: the shared frame (shared) or this page's hint (private); else NoFrame.</summary>
    public int Frame;

    /// <summary>The page's state.</summary>
    public PageState State;

    /// <summary>Marks.</summary>
    public PageMarks Flags;

    /// <summary>The machine page of a private or shared page.</summary>
    public readonly Mpn Mpn => new(Value);

    /// <summary>True for private and shared pages (backed by a machine page).</summary>
    public readonly bool IsResident => State is PageState.Private or PageState.Shared;

    /// <summary>An entry for a page that was never touched.</summary>
    public static PmapEntry Untouched => new() { Frame = PageShareTable.NoFrame };
}

/// <summary>A read-only view of one guest page's pmap entry.</summary>
/// <param name="State">The page's state.</param>
/// <param name="Mpn">The machine page (private, shared), else <see cref="Mpn.None"/>.</param>
/// <param name="Marks">Marks on the entry.</param>
public readonly record struct PageInfo(PageState State, Mpn Mpn, PageMarks Marks);
