/*
 * The host side of the balloon protocol (paper §3.2).
 *
 * Problem: the host wants memory back from a VM, and only the guest knows which of its pages are least
 * valuable. A balloon driver in the guest allocates pinned pages through the guest's own allocator and
 * reports their PPNs (inflate): the host frees their backing. When memory is plentiful it frees pages
 * back to the guest (deflate). The driver steers by a target the host sets and polls about once per
 * second. The driver runs inside the guest, so nothing it says is trusted.
 *
 * Data structures: one BalloonChannel per VM (the "shared page": the host writes the target; the
 * guest writes its driver status and submits reports), which also holds the host's private record of
 * the VM: limit, size, time of last progress, a bitmap of the PPNs listed in the report being checked,
 * rejection counters. The pmap is the truth: a page is in the balloon when its pmap state is
 * Ballooned, and the size is re-read from the pmap whenever the host looks (a guest that touches a
 * ballooned page takes it back without asking).
 *
 * Validation: a report is checked as a whole (the channel's VM must still be powered on; the VM the
 * report claims must be the channel's own), then entry by entry, in this order: PPN within the VM's
 * memory; not listed earlier in the report; inflate: not already ballooned, deflate: ballooned;
 * inflate: room below the target, else rejected as over the limit (if the balloon would exceed it)
 * or over the target. Inflating past the target is refused rather than taken: the host reclaims what
 * it asked for and no more, so a balloon never holds more than max(target, size before the report)
 * and the policy's accounting stays predictable; the driver must give refused pages back to its
 * guest. Deflating below the target is accepted: the pages are the guest's, which could take them back
 * anyway by touching them, but it is not progress. A rejected entry is counted under its reason and
 * changes nothing. At most MaxPagesPerReport entries of a report are looked at.
 *
 * Responsiveness: a driver whose balloon stays away from its target without moving toward it for
 * longer than the deadline is treated as absent (the policy swaps instead); any step toward the target
 * makes it responsive again. The clock restarts when a new demand appears (the balloon was at its old
 * target, or the new target asks for the other direction), not when the policy repeats or nudges a
 * target the driver already ignores. Time comes from an injected TimeProvider (simulated in the
 * simulator): Core reads no wall clock.
 *
 * Pinned targets: an administrator (or an experiment, as the paper's Figure 2 balloons a 256 MB VM down
 * to a fixed size) can fix a VM's target with PinTarget. While pinned, SetTarget (the policy) leaves the
 * target alone, and the balloon can deliver only up to the pin, so the policy swaps any excess beyond it
 * as it would for a balloon at its limit. Unpinning leaves the target where it was: the policy's next
 * SetTarget moves it.
 */
using Memvisor.Core.Memory;

namespace Memvisor.Core.Balloon;

/// <summary>The host side of ballooning for every VM of one host: channels, validation, limits, targets, responsiveness.</summary>
public sealed class BalloonHost
{
    internal const int VerdictCount = (int)BalloonVerdict.VmPoweredOff + 1;

    private readonly MemoryManager _manager;
    private readonly TimeProvider _clock;
    private readonly List<BalloonChannel?> _channels = [];
    private readonly long[] _rejections = new long[VerdictCount];

    /// <summary>Creates the balloon host of <paramref name="manager"/>'s host.</summary>
    /// <param name="manager">The memory manager whose pmaps the balloons change.</param>
    /// <param name="clock">The host's clock (simulated time in the simulator).</param>
    /// <param name="options">Every VM's default limits and deadline; null for the defaults.</param>
    public BalloonHost(MemoryManager manager, TimeProvider clock, BalloonOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(clock);
        options ??= new BalloonOptions();
        options.Validate();
        _manager = manager;
        _clock = clock;
        Options = options;
    }

    /// <summary>The host's default balloon options.</summary>
    public BalloonOptions Options { get; }

    /// <summary>Entries rejected over all VMs, including reports sent after a VM was powered off.</summary>
    public BalloonRejections Rejections => BalloonRejections.From(_rejections);

