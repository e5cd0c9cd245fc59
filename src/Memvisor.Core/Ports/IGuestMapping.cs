using Memvisor.Core.Memory;

namespace Memvisor.Core.Ports;

/// <summary>
/// The effect of one VM's pmap on its guest, as a substrate realises it (shadow page tables in ESX; a
/// per-VM table in the simulator; memfd mappings and userfaultfd under KVM). Core calls these whenever
/// a pmap entry changes. The substrate lets accesses that hit a mapping proceed without Core and calls
/// <see cref="MemoryManager.HandleFault"/> when an access misses or writes a read-only page.
/// </summary>
public interface IGuestMapping
{
    /// <summary>Guest accesses to <paramref name="ppn"/> read and write machine page <paramref name="mpn"/>.</summary>
    void MapWritable(Ppn ppn, Mpn mpn);

    /// <summary>Guest reads of <paramref name="ppn"/> see <paramref name="mpn"/>; a write faults (copy-on-write).</summary>
    void MapReadOnly(Ppn ppn, Mpn mpn);

    /// <summary>The next guest access to <paramref name="ppn"/> faults (swapped, ballooned, sampled, never touched).</summary>
    void Invalidate(Ppn ppn);
}
