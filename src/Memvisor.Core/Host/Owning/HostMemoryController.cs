/*
 * An owning host's memory controller: MemoryManager's mechanisms (balloon host, working-set sampler,
 * sharing scanner) wired to the substrate-neutral HostMemoryPolicy through OwningHostMemory.
 *
 * It powers VMs on and off (admission by the policy, then MemoryManager, balloon channel, sampling,
 * then the policy takes the VM), advances the host's clock, the sharing scanner and the policy on each
 * tick, and owns what only an owning substrate has: the synchronous reclaim victim chooser that
 * MemoryManager calls when a fault finds no free page (the VM furthest above its target, by the
 * policy's latest counts; ties go to the lowest id).
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Balloon;
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Core.Sampling;
using Memvisor.Core.Sharing;
using Memvisor.Core.Util;

namespace Memvisor.Core.Host.Owning;

/// <summary>The memory policy of one owning host, over a <see cref="MemoryManager"/>.</summary>
public sealed class HostMemoryController
{
    private readonly ManualClock _clock = new();
    private readonly HostPolicyOptions _options;
    private readonly WorkingSetSampler _sampler;

    /// <summary>Creates the mechanisms and the policy for <paramref name="manager"/>.</summary>
    public HostMemoryController(MemoryManager manager, HostPolicyOptions options, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Manager = manager;
        _options = options;
        Balloons = new BalloonHost(manager, _clock, options.Balloon);
        _sampler = new WorkingSetSampler(manager, options.Sampling, seed ^ 0x5A5A_5A5A_5A5A_5A5AUL);
        Scanner = new ShareScanner(manager, options.ShareScan);
        Memory = new OwningHostMemory(manager, Balloons, _sampler, Scanner);
        Policy = new HostMemoryPolicy(options, Memory, Memory);
        manager.ReclaimVictimChooser = ChooseSynchronousVictim;
        if (options.IoRemap is { } io)
        {
            manager.ConfigureIoRemap(io);
        }
    }

    /// <summary>The memory manager.</summary>
    public MemoryManager Manager { get; }

    /// <summary>The substrate-neutral policy.</summary>
    public HostMemoryPolicy Policy { get; }

    /// <summary>The policy's ports over the manager.</summary>
    public OwningHostMemory Memory { get; }

    /// <summary>The host side of every balloon.</summary>
    public BalloonHost Balloons { get; }

    /// <summary>The sharing scanner.</summary>
    public ShareScanner Scanner { get; }

    /// <summary>The free-memory state machine.</summary>
    public FreeMemoryStateMachine States => Policy.States;

    /// <summary>The host's clock (time since the host started).</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>The idle memory tax rate tau in force now.</summary>
    public double IdleTax => Policy.IdleTax;

    /// <summary>Target recomputations so far.</summary>
    public long Rebalances => Policy.Rebalances;

    /// <summary>Machine pages promised to running VMs: the sum of their min + overhead.</summary>
    public long ReservedPages => Policy.ReservedPages;

    /// <summary>Powers a VM on after admission control, and starts sampling and its balloon channel.</summary>
    /// <exception cref="AdmissionException">memory or swap cannot cover the VM; the message says what is short and by how much.</exception>
    public VmId PowerOn(VmConfig config, IGuestMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(config);
        Policy.Admit(config);
        var id = Manager.PowerOn(config.ToMemoryConfig(), mapping);
        Balloons.Attach(id, config.BalloonMaxPages is { } cap ? _options.Balloon with { MaxPages = cap } : null);
        _sampler.Track(id);
        Memory.Attach(id);
        Policy.Add(id, config);
        return id;
    }

    /// <summary>Powers a VM off and gives back everything it held.</summary>
    public void PowerOff(VmId id)
    {
        if (!Policy.Manages(id))
        {
            throw new ArgumentException($"{id} is not powered on.", nameof(id));
        }

        Balloons.Detach(id);
        _sampler.Untrack(id);
        Manager.PowerOff(id);
        Policy.Remove(id);
    }

    /// <summary>Changes a VM's shares (targets are recomputed at once).</summary>
    public void SetShares(VmId id, Shares shares) => Policy.SetShares(id, shares);

    /// <summary>Changes the idle memory tax rate (targets are recomputed at once).</summary>
    /// <exception cref="ArgumentException"><paramref name="tau"/> is not in [0, 1).</exception>
    public void SetIdleTax(double tau) => Policy.SetIdleTax(tau);

    /// <summary>The configuration a VM was powered on with.</summary>
    public VmConfig ConfigOf(VmId id) => Policy.ConfigOf(id);

    /// <summary>The VM's shares, resolved to a number.</summary>
    public double SharesOf(VmId id) => Policy.SharesOf(id);

    /// <summary>What the policy decided for a VM.</summary>
    public VmPolicyState PolicyOf(VmId id) => Policy.PolicyOf(id);

    /// <summary>True while the VM must not run (low state, above its target).</summary>
    public bool IsBlocked(VmId id) => Policy.IsBlocked(id);

    /// <summary>The VM's active pages as the policy estimates them.</summary>
    public double ActivePagesOf(VmId id) => Policy.WorkingSetOf(id).ActivePages;

    /// <summary>
    /// Advances the host by <paramref name="elapsed"/> for a substrate whose VMs run whenever they are not
    /// blocked: each unblocked VM is credited with <paramref name="elapsed"/> of execution time, then <see cref="Tick"/>.
    /// </summary>
    public void Advance(TimeSpan elapsed)
    {
        for (var i = 0; i < Policy.VmCount; i++)
        {
            var id = Policy.VmAt(i);
            if (!Policy.IsBlocked(id))
            {
                Memory.AddExecutionTime(id, elapsed);
            }
        }

        Tick(elapsed);
    }

    /// <summary>
    /// Advances the host by <paramref name="elapsed"/>: its clock, the sharing scanner, then the policy. The
    /// substrate has reported how long each VM ran (<see cref="OwningHostMemory.AddExecutionTime"/>).
    /// </summary>
    public void Tick(TimeSpan elapsed)
    {
        _clock.Advance(elapsed);
        Memory.Scan(elapsed);
        Policy.Advance(elapsed);
    }

    /// <summary>Recomputes every VM's target now.</summary>
    public void Rebalance() => Policy.Rebalance();

    private VmId? ChooseSynchronousVictim(VmId faulting)
    {
        VmId? best = null;
        var bestExcess = 0.0;
        for (var i = 0; i < Policy.VmCount; i++)
        {
            var id = Policy.VmAt(i);
            var state = Policy.PolicyOf(id);
            var excess = state.ConsumedPages - state.TargetPages;
            if (best is null || excess > bestExcess)
            {
                best = id;
                bestExcess = excess;
            }
        }

        return best ?? faulting;
    }
}
