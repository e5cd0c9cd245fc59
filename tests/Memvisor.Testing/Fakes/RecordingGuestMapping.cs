/*
 * Invariants of RecordingGuestMapping:
 *   1. One entry per PPN: the access (none, read-only, writable) and the MPN it maps (Mpn.None when
 *      the access is none). A new mapping maps nothing.
 *   2. Every call Core makes is appended to Calls in order, with its arguments (unless RecordsCalls is
 *      turned off, for tests that measure Core's allocations), before the table changes.
 *   3. A PPN beyond the guest's pages is refused (Core never asks for one: that would be a bug).
 */
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;

namespace Memvisor.Testing.Fakes;

/// <summary>Which <see cref="IGuestMapping"/> method Core called.</summary>
public enum MappingCallKind : byte
{
    /// <summary><see cref="IGuestMapping.MapWritable"/>.</summary>
    MapWritable = 0,

    /// <summary><see cref="IGuestMapping.MapReadOnly"/>.</summary>
    MapReadOnly = 1,

    /// <summary><see cref="IGuestMapping.Invalidate"/>.</summary>
    Invalidate = 2,
}

/// <summary>One call Core made on a guest mapping (<paramref name="Mpn"/> is <see cref="Mpn.None"/> for an invalidation).</summary>
public readonly record struct MappingCall(MappingCallKind Kind, Ppn Ppn, Mpn Mpn);

/// <summary>A guest mapping that keeps a PPN -> (MPN, access) table and records each call made on it.</summary>
public sealed class RecordingGuestMapping : IGuestMapping
{
    private readonly Mpn[] _mpns;
    private readonly GuestPageAccess[] _access;
    private readonly List<MappingCall> _calls = [];

    /// <summary>A mapping of <paramref name="pageCount"/> guest pages, none mapped.</summary>
    public RecordingGuestMapping(int pageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pageCount);
        _mpns = new Mpn[pageCount];
        _access = new GuestPageAccess[pageCount];
        _mpns.AsSpan().Fill(Mpn.None);
    }

    /// <summary>Guest physical pages.</summary>
    public int PageCount => _mpns.Length;

    /// <summary>Every call so far, oldest first.</summary>
    public IReadOnlyList<MappingCall> Calls => _calls;

    /// <summary>Whether calls are appended to <see cref="Calls"/> (the list's growth allocates).</summary>
    public bool RecordsCalls { get; set; } = true;

    /// <summary>Forgets the calls recorded so far (the table stays).</summary>
    public void ClearCalls() => _calls.Clear();

    /// <summary>How <paramref name="ppn"/> is mapped now, and to which machine page.</summary>
    public (GuestPageAccess Access, Mpn Mpn) MappingOf(Ppn ppn)
    {
        var index = Check(ppn);
        return (_access[index], _mpns[index]);
    }

    /// <inheritdoc/>
    public void MapWritable(Ppn ppn, Mpn mpn) => Set(MappingCallKind.MapWritable, ppn, mpn, GuestPageAccess.Writable);

    /// <inheritdoc/>
    public void MapReadOnly(Ppn ppn, Mpn mpn) => Set(MappingCallKind.MapReadOnly, ppn, mpn, GuestPageAccess.ReadOnly);

    /// <inheritdoc/>
    public void Invalidate(Ppn ppn) => Set(MappingCallKind.Invalidate, ppn, Mpn.None, GuestPageAccess.None);

    private void Set(MappingCallKind kind, Ppn ppn, Mpn mpn, GuestPageAccess access)
    {
        var index = Check(ppn);
        if (access != GuestPageAccess.None && !mpn.IsValid)
        {
            throw new ArgumentException($"{ppn}: Core mapped the page to no machine page.", nameof(mpn));
        }

        if (RecordsCalls)
        {
            _calls.Add(new MappingCall(kind, ppn, mpn));
        }

        _mpns[index] = mpn;
        _access[index] = access;
    }

    private int Check(Ppn ppn) =>
        ppn.Value < (uint)_mpns.Length
            ? (int)ppn.Value
            : throw new ArgumentOutOfRangeException(nameof(ppn), $"{ppn} is beyond the {_mpns.Length} guest pages.");
}
