/*
 * Content-based page sharing in the memory manager (paper §4).
 *
 * TryShare hashes one private page (salted with its VM's share salt, or the common salt for an all-0x00
 * or all-0xFF page when the host shares only those across VMs: ShareSalting) and looks the key up in the
 * global table. No frame with that key: the page becomes a hint (it stays writable). A frame with that
 * key: the page is write-protected while ShareMatcher compares it (so a concurrent guest write cannot
 * slip in between compare and remap), and then
 *   - a shared frame with equal bytes: the page maps the shared machine page read-only, its own
 *     machine page is freed, the reference count goes up;
 *   - a hint whose page is unchanged and equal: that page's machine page becomes the shared page
 *     (hint frame replaced by a shared frame with two references), and this page maps it too;
 *   - nothing equal: the page is made writable again and left as a hint.
 * The scanner (ShareScanner) calls TryShare on random pages at a capped rate; swap-out calls it
 * before writing a victim, so a page is always shared rather than swapped when it can be.
 */
using Memvisor.Core.Sharing;

namespace Memvisor.Core.Memory;

public sealed partial class MemoryManager
{
    private readonly ShareSource _shareSource;

    /// <summary>
    /// The salt of every shared frame whose salt is not 0. A frame keeps only 48 bits of its salted key,
    /// so two equal pages of different salts could meet in the table if their keys agreed on those
    /// bits; the matcher is shown a shared page only when its salt is the candidate's. (Empty when all
    /// VMs have the default salt, as in the paper.)
    /// </summary>
    private readonly Dictionary<int, ulong> _sharedFrameSalts = [];

    /// <summary>The salt of the page being matched.</summary>
    private ulong _matchingSalt;

    /// <summary>Pages that joined or created a shared frame.</summary>
    public long PagesShared { get; private set; }

    /// <summary>Hints added to the table.</summary>
    public long HintsAdded { get; private set; }

    /// <summary>
    /// Considers one guest page for sharing. Returns true when the page now maps a shared machine page
    /// (and a machine page was freed); false when it is not a private page or matched nothing.
    /// </summary>
    public bool TryShare(VmId id, Ppn ppn)
    {
        var vm = Vm(id);
        ref var e = ref vm.Pmap[CheckPpn(vm, ppn)];
        return e.State == PageState.Private && (e.Flags & PageMarks.SwapPending) == 0 && SharePrivatePage(vm, ppn, ref e, addHintOnMiss: true);
    }

    /// <summary>A uniformly random guest page of <paramref name="id"/> (for the scanner).</summary>
    public Ppn RandomPage(VmId id)
    {
        var vm = Vm(id);
        return new Ppn(vm.Random.NextUInt32((uint)vm.Pmap.Length));
    }

    /// <summary>True when the page is private (a sharing candidate).</summary>
    public bool IsShareCandidate(VmId id, Ppn ppn)
    {
        var vm = Vm(id);
        return vm.Pmap[CheckPpn(vm, ppn)].State == PageState.Private;
    }

    private bool SharePrivatePage(VmState vm, Ppn ppn, ref PmapEntry e, bool addHintOnMiss)
    {
        var mpn = e.Mpn;
        var content = Pool.Page(mpn);
        var salt = SaltOf(vm, content);
        var key = ShareMatcher.SaltedKey(_hasher.Hash(content), salt);
        _counters.PagesScanned++;
        vm.Counters.PagesScanned++;
        DropHint(ref e);
        if (ShareTable.FindFirst(key) == PageShareTable.NoFrame)
        {
            if (addHintOnMiss)
            {
                e.Frame = ShareTable.AddHint(key, vm.Id, ppn);
                HintsAdded++;
            }

            return false;
        }

        Protect(vm, ppn, in e);
        e.Flags |= PageMarks.Comparing;
        _matchingSalt = salt;
        var match = ShareMatcher.Find(ShareTable, key, content, _shareSource, ref _counters);
        e.Flags &= ~PageMarks.Comparing;
        int frame;
        switch (match.Kind)
        {
            case FrameKind.Shared:
                frame = match.Frame;
                break;
            case FrameKind.Hint:
                frame = PromoteHintToShared(match.Frame, key, salt, IsZero(content));
                break;
            default:
                Remap(vm, ppn, in e);
                if (addHintOnMiss)
                {
                    e.Frame = ShareTable.AddHint(key, vm.Id, ppn);
                    HintsAdded++;
                }

                return false;
        }

        var zero = IsZero(content);
        var sharedMpn = ShareTable.SharedMpn(frame);
        ShareTable.SetRefCount(frame, ShareTable.RefCount(frame) + 1);
        e.State = PageState.Shared;
        e.Value = sharedMpn.Value;
        e.Frame = frame;
        if (zero)
        {
            e.Flags |= PageMarks.Zero;
            vm.ZeroPages++;
        }

        vm.PrivatePages--;
        vm.SharedPages++;
        PagesShared++;
        Remap(vm, ppn, in e);
        Pool.Free(mpn);
        return true;
    }

