/*
 * Working-set estimation by statistical sampling (paper §5.3). The idle memory tax needs to know how
 * much of each VM's memory is actively used, without trusting guest statistics (they differ by OS
 * and miss DMA) and without watching every access.
 *
 * Per VM, each period of VM execution time (default 30 s), n pages (default 100) are drawn uniformly
 * at random from the VM's configured physical pages, without replacement, and a sampling trap is
 * armed on each (MemoryManager.ArmSampleTrap invalidates the page's mapping; the guest's next access
 * faults into Core once and clears the mark; sharing, swapping and ballooning do not count as a touch).
 * When the period ends, the sampled pages whose trap fired are counted (t) and the rest disarmed;
 * t of n feeds the VM's WorkingSetEstimator (slow and fast moving averages and the partial-count
 * variant; the estimate is their maximum), and the next sample is drawn and armed.
 *
 * The period clock and the estimator are VmWorkingSet's, shared with the substrate-neutral policy
 * (Host/HostMemoryPolicy), which drives them through IWorkingSetProbe: this sampler is the owning
 * substrate's probe (CountTouched, EndSamplingPeriod) and, for tests and tools that want sampling
 * alone, also runs the periods itself (Advance, Estimate, Snapshot).
 *
 * Data structures: per tracked VM, a fixed array of the PPNs sampled this period, its estimator and
 * its own DeterministicRandom (forked from the sampler's seed), allocated once by Track. A period's
 * work is O(n): Floyd's algorithm draws n distinct pages with exactly n random numbers, using the
 * pmap's sampling mark itself as the "already chosen" set (all of the VM's traps are disarmed before
 * a new sample is drawn), so nothing is allocated after Track.
 *
 * Time is the VM's own execution time, passed by the substrate: a descheduled VM touches nothing
 * and must not look idle for it.
 */
using Memvisor.Core.Memory;
using Memvisor.Core.Util;

namespace Memvisor.Core.Sampling;

/// <summary>A read-only view of one VM's working-set sampling state (for statistics and reports).</summary>
/// <param name="Slow">The slow moving average of the active fraction.</param>
/// <param name="Fast">The fast moving average.</param>
/// <param name="FastWithPartial">The fast average including the current period's count so far.</param>
/// <param name="Estimate">The maximum of the three.</param>
/// <param name="PeriodsCompleted">Sampling periods completed since the VM was tracked.</param>
/// <param name="SampledPages">Pages sampled in the current period (n, or fewer for a VM with fewer pages).</param>
/// <param name="TouchedSoFar">Sampled pages touched in the current period, as of the last <see cref="WorkingSetSampler.Advance"/>.</param>
/// <param name="PeriodElapsed">VM execution time elapsed in the current period.</param>
public readonly record struct WorkingSetSnapshot(
    double Slow,
    double Fast,
    double FastWithPartial,
    double Estimate,
    int PeriodsCompleted,
    int SampledPages,
    int TouchedSoFar,
    TimeSpan PeriodElapsed);

/// <summary>
/// Drives working-set sampling for the VMs of a <see cref="MemoryManager"/>. The host calls
/// <see cref="Track"/> when a VM powers on, <see cref="Advance"/> with each VM's execution time, and
/// <see cref="Untrack"/> when it powers off (before or after <see cref="MemoryManager.PowerOff"/>). A VM
/// later given the same id is a different incarnation: it inherits nothing (an entry of an earlier
/// incarnation is dropped when seen). The sampler owns the sampling traps of the VMs it tracks.
/// As an <see cref="IWorkingSetProbe"/> it only counts and re-arms; whoever calls
/// <see cref="IWorkingSetProbe.EndSamplingPeriod"/> runs the periods (then do not call <see cref="Advance"/>).
/// Single-threaded, like the rest of Core.
/// </summary>
public sealed class WorkingSetSampler : IWorkingSetProbe
{
    private readonly MemoryManager _manager;
    private readonly SamplingOptions _options;
    private readonly DeterministicRandom _random;
    private readonly Dictionary<VmId, VmSampling> _vms = [];

