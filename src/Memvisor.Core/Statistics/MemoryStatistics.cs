/*
 * Statistics in ESX's terms (esxtop's memory panel): one snapshot type per VM and one per host, the
 * figures every report, table and test uses. All sizes are in pages; MiB conversions are the caller's.
 * Each embeds its counters struct (Counters.cs) by value.
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

    /// <summary>The VM's counters, copied by value.</summary>
    public required VmCounters Counters { get; init; }
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

    /// <summary>The host's counters (and share-table gauges), copied by value.</summary>
    public required HostCounters Counters { get; init; }

    /// <summary>Swap area size.</summary>
    public required int SwapCapacityPages { get; init; }

    /// <summary>Swap slots in use.</summary>
    public required int SwapUsedPages { get; init; }

    /// <summary>Swap slots reserved for admitted VMs.</summary>
    public required long SwapReservedPages { get; init; }
}
