namespace Memvisor.Linux.Ksm;

/// <summary>One reading of KSM's counters.</summary>
/// <param name="PagesShared">KSM pages in use.</param>
/// <param name="PagesSharing">Further pages mapping a KSM page: pages saved.</param>
/// <param name="PagesUnshared">Pages scanned but unique so far.</param>
/// <param name="PagesVolatile">Pages changing too fast to merge.</param>
/// <param name="FullScans">Completed passes over all mergeable memory.</param>
/// <param name="KsmZeroPages">Pages merged into the kernel zero page, when the kernel reports it.</param>
public readonly record struct KsmCounters(
    long PagesShared,
    long PagesSharing,
    long PagesUnshared,
    long PagesVolatile,
    long FullScans,
    long? KsmZeroPages)
{
    /// <summary>Reads the counters from <paramref name="sysfs"/>.</summary>
    public static KsmCounters Read(KsmSysfs sysfs)
    {
        ArgumentNullException.ThrowIfNull(sysfs);
        return new KsmCounters(
            sysfs.ReadNumber(KsmKnob.PagesShared),
            sysfs.ReadNumber(KsmKnob.PagesSharing),
            sysfs.ReadNumber(KsmKnob.PagesUnshared),
            sysfs.ReadNumber(KsmKnob.PagesVolatile),
            sysfs.ReadNumber(KsmKnob.FullScans),
            sysfs.ReadNumberIfPresent(KsmKnob.KsmZeroPages));
    }

    /// <summary>Pages saved: pages sharing plus pages merged into the zero page.</summary>
    public long PagesSaved => PagesSharing + (KsmZeroPages ?? 0);
}
