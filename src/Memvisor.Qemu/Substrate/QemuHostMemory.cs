/*
 * The managing substrate's side of the policy's ports (Core/Host: IHostMemoryMeter and
 * IHostMemoryActuators) for QEMU guests on this host.
 *
 * The policy is synchronous and allocates nothing on a tick; QMP is asynchronous. So a tick is three
 * steps, driven by the caller:
 *   1. RefreshAsync(elapsed): sample every guest (GuestMonitor: QMP, smaps, KSM) and keep the
 *      figures, in pages, per VM;
 *   2. policy.Advance(elapsed): the meter answers from those figures; actuators that are system calls
 *      act at once (MADV_PAGEOUT through a pidfd, KSM knobs), the others are recorded;
 *   3. FlushAsync(): the recorded balloon targets and blocks go out over QMP.
 *
 * The figures:
 *   machine pages    the budget: the memory Memvisor may give guests on this host (host.memoryMB)
 *   consumed pages   guest-RAM RSS, with pages merged by KSM billed at their part of the KSM page
 *                    (pages_shared / (pages_shared + pages_sharing) of each merged page)
 *   free pages       budget - sum over guests of (consumed + QEMU's own resident memory), at least 0
 *   balloon pages    configured - query-balloon's actual; the target is configured - the policy's request
 *   deliverable      what the balloon may still take above the floor; 0 once it stalled, or QMP failed
 *   paged out        smaps Swap of guest RAM (host paging, only where the host has swap)
 *   touched pages    smaps Referenced of guest RAM since the period began (clear_refs), of all
 *                    configured pages: every page is "sampled"
 *   execution time   time the guest was running and not blocked
 * Blocking a VM (the low state) pauses it over QMP only where host paging works: without host swap a
 * paused guest could not inflate its balloon, the one mechanism left.
 * Host paging is asynchronous: pages advised out count as in flight (PageOutInFlight) until RSS shows
 * them gone, and consumed pages are served less them, so the policy does not page them twice.
 * A guest's fault (QMP timeout, closed socket, vanished process) is added to Faults, its last figures
 * stay, and the run goes on.
 */
using System.Globalization;
using Memvisor.Core.Host;
using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;
using Memvisor.Linux.Ksm;
using Memvisor.Qemu.Actuation;
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Monitoring;
using Memvisor.Qemu.Qmp;

namespace Memvisor.Qemu.Substrate;

/// <summary>QEMU guests behind the policy's meter and actuator ports.</summary>
public sealed class QemuHostMemory : IHostMemoryMeter, IHostMemoryActuators
{
    private const int PageBytes = 4096;
    private readonly ManagedGuest?[] _byId = new ManagedGuest?[ushort.MaxValue + 1];
    private readonly List<ManagedGuest> _guests = [];
    private readonly List<string> _faults = [];
    private readonly KsmScanRate? _ksm;
    private readonly KsmSysfs? _ksmCounters;
    private readonly TimeSpan _balloonStallTime;
    private double _ksmPartOfMerged = 1;
    private bool _pagingUnavailableSaid;
    private bool _blockingOffSaid;

    /// <summary>
    /// Manages guests within <paramref name="budgetPages"/> of host memory; <paramref name="swapCapacityPages"/>
    /// backs reclaimed memory for admission (host swap and the guests' swap disks); <paramref name="ksm"/>
    /// drives KSM's scan rate (null: sharing is left as it is).
    /// </summary>
    public QemuHostMemory(long budgetPages, long swapCapacityPages, KsmScanRate? ksm, TimeSpan balloonStallTime, KsmSysfs? ksmCounters = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(budgetPages);
        ArgumentOutOfRangeException.ThrowIfNegative(swapCapacityPages);
        MachinePages = budgetPages;
        SwapCapacityPages = swapCapacityPages;
        _ksm = ksm;
        _ksmCounters = ksmCounters ?? (Directory.Exists(KsmSysfs.DefaultDirectory) ? new KsmSysfs() : null);
        _balloonStallTime = balloonStallTime;
        PagingUnavailableReason = GuestPager.WhyUnavailable();
    }

    /// <inheritdoc/>
    public long MachinePages { get; }

    /// <inheritdoc/>
    public long FreePages { get; private set; }

    /// <inheritdoc/>
    public long SwapCapacityPages { get; }

    /// <summary>Why host paging is off (no host swap), or null.</summary>
    public string? PagingUnavailableReason { get; }

    /// <summary>The share scan rate the policy set last.</summary>
    public ShareScanRate ShareScanRate { get; private set; }

    /// <summary>What went wrong with guests so far, one line each, oldest first.</summary>
    public IReadOnlyList<string> Faults => _faults;

    /// <summary>The guests, in the order they were added.</summary>
    public IReadOnlyList<VmId> Vms => [.. _guests.Select(g => g.Id)];

