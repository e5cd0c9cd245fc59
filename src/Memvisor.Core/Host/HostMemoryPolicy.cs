/*
 * The host's memory policy loop (paper §5-§6): the place where the mechanisms meet, the same code on
 * every substrate.
 *
 * Ports. The policy never touches memory. It reads an IHostMemoryMeter (machine and free pages, swap
 * capacity, each VM's consumed, paged-out and ballooned pages, what its balloon can still deliver,
 * its sampled-page counts and its execution time) and drives an IHostMemoryActuators (a VM's balloon
 * target, page out N pages of a VM, the sharing scan rate, block or unblock a VM, the substrate's
 * balance-period housekeeping). Two interfaces, not one: the meter is everything the decision reads,
 * the actuators everything that changes what a VM gets, so a test can script the one and record the
 * other, and a managing substrate can build them from different sources (procfs and QMP queries vs.
 * QMP commands and madvise). An owning substrate implements both over MemoryManager
 * (Owning/OwningHostMemory); a managing one (QEMU guests) over the host kernel; the tests' fake over
 * arithmetic. The substrate powers VMs on and off itself and tells the policy: Admit (admission
 * control) before, Add after power-on, Remove after power-off.
 *
 * The loop. The substrate calls Advance(elapsed) on its policy tick (100 ms in the simulator):
 *   1. sampling: each VM's VmWorkingSet (period clock + WorkingSetEstimator, Core's EWMAs) advances
 *      by the execution time the meter reports for the VM since the last tick (time it ran: not time
 *      it was blocked, descheduled, or stalled on host swap-in or its own disk); a due period is ended
 *      through the meter's probe and its count t of n fed to the estimator, otherwise the count so
 *      far (partial);
 *   2. scheduled idle-tax changes whose time has come take effect;
 *   3. the free-memory state is updated from the meter's free pages (FreeMemoryStateMachine: down at
 *      once, up with hysteresis);
 *   4. on the balance timer (15 s) the substrate's housekeeping runs (OnBalancePeriod);
 *   5. on the balance timer, a state change or a tax change the targets are recomputed (Rebalance):
 *      exact consumed pages from the meter, f = min(1, active / consumed) per VM, targets by
 *      min-funding revocation with the idle tax over machine pages - overhead - free target, holding
 *      each VM's estimated active pages fixed (all of them, also those beyond what a squeezed VM holds
 *      now: its steady state is the paper's, where its f stays 1 as it wins pages back); in high,
 *      free memory beyond the free target and one hysteresis margin goes back to the unpinned
 *      balloons in proportion to their size. Otherwise consumed pages are refreshed cheaply;
 *   6. reclamation, per VM, as the state says. What may be taken from a VM is its excess over its
 *      target, but never more than keeps balloon + paged out <= max - min (its min);
 *        high - nothing; a ballooned VM below its target gets its balloon deflated by the difference
 *               (never raising a balloon target the surplus rule already lowered);
 *        soft - the balloon target rises by what the balloon can deliver (driver present, enabled,
 *               responsive, below its limit and pin); the VM is paged only for the rest;
 *        hard - the host pages what brings free memory back to the free target, shared among the
 *               VMs above target in proportion to what each may give, and no more; the balloon is
 *               asked only for the rest of the VM's excess (each page is reclaimed once: never paged
 *               now and ballooned later as well);
 *        low  - as hard, and VMs above their target are blocked until they are back under it.
 *      Paging is paced by the substrate's swap device when it models one (the meter's
 *      SwapWritablePages: what a write submitted now completes within the tick, after the device's
 *      queue of swap-ins and earlier page-outs), otherwise at SwapWritePagesPerSecond with at most one
 *      second of credit; the substrate offers every victim to sharing first (PageOutResult counts both).
 * Targets are also recomputed at once on Add, Remove, SetShares and SetIdleTax.
 *
 * Invariants:
 *   1. Admission: whenever a VM is added, the sum over running VMs of min + overhead fits in machine
 *      pages and the sum of max - min fits in the swap capacity (AdmissionControl).
 *   2. Targets: min <= target <= max for every VM, and targets partition machine pages - overhead -
 *      free target by shares, with idle pages taxed at tau (MinFundingRevocation), when the mins fit.
 *   3. The estimate of a VM moves only through WorkingSetEstimator: up at the fast gain (sooner with
 *      the partial count), down at the slow gain; a VM's period clock runs only on its execution time
 *      (a blocked or stalled VM's does not run; a VM that did not run is not sampled).
 *   4. min is guaranteed: a VM's balloon (its size, or a pinned target) plus its paged-out pages never
 *      exceed max - min by the policy's decision; the substrate enforces the same bound on its own
 *      mechanisms (owning: MemoryManager.SwapOut and balloon inflation refuse past it, and the
 *      consistency check verifies it). A VM is paged by the policy only in soft (for what its balloon
 *      cannot deliver), hard or low, and only while it consumes more than its target; a VM is blocked
 *      only in low and only while above its target; every VM is unblocked in any other state.
 *   5. Pages written per tick never exceed what the substrate's swap device can write within the tick,
 *      or, when it models none, the paging credit: rate * elapsed accumulated, capped at one second's worth.
 *   6. A pinned balloon target is never moved by the policy.
 *   7. Advance allocates nothing (VMs are kept in an id-ordered list; per-VM state is allocated by Add).
 *   8. In hard and low, the pages a tick decides to page out total at most the free target less the free
 *      pages, plus one per VM for rounding; a VM's new balloon target plus what it is paged never exceed
 *      its balloon plus its excess.
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;

namespace Memvisor.Core.Host;

/// <summary>The memory policy of one host, over any substrate's meter and actuators.</summary>
public sealed class HostMemoryPolicy
{
    private readonly HostPolicyOptions _options;
    private readonly IHostMemoryMeter _meter;
    private readonly IHostMemoryActuators _actuators;
    private readonly List<VmEntry> _vms = [];
    private VmEntry?[] _byId = [];
    private MinFundingRevocation _revocation;
    private int _nextTaxChange;
    private VmAllocationInput[] _inputs = [];
    private int[] _targets = [];
    private TimeSpan _now;
    private TimeSpan _sinceBalance;
    private double _swapCredit;
    private long _reservedPages;
    private long _reservedSwapPages;

    /// <summary>Creates the policy over a substrate's ports and sets its sharing scan rate.</summary>
    public HostMemoryPolicy(HostPolicyOptions options, IHostMemoryMeter meter, IHostMemoryActuators actuators)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meter);
        ArgumentNullException.ThrowIfNull(actuators);
        options.Validate();
        _options = options;
        _meter = meter;
        _actuators = actuators;
        _revocation = new MinFundingRevocation(options.Allocation.CreateIdleMemoryTax());
        States = new FreeMemoryStateMachine(options.Allocation);
        actuators.SetShareScanRate(options.SharingEnabled
            ? new ShareScanRate(options.ShareScan.PerVmPagesPerSecond, options.ShareScan.HostPagesPerSecond)
            : ShareScanRate.Off);
    }

    /// <summary>The policy's options.</summary>
    public HostPolicyOptions Options => _options;

    /// <summary>The free-memory state machine.</summary>
    public FreeMemoryStateMachine States { get; }

    /// <summary>Host time the policy has advanced through.</summary>
    public TimeSpan Now => _now;

    /// <summary>The idle memory tax rate tau in force now.</summary>
    public double IdleTax => _revocation.Tax.Tau;

    /// <summary>Target recomputations so far.</summary>
    public long Rebalances { get; private set; }

    /// <summary>Machine pages promised to running VMs: the sum of their min + overhead.</summary>
    public long ReservedPages => _reservedPages;

    /// <summary>Swap pages promised to running VMs: the sum of their max - min.</summary>
    public long ReservedSwapPages => _reservedSwapPages;

    /// <summary>The VMs the policy manages, in id order.</summary>
    public int VmCount => _vms.Count;

    /// <summary>Admission control for a VM about to power on (invariant 1).</summary>
    /// <exception cref="ArgumentException">the configuration is invalid.</exception>
    /// <exception cref="AdmissionException">memory or swap cannot cover the VM; the message says what is short and by how much.</exception>
    public void Admit(VmConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var decision = AdmissionControl.Evaluate(
            new HostReservations(_meter.MachinePages, _reservedPages, _meter.SwapCapacityPages, _reservedSwapPages), config.ToMemoryConfig());
        if (!decision.Admitted)
        {
            throw new AdmissionException(decision.Message);
        }
    }

    /// <summary>
    /// Takes a VM the substrate has just powered on (after <see cref="Admit"/>), whose first sampling
    /// period the substrate has started: reserves its min + overhead and max - min, and recomputes the targets.
    /// </summary>
    public void Add(VmId id, VmConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (Find(id) is not null)
        {
            throw new InvalidOperationException($"{id} is managed already: remove it when it powers off.");
        }

        var vm = new VmEntry(id, config, config.Shares.Resolve(config.MaxPages), new VmWorkingSet(id, config.MaxPages, _options.Sampling));
        vm.WorkingSet.Begin(_meter.CountTouched(id).SampledPages);
        vm.ExecutionTimeSeen = _meter.ExecutionTime(id);
        _reservedPages += config.MinPages + config.EffectiveOverheadPages;
        _reservedSwapPages += config.MaxPages - config.MinPages;
        while (_byId.Length <= id.Value)
        {
            Array.Resize(ref _byId, Math.Max(4, _byId.Length * 2));
        }

        _byId[id.Value] = vm;
        var at = 0;
        while (at < _vms.Count && _vms[at].Id.Value < id.Value)
        {
            at++;
        }

        _vms.Insert(at, vm);
        Rebalance();
    }

    /// <summary>Forgets a VM the substrate has powered off, gives back its reservations and recomputes the targets.</summary>
    public void Remove(VmId id)
    {
        var vm = Entry(id);
        _reservedPages -= vm.Config.MinPages + vm.Config.EffectiveOverheadPages;
        _reservedSwapPages -= vm.Config.MaxPages - vm.Config.MinPages;
        _byId[id.Value] = null;
        _vms.Remove(vm);
        Rebalance();
    }

    /// <summary>True when the policy manages <paramref name="id"/>.</summary>
    public bool Manages(VmId id) => Find(id) is not null;

    /// <summary>The id of the <paramref name="index"/>-th VM in id order (0 &lt;= index &lt; <see cref="VmCount"/>).</summary>
    public VmId VmAt(int index) => _vms[index].Id;

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

    /// <summary>The VM's working-set estimate: sampling periods and moving averages.</summary>
    public VmWorkingSet WorkingSetOf(VmId id) => Entry(id).WorkingSet;

    /// <summary>
    /// Advances the policy by <paramref name="elapsed"/> of host time; each VM's sampling advances by the
    /// execution time the meter reports for it since the last tick. Allocates nothing.
    /// </summary>
    public void Advance(TimeSpan elapsed)
    {
        _now += elapsed;
        foreach (var vm in _vms)
        {
            // Sampling periods are VM execution time: what the VM ran since the last tick, by the meter.
            var ran = _meter.ExecutionTime(vm.Id) - vm.ExecutionTimeSeen;
            if (ran > TimeSpan.Zero)
            {
                vm.ExecutionTimeSeen += ran;
                vm.WorkingSet.Advance(_meter, ran);
            }
        }

        var taxChanged = false;
        var changes = _options.IdleTaxChanges;
        while (_nextTaxChange < changes.Count && _now >= TimeSpan.FromSeconds(changes[_nextTaxChange].AtSeconds))
        {
            UseIdleTax(changes[_nextTaxChange++].Tau);
            taxChanged = true;
        }

        var before = States.State;
        var state = States.Update(_meter.FreePages, _meter.MachinePages);
        _sinceBalance += elapsed;
        var periodic = _sinceBalance >= TimeSpan.FromSeconds(_options.Allocation.BalancePeriodSeconds);
        if (periodic)
        {
            _actuators.OnBalancePeriod();
        }

        if (state != before || periodic || taxChanged)
        {
            Rebalance();
        }
        else
        {
            RefreshConsumed(exact: false);
        }

        Reclaim(elapsed, States.Reclamation);
    }

    /// <summary>Recomputes every VM's target now.</summary>
    public void Rebalance()
    {
        _sinceBalance = TimeSpan.Zero;
        Rebalances++;

        RefreshConsumed(exact: true);
        var n = _vms.Count;
        if (_inputs.Length < n)
        {
            _inputs = new VmAllocationInput[n];
            _targets = new int[n];
        }

        long overhead = 0;
        for (var i = 0; i < n; i++)
        {
            var vm = _vms[i];
            vm.ActiveFraction = vm.WorkingSet.ActiveFractionOf(vm.ConsumedPages);

            // The targets hold the VM's estimated active pages fixed (A = f * allocated), all of them: a VM squeezed
            // below its working set reads f = 1 of what it holds, but the pages it touches beyond are active too, not
            // idle, so the target is computed from A = its estimate (up to max), not from what it holds now.
            var max = vm.Config.MaxPages;
            var active = Math.Min(vm.WorkingSet.ActivePages, max);
            var allocated = Math.Max(Math.Clamp((int)Math.Round(vm.ConsumedPages), 0, max), (int)Math.Ceiling(active));
            _inputs[i] = new VmAllocationInput(vm.Id, vm.Shares, vm.Config.MinPages, max, allocated, allocated > 0 ? Math.Min(1.0, active / allocated) : 1.0);
            overhead += vm.Config.EffectiveOverheadPages;
        }

        var available = _options.Allocation.PagesAvailableToVms(_meter.MachinePages, overhead);
        _revocation.ComputeTargets(_inputs.AsSpan(0, n), available, _targets.AsSpan(0, n));
        for (var i = 0; i < n; i++)
        {
            _vms[i].TargetPages = _targets[i];
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
    /// no share (invariant 6). Does not allocate.
    /// </summary>
    private void ReturnSurplusToBalloons()
    {
        var total = _meter.MachinePages;
        var surplus = _meter.FreePages - _options.Allocation.FreeTargetPages(total) - _options.Allocation.HysteresisPages(total);
        if (surplus <= 0)
        {
            return;
        }

        long ballooned = 0;
        foreach (var vm in _vms)
        {
            if (!_meter.IsBalloonPinned(vm.Id))
            {
                ballooned += _meter.BalloonTargetPages(vm.Id);
            }
        }

        if (ballooned == 0)
        {
            return;
        }

        var share = Math.Min(1.0, surplus / (double)ballooned);
        foreach (var vm in _vms)
        {
            var target = _meter.BalloonTargetPages(vm.Id);
            var give = (int)Math.Floor(target * share);
            if (give > 0 && !_meter.IsBalloonPinned(vm.Id))
            {
                _actuators.SetBalloonTarget(vm.Id, target - give);
            }
        }
    }

    private void RefreshConsumed(bool exact)
    {
        foreach (var vm in _vms)
        {
            vm.ConsumedPages = exact ? _meter.MeasureConsumedPages(vm.Id) : _meter.ConsumedPages(vm.Id);
        }
    }

    private void Reclaim(TimeSpan elapsed, ReclamationAction action)
    {
        var perSecond = _options.SwapWritePagesPerSecond;
        _swapCredit = Math.Min(_swapCredit + (perSecond * elapsed.TotalSeconds), perSecond);

        // Hard and low page what brings free memory back to the free target, shared among the VMs above
        // their target in proportion to what each may still give (invariant 8).
        long needed = 0;
        long reclaimable = 0;
        if (action is ReclamationAction.Swap or ReclamationAction.SwapAndBlock)
        {
            needed = Math.Max(0, _options.Allocation.FreeTargetPages(_meter.MachinePages) - _meter.FreePages);
            foreach (var vm in _vms)
            {
                reclaimable += Reclaimable(vm, Excess(vm), _meter.BalloonPages(vm.Id));
            }
        }

        foreach (var vm in _vms)
        {
            var excess = Excess(vm);
            var balloon = _meter.BalloonPages(vm.Id);
            if (excess <= 0 || action == ReclamationAction.None)
            {
                SetBlocked(vm, false);
                vm.SwapTargetPages = _meter.PagedOutPages(vm.Id);
                if (balloon > 0 && action == ReclamationAction.None && excess < 0)
                {
                    // Memory is plentiful: give the guest back what it is below its target (never
                    // raising a target the surplus rule has already lowered).
                    _actuators.SetBalloonTarget(vm.Id, Math.Min(_meter.BalloonTargetPages(vm.Id), Math.Max(0, balloon + excess)));
                }

                continue;
            }

            // Each page of the excess is reclaimed once, by one mechanism: the balloon's new target replaces
            // the old one and asks only for what is not paged now.
            var reclaim = Reclaimable(vm, excess, balloon);
            var deliverable = _meter.BalloonDeliverablePages(vm.Id);
            int pageNeed;
            if (action == ReclamationAction.Balloon)
            {
                // The balloon takes what it can (0 when the driver is absent, disabled, at its limit or
                // unresponsive); paging only for the rest.
                pageNeed = reclaim - Math.Min(reclaim, deliverable);
            }
            else
            {
                // Paging now for this VM's part of what restores the free target; the balloon for the rest.
                pageNeed = reclaimable > 0 ? (int)Math.Min(reclaim, (long)Math.Ceiling(needed * (double)reclaim / reclaimable)) : 0;
            }

            _actuators.SetBalloonTarget(vm.Id, balloon + Math.Min(reclaim - pageNeed, deliverable));

            var pagedOut = _meter.PagedOutPages(vm.Id);
            vm.SwapTargetPages = pagedOut + pageNeed;
            SetBlocked(vm, action == ReclamationAction.SwapAndBlock);
            var device = pageNeed > 0 ? _meter.SwapWritablePages(elapsed) : null;
            var now = (int)Math.Min(pageNeed, device ?? Math.Floor(_swapCredit));
            if (now > 0)
            {
                var result = _actuators.PageOut(vm.Id, now);
                if (device is null)
                {
                    _swapCredit -= result.PagesWritten;
                }

                vm.ConsumedPages -= result.PagesFreed;
            }
        }
    }

    /// <summary>Pages the VM consumes beyond its target (rounded up).</summary>
    private static int Excess(VmEntry vm) => (int)Math.Ceiling(vm.ConsumedPages - vm.TargetPages);

    /// <summary>
    /// What may still be taken from the VM now without breaking its min (invariant 4): at most its excess,
    /// and at most max - min less what its balloon holds and what is paged out. (A decision replaces the
    /// balloon target, so what the old target asked beyond the balloon's size is not counted, unless the
    /// target is pinned: a pin stays, and counts.)
    /// </summary>
    private int Reclaimable(VmEntry vm, int excess, int balloon)
    {
        if (excess <= 0)
        {
            return 0;
        }

        var ballooned = _meter.IsBalloonPinned(vm.Id) ? Math.Max(balloon, _meter.BalloonTargetPages(vm.Id)) : balloon;
        var room = vm.Config.MaxPages - vm.Config.MinPages - ballooned - _meter.PagedOutPages(vm.Id);
        return Math.Max(0, Math.Min(excess, room));
    }

    private void SetBlocked(VmEntry vm, bool blocked)
    {
        if (vm.Blocked != blocked)
        {
            vm.Blocked = blocked;
            _actuators.SetBlocked(vm.Id, blocked);
        }
    }

    private VmEntry? Find(VmId id) => id.Value < _byId.Length ? _byId[id.Value] : null;

    private VmEntry Entry(VmId id) => Find(id) ?? throw new ArgumentException($"{id} is not powered on.", nameof(id));

    private sealed class VmEntry(VmId id, VmConfig config, double shares, VmWorkingSet workingSet)
    {
        public VmId Id { get; } = id;

        public VmConfig Config { get; } = config;

        public VmWorkingSet WorkingSet { get; } = workingSet;

        public double Shares { get; set; } = shares;

        public int TargetPages { get; set; } = config.MaxPages;

        public double ConsumedPages { get; set; }

        public double ActiveFraction { get; set; } = 1;

        public int SwapTargetPages { get; set; }

        public bool Blocked { get; set; }

        /// <summary>The meter's execution time of the VM as of the last tick.</summary>
        public TimeSpan ExecutionTimeSeen { get; set; }
    }
}