    /// <summary>
    /// Opens the balloon channel of a powered-on VM; its driver starts as not installed, its target at
    /// the balloon's current size (0 for a new VM). Call <see cref="Detach"/> when the VM powers off.
    /// </summary>
    /// <param name="vm">The VM.</param>
    /// <param name="vmOptions">The VM's own limits (e.g. <c>Options with { MaxPages = ... }</c>); null for the host's.</param>
    public BalloonChannel Attach(VmId vm, BalloonOptions? vmOptions = null)
    {
        if (!_manager.IsPoweredOn(vm))
        {
            throw new ArgumentException($"{vm} is not powered on.", nameof(vm));
        }

        var options = vmOptions ?? Options;
        options.Validate();
        if (Find(vm) is not null)
        {
            throw new InvalidOperationException($"{vm} already has a balloon channel: detach it first.");
        }

        var config = _manager.ConfigOf(vm);
        var channel = new BalloonChannel(this, vm, _manager.IncarnationOf(vm), config, options, options.LimitPages(config.MaxPages));
        channel.SizePages = BalloonedPagesInPmap(vm);
        channel.TargetPages = Math.Min(channel.SizePages, channel.LimitPages);
        channel.LastProgress = _clock.GetTimestamp();
        while (_channels.Count <= vm.Value)
        {
            _channels.Add(null);
        }

        _channels[vm.Value] = channel;
        return channel;
    }

    /// <summary>Closes a VM's channel (at power-off): its later reports are rejected. Nothing happens when the VM has none.</summary>
    public void Detach(VmId vm)
    {
        if (vm.Value < _channels.Count && _channels[vm.Value] is { } channel)
        {
            Close(channel);
        }
    }

    /// <summary>True when the VM has an open channel.</summary>
    public bool IsAttached(VmId vm) => Find(vm) is not null;

    /// <summary>The VM's channel.</summary>
    public BalloonChannel ChannelOf(VmId vm) => Channel(vm);