    /// <summary>
    /// Takes a started guest under management as <paramref name="id"/>, with a balloon floor of
    /// <paramref name="floorMiB"/>; begins its first sampling period. Tell the policy afterwards (Add).
    /// </summary>
    public void Add(VmId id, IQemuVm guest, int floorMiB)
    {
        ArgumentNullException.ThrowIfNull(guest);
        if (_byId[id.Value] is not null)
        {
            throw new InvalidOperationException($"{id} is managed already");
        }

        var configured = (long)guest.MemoryMiB << 20;
        var balloon = new BalloonActuator(guest.Qmp, configured, Math.Min(configured, (long)floorMiB << 20), _balloonStallTime);
        var pager = PagingUnavailableReason is null && guest.RamMapping is not null ? GuestPager.Open(guest.RamMapping, seed: id.Value) : null;
        var managed = new ManagedGuest(id, guest, balloon, pager);
        guest.RamMapping?.ClearReferenced();
        _byId[id.Value] = managed;
        _guests.Add(managed);
    }

    /// <summary>Forgets a guest (after the policy's Remove); does not stop it.</summary>
    public void Remove(VmId id)
    {
        var managed = Guest(id);
        managed.Pager?.Dispose();
        _byId[id.Value] = null;
        _guests.Remove(managed);
    }

    /// <summary>Step 1 of a tick: samples every guest and updates the figures the meter serves.</summary>
    public async Task RefreshAsync(TimeSpan elapsed, CancellationToken cancellationToken = default)
    {
        ReadKsmShare();
        long used = 0;
        foreach (var managed in _guests)
        {
            if (!managed.StatsPollingAsked && managed.Alive)
            {
                managed.StatsPollingAsked = true;
                try
                {
                    await managed.Guest.Qmp.SetGuestStatsPollingIntervalAsync(2, managed.Guest.BalloonPath, cancellationToken).ConfigureAwait(false);
                }
                catch (QmpException e)
                {
                    Fault(managed, $"guest statistics unavailable: {e.Message}");
                }
            }

            var sample = await GuestMonitor.SampleAsync(managed.Guest, cancellationToken: cancellationToken).ConfigureAwait(false);
            Apply(managed, sample, elapsed);
            used += (long)Math.Ceiling(managed.ConsumedPages) + managed.OverheadPages;
        }

        // The host kernel owns the memory: guests can hold more than the budget. Free is then 0 (the
        // low state), never negative.
        FreePages = Math.Max(0, MachinePages - used);
    }

