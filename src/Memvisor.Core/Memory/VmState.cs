using Memvisor.Core.IoRemap;
using Memvisor.Core.Ports;
using Memvisor.Core.Statistics;
using Memvisor.Core.Util;

namespace Memvisor.Core.Memory;

/// <summary>The memory manager's record of one powered-on VM: its pmap, its mapping port, its gauges and counters.</summary>
internal sealed class VmState
{
    public VmState(VmId id, long incarnation, VmMemoryConfig config, IGuestMapping mapping, ulong salt, DeterministicRandom random)
    {
        Id = id;
        Incarnation = incarnation;
        Config = config;
        Mapping = mapping;
        Salt = salt;
        Random = random;
        Pmap = new PmapEntry[config.MaxPages];
        Array.Fill(Pmap, PmapEntry.Untouched);
        SwapReservedPages = config.MaxPages - config.MinPages;
        OverheadMpns = new Mpn[config.OverheadPages];
    }

    public VmId Id { get; }

    /// <summary>This power-on's number on the host (1, 2, ...): unique, unlike the id, which a later VM may reuse.</summary>
    public long Incarnation { get; }

    public VmMemoryConfig Config { get; }

    public IGuestMapping Mapping { get; }

    public ulong Salt { get; }

    public DeterministicRandom Random { get; }

    public PmapEntry[] Pmap { get; }

    public Mpn[] OverheadMpns { get; }

    public int SwapReservedPages { get; }

    public int PrivatePages { get; set; }

    public int SharedPages { get; set; }

    public int ZeroPages { get; set; }

    public int SwappedPages { get; set; }

    public int BalloonedPages { get; set; }

    /// <summary>Hot I/O remapping state (paper §7), made at the VM's first I/O; dies with the VM, so a reused id starts afresh.</summary>
    public VmIoState? Io { get; set; }

    /// <summary>The VM's counters, incremented in place where each event happens (a field, not a property).</summary>
    public VmCounters Counters;

    public long SampledPagesTouched { get; set; }
}
