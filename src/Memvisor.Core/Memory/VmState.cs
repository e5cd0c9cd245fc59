using Memvisor.Core.Ports;
using Memvisor.Core.Util;

namespace Memvisor.Core.Memory;

/// <summary>The memory manager's record of one powered-on VM: its pmap, its mapping port, its counters.</summary>
internal sealed class VmState
{
    public VmState(VmId id, VmMemoryConfig config, IGuestMapping mapping, ulong salt, DeterministicRandom random)
    {
        Id = id;
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

    public long Faults { get; set; }

    public long CowBreaks { get; set; }

    public long SwapIns { get; set; }

    public long SwapOuts { get; set; }

    public long PagesScanned { get; set; }

    public long BalloonedPageTouches { get; set; }

    public long SharedBeforeSwap { get; set; }

    public long SampledPagesTouched { get; set; }
}