    /// <summary>Step 3 of a tick: sends the balloon targets and blocks the policy asked for.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        foreach (var managed in _guests.Where(g => g.Alive))
        {
            if (managed.WantedBalloonPages is { } pages)
            {
                var result = await managed.Balloon.SetTargetAsync(((long)managed.ConfiguredPages - pages) * PageBytes, cancellationToken).ConfigureAwait(false);
                if (result.Fault is not null)
                {
                    Fault(managed, result.Fault);
                }
            }

            if (managed.WantedBlocked != managed.Blocked)
            {
                try
                {
                    await (managed.WantedBlocked ? managed.Guest.Qmp.PauseAsync(cancellationToken) : managed.Guest.Qmp.ResumeAsync(cancellationToken)).ConfigureAwait(false);
                    managed.Blocked = managed.WantedBlocked;
                }
                catch (QmpException e)
                {
                    Fault(managed, e.Message);
                }
            }
        }
    }

    /// <inheritdoc/>
    public double ConsumedPages(VmId vm) => Math.Max(0, Guest(vm).ConsumedPages - Guest(vm).InFlight.Pages);

    /// <inheritdoc/>
    public double MeasureConsumedPages(VmId vm) => ConsumedPages(vm);

    /// <inheritdoc/>
    public int PagedOutPages(VmId vm) => Guest(vm).HostSwappedPages;

    /// <inheritdoc/>
    public int BalloonPages(VmId vm) => Guest(vm).BalloonPages;

    /// <inheritdoc/>
    public int BalloonTargetPages(VmId vm)
    {
        var managed = Guest(vm);
        return managed.Balloon.TargetBytes is { } target ? (int)((((long)managed.ConfiguredPages * PageBytes) - target) / PageBytes) : 0;
    }

    /// <inheritdoc/>
    public int BalloonDeliverablePages(VmId vm)
    {
        var managed = Guest(vm);
        if (!managed.Alive || managed.BalloonProgress == BalloonProgress.Stalled)
        {
            return 0;
        }

        var limit = (int)(((long)managed.ConfiguredPages * PageBytes - managed.Balloon.FloorBytes) / PageBytes);
        return Math.Max(0, limit - managed.BalloonPages);
    }

    /// <inheritdoc/>
    public bool IsBalloonPinned(VmId vm) => false;

    /// <inheritdoc/>
    public TimeSpan ExecutionTime(VmId vm) => Guest(vm).ExecutionTime;

    /// <inheritdoc/>
    public SampleCount CountTouched(VmId vm)
    {
        var managed = Guest(vm);
        var touched = MergedLookTouched.TouchedPages(managed.ReferencedPages, managed.MergedPages, managed.MergedPagesAtPeriodStart);
        return new SampleCount((int)Math.Min(touched, managed.ConfiguredPages), managed.ConfiguredPages);
    }

    /// <inheritdoc/>
    public SampleCount EndSamplingPeriod(VmId vm)
    {
        var managed = Guest(vm);
        var count = CountTouched(vm);
        managed.LastPeriodReferencedPages = managed.ReferencedPages;
        managed.ReferencedPages = 0;
        managed.MergedPagesAtPeriodStart = managed.MergedPages;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (managed.Alive && managed.Guest.RamMapping?.ClearReferenced() != true)
        {
            Fault(managed, "clear_refs failed: QEMU gone?");
        }

        managed.ClearCost = clock.Elapsed;

        return count;
    }

    /// <inheritdoc/>
    public void SetBalloonTarget(VmId vm, int pages) =>
        Guest(vm).WantedBalloonPages = Math.Clamp(pages, 0, Guest(vm).ConfiguredPages);

    /// <inheritdoc/>
    public PageOutResult PageOut(VmId vm, int pages)
    {
        var managed = Guest(vm);
        if (managed.Pager is null || !managed.Alive)
        {
            if (!_pagingUnavailableSaid && PagingUnavailableReason is not null)
            {
                _pagingUnavailableSaid = true;
                _faults.Add($"host paging off: {PagingUnavailableReason}");
            }

            return default;
        }

        try
        {
            var advised = (int)(managed.Pager.PageOut((long)pages * PageBytes) / PageBytes);
            managed.InFlight.Advised(advised);
            return new PageOutResult(advised, advised);
        }
        catch (Native.ErrnoException e)
        {
            Fault(managed, e.Message);
            return default;
        }
    }

    /// <inheritdoc/>
    public void SetShareScanRate(ShareScanRate rate)
    {
        ShareScanRate = rate;
        try
        {
            _ksm?.Set(rate.IsOff ? 0 : (int)Math.Min(int.MaxValue, rate.HostPagesPerSecond));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _faults.Add($"KSM scan rate: {e.Message}");
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Blocking serves host paging: a VM that does not run cannot fault back the pages the host takes.
    /// Without host paging it would only stop the balloon driver, the one mechanism left (a paused
    /// guest inflates nothing: seen here with a guest held at a 43 MiB target and a 0 MiB balloon).
    /// So where host paging is off, a block is noted once and the guest keeps running.
    /// </remarks>
    public void SetBlocked(VmId vm, bool blocked)
    {
        if (PagingUnavailableReason is not null)
        {
            if (blocked && !_blockingOffSaid)
            {
                _blockingOffSaid = true;
                _faults.Add($"blocking off: a paused guest cannot inflate its balloon, and {PagingUnavailableReason}");
            }

            return;
        }

        Guest(vm).WantedBlocked = blocked;
    }

    /// <inheritdoc/>
    public void OnBalancePeriod()
    {
        // Every figure is refreshed on every tick (RefreshAsync): nothing costly is left for here.
    }

    /// <summary>The figures of one guest as the meter serves them (for outputs and tests).</summary>
    public QemuGuestFigures FiguresOf(VmId vm)
    {
        var managed = Guest(vm);
        return new QemuGuestFigures(managed.Alive, managed.ConsumedPages, managed.OverheadPages, managed.BalloonPages, BalloonTargetPages(vm), managed.BalloonProgress, managed.KsmMergingPages, managed.HostSwappedPages, managed.Blocked)
        {
            RssPages = managed.RssPages,
            SharedSavedPages = managed.KsmMergingPages * (1 - _ksmPartOfMerged),
            KsmZeroPages = managed.KsmZeroPages,
            InFlightPageOutPages = managed.InFlight.Pages,
            LastPeriodReferencedPages = managed.LastPeriodReferencedPages,
            MeasureCost = managed.MeasureCost + managed.ClearCost,
            GuestStats = managed.Stats,
            StalledFraction = managed.Stall.StalledFraction,
        };
    }

    private ManagedGuest Guest(VmId id) => _byId[id.Value] ?? throw new ArgumentException($"{id} is not managed here", nameof(id));

    private void Apply(ManagedGuest managed, GuestSample sample, TimeSpan elapsed)
    {
        foreach (var fault in sample.Faults)
        {
            Fault(managed, fault);
        }

        if (managed.Alive && !sample.Alive)
        {
            Fault(managed, "QEMU exited");
        }

        managed.Alive = sample.Alive;
        managed.Running = sample.Status?.Running ?? false;
        managed.Stall.Observe(sample.Agent);
        if (managed.Running && !managed.Blocked)
        {
            managed.ExecutionTime += managed.Stall.Executed(elapsed);
        }

        if (sample.BalloonActualBytes is { } actual)
        {
            managed.BalloonPages = (int)(((long)managed.ConfiguredPages * PageBytes - actual) / PageBytes);
            managed.BalloonProgress = managed.Balloon.Observe(actual);
        }

        if (sample.GuestStats is { } stats)
        {
            managed.Stats = stats;
        }

        if (sample.RamReadCost is { } cost)
        {
            managed.MeasureCost = cost;
        }

        if (sample.Ram is { } ram)
        {
            var rssPages = ram.RssBytes / PageBytes;
            managed.InFlight.Observed(managed.RssPages, rssPages, elapsed);
            managed.RssPages = rssPages;
            var merging = sample.Ksm?.MergingPages ?? 0;
            managed.KsmMergingPages = merging;
            managed.KsmZeroPages = sample.Ksm?.ZeroPages;
            managed.MergedPages = sample.Ksm is { } ksm ? ksm.MergingPages + (ksm.ZeroPages ?? 0) : null;
            managed.MergedPagesAtPeriodStart ??= managed.MergedPages;
            managed.ConsumedPages = rssPages - merging + (merging * _ksmPartOfMerged);
            managed.ReferencedPages = (int)Math.Min(int.MaxValue, ram.ReferencedBytes / PageBytes);
            managed.HostSwappedPages = (int)(ram.SwapBytes / PageBytes);
            managed.OverheadPages = Math.Max(0, ProcessResidentPages(managed.Guest.Pid) - rssPages);
        }
    }

    private void ReadKsmShare()
    {
        if (_ksmCounters is null)
        {
            return;
        }

        try
        {
            var shared = _ksmCounters.ReadNumber(KsmKnob.PagesShared);
            var sharing = _ksmCounters.ReadNumber(KsmKnob.PagesSharing);
            _ksmPartOfMerged = shared + sharing > 0 ? shared / (double)(shared + sharing) : 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            _ksmPartOfMerged = 1;
        }
    }

    private static long ProcessResidentPages(int pid)
    {
        try
        {
            var fields = File.ReadAllText($"/proc/{pid}/statm").Split(' ');
            return long.Parse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    private void Fault(ManagedGuest managed, string fault)
    {
        // A source that fails every tick is said once per guest, not once a second.
        if (managed.SaidFaults.Add(fault))
        {
            _faults.Add(string.Create(CultureInfo.InvariantCulture, $"{managed.Guest.Name}: {fault}"));
        }
    }
}

/// <summary>One guest's figures as the QEMU substrate measured them, in pages.</summary>
/// <param name="Alive">QEMU runs.</param>
/// <param name="ConsumedPages">Guest-RAM RSS with KSM pages billed at their part.</param>
/// <param name="OverheadPages">QEMU's own resident memory.</param>
/// <param name="BalloonPages">Pages in the balloon now.</param>
/// <param name="BalloonTargetPages">The balloon size last sent.</param>
/// <param name="BalloonProgress">Whether the guest follows its balloon target.</param>
/// <param name="KsmMergingPages">Pages merged by KSM.</param>
/// <param name="HostSwappedPages">Guest RAM in host swap.</param>
/// <param name="Blocked">The guest is paused by the policy.</param>
public sealed record QemuGuestFigures(bool Alive, double ConsumedPages, long OverheadPages, int BalloonPages, int BalloonTargetPages, BalloonProgress BalloonProgress, long KsmMergingPages, int HostSwappedPages, bool Blocked)
{
    /// <summary>Guest-RAM RSS.</summary>
    public long RssPages { get; init; }

    /// <summary>What KSM saves for this VM: its merged pages less its part of the KSM pages they merged into.</summary>
    public double SharedSavedPages { get; init; }

    /// <summary>Pages merged with the zero page (use_zero_pages), if the kernel says.</summary>
    public long? KsmZeroPages { get; init; }

    /// <summary>Pages advised out whose RSS has not fallen yet.</summary>
    public long InFlightPageOutPages { get; init; }

    /// <summary>Referenced pages of the last completed measuring period.</summary>
    public int LastPeriodReferencedPages { get; init; }

    /// <summary>Wall time of the last working-set measurement (smaps read + clear_refs).</summary>
    public TimeSpan MeasureCost { get; init; }

    /// <summary>The balloon driver's statistics at the last sample (null before the guest reports).</summary>
    public Qmp.GuestMemoryStats? GuestStats { get; init; }

    /// <summary>The share of the guest's time it stood waiting for I/O, left out of its execution time (GuestStall).</summary>
    public double StalledFraction { get; init; }
}
