using Memvisor.Core.Sharing;
using Memvisor.Core.Statistics;

namespace Memvisor.Core.Memory;

public sealed partial class MemoryManager
{
    /// <summary>A snapshot of one VM's memory (walks its pmap: for reports, not hot paths).</summary>
    public VmMemoryStats GetVmStats(VmId id)
    {
        var vm = Vm(id);
        var saved = 0.0;
        var untouched = 0;
        foreach (ref readonly var e in vm.Pmap.AsSpan())
        {
            if (e.State == PageState.Shared)
            {
                saved += 1.0 - (1.0 / ShareTable.RefCount(e.Frame));
            }
            else if (e.State == PageState.Untouched)
            {
                untouched++;
            }
        }

        return new VmMemoryStats
        {
            Id = id.Value,
            Name = vm.Config.Name,
            ConfiguredPages = vm.Config.MaxPages,
            MinPages = vm.Config.MinPages,
            OverheadPages = vm.Config.OverheadPages,
            PrivatePages = vm.PrivatePages,
            SharedPages = vm.SharedPages,
            ZeroPages = vm.ZeroPages,
            SharedSavedPages = saved,
            SwappedPages = vm.SwappedPages,
            BalloonedPages = vm.BalloonedPages,
            UntouchedPages = untouched,
            SwapReservedPages = vm.SwapReservedPages,
            Counters = vm.Counters,
        };
    }

    /// <summary>One VM's counters (a copy; no pmap walk, no allocation: for per-tick accounting).</summary>
    public VmCounters CountersOf(VmId id) => Vm(id).Counters;

    /// <summary>The host's cumulative counters (a copy, without the share table's gauges; no allocation).</summary>
    public HostCounters HostCounters => _counters;

    /// <summary>A snapshot of the host's memory.</summary>
    public HostMemoryStats GetHostStats()
    {
        long sharedPages = 0, zeroPages = 0;
        int privatePages = 0, overhead = 0;
        foreach (var vm in _vms)
        {
            if (vm is not null)
            {
                sharedPages += vm.SharedPages;
                zeroPages += vm.ZeroPages;
                privatePages += vm.PrivatePages;
                overhead += vm.OverheadMpns.Length;
            }
        }

        return new HostMemoryStats
        {
            TotalPages = Pool.TotalPages,
            FreePages = Pool.FreePages,
            PrivatePages = privatePages,
            SharedFrames = ShareTable.SharedCount,
            SharedPages = sharedPages,
            ZeroPages = zeroPages,
            OverheadPages = overhead,
            SwapCapacityPages = Swap.CapacityPages,
            SwapUsedPages = Swap.UsedPages,
            SwapReservedPages = Swap.ReservedPages,
            Counters = _counters with
            {
                HintFrames = ShareTable.HintCount,
                SharingMetadataBytes = ShareTable.MetadataBytes,
                SharingMetadataBytesPerMachinePage = Pool.TotalPages == 0 ? 0 : ShareTable.MetadataBytes / (double)Pool.TotalPages,
            },
        };
    }
}