    /// <summary>Asks the VM's balloon for <paramref name="pages"/> pages, clamped to its limit; a pinned target (<see cref="PinTarget"/>) stays as it is.</summary>
    /// <returns>The target in force: min(<paramref name="pages"/>, limit), or the pinned target.</returns>
    public int SetTarget(VmId vm, int pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pages);
        var channel = Channel(vm);
        return channel.PinnedTargetPages is { } pinned ? pinned : Retarget(channel, Math.Min(pages, channel.LimitPages));
    }

    /// <summary>
    /// Fixes the VM's balloon target at <paramref name="pages"/> (null: releases the pin). While pinned, the
    /// policy's <see cref="SetTarget"/> does not move the target and the balloon delivers at most the pin.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pages"/> is negative or above the VM's balloon limit.</exception>
    public void PinTarget(VmId vm, int? pages)
    {
        var channel = Channel(vm);
        if (pages is { } target)
        {
            if (target < 0 || target > channel.LimitPages)
            {
                throw new ArgumentOutOfRangeException(nameof(pages), target, $"{vm}: a pinned balloon target must be between 0 and the balloon limit ({channel.LimitPages} pages).");
            }

            channel.PinnedTargetPages = null;
            Retarget(channel, target);
        }

        channel.PinnedTargetPages = pages;
    }

    /// <summary>The VM's pinned balloon target, or null when the policy sets it.</summary>
    public int? PinnedTargetOf(VmId vm) => Channel(vm).PinnedTargetPages;

    /// <summary>Pages in the VM's balloon.</summary>
    public int SizeOf(VmId vm)
    {
        var channel = Channel(vm);
        Refresh(channel, _clock.GetTimestamp());
        return channel.SizePages;
    }

    /// <summary>The size the host asks of the VM's balloon.</summary>
    public int TargetOf(VmId vm) => Channel(vm).TargetPages;

    /// <summary>The most the VM's balloon may hold.</summary>
    public int LimitOf(VmId vm) => Channel(vm).LimitPages;

    /// <summary>False when the balloon has been away from its target without moving toward it for longer than the deadline.</summary>
    public bool IsResponsive(VmId vm)
    {
        var channel = Channel(vm);
        var now = _clock.GetTimestamp();
        Refresh(channel, now);
        return IsResponsive(channel, now);
    }

    /// <summary>
    /// How many more pages the VM's balloon can take: limit (or pinned target) - size when the driver is active and
    /// responsive, else 0 (the reclamation policy swaps such VMs instead).
    /// </summary>
    public int DeliverablePages(VmId vm)
    {
        var channel = Channel(vm);
        var now = _clock.GetTimestamp();
        Refresh(channel, now);
        return Deliverable(channel, now);
    }

    /// <summary>True when the VM's balloon can take more pages (see <see cref="DeliverablePages"/>).</summary>
    public bool CanDeliver(VmId vm) => DeliverablePages(vm) > 0;

    /// <summary>A snapshot of the VM's balloon.</summary>
    public BalloonVmStats GetStats(VmId vm)
    {
        var channel = Channel(vm);
        var now = _clock.GetTimestamp();
        Refresh(channel, now);
        return new BalloonVmStats
        {
            Vm = vm,
            DriverStatus = channel.DriverStatus,
            IsResponsive = IsResponsive(channel, now),
            SizePages = channel.SizePages,
            TargetPages = channel.TargetPages,
            LimitPages = channel.LimitPages,
            DeliverablePages = Deliverable(channel, now),
            SinceProgress = _clock.GetElapsedTime(channel.LastProgress, now),
            Reports = channel.Reports,
            PagesInflated = channel.PagesInflated,
            PagesDeflated = channel.PagesDeflated,
            Rejections = BalloonRejections.From(channel.Rejections),
        };
    }

    /// <summary>Checks and applies one report from the guest side of <paramref name="channel"/>.</summary>
    internal BalloonReportResult Process(BalloonChannel channel, VmId claimedVm, ReadOnlySpan<Ppn> ppns, Span<BalloonVerdict> verdicts, bool inflate)
    {
        if (verdicts.Length != 0 && verdicts.Length < ppns.Length)
        {
            throw new ArgumentException($"Room for {verdicts.Length} verdicts, but the report has {ppns.Length} entries.", nameof(verdicts));
        }

        channel.Reports++;
        if (channel.IsOpen && !IsLive(channel))
        {
            Close(channel);
        }

        if (!channel.IsOpen)
        {
            return RejectAll(channel, ppns.Length, verdicts, BalloonVerdict.VmPoweredOff);
        }

        if (claimedVm != channel.Vm)
        {
            return RejectAll(channel, ppns.Length, verdicts, BalloonVerdict.ForeignVm);
        }

        var now = _clock.GetTimestamp();
        Refresh(channel, now);
        var count = Math.Min(ppns.Length, channel.Options.MaxPagesPerReport);
        var accepted = 0;
        var pastTarget = 0;
        var progress = false;
        for (var i = 0; i < count; i++)
        {
            var ppn = ppns[i];
            var verdict = inflate ? JudgeInflate(channel, ppn, ref pastTarget) : JudgeDeflate(channel, ppn);
            if (verdict == BalloonVerdict.Accepted)
            {
                accepted++;
                if (inflate)
                {
                    Expect(_manager.InflateBalloonPage(channel.Vm, ppn), channel, ppn);
                    progress = true; // only pages below the target are accepted
                    channel.SizePages++;
                    channel.PagesInflated++;
                }
                else
                {
                    Expect(_manager.DeflateBalloonPage(channel.Vm, ppn), channel, ppn);
                    progress |= channel.SizePages > channel.TargetPages;
                    channel.SizePages--;
                    channel.PagesDeflated++;
                }
            }
            else
            {
                Count(channel, verdict, 1);
            }

            if (verdicts.Length != 0)
            {
                verdicts[i] = verdict;
            }
        }

        ClearSeen(channel, ppns[..count]);
        if (ppns.Length > count)
        {
            Count(channel, BalloonVerdict.ReportTooLarge, ppns.Length - count);
            if (verdicts.Length != 0)
            {
                verdicts[count..ppns.Length].Fill(BalloonVerdict.ReportTooLarge);
            }
        }

        if (progress || channel.SizePages == channel.TargetPages)
        {
            channel.LastProgress = now;
        }

        return new BalloonReportResult(accepted, ppns.Length - accepted);
    }

    /// <summary>Sets the target, giving the driver a fresh deadline when this is a new demand.</summary>
    private int Retarget(BalloonChannel channel, int target)
    {
        var now = _clock.GetTimestamp();
        Refresh(channel, now);
        var demandBefore = Math.Sign(channel.TargetPages - channel.SizePages);
        var demandAfter = Math.Sign(target - channel.SizePages);
        if (demandBefore == 0 || demandAfter != demandBefore)
        {
            // A new demand: the driver gets a whole deadline to answer it.
            channel.LastProgress = now;
        }

        channel.TargetPages = target;
        return target;
    }

    private BalloonVerdict JudgeInflate(BalloonChannel channel, Ppn ppn, ref int pastTarget)
    {
        var verdict = JudgeListing(channel, ppn);
        if (verdict != BalloonVerdict.Accepted)
        {
            return verdict;
        }

        if (_manager.PageInfoOf(channel.Vm, ppn).State == PageState.Ballooned)
        {
            return BalloonVerdict.AlreadyBallooned;
        }

        if (!_manager.MayBalloon(channel.Vm, ppn))
        {
            // Ballooned and swapped pages together may not exceed max - min: the VM's min is guaranteed.
            return BalloonVerdict.OverLimit;
        }

        if (channel.SizePages < channel.TargetPages)
        {
            return BalloonVerdict.Accepted;
        }

        // Where the balloon would be had the excess been taken: past the limit, or only past the target.
        pastTarget++;
        return channel.SizePages + pastTarget > channel.LimitPages ? BalloonVerdict.OverLimit : BalloonVerdict.OverTarget;
    }

    private BalloonVerdict JudgeDeflate(BalloonChannel channel, Ppn ppn)
    {
        var verdict = JudgeListing(channel, ppn);
        if (verdict != BalloonVerdict.Accepted)
        {
            return verdict;
        }

        return _manager.PageInfoOf(channel.Vm, ppn).State == PageState.Ballooned ? BalloonVerdict.Accepted : BalloonVerdict.NotBallooned;
    }

    /// <summary>The checks common to inflate and deflate: the PPN is the VM's, and listed once in this report.</summary>
    private static BalloonVerdict JudgeListing(BalloonChannel channel, Ppn ppn)
    {
        if (ppn.Value >= (uint)channel.Config.MaxPages)
        {
            return BalloonVerdict.OutOfRange;
        }

        ref var word = ref channel.Seen[ppn.Value >> 6];
        var bit = 1UL << (int)(ppn.Value & 63);
        if ((word & bit) != 0)
        {
            return BalloonVerdict.Duplicate;
        }

        word |= bit;
        return BalloonVerdict.Accepted;
    }

    /// <summary>Clears the bitmap after a report: only this report's PPNs set bits, so zeroing their words is enough.</summary>
    private static void ClearSeen(BalloonChannel channel, ReadOnlySpan<Ppn> ppns)
    {
        foreach (var ppn in ppns)
        {
            if (ppn.Value < (uint)channel.Config.MaxPages)
            {
                channel.Seen[ppn.Value >> 6] = 0;
            }
        }
    }

    private BalloonReportResult RejectAll(BalloonChannel channel, int entries, Span<BalloonVerdict> verdicts, BalloonVerdict reason)
    {
        Count(channel, reason, entries);
        if (verdicts.Length != 0)
        {
            verdicts[..entries].Fill(reason);
        }

        return new BalloonReportResult(0, entries);
    }

    private void Count(BalloonChannel channel, BalloonVerdict reason, int entries)
    {
        channel.Rejections[(int)reason] += entries;
        _rejections[(int)reason] += entries;
    }

    /// <summary>Re-reads the balloon's size from the pmap; a balloon at its target counts as progressing.</summary>
    private void Refresh(BalloonChannel channel, long now)
    {
        channel.SizePages = BalloonedPagesInPmap(channel.Vm);
        if (channel.SizePages == channel.TargetPages)
        {
            channel.LastProgress = now;
        }
    }

    private bool IsResponsive(BalloonChannel channel, long now) =>
        channel.SizePages == channel.TargetPages || _clock.GetElapsedTime(channel.LastProgress, now) <= channel.Options.UnresponsiveDeadline;

    private int Deliverable(BalloonChannel channel, long now) =>
        channel.DriverStatus == BalloonDriverStatus.Active && IsResponsive(channel, now)
            ? Math.Max(0, (channel.PinnedTargetPages ?? channel.LimitPages) - channel.SizePages)
            : 0;

    /// <summary>
    /// The pmap's count of ballooned pages. Walks the VM's pmap (MemoryManager has no per-VM accessor for
    /// its counter yet); called once per report or query, not per page.
    /// </summary>
    private int BalloonedPagesInPmap(VmId vm) => _manager.BalloonedPagesOf(vm);

    /// <summary>
    /// True while the channel's VM is powered on. A VM id freed at power-off can be reused by the next
    /// VM: the incarnation gives the stale channel away (Detach at power-off closes it at once; this is
    /// the check that makes a reused id inherit nothing).
    /// </summary>
    private bool IsLive(BalloonChannel channel) => _manager.IsCurrent(channel.Vm, channel.Incarnation);

    private void Close(BalloonChannel channel)
    {
        channel.IsOpen = false;
        if (channel.Vm.Value < _channels.Count && ReferenceEquals(_channels[channel.Vm.Value], channel))
        {
            _channels[channel.Vm.Value] = null;
        }
    }

    private BalloonChannel? Find(VmId vm)
    {
        if (vm.Value >= _channels.Count || _channels[vm.Value] is not { } channel)
        {
            return null;
        }

        if (!IsLive(channel))
        {
            Close(channel);
            return null;
        }

        return channel;
    }

    private BalloonChannel Channel(VmId vm) =>
        Find(vm) ?? throw new ArgumentException($"{vm} has no balloon channel (never attached, detached, or powered off).", nameof(vm));

    private static void Expect(bool changed, BalloonChannel channel, Ppn ppn)
    {
        if (!changed)
        {
            throw new MemoryInconsistencyException($"{channel.Vm} {ppn}: the pmap refused a balloon change the balloon host had checked.");
        }
    }
}
