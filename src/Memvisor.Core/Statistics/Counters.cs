/*
 * Counters, one struct per VM and one per host, held where they are counted: VmState holds its VM's
 * VmCounters and the memory manager the host's HostCounters, and each event increments a field in
 * place (auto-properties of a struct held in a field or passed by ref: after inlining, a field
 * increment; no allocation, no indirection). A snapshot (GetVmStats, GetHostStats) copies the struct by
 * value. The structs are written as they are (System.Text.Json, source-generated; field names in
 * camelCase, in declaration order) and reports list them by enumerating that JSON metadata, reading
 * each field's [Description] as its label: adding a counter is one field here plus its increment.
 *
 * Invariants:
 *  1. Every field is a cumulative count from power-on (VM) or host start, except the host's gauges
 *     named as such below, which a snapshot fills in.
 *  2. A host counter that is also counted per VM (COW breaks, pages scanned, shared before swap) is the
 *     sum over every VM that ever ran, including VMs since powered off.
 */
using System.ComponentModel;
using Memvisor.Core.Sharing;

namespace Memvisor.Core.Statistics;

/// <summary>Core's cumulative counters for one VM.</summary>
public struct VmCounters
{
    /// <summary>Faults resolved.</summary>
    [Description("faults")]
    public long Faults { get; set; }

    /// <summary>Copy-on-write breaks.</summary>
    [Description("COW breaks")]
    public long CowBreaks { get; set; }

    /// <summary>Pages read back from swap.</summary>
    [Description("swap-ins")]
    public long SwapIns { get; set; }

    /// <summary>Pages written to swap.</summary>
    [Description("swap-outs")]
    public long SwapOuts { get; set; }

    /// <summary>Pages hashed by the sharing scanner (and by swap-out's share-first check).</summary>
    [Description("pages scanned")]
    public long PagesScanned { get; set; }

    /// <summary>Accesses to pages the balloon held (the guest broke its promise).</summary>
    [Description("ballooned-page touches")]
    public long BalloonedPageTouches { get; set; }

    /// <summary>Swap victims that were shared instead of written.</summary>
    [Description("shared before swap")]
    public long SharedBeforeSwap { get; set; }
}

/// <summary>Core's cumulative counters for the host, and the share table's gauges at the snapshot.</summary>
public struct HostCounters : IShareMatchCounts
{
    /// <summary>Pages hashed for sharing.</summary>
    [Description("pages scanned for sharing")]
    public long PagesScanned { get; set; }

    /// <summary>Full page comparisons.</summary>
    [Description("full page comparisons")]
    public long FullCompares { get; set; }

    /// <summary>Hash matches whose contents differed (never shared).</summary>
    [Description("hash collisions (not shared)")]
    public long Collisions { get; set; }

    /// <summary>Hints found stale and dropped.</summary>
    [Description("stale hints dropped")]
    public long StaleHints { get; set; }

    /// <summary>Gauge: hint frames in the share table (filled by the snapshot).</summary>
    [Description("hint frames at the end")]
    public int HintFrames { get; set; }

    /// <summary>Copy-on-write breaks.</summary>
    [Description("copy-on-write breaks")]
    public long CowBreaks { get; set; }

    /// <summary>Swap victims shared instead of written.</summary>
    [Description("swap victims shared instead")]
    public long SharedBeforeSwap { get; set; }

    /// <summary>Pages written to swap.</summary>
    [Description("pages written to swap")]
    public long SwapPagesWritten { get; set; }

    /// <summary>Swap write calls (one per run of consecutive slots).</summary>
    [Description("swap write operations")]
    public long SwapWriteOperations { get; set; }

    /// <summary>Pages read back from swap intact.</summary>
    [Description("pages read from swap")]
    public long SwapPagesRead { get; set; }

    /// <summary>Failed swap writes.</summary>
    [Description("swap write errors")]
    public long SwapWriteErrors { get; set; }

    /// <summary>Failed swap reads (I/O errors).</summary>
    [Description("swap read errors")]
    public long SwapReadErrors { get; set; }

    /// <summary>Swap reads whose data failed the slot's checksum.</summary>
    [Description("swap checksum failures")]
    public long SwapChecksumFailures { get; set; }

    /// <summary>Gauge: bytes of page-sharing metadata, the share table (filled by the snapshot).</summary>
    [Description("sharing metadata (bytes)")]
    public long SharingMetadataBytes { get; set; }

    /// <summary>Gauge: sharing metadata per machine page, in bytes (filled by the snapshot).</summary>
    [Description("sharing metadata per machine page (bytes)")]
    public double SharingMetadataBytesPerMachinePage { get; set; }

    void IShareMatchCounts.FullCompare() => FullCompares++;

    void IShareMatchCounts.Collision() => Collisions++;

    void IShareMatchCounts.StaleHint() => StaleHints++;
}