    /// <summary>Turns the (already write-protected) page a hint names into the machine page of a new shared frame.</summary>
    private int PromoteHintToShared(int hintFrame, ulong key, ulong salt, bool zero)
    {
        var owner = Vm(ShareTable.HintVm(hintFrame));
        var ppn = ShareTable.HintPpn(hintFrame);
        ref var e = ref owner.Pmap[ppn.Value];
        ShareTable.Remove(hintFrame);
        var frame = ShareTable.AddShared(key, e.Mpn, 1);
        if (salt != ShareSalting.CommonSalt)
        {
            _sharedFrameSalts[frame] = salt;
        }

        Pool.SetOwner(e.Mpn, MpnUse.Shared, default, (uint)frame);
        e.State = PageState.Shared;
        e.Frame = frame;
        e.Flags &= ~PageMarks.Comparing;
        if (zero)
        {
            e.Flags |= PageMarks.Zero;
            owner.ZeroPages++;
        }

        owner.PrivatePages--;
        owner.SharedPages++;
        PagesShared++;
        return frame;
    }

    private void RemoveSharedFrame(int frame)
    {
        ShareTable.Remove(frame);
        _sharedFrameSalts.Remove(frame);
    }

    private static bool IsZero(ReadOnlySpan<byte> page) => !page.ContainsAnyExcept((byte)0);

    /// <summary>The salt <paramref name="content"/>, a page of <paramref name="vm"/>, is shared under.</summary>
    private ulong SaltOf(VmState vm, ReadOnlySpan<byte> content) => ShareSalting.SaltOf(_options.ShareSaltMode, vm.Salt, content);

    /// <summary>The memory manager's pages, as <see cref="ShareMatcher"/> needs to see them.</summary>
    private sealed class ShareSource(MemoryManager manager) : IShareContentSource
    {
        public ReadOnlySpan<byte> SharedPage(Mpn mpn) =>
            manager._sharedFrameSalts.GetValueOrDefault(manager.Pool.OwnerOf(mpn).Frame) == manager._matchingSalt
                ? manager.Pool.Page(mpn)
                : []; // another salt's page: never equal

        public bool TryBeginHintCompare(VmId vm, Ppn ppn, out ReadOnlySpan<byte> content, out ulong key)
        {
            var owner = manager.Vm(vm);
            ref var e = ref owner.Pmap[ppn.Value];
            if (e.State != PageState.Private)
            {
                content = default;
                key = 0;
                return false;
            }

            Protect(owner, ppn, in e);
            e.Flags |= PageMarks.Comparing;
            content = manager.Pool.Page(e.Mpn);
            key = ShareMatcher.SaltedKey(manager._hasher.Hash(content), manager.SaltOf(owner, content));
            return true;
        }

        public void EndHintCompare(VmId vm, Ppn ppn)
        {
            var owner = manager.Vm(vm);
            ref var e = ref owner.Pmap[ppn.Value];
            e.Flags &= ~PageMarks.Comparing;
            Remap(owner, ppn, in e);
        }

        public void HintDropped(VmId vm, Ppn ppn)
        {
            ref var e = ref manager.Vm(vm).Pmap[ppn.Value];
            if (e.State == PageState.Private)
            {
                e.Frame = PageShareTable.NoFrame;
            }
        }
    }
}
