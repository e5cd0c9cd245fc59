/*
 * The memory manager's own consistency check: every machine page is free or has exactly the owner the
 * pmaps and the share table say; every shared frame's reference count equals the pages mapping it;
 * every hint names a private page that points back at it; every swap slot in use belongs to exactly
 * one swapped page; the counters add up. Property tests call it after every step; a simulation can
 * call it at the end of a run. It walks everything: not for hot paths.
 */
using System.Globalization;
using System.Runtime.CompilerServices;
using Memvisor.Core.Sharing;
using Memvisor.Core.Swap;

namespace Memvisor.Core.Memory;

public sealed partial class MemoryManager
{
    /// <summary>Throws <see cref="MemoryInconsistencyException"/> describing the first disagreement found.</summary>
    public void CheckConsistency()
    {
        var total = Pool.TotalPages;
        var seen = new byte[total];
        var refs = new Dictionary<int, int>();
        var slotsSeen = new HashSet<uint>();
        var freeCount = 0;
        for (var m = 0; m < total; m++)
        {
            if (Pool.IsFree(new Mpn((uint)m)))
            {
                freeCount++;
            }
        }

        Expect(freeCount == Pool.FreePages, $"free bitmap counts {freeCount} pages, pool says {Pool.FreePages}");
        foreach (var vm in _vms)
        {
            if (vm is null)
            {
                continue;
            }

            int priv = 0, shared = 0, zero = 0, swapped = 0, ballooned = 0;
            foreach (var mpn in vm.OverheadMpns)
            {
                Claim(seen, mpn, $"{vm.Id} overhead");
                var owner = Pool.OwnerOf(mpn);
                Expect(owner.Use == MpnUse.Overhead && owner.Vm == vm.Id, $"{mpn}: overhead of {vm.Id} but owner is {owner}");
            }

            for (var p = 0; p < vm.Pmap.Length; p++)
            {
                var e = vm.Pmap[p];
                var where = $"{vm.Id} PPN {p:x}";
                Expect((e.Flags & (PageMarks.Comparing | PageMarks.SwapPending)) == 0, $"{where}: transient flags {e.Flags} left set");
                switch (e.State)
                {
                    case PageState.Untouched:
                    case PageState.Ballooned:
                        Expect(e.Frame == PageShareTable.NoFrame, $"{where}: {e.State} page names frame {e.Frame}");
                        ballooned += e.State == PageState.Ballooned ? 1 : 0;
                        break;
                    case PageState.Private:
                    {
                        priv++;
                        Claim(seen, e.Mpn, where);
                        var owner = Pool.OwnerOf(e.Mpn);
                        Expect(owner.Use == MpnUse.Private && owner.Vm == vm.Id && owner.Value == (uint)p, $"{where}: private {e.Mpn} but owner is {owner}");
                        if (e.Frame != PageShareTable.NoFrame)
                        {
                            Expect(ShareTable.KindOf(e.Frame) == FrameKind.Hint && ShareTable.HintVm(e.Frame) == vm.Id && ShareTable.HintPpn(e.Frame).Value == (uint)p,
                                $"{where}: hint frame {e.Frame} does not name this page");
                        }

                        break;
                    }

                    case PageState.Shared:
                    {
                        shared++;
                        zero += (e.Flags & PageMarks.Zero) != 0 ? 1 : 0;
                        Expect(ShareTable.KindOf(e.Frame) == FrameKind.Shared && ShareTable.SharedMpn(e.Frame) == e.Mpn,
                            $"{where}: shared {e.Mpn} but frame {e.Frame} is {ShareTable.KindOf(e.Frame)}");
                        refs[e.Frame] = refs.GetValueOrDefault(e.Frame) + 1;
                        if ((e.Flags & PageMarks.Zero) != 0)
                        {
                            Expect(!Pool.Page(e.Mpn).ContainsAnyExcept((byte)0), $"{where}: marked zero but {e.Mpn} is not all zero");
                        }

                        break;
                    }

                    case PageState.Swapped:
                        swapped++;
                        Expect(Swap.IsUsed(new SwapSlot(e.Value)), $"{where}: swapped to a free slot {e.Value}");
                        Expect(slotsSeen.Add(e.Value), $"{where}: swap slot {e.Value} used twice");
                        break;
                }
            }

            Expect(priv == vm.PrivatePages, $"{vm.Id}: {priv} private pages in pmap, counter says {vm.PrivatePages}");
            Expect(shared == vm.SharedPages, $"{vm.Id}: {shared} shared pages in pmap, counter says {vm.SharedPages}");
            Expect(zero == vm.ZeroPages, $"{vm.Id}: {zero} zero pages in pmap, counter says {vm.ZeroPages}");
            Expect(swapped == vm.SwappedPages, $"{vm.Id}: {swapped} swapped pages in pmap, counter says {vm.SwappedPages}");
            Expect(ballooned == vm.BalloonedPages, $"{vm.Id}: {ballooned} ballooned pages in pmap, counter says {vm.BalloonedPages}");
            Expect(swapped <= vm.SwapReservedPages, $"{vm.Id}: {swapped} pages swapped, more than its reservation of {vm.SwapReservedPages}");
            Expect(swapped + ballooned <= vm.SwapReservedPages, $"{vm.Id}: {swapped} pages swapped and {ballooned} ballooned, more than max - min = {vm.SwapReservedPages}: below its min");
        }

        var sharedFrames = 0;
        var hints = 0;
        ShareTable.ForEach((frame, kind) =>
        {
            if (kind == FrameKind.Shared)
            {
                sharedFrames++;
                var mpn = ShareTable.SharedMpn(frame);
                Claim(seen, mpn, $"shared frame {frame}");
                var owner = Pool.OwnerOf(mpn);
                Expect(owner.Use == MpnUse.Shared && owner.Frame == frame, $"shared frame {frame}: {mpn} owner is {owner}");
                Expect(refs.GetValueOrDefault(frame) == ShareTable.RefCount(frame),
                    $"shared frame {frame}: reference count {ShareTable.RefCount(frame)}, but {refs.GetValueOrDefault(frame)} pages map it");
            }
            else
            {
                hints++;
                var vm = ShareTable.HintVm(frame);
                Expect(IsPoweredOn(vm), $"hint frame {frame} names {vm}, which is off");
                var e = _vms[vm.Value]!.Pmap[ShareTable.HintPpn(frame).Value];
                Expect(e.State == PageState.Private && e.Frame == frame, $"hint frame {frame} names {vm} {ShareTable.HintPpn(frame)}, which does not point back");
            }
        });
        Expect(sharedFrames == ShareTable.SharedCount && hints == ShareTable.HintCount, $"share table counters disagree with its frames");
        Expect(slotsSeen.Count == Swap.UsedPages, $"{Swap.UsedPages} swap slots in use, {slotsSeen.Count} swapped pages");
        for (var m = 0; m < total; m++)
        {
            var mpn = new Mpn((uint)m);
            Expect(Pool.IsFree(mpn) == (seen[m] == 0), $"{mpn}: free={Pool.IsFree(mpn)} but {(seen[m] == 0 ? "no one" : "someone")} uses it");
        }
    }

    private static void Claim(byte[] seen, Mpn mpn, string who)
    {
        Expect(seen[mpn.Value] == 0, $"{mpn} is used twice (again by {who})");
        seen[mpn.Value] = 1;
    }

    /// <summary>Throws with the message when the invariant fails; the message is only formatted then (the check walks every page).</summary>
    private static void Expect(bool condition, [InterpolatedStringHandlerArgument(nameof(condition))] ref FailureMessage message)
    {
        if (!condition)
        {
            throw new MemoryInconsistencyException(message.ToStringAndClear());
        }
    }

    /// <summary>An interpolated message that formats nothing unless the condition it belongs to is false.</summary>
    [InterpolatedStringHandler]
    private ref struct FailureMessage
    {
        private DefaultInterpolatedStringHandler _text;

        public FailureMessage(int literalLength, int formattedCount, bool condition, out bool shouldAppend)
        {
            shouldAppend = !condition;
            _text = shouldAppend ? new DefaultInterpolatedStringHandler(literalLength, formattedCount, CultureInfo.InvariantCulture) : default;
        }

        public void AppendLiteral(string value) => _text.AppendLiteral(value);

        public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);

        public string ToStringAndClear() => _text.ToStringAndClear();
    }
}
