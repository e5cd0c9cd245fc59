/*
 * Statistics in ESX's terms (esxtop's memory panel): one snapshot type per VM and one per host, the
 * figures every report, table and test uses. All sizes are in pages; MiB conversions are the caller's.
 */
namespace Memvisor.Core.Statistics;

/// <summary>One VM's memory at one moment.</summary>
public sealed record VmMemoryStats
{
    /// <summary>The VM's id.</summary>
    public required ushort Id { get; init; }

    /// <summary>The VM's name.</summary>
    public required string Name { get; init; }

    /// <summary>Configured memory (max).</summary>
    public required int ConfiguredPages { get; init; }

    /// <summary>Guaranteed memory (min).</summary>
    public required int MinPages { get; init; }

    /// <summary>Host memory for the VM's overhead (frame buffer, pmap, shadow page tables).</summary>
    public required int OverheadPages { get; init; }

    /// <summary>Pages backed by a machine page of their own.</summary>
    public required int PrivatePages { get; init; }

    /// <summary>Pages mapping a shared machine page copy-on-write.</summary>
    public required int SharedPages { get; init; }

    /// <summary>Shared pages whose contents are all zero.</summary>
    public required int ZeroPages { get; init; }

    /// <summary>This VM's part of the machine memory saved by sharing: each shared page saves 1 - 1/references of a page.</summary>
    public required double SharedSavedPages { get; init; }

    /// <summary>Pages in the host swap area.</summary>
    public required int SwappedPages { get; init; }

    /// <summary>Pages held by the guest's balloon.</summary>
    public required int BalloonedPages { get; init; }

    /// <summary>Pages never touched (no backing).</summary>
    public required int UntouchedPages { get; init; }

    /// <summary>Pages backed by machine memory: private + shared.</summary>
    public int GrantedPages => PrivatePages + SharedPages;

    /// <summary>Swap slots reserved for the VM (max - min).</summary>
    public required int SwapReservedPages { get; init; }

    /// <summary>Faults resolved for this VM.</summary>
    public required long Faults { get; init; }

    /// <summary>Copy-on-write breaks.</summary>
    public required long CowBreaks { get; init; }

    /// <summary>Pages read back from swap.</summary>
    public required long SwapIns { get; init; }

    /// <summary>Pages written to swap.</summary>
    public required long SwapOuts { get; init; }

    /// <summary>Pages hashed by the sharing scanner.</summary>
    public required long PagesScanned { get; init; }

    /// <summary>Accesses to pages the balloon held (the guest broke its promise).</summary>
    public required long BalloonedPageTouches { get; init; }

    /// <summary>Swap victims that were shared instead of written.</summary>
    public required long SharedBeforeSwap { get; init; }
}

/// <summary>The host's memory at one moment.</summary>
public sealed record HostMemoryStats
{
    /// <summary>Machine pages.</summary>
    public required int TotalPages { get; init; }

    /// <summary>Free machine pages.</summary>
    public required int FreePages { get; init; }

    /// <summary>Machine pages backing private guest pages.</summary>
    public required int PrivatePages { get; init; }

    /// <summary>Machine pages backing shared frames.</summary>
    public required int SharedFrames { get; init; }

    /// <summary>Guest pages mapping shared frames.</summary>
    public required long SharedPages { get; init; }

    /// <summary>Machine pages saved by sharing: shared pages - shared frames.</summary>
    public long SavedPages => SharedPages - SharedFrames;

    /// <summary>Guest pages mapping a zero-filled shared frame.</summary>
    public required long ZeroPages { get; init; }

    /// <summary>Machine pages held as VM overhead.</summary>
    public required int OverheadPages { get; init; }

    /// <summary>Hint frames in the share table.</summary>
    public required int HintFrames { get; init; }

    /// <summary>Hints found stale and dropped.</summary>
    public required long StaleHints { get; init; }

    /// <summary>Hash matches whose contents differed (never shared).</summary>
    public required long Collisions { get; init; }

    /// <summary>Full page comparisons.</summary>
    public required long FullCompares { get; init; }

    /// <summary>Copy-on-write breaks.</summary>
    public required long CowBreaks { get; init; }

    /// <summary>Pages hashed for sharing.</summary>
    public required long PagesScanned { get; init; }

    /// <summary>Swap victims shared instead of written.</summary>
    public required long SharedBeforeSwap { get; init; }

    /// <summary>Swap area size.</summary>
    public required int SwapCapacityPages { get; init; }

    /// <summary>Swap slots in use.</summary>
    public required int SwapUsedPages { get; init; }

    /// <summary>Swap slots reserved for admitted VMs.</summary>
    public required long SwapReservedPages { get; init; }

    /// <summary>Pages written to swap.</summary>
    public required long SwapPagesWritten { get; init; }

    /// <summary>Swap write calls (one per run of consecutive slots).</summary>
    public required long SwapWriteOperations { get; init; }

    /// <summary>Pages read from swap.</summary>
    public required long SwapPagesRead { get; init; }

    /// <summary>Failed swap writes.</summary>
    public required long SwapWriteErrors { get; init; }

    /// <summary>Failed swap reads.</summary>
    public required long SwapReadErrors { get; init; }

    /// <summary>Swap reads that failed their checksum.</summary>
    public required long SwapChecksumFailures { get; init; }

    /// <summary>Bytes of page-sharing metadata (the share table).</summary>
    public required long SharingMetadataBytes { get; init; }

    /// <summary>Sharing metadata per machine page, in bytes.</summary>
    public double SharingMetadataBytesPerMachinePage => TotalPages == 0 ? 0 : SharingMetadataBytes / (double)TotalPages;
}
