using Memvisor.Core.Memory;

namespace Memvisor.Core.IoRemap;

/// <summary>Events hot I/O remapping counts (indexes into <see cref="IoEventCounts"/>).</summary>
internal enum IoEvent
{
    Transfer,
    Direct,
    BounceCopy,
    CopyAvoided,
    Remap,
    Demotion,
    RemapDeferred,
    SharedUnshared,
    DeviceFault,
}

/// <summary>A set of event counters.</summary>
internal sealed class IoEventCounts
{
    private readonly long[] _counts = new long[Enum.GetValues<IoEvent>().Length];

    public void Add(IoEvent e) => _counts[(int)e]++;

    public IoRemapStats Snapshot() => new()
    {
        Transfers = _counts[(int)IoEvent.Transfer],
        DirectTransfers = _counts[(int)IoEvent.Direct],
        BounceCopies = _counts[(int)IoEvent.BounceCopy],
        CopiesAvoided = _counts[(int)IoEvent.CopyAvoided],
        Remaps = _counts[(int)IoEvent.Remap],
        Demotions = _counts[(int)IoEvent.Demotion],
        RemapsDeferred = _counts[(int)IoEvent.RemapDeferred],
        SharedPagesUnshared = _counts[(int)IoEvent.SharedUnshared],
        DeviceFaults = _counts[(int)IoEvent.DeviceFault],
    };
}

/// <summary>
/// One VM's I/O state, made at its first DMA transfer: a 16-bit word per guest page (bits 0-14: I/O
/// transfers since the counts were last halved, saturating; bit 15: the page was remapped low) and the
/// VM's event counters. 2 bytes per guest page: 512 KiB for a 1 GiB VM, 1/2048 of its memory.
/// </summary>
internal sealed class VmIoState(VmState owner)
{
    public const ushort RemappedMark = 0x8000;
    public const ushort CountMask = IoRemapOptions.MaxCountedCopies;

    /// <summary>The VM this state belongs to (a VM id is reused after power-off: the state must not be).</summary>
    public VmState Owner { get; } = owner;

    public ushort[] Counts { get; } = new ushort[owner.Pmap.Length];

    public IoEventCounts Events { get; } = new();

    /// <summary>Halves a page's count, keeping its remapped mark.</summary>
    public static ushort Halve(ushort word) => (ushort)(((word & CountMask) >> 1) | (word & RemappedMark));

    /// <summary>One more transfer, saturating.</summary>
    public static ushort Bump(ushort word) => (word & CountMask) == CountMask ? word : (ushort)(word + 1);
}