    /// <summary>Creates a sampler for the VMs of <paramref name="manager"/>; every page it draws depends only on <paramref name="seed"/> and the order of calls.</summary>
    public WorkingSetSampler(MemoryManager manager, SamplingOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _manager = manager;
        _options = options;
        _random = new DeterministicRandom(seed);
    }

    /// <summary>The sampler's settings.</summary>
    public SamplingOptions Options => _options;

    /// <summary>True while <paramref name="vm"/> is sampled.</summary>
    public bool IsTracked(VmId vm) => Find(vm) is not null;

    /// <summary>
    /// Starts sampling a powered-on VM: its estimate starts at <see cref="SamplingOptions.InitialActiveFraction"/>
    /// and its first sample is armed now.
    /// </summary>
    /// <returns>The pages sampled in the first period.</returns>
    /// <exception cref="ArgumentException">the VM is not powered on.</exception>
    /// <exception cref="InvalidOperationException">the VM is tracked already.</exception>
    public int Track(VmId vm)
    {
        var configuredPages = _manager.ConfigOf(vm).MaxPages;
        if (Find(vm) is not null)
        {
            throw new InvalidOperationException($"{vm} is sampled already: untrack it when it powers off.");
        }

        var s = new VmSampling(vm, _manager.IncarnationOf(vm), configuredPages, Math.Min(_options.SamplePages, configuredPages), new VmWorkingSet(vm, configuredPages, _options), _random.Fork(vm.Value));
        _vms[vm] = s;
        ArmNewSample(s);
        s.Periods.Begin(s.Count);
        return s.Count;
    }

    /// <summary>Stops sampling a VM and forgets its estimate; disarms its traps if it is still powered on. False if it was not tracked.</summary>
    public bool Untrack(VmId vm)
    {
        if (!_vms.Remove(vm, out var s))
        {
            return false;
        }

        if (_manager.IsCurrent(vm, s.Incarnation))
        {
            // Its own traps only: a later VM given the id has traps of its own, not ours to disarm.
            for (var i = 0; i < s.Count; i++)
            {
                _manager.DisarmSampleTrap(vm, s.Sample[i]);
            }
        }

        return true;
    }

    /// <summary>
    /// Accounts <paramref name="vmTimeElapsed"/> of the VM's execution time. When the period is due it
    /// ends: the sampled pages touched are counted, the rest disarmed, the estimator fed, and a new sample
    /// armed; the new period starts now (a call that spans several periods closes only the current one,
    /// whose count covers all of that time: touches cannot be split between periods after the fact).
    /// Otherwise the estimator is given the count so far. O(n); allocates nothing.
    /// </summary>
    /// <returns>True when a period ended.</returns>
    public bool Advance(VmId vm, TimeSpan vmTimeElapsed)
    {
        var s = Tracked(vm);
        if (!s.Periods.Advance(this, vmTimeElapsed))
        {
            return false;
        }

        s.Periods.Begin(s.Count);
        return true;
    }

    /// <summary>Counts the sampled pages touched so far in the VM's current period. O(n); changes nothing.</summary>
    public SampleCount CountTouched(VmId vm)
    {
        var s = Tracked(vm);
        var touched = 0;
        for (var i = 0; i < s.Count; i++)
        {
            if (!_manager.IsSampleTrapArmed(vm, s.Sample[i]))
            {
                touched++;
            }
        }

        return new SampleCount(touched, s.Count);
    }

    /// <summary>Ends the VM's period: counts the pages touched, disarms the rest, and draws and arms the next sample. O(n).</summary>
    public SampleCount EndSamplingPeriod(VmId vm)
    {
        var s = Tracked(vm);
        var touched = 0;
        for (var i = 0; i < s.Count; i++)
        {
            if (_manager.DisarmSampleTrap(vm, s.Sample[i]))
            {
                touched++;
            }
        }

        var ended = new SampleCount(touched, s.Count);
        ArmNewSample(s);
        return ended;
    }

