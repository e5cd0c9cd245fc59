/*
 * The host's memory policy loop (paper §6): the place where the mechanisms meet.
 *
 * Power-on passes admission control (unreserved machine memory covers min + overhead, the swap area
 * covers max - min). Time then advances in small steps (Advance): the sharing scanner spends its
 * credit, the working-set sampler ends periods, and the free-memory state is updated. Targets are
 * recomputed by min-funding revocation with the idle memory tax every balance period (15 s), on
 * power-on and power-off, on a change of shares or of the tax rate, and on a change of state. The tax
 * rate can change while the host runs (SetIdleTax, or a schedule in the options: the paper's Figure 7
 * raises tau from 0 to 0.75 in the middle of a run). Each step then reclaims
 * towards the targets as the state says:
 *   high - nothing; balloons deflate where a VM is below its target, and at each rebalance the free
 *          memory beyond the free target plus a hysteresis margin is handed back to ballooned VMs in
 *          proportion to their balloons (targets partition memory by shares and activity, so without
 *          this a VM above its target stayed ballooned while memory other VMs leave unused sat free;
 *          the margin means that even if every returned page is touched at once, free memory stays
 *          above the high threshold);
 *   soft - balloons inflate by each VM's excess over its target; host swapping only for the part a
 *          balloon cannot deliver (driver absent, disabled, at its limit, or unresponsive);
 *   hard - balloons as in soft, and the excess is swapped now;
 *   low  - as hard, and VMs above their target are blocked until they are back under it.
 * Host swapping is paced at SwapWritePagesPerSecond; every victim is first offered to sharing.
 * A VM's allocation, for the policy, is what it consumes: private pages plus its part of shared ones.
 * The balance timer also runs hot I/O remapping's housekeeping (decay of copy counts, demotion of cold
 * low pages when low memory is short).
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Balloon;
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Core.Sampling;
using Memvisor.Core.Sharing;
using Memvisor.Core.Util;

namespace Memvisor.Core.Host;

/// <summary>Options of the whole policy.</summary>
public sealed record HostPolicyOptions
{
    /// <summary>Shares, idle tax, free-memory thresholds, balance period.</summary>
    public AllocationOptions Allocation { get; init; } = new();

    /// <summary>Working-set sampling.</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Balloon limits and deadline.</summary>
    public BalloonOptions Balloon { get; init; } = new();

    /// <summary>Sharing scan rates.</summary>
    public ShareScanOptions ShareScan { get; init; } = new();

    /// <summary>Hot I/O page remapping: DMA boundary, threshold, low reserve (null: the defaults, applied on first I/O).</summary>
    public IoRemap.IoRemapOptions? IoRemap { get; init; }

    /// <summary>Whether the sharing scanner runs.</summary>
    public bool SharingEnabled { get; init; } = true;

    /// <summary>Changes of the idle tax rate at given host times, in increasing order of time (default none: Allocation.Tau throughout).</summary>
    public IReadOnlyList<IdleTaxChange> IdleTaxChanges { get; init; } = [];

    /// <summary>Host swap write bandwidth, pages per second (default 25,600: 100 MB/s).</summary>
    public double SwapWritePagesPerSecond { get; init; } = 25_600;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when an option is invalid.</summary>
    public void Validate()
    {
        Allocation.Validate();
        Sampling.Validate();
        Balloon.Validate();
        ShareScan.Validate();
        IoRemap?.Validate();
        IdleTaxChange.Validate(IdleTaxChanges);
        if (!(SwapWritePagesPerSecond > 0))
        {
            throw new ArgumentException($"Swap write rate: {SwapWritePagesPerSecond} pages/s; must be positive.");
        }
    }
}

/// <summary>What the policy decided for one VM.</summary>
/// <param name="TargetPages">Allocation target (min-funding revocation with the idle tax).</param>
/// <param name="ConsumedPages">Allocation as the policy counts it: private pages plus its part of shared ones.</param>
/// <param name="ActiveFraction">Estimated active fraction of the allocation (the paper's f).</param>
/// <param name="SwapTargetPages">Pages the VM should have swapped out.</param>
/// <param name="Blocked">True while the VM is blocked (low state, above target).</param>
public readonly record struct VmPolicyState(int TargetPages, double ConsumedPages, double ActiveFraction, int SwapTargetPages, bool Blocked);

/// <summary>The memory policy of one host, over a <see cref="MemoryManager"/>.</summary>
public sealed class HostMemoryController
{
    private readonly HostPolicyOptions _options;
    private readonly ManualClock _clock = new();
    private MinFundingRevocation _revocation;
    private int _nextTaxChange;
    private readonly SortedDictionary<ushort, VmEntry> _vms = [];
    private VmAllocationInput[] _inputs = [];
    private int[] _targets = [];
    private TimeSpan _sinceBalance;
    private double _swapCredit;
    private long _reservedPages;

    /// <summary>Creates the policy for <paramref name="manager"/>.</summary>
    public HostMemoryController(MemoryManager manager, HostPolicyOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Manager = manager;
        _options = options;
        _revocation = new MinFundingRevocation(options.Allocation.CreateIdleMemoryTax());
        Balloons = new BalloonHost(manager, _clock, options.Balloon);
        Sampler = new WorkingSetSampler(manager, options.Sampling, seed ^ 0x5A5A_5A5A_5A5A_5A5AUL);
        Scanner = new ShareScanner(manager, options.ShareScan);
        States = new FreeMemoryStateMachine(options.Allocation);
        manager.ReclaimVictimChooser = ChooseSynchronousVictim;
        if (options.IoRemap is { } io)
        {
            manager.ConfigureIoRemap(io);
        }
    }

    /// <summary>The memory manager.</summary>
    public MemoryManager Manager { get; }

    /// <summary>The host side of every balloon.</summary>
    public BalloonHost Balloons { get; }

    /// <summary>Working-set estimation.</summary>
    public WorkingSetSampler Sampler { get; }

    /// <summary>The sharing scanner.</summary>
    public ShareScanner Scanner { get; }

    /// <summary>The free-memory state machine.</summary>
    public FreeMemoryStateMachine States { get; }

    /// <summary>The policy's clock (time since the host started).</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>The idle memory tax rate tau in force now.</summary>
    public double IdleTax => _revocation.Tax.Tau;

    /// <summary>Target recomputations so far.</summary>
    public long Rebalances { get; private set; }

    /// <summary>Machine pages promised to running VMs: the sum of their min + overhead.</summary>
    public long ReservedPages => _reservedPages;

    /// <summary>Powers a VM on after admission control, and starts sampling and its balloon channel.</summary>
    /// <exception cref="AdmissionException">memory or swap cannot cover the VM; the message says what is short and by how much.</exception>
    public VmId PowerOn(VmConfig config, IGuestMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var memoryConfig = config.ToMemoryConfig();
        var decision = AdmissionControl.Evaluate(
            new HostReservations(Manager.Pool.TotalPages, _reservedPages, Manager.Swap.CapacityPages, Manager.Swap.ReservedPages), memoryConfig);
        if (!decision.Admitted)
        {
            throw new AdmissionException(decision.Message);
        }

        var id = Manager.PowerOn(memoryConfig, mapping);
        _reservedPages += config.MinPages + config.EffectiveOverheadPages;
        Balloons.Attach(id, config.BalloonMaxPages is { } cap ? _options.Balloon with { MaxPages = cap } : null);
        Sampler.Track(id);
        _vms[id.Value] = new VmEntry(id, config, config.Shares.Resolve(config.MaxPages));
        Rebalance();
        return id;
    }

    /// <summary>Powers a VM off and gives back everything it held.</summary>
    public void PowerOff(VmId id)
    {
        var vm = Entry(id);
        Balloons.Detach(id);
        Sampler.Untrack(id);
        Manager.PowerOff(id);
        _reservedPages -= vm.Config.MinPages + vm.Config.EffectiveOverheadPages;
        _vms.Remove(id.Value);
        Rebalance();
    }

    /// <summary>Changes a VM's shares (targets are recomputed at once).</summary>
    public void SetShares(VmId id, Shares shares)
    {
        var vm = Entry(id);
        vm.Shares = shares.Resolve(vm.Config.MaxPages);
        Rebalance();
    }

    /// <summary>Changes the idle memory tax rate (targets are recomputed at once).</summary>
    /// <exception cref="ArgumentException"><paramref name="tau"/> is not in [0, 1).</exception>
    public void SetIdleTax(double tau)
    {
        UseIdleTax(tau);
        Rebalance();
    }

    /// <summary>The configuration a VM was powered on with.</summary>
    public VmConfig ConfigOf(VmId id) => Entry(id).Config;

    /// <summary>The VM's shares, resolved to a number.</summary>
    public double SharesOf(VmId id) => Entry(id).Shares;

    /// <summary>What the policy decided for a VM.</summary>
    public VmPolicyState PolicyOf(VmId id)
    {
        var vm = Entry(id);
        return new VmPolicyState(vm.TargetPages, vm.ConsumedPages, vm.ActiveFraction, vm.SwapTargetPages, vm.Blocked);
    }

    /// <summary>True while the VM must not run (low state, above its target).</summary>
    public bool IsBlocked(VmId id) => Entry(id).Blocked;

    /// <summary>Advances the policy by <paramref name="elapsed"/> of host time (each running VM ran for it too).</summary>
    public void Advance(TimeSpan elapsed)
    {
        _clock.Advance(elapsed);
        if (_options.SharingEnabled)
        {
            Scanner.Advance(elapsed);
        }

        foreach (var vm in _vms.Values)
        {
            if (!vm.Blocked)
            {
                Sampler.Advance(vm.Id, elapsed);
            }
        }

        var taxChanged = false;
        var changes = _options.IdleTaxChanges;
        while (_nextTaxChange < changes.Count && _clock.Elapsed >= TimeSpan.FromSeconds(changes[_nextTaxChange].AtSeconds))
        {
            UseIdleTax(changes[_nextTaxChange++].Tau);
            taxChanged = true;
        }

        var before = States.State;
        var state = States.Update(Manager.Pool.FreePages, Manager.Pool.TotalPages);
        _sinceBalance += elapsed;
        var periodic = _sinceBalance >= TimeSpan.FromSeconds(_options.Allocation.BalancePeriodSeconds);
        if (periodic && Manager.IoRemapSettings is not null)
        {
            // Hot I/O remapping's housekeeping runs on the balance timer: age the copy counts, and move
            // cold pages out of low memory when it runs short.
            Manager.DecayIoCounts();
            Manager.BalanceLowMemory();
        }

        if (state != before || periodic || taxChanged)
        {
            Rebalance();
        }
        else
        {
            RefreshConsumed(fullWalk: false);
        }

        Reclaim(elapsed, States.Reclamation);
    }

    /// <summary>Recomputes every VM's target now.</summary>
    public void Rebalance()
    {
        _sinceBalance = TimeSpan.Zero;
        Rebalances++;

        RefreshConsumed(fullWalk: true);
        var n = _vms.Count;
        if (_inputs.Length < n)
        {
            _inputs = new VmAllocationInput[n];
            _targets = new int[n];
        }

        var i = 0;
        long overhead = 0;
        foreach (var vm in _vms.Values)
        {
            vm.ActiveFraction = Sampler.ActiveFractionOfAllocated(vm.Id, vm.ConsumedPages);
            var allocated = (int)Math.Round(vm.ConsumedPages);
            _inputs[i++] = new VmAllocationInput(vm.Id, vm.Shares, vm.Config.MinPages, vm.Config.MaxPages, Math.Clamp(allocated, 0, vm.Config.MaxPages), vm.ActiveFraction);
            overhead += vm.Config.EffectiveOverheadPages;
        }

        var available = _options.Allocation.PagesAvailableToVms(Manager.Pool.TotalPages, overhead);
        _revocation.ComputeTargets(_inputs.AsSpan(0, n), available, _targets.AsSpan(0, n));
        i = 0;
        foreach (var vm in _vms.Values)
        {
            vm.TargetPages = _targets[i++];
        }

        if (States.Reclamation == ReclamationAction.None)
        {
            ReturnSurplusToBalloons();
        }
    }

    /// <summary>Targets are computed with rate <paramref name="tau"/> from now on.</summary>
    private void UseIdleTax(double tau) => _revocation = new MinFundingRevocation(new IdleMemoryTax(tau));

    /// <summary>
    /// In the high state: deflates balloons by the free memory beyond the free target and one more
    /// hysteresis margin, shared in proportion to balloon size. Pinned balloons keep their size and take
    /// no share. Does not allocate.
    /// </summary>
    private void ReturnSurplusToBalloons()
    {
        var total = Manager.Pool.TotalPages;
        var surplus = Manager.Pool.FreePages - _options.Allocation.FreeTargetPages(total) - _options.Allocation.HysteresisPages(total);
        if (surplus <= 0)
        {
            return;
        }

        long ballooned = 0;
        foreach (var vm in _vms.Values)
        {
            if (Balloons.PinnedTargetOf(vm.Id) is null)
            {
                ballooned += Balloons.TargetOf(vm.Id);
            }
        }

        if (ballooned == 0)
        {
            return;
        }

        var share = Math.Min(1.0, surplus / (double)ballooned);
        foreach (var vm in _vms.Values)
        {
            var target = Balloons.TargetOf(vm.Id);
            var give = (int)Math.Floor(target * share);
            if (give > 0 && Balloons.PinnedTargetOf(vm.Id) is null)
            {
                Balloons.SetTarget(vm.Id, target - give);
            }
        }
    }

    private void RefreshConsumed(bool fullWalk)
    {
        foreach (var vm in _vms.Values)
        {
            if (fullWalk)
            {
                var stats = Manager.GetVmStats(vm.Id);
                vm.SharedSavedPages = stats.SharedSavedPages;
                vm.ConsumedPages = stats.PrivatePages + stats.SharedPages - stats.SharedSavedPages;
            }
            else
            {
                var (privatePages, sharedPages) = Manager.ResidentPagesOf(vm.Id);
                vm.ConsumedPages = privatePages + sharedPages - vm.SharedSavedPages;
            }
        }
    }

    private void Reclaim(TimeSpan elapsed, ReclamationAction action)
    {
        var perSecond = _options.SwapWritePagesPerSecond;
        _swapCredit = Math.Min(_swapCredit + (perSecond * elapsed.TotalSeconds), perSecond);
        foreach (var vm in _vms.Values)
        {
            var excess = (int)Math.Ceiling(vm.ConsumedPages - vm.TargetPages);
            var balloon = Balloons.SizeOf(vm.Id);
            if (excess <= 0 || action == ReclamationAction.None)
            {
                vm.Blocked = false;
                vm.SwapTargetPages = Manager.SwappedPagesOf(vm.Id);
                if (balloon > 0 && action == ReclamationAction.None && excess < 0)
                {
                    // Memory is plentiful: give the guest back what it is below its target (never
                    // raising a target the surplus rule has already lowered).
                    Balloons.SetTarget(vm.Id, Math.Min(Balloons.TargetOf(vm.Id), Math.Max(0, balloon + excess)));
                }

                continue;
            }

            // What the balloon can still take: 0 when the driver is absent, disabled, at its limit or unresponsive.
            var deliverable = Balloons.DeliverablePages(vm.Id);
            Balloons.SetTarget(vm.Id, balloon + excess);
            var swapNeed = action == ReclamationAction.Balloon ? Math.Max(0, excess - deliverable) : excess;

            vm.SwapTargetPages = Manager.SwappedPagesOf(vm.Id) + swapNeed;
            vm.Blocked = action == ReclamationAction.SwapAndBlock;
            var now = (int)Math.Min(swapNeed, Math.Floor(_swapCredit));
            if (now > 0)
            {
                var result = Manager.SwapOut(vm.Id, now);
                _swapCredit -= result.SwappedOut;
                vm.ConsumedPages -= result.PagesFreed;
            }
        }
    }

    private VmId? ChooseSynchronousVictim(VmId faulting)
    {
        VmEntry? best = null;
        foreach (var vm in _vms.Values)
        {
            if (best is null || vm.ConsumedPages - vm.TargetPages > best.ConsumedPages - best.TargetPages)
            {
                best = vm;
            }
        }

        return best?.Id ?? faulting;
    }

    private VmEntry Entry(VmId id) =>
        _vms.TryGetValue(id.Value, out var vm) ? vm : throw new ArgumentException($"{id} is not powered on.", nameof(id));

    private sealed class VmEntry(VmId id, VmConfig config, double shares)
    {
        public VmId Id { get; } = id;

        public VmConfig Config { get; } = config;

        public double Shares { get; set; } = shares;

        public int TargetPages { get; set; } = config.MaxPages;

        public double ConsumedPages { get; set; }

        public double SharedSavedPages { get; set; }

        public double ActiveFraction { get; set; } = 1;

        public int SwapTargetPages { get; set; }

        public bool Blocked { get; set; }
    }
}
