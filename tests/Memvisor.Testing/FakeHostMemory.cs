using Memvisor.Core.Host;
using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;

namespace Memvisor.Testing;

/// <summary>
/// A plain fake of the policy's ports: memory by arithmetic, no pages. Per VM: the guest uses
/// <see cref="FakeVm.UsedPages"/> pages, re-touches the top <see cref="FakeVm.ActivePages"/> of them
/// while it runs, and gives its balloon what it asks for at <see cref="BalloonPagesPerStep"/> pages a
/// step when it has a driver. Resident = min(used, max - balloon) - paged out; page-out lowers it,
/// re-touching active pages brings paged-out ones back while free memory lasts; free = machine - sum
/// resident - sum overhead. Sampling: a period's count is the active fraction of configured memory of n
/// sampled pages, once the VM has run in it.
/// </summary>
public sealed class FakeHostMemory(long machinePages, long swapPages, int balloonPercent = 65) : IHostMemoryMeter, IHostMemoryActuators
{
    private readonly Dictionary<VmId, FakeVm> _vms = [];

    /// <summary>Pages a balloon moves per <see cref="Run"/> step.</summary>
    public int BalloonPagesPerStep { get; init; } = 64;

    /// <summary>Sampled pages per period (n).</summary>
    public int SamplePages { get; init; } = 100;

    /// <summary>The scan rate the policy set.</summary>
    public ShareScanRate ShareScanRate { get; private set; }

    /// <summary>Pages the swap device can write within a tick; null: no device model (the policy paces by its credit).</summary>
    public int? SwapWritablePagesPerTick { get; set; }

    /// <inheritdoc/>
    public int? SwapWritablePages(TimeSpan horizon) => SwapWritablePagesPerTick;

    /// <summary>Balance periods the policy announced.</summary>
    public int BalancePeriods { get; private set; }

    /// <inheritdoc/>
    public long MachinePages => machinePages;

    /// <inheritdoc/>
    public long FreePages => machinePages - _vms.Values.Sum(v => v.ResidentPages + v.OverheadPages);

    /// <inheritdoc/>
    public long SwapCapacityPages => swapPages;

    /// <summary>Powers on a VM (the caller asks the policy first and adds it after).</summary>
    public FakeVm PowerOn(VmId id, VmConfig config, bool balloonDriver)
    {
        var vm = new FakeVm(config.MaxPages, config.MinPages, config.EffectiveOverheadPages, balloonDriver, (int)Math.Floor(config.MaxPages * balloonPercent / 100.0), Math.Min(SamplePages, config.MaxPages));
        _vms.Add(id, vm);
        return vm;
    }

    /// <summary>Powers a VM off.</summary>
    public void PowerOff(VmId id) => _vms.Remove(id);

    /// <summary>The VM's state.</summary>
    public FakeVm Vm(VmId id) => _vms[id];

    /// <summary>
    /// The guest now uses <paramref name="usedPages"/> pages and re-touches <paramref name="activePages"/>
    /// of them. What does not fit in free memory is paged out of the VM itself at once (an owning
    /// substrate's synchronous reclaim when a fault finds no free page).
    /// </summary>
    public void Use(VmId id, int usedPages, int activePages)
    {
        var vm = _vms[id];
        vm.UsedPages = usedPages;
        vm.ActivePages = activePages;
        PageOutDeficit(vm);
    }

    /// <summary>What does not fit in free memory is paged out of <paramref name="vm"/> (the owning substrate's synchronous reclaim on a fault).</summary>
    private void PageOutDeficit(FakeVm vm)
    {
        var deficit = -FreePages;
        if (deficit > 0)
        {
            var n = (int)Math.Min(deficit, vm.ResidentPages);
            vm.PagedOut += n;
            vm.PagesWritten += n;
        }
    }

    /// <summary>One step of <paramref name="elapsed"/>: unblocked guests run (re-touch their active pages), balloons move.</summary>
    public void Run(TimeSpan elapsed)
    {
        foreach (var vm in _vms.Values)
        {
            if (vm.Driver)
            {
                var goal = Math.Min(vm.BalloonTarget, vm.BalloonLimit);
                vm.Balloon += Math.Clamp(goal - vm.Balloon, -BalloonPagesPerStep, BalloonPagesPerStep);
                vm.PagedOut = Math.Min(vm.PagedOut, vm.InGuest);

                // Pages a deflating balloon gives back are used by the guest at once: beyond free memory, paged out.
                PageOutDeficit(vm);
            }

            if (vm.Blocked || vm.Stalled)
            {
                continue;
            }

            vm.ExecutionTime += elapsed;
            vm.RanThisPeriod = true;
            var wanted = Math.Min(vm.ActivePages, vm.InGuest);
            // Paged-out pages are the idle ones first: the active ones paged out fault back while memory is free.
            var activePagedOut = Math.Max(0, vm.PagedOut - (vm.InGuest - wanted));
            vm.PagedOut -= (int)Math.Min(activePagedOut, Math.Max(0, FreePages));
        }
    }

