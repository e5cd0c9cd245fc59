using Memvisor.Core.Memory;

namespace Memvisor.Core.Host;

/// <summary>What one page-out request achieved.</summary>
/// <param name="PagesWritten">Pages written to the backing store (they count against the paging rate).</param>
/// <param name="PagesFreed">Machine pages freed: written ones plus any the substrate could share instead of writing.</param>
public readonly record struct PageOutResult(int PagesWritten, int PagesFreed);

/// <summary>Rates of the page-sharing scan; <see cref="Off"/> stops it.</summary>
/// <param name="PerVmPagesPerSecond">Pages considered per second in each VM.</param>
/// <param name="HostPagesPerSecond">Pages considered per second over the whole host.</param>
public readonly record struct ShareScanRate(double PerVmPagesPerSecond, double HostPagesPerSecond)
{
    /// <summary>No scanning.</summary>
    public static ShareScanRate Off => default;

    /// <summary>True when nothing is scanned.</summary>
    public bool IsOff => PerVmPagesPerSecond <= 0 || HostPagesPerSecond <= 0;
}

/// <summary>
/// The actuator port of <see cref="HostMemoryPolicy"/>: the reclamation mechanisms of a substrate. Each
/// call says what the policy wants now; none may allocate on a tick.
/// </summary>
public interface IHostMemoryActuators
{
    /// <summary>Asks the VM's balloon for <paramref name="pages"/> pages; the substrate clamps to the balloon's limit and leaves a pinned target alone.</summary>
    void SetBalloonTarget(VmId vm, int pages);

    /// <summary>Pages out up to <paramref name="pages"/> of the VM's pages now (the substrate picks which: random victims, offered to sharing first).</summary>
    PageOutResult PageOut(VmId vm, int pages);

    /// <summary>Sets how fast the substrate looks for identical pages to share.</summary>
    void SetShareScanRate(ShareScanRate rate);

    /// <summary>Blocks the VM (it must not run) or lets it run again; called only when that changes.</summary>
    void SetBlocked(VmId vm, bool blocked);

    /// <summary>
    /// A balance period has passed (before the targets are recomputed): a substrate's own periodic
    /// housekeeping runs here (an owning one ages hot I/O page counts; a managing one may refresh costly
    /// measurements).
    /// </summary>
    void OnBalancePeriod();
}
