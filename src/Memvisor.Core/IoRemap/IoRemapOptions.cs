/*
 * Hot I/O page remapping (paper §7): the settings.
 *
 * Problem. With PAE a host may have far more than 4 GiB of machine memory, but many DMA devices reach
 * only the lowest 4 GiB. I/O to a guest page backed by a high machine page is copied through a low
 * bounce buffer, and since guest pages are placed in high memory first, even a small VM may do all of
 * its I/O through bounce copies. ESX counts copies per page and, when a page's count passes a
 * threshold, transparently remaps the page to a low machine page; when low memory runs short, pages
 * move back to high memory. The paper names the mechanism but gives no threshold, reserve or decay:
 * each is a setting here, with the default's reasoning next to it.
 *
 * The mechanism itself lives in Memory/MemoryManager.IoRemap.cs (it changes pmap entries).
 */
using Memvisor.Core.Memory;

namespace Memvisor.Core.IoRemap;

/// <summary>Settings of hot I/O page remapping (paper §7).</summary>
public sealed record IoRemapOptions
{
    /// <summary>4 GiB in pages: the limit of 32-bit DMA (4 GiB / 4 KiB = 1,048,576).</summary>
    public const int FourGibPages = 1 << (32 - PageGeometry.PageShift);

    /// <summary>The highest count a page's counter holds (15 bits; the 16th marks a page remapped low).</summary>
    public const int MaxCountedCopies = 0x7FFF;

    /// <summary>
    /// Machine pages below the DMA boundary: MPNs under it are low memory, which every device can
    /// address. Default 4 GiB. A host with less memory than this has only low memory: I/O never bounces.
    /// </summary>
    public int DmaBoundaryPages { get; init; } = FourGibPages;

    /// <summary>Remap pages whose bounce copies reach <see cref="RemapThresholdCopies"/>. False: every I/O to a high page bounces (the baseline).</summary>
    public bool RemapHotPages { get; init; } = true;

    /// <summary>
    /// Bounce copies after which a page is remapped to low memory (the paper gives no value): a page is
    /// remapped when its count of recent transfers reaches this while it is in high memory, where every
    /// transfer is a bounce copy. Default
    /// 16: a remap costs one page copy and a mapping change, about what one or two bounce copies of a
    /// full page cost, so 16 copies pay for it many times over, while a page that does I/O only now and
    /// then (a one-off disk buffer) is not moved. Counters are halved by
    /// <see cref="MemoryManager.DecayIoCounts"/>, so a page must be hot within a few decay periods.
    /// </summary>
    public int RemapThresholdCopies { get; init; } = 16;

    /// <summary>
    /// The low-memory reserve (low-water mark), in pages: remaps never take low memory below it, and
    /// when free low memory drops below it, cold low pages move to high memory. It keeps low memory for
    /// bounce buffers and for pages that become hot later. Default 16,384 pages (64 MiB, 1/64 of 4 GiB).
    /// </summary>
    public int LowReservePages { get; init; } = 16_384;

    /// <summary>
    /// Once demotion starts, it refills free low memory to the reserve plus this many pages, so that it
    /// does not run again for every page taken. Default 256 pages (1 MiB).
    /// </summary>
    public int DemotionBatchPages { get; init; } = 256;

    /// <summary>Where guest pages go first. Default HighFirst: low memory is kept for I/O, and a small VM ends up on high pages, as in the paper.</summary>
    public ZonePreference GuestPlacement { get; init; } = ZonePreference.HighFirst;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field, its value and the rule when a setting is invalid.</summary>
    public void Validate()
    {
        if (DmaBoundaryPages <= 0)
        {
            throw new ArgumentException($"I/O remap DmaBoundaryPages: {DmaBoundaryPages}; must be at least 1 page.");
        }

        if (RemapThresholdCopies is < 1 or > MaxCountedCopies)
        {
            throw new ArgumentException($"I/O remap RemapThresholdCopies: {RemapThresholdCopies}; must be between 1 and {MaxCountedCopies}.");
        }

        if (LowReservePages < 0 || LowReservePages >= DmaBoundaryPages)
        {
            throw new ArgumentException($"I/O remap LowReservePages: {LowReservePages}; must be at least 0 and below DmaBoundaryPages ({DmaBoundaryPages}).");
        }

        if (DemotionBatchPages < 0)
        {
            throw new ArgumentException($"I/O remap DemotionBatchPages: {DemotionBatchPages}; must not be negative.");
        }

        if (!Enum.IsDefined(GuestPlacement))
        {
            throw new ArgumentException($"I/O remap GuestPlacement: {GuestPlacement}; must be Anywhere or HighFirst.");
        }
    }
}
