/*
 * The policy's ports over an owning substrate (Memvisor owns machine memory and the pmap): the meter
 * reads MemoryManager's counters, the balloon host and the working-set sampler; the actuators drive
 * the balloon host, MemoryManager.SwapOut (victims offered to sharing first), the sharing scanner's
 * rate, a per-VM blocked flag the substrate's scheduler reads, and hot I/O remapping's housekeeping
 * on the balance timer (decay of copy counts, demotion of cold low pages when low memory is short).
 *
 * Consumed pages: private + shared - the VM's saving from sharing. The saving needs a walk of the
 * pmap (GetVmStats), so the exact measure (at each rebalance) caches it per VM and the cheap one
 * (every tick) uses the cached saving with the live private and shared counters.
 *
 * Execution time: the substrate reports how long each VM ran (AddExecutionTime); nothing here reads
 * a clock. Swap device: a substrate that models its device's time (SwapDevice) has every page-out
 * charged to it, and the policy pages only what it can write within a tick. Per-VM arrays are indexed by VmId and grow only at power-on: no tick allocates.
 */
using Memvisor.Core.Balloon;
using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;
using Memvisor.Core.Sharing;

namespace Memvisor.Core.Host.Owning;

/// <summary>The measurement and actuator ports of <see cref="HostMemoryPolicy"/> over a <see cref="MemoryManager"/>.</summary>
public sealed class OwningHostMemory : IHostMemoryMeter, IHostMemoryActuators
{
    private readonly MemoryManager _manager;
    private readonly BalloonHost _balloons;
    private readonly WorkingSetSampler _sampler;
    private readonly ShareScanner _scanner;
    private double[] _sharedSavedPages = [];
    private bool[] _blocked = [];
    private TimeSpan[] _executionTime = [];

    /// <summary>Ports over <paramref name="manager"/> and the mechanisms built on it.</summary>
    public OwningHostMemory(MemoryManager manager, BalloonHost balloons, WorkingSetSampler sampler, ShareScanner scanner)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(balloons);
        ArgumentNullException.ThrowIfNull(sampler);
        ArgumentNullException.ThrowIfNull(scanner);
        _manager = manager;
        _balloons = balloons;
        _sampler = sampler;
        _scanner = scanner;
    }

    /// <summary>The substrate's model of its swap device's time; null: none (the policy paces paging by its own credit).</summary>
    public ISwapDeviceTiming? SwapDevice { get; set; }

    /// <summary>The sharing scan rate the policy set.</summary>
    public ShareScanRate ShareScanRate { get; private set; }

    /// <inheritdoc/>
    public long MachinePages => _manager.Pool.TotalPages;

    /// <inheritdoc/>
    public long FreePages => _manager.Pool.FreePages;

    /// <inheritdoc/>
    public long SwapCapacityPages => _manager.Swap.CapacityPages;

    /// <inheritdoc/>
    public int? SwapWritablePages(TimeSpan horizon) => SwapDevice?.WritablePages(horizon);

    /// <summary>Starts the per-VM records of a VM just powered on (its balloon attached, its sampling tracked).</summary>
    public void Attach(VmId vm)
    {
        var size = Math.Max(4, _blocked.Length);
        while (size <= vm.Value)
        {
            size *= 2;
        }

        if (size != _blocked.Length)
        {
            Array.Resize(ref _sharedSavedPages, size);
            Array.Resize(ref _blocked, size);
            Array.Resize(ref _executionTime, size);
        }

        _sharedSavedPages[vm.Value] = 0;
        _blocked[vm.Value] = false;
        _executionTime[vm.Value] = TimeSpan.Zero;
    }

    /// <summary>True while the policy blocks the VM (the substrate deschedules it).</summary>
    public bool IsBlocked(VmId vm) => vm.Value < _blocked.Length && _blocked[vm.Value];

    /// <summary>The substrate reports that <paramref name="vm"/> ran for <paramref name="ran"/>.</summary>
    public void AddExecutionTime(VmId vm, TimeSpan ran)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ran, TimeSpan.Zero);
        _executionTime[vm.Value] += ran;
    }

    /// <inheritdoc/>
    public TimeSpan ExecutionTime(VmId vm) => _executionTime[vm.Value];

    /// <inheritdoc/>
    public double ConsumedPages(VmId vm)
    {
        var (privatePages, sharedPages) = _manager.ResidentPagesOf(vm);
        return privatePages + sharedPages - _sharedSavedPages[vm.Value];
    }

    /// <inheritdoc/>
    public double MeasureConsumedPages(VmId vm)
    {
        var stats = _manager.GetVmStats(vm);
        _sharedSavedPages[vm.Value] = stats.SharedSavedPages;
        return stats.PrivatePages + stats.SharedPages - stats.SharedSavedPages;
    }

    /// <inheritdoc/>
    public int PagedOutPages(VmId vm) => _manager.SwappedPagesOf(vm);

    /// <inheritdoc/>
    public int BalloonPages(VmId vm) => _balloons.SizeOf(vm);

    /// <inheritdoc/>
    public int BalloonTargetPages(VmId vm) => _balloons.TargetOf(vm);

    /// <inheritdoc/>
    public int BalloonDeliverablePages(VmId vm) => _balloons.DeliverablePages(vm);

    /// <inheritdoc/>
    public bool IsBalloonPinned(VmId vm) => _balloons.PinnedTargetOf(vm) is not null;

    /// <inheritdoc/>
    public SampleCount CountTouched(VmId vm) => _sampler.CountTouched(vm);

    /// <inheritdoc/>
    public SampleCount EndSamplingPeriod(VmId vm) => _sampler.EndSamplingPeriod(vm);

    /// <inheritdoc/>
    public void SetBalloonTarget(VmId vm, int pages) => _balloons.SetTarget(vm, pages);

    /// <inheritdoc/>
    public PageOutResult PageOut(VmId vm, int pages)
    {
        var result = _manager.SwapOut(vm, pages);
        if (result.SwappedOut > 0)
        {
            SwapDevice?.SubmitWrite(result.SwappedOut);
        }

        return new PageOutResult(result.SwappedOut, result.PagesFreed);
    }

    /// <inheritdoc/>
    public void SetShareScanRate(ShareScanRate rate)
    {
        ShareScanRate = rate;
        if (!rate.IsOff)
        {
            _scanner.SetRate(rate.PerVmPagesPerSecond, rate.HostPagesPerSecond);
        }
    }

    /// <summary>Runs the sharing scanner for <paramref name="elapsed"/> at the rate the policy set (nothing when it is off).</summary>
    public void Scan(TimeSpan elapsed)
    {
        if (!ShareScanRate.IsOff)
        {
            _scanner.Advance(elapsed);
        }
    }

    /// <inheritdoc/>
    public void SetBlocked(VmId vm, bool blocked) => _blocked[vm.Value] = blocked;

    /// <inheritdoc/>
    public void OnBalancePeriod()
    {
        if (_manager.IoRemapSettings is not null)
        {
            // Hot I/O remapping's housekeeping runs on the balance timer: age the copy counts, and move
            // cold pages out of low memory when it runs short.
            _manager.DecayIoCounts();
            _manager.BalanceLowMemory();
        }
    }
}
