/*
 * The pmap side of ballooning (paper §3.2).
 *
 * When the guest's balloon driver hands a page to the host, whatever backs the page (machine page,
 * shared reference, swap slot) is released and the page is marked ballooned; its mapping is
 * invalidated, so if the guest breaks its promise and touches the page anyway, the access faults into
 * Core and gets a fresh zero page (counted). When the balloon deflates, the page goes back to the guest
 * untouched: its next access gets a zero page. The balloon protocol (targets, validation of what the
 * driver reports) is built on these two transitions.
 *
 * min is guaranteed: ballooned plus swapped pages never exceed max - min (the VM's swap reservation).
 * A page that would break it is refused; ballooning a swapped page frees its slot and changes nothing.
 */
namespace Memvisor.Core.Memory;

public sealed partial class MemoryManager
{
    /// <summary>
    /// The guest gave <paramref name="ppn"/> to its balloon: release its backing. False when the page is
    /// already ballooned, or when ballooning it would take the VM below its min (nothing changes).
    /// </summary>
    public bool InflateBalloonPage(VmId id, Ppn ppn)
    {
        var vm = Vm(id);
        ref var e = ref vm.Pmap[CheckPpn(vm, ppn)];
        if (e.State == PageState.Ballooned || !MayBalloon(vm, e.State))
        {
            return false;
        }

        DropBacking(vm, ppn, ref e, invalidate: true);
        e.State = PageState.Ballooned;
        vm.BalloonedPages++;
        return true;
    }

    /// <summary>True when the guest may give <paramref name="ppn"/> to its balloon without going below its min (see <see cref="InflateBalloonPage"/>).</summary>
    public bool MayBalloon(VmId id, Ppn ppn)
    {
        var vm = Vm(id);
        return MayBalloon(vm, vm.Pmap[CheckPpn(vm, ppn)].State);
    }

    private static bool MayBalloon(VmState vm, PageState state) =>
        state == PageState.Swapped || vm.SwappedPages + vm.BalloonedPages < vm.SwapReservedPages;

    /// <summary>
    /// The balloon gave <paramref name="ppn"/> back to the guest. False when the page is not ballooned
    /// (nothing changes).
    /// </summary>
    public bool DeflateBalloonPage(VmId id, Ppn ppn)
    {
        var vm = Vm(id);
        ref var e = ref vm.Pmap[CheckPpn(vm, ppn)];
        if (e.State != PageState.Ballooned)
        {
            return false;
        }

        e = PmapEntry.Untouched;
        vm.BalloonedPages--;
        return true;
    }
}