    /// <inheritdoc/>
    public double ConsumedPages(VmId vm) => _vms[vm].ResidentPages;

    /// <inheritdoc/>
    public double MeasureConsumedPages(VmId vm) => _vms[vm].ResidentPages;

    /// <inheritdoc/>
    public int PagedOutPages(VmId vm) => _vms[vm].PagedOut;

    /// <inheritdoc/>
    public int BalloonPages(VmId vm) => _vms[vm].Balloon;

    /// <inheritdoc/>
    public int BalloonTargetPages(VmId vm) => _vms[vm].BalloonTarget;

    /// <inheritdoc/>
    public int BalloonDeliverablePages(VmId vm)
    {
        var v = _vms[vm];
        return v.Driver ? Math.Max(0, v.BalloonLimit - v.Balloon) : 0;
    }

    /// <inheritdoc/>
    public bool IsBalloonPinned(VmId vm) => false;

    /// <inheritdoc/>
    public TimeSpan ExecutionTime(VmId vm) => _vms[vm].ExecutionTime;

    /// <inheritdoc/>
    public SampleCount CountTouched(VmId vm)
    {
        var v = _vms[vm];
        return new SampleCount(v.RanThisPeriod ? v.TouchedOfSample : 0, v.SampledPages);
    }

    /// <inheritdoc/>
    public SampleCount EndSamplingPeriod(VmId vm)
    {
        var count = CountTouched(vm);
        _vms[vm].RanThisPeriod = false;
        return count;
    }

    /// <inheritdoc/>
    public void SetBalloonTarget(VmId vm, int pages) => _vms[vm].BalloonTarget = Math.Min(pages, _vms[vm].BalloonLimit);

    /// <inheritdoc/>
    public PageOutResult PageOut(VmId vm, int pages)
    {
        var v = _vms[vm];
        var n = Math.Max(0, Math.Min(pages, Math.Min(v.ResidentPages, v.MaxPages - v.MinPages - v.PagedOut)));
        v.PagedOut += n;
        v.PagesWritten += n;
        return new PageOutResult(n, n);
    }

    /// <inheritdoc/>
    public void SetShareScanRate(ShareScanRate rate) => ShareScanRate = rate;

    /// <inheritdoc/>
    public void SetBlocked(VmId vm, bool blocked) => _vms[vm].Blocked = blocked;

    /// <inheritdoc/>
    public void OnBalancePeriod() => BalancePeriods++;
}

/// <summary>One VM of <see cref="FakeHostMemory"/>.</summary>
public sealed class FakeVm(int maxPages, int minPages, int overheadPages, bool driver, int balloonLimit, int sampledPages)
{
    public int MaxPages { get; } = maxPages;

    public int MinPages { get; } = minPages;

    public int OverheadPages { get; } = overheadPages;

    public bool Driver { get; } = driver;

    public int BalloonLimit { get; } = balloonLimit;

    public int SampledPages { get; } = sampledPages;

    /// <summary>Pages the guest uses (touched once at least).</summary>
    public int UsedPages { get; set; }

    /// <summary>Of those, the pages it re-touches while it runs.</summary>
    public int ActivePages { get; set; }

    public int Balloon { get; set; }

    public int BalloonTarget { get; set; }

    public int PagedOut { get; set; }

    public long PagesWritten { get; set; }

    public bool Blocked { get; set; }

    /// <summary>The guest does not run though not blocked (waiting on its disk, say).</summary>
    public bool Stalled { get; set; }

    public TimeSpan ExecutionTime { get; set; }

    public bool RanThisPeriod { get; set; }

    /// <summary>The guest's used pages that are not in its balloon.</summary>
    public int InGuest => Math.Min(UsedPages, MaxPages - Balloon);

    public int ResidentPages => Math.Max(0, InGuest - PagedOut);

    public int TouchedOfSample => (int)Math.Round(SampledPages * (double)Math.Min(ActivePages, MaxPages) / MaxPages);
}