    /// <summary>The VM's working-set estimate: the fraction of its configured pages that is active, in [0, 1].</summary>
    public double Estimate(VmId vm) => Tracked(vm).Periods.Estimate;

    /// <summary>
    /// The VM's active pages: <see cref="Estimate"/> times its configured pages. Samples are drawn from
    /// every configured page (including untouched, swapped and ballooned ones), so the estimate is a
    /// fraction of configured memory, and this product is the number of pages the guest is using.
    /// </summary>
    public double ActivePages(VmId vm) => Tracked(vm).Periods.ActivePages;

    /// <summary>
    /// The paper's f for the idle memory tax: the fraction of the VM's allocated pages that is active,
    /// min(1, <see cref="ActivePages"/> / <paramref name="allocatedPages"/>); 1 when nothing is allocated.
    /// The policy should use this, not <see cref="Estimate"/>: a VM reclaimed to half its configured size
    /// and using all of what it has would otherwise read f = 0.5 and be taxed for memory it is using.
    /// </summary>
    public double ActiveFractionOfAllocated(VmId vm, double allocatedPages) => Tracked(vm).Periods.ActiveFractionOf(allocatedPages);

    /// <summary>The VM's sampling state.</summary>
    public WorkingSetSnapshot Snapshot(VmId vm) => Tracked(vm).Periods.Snapshot();

    /// <summary>
    /// Draws the period's sample without replacement (Floyd's algorithm: for j = N - n .. N - 1, take a
    /// random r in [0, j], or j itself if r was taken) and arms a trap on each page drawn. "Taken" is the
    /// pmap's sampling mark: the sampler's own traps are all disarmed here, so a page already armed was
    /// drawn this period (or armed by someone else: then it is not counted as ours).
    /// </summary>
    private void ArmNewSample(VmSampling s)
    {
        var pages = (uint)s.ConfiguredPages;
        var count = 0;
        for (var j = pages - (uint)s.Sample.Length; j < pages; j++)
        {
            var r = new Ppn(s.Random.NextUInt32(j + 1));
            if (_manager.ArmSampleTrap(s.Id, r))
            {
                s.Sample[count++] = r;
            }
            else if (_manager.ArmSampleTrap(s.Id, new Ppn(j)))
            {
                s.Sample[count++] = new Ppn(j);
            }
        }

        s.Count = count;
    }

    private VmSampling Tracked(VmId vm) =>
        Find(vm) ?? throw new ArgumentException($"{vm} is not sampled: track it at power-on.", nameof(vm));

    /// <summary>The VM's sampling state, or null; an entry left by an earlier VM of the same id is dropped.</summary>
    private VmSampling? Find(VmId vm)
    {
        if (!_vms.TryGetValue(vm, out var s))
        {
            return null;
        }

        if (!_manager.IsCurrent(vm, s.Incarnation))
        {
            _vms.Remove(vm);
            return null;
        }

        return s;
    }

    /// <summary>One tracked VM: its current sample, and its period clock and estimator.</summary>
    private sealed class VmSampling(VmId id, long incarnation, int configuredPages, int samplePages, VmWorkingSet periods, DeterministicRandom random)
    {
        public VmId Id { get; } = id;

        public long Incarnation { get; } = incarnation;

        public int ConfiguredPages { get; } = configuredPages;

        public Ppn[] Sample { get; } = new Ppn[samplePages];

        public VmWorkingSet Periods { get; } = periods;

        public DeterministicRandom Random { get; } = random;

        /// <summary>Entries of <see cref="Sample"/> armed by this sampler in the current period.</summary>
        public int Count { get; set; }
    }
}
