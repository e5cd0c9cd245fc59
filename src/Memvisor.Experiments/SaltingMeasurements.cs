/*
 * What the salting experiment measures: the steady state of one host of mixed VMs run three times, with
 * one salt, a salt per VM, and a salt per VM except for zero pages; each saving beside one salt's.
 */
using Memvisor.Core.Memory;
using Memvisor.Scenarios;

namespace Memvisor.Experiments;

/// <summary>One salting mode's run.</summary>
/// <param name="Salting">The mode.</param>
/// <param name="Label">Its name in the report.</param>
/// <param name="State">Steady state of the run.</param>
public sealed record SaltingMode(ShareSaltMode Salting, string Label, SharingSteadyState State);

/// <summary>Everything the salting experiment measured.</summary>
/// <param name="Seconds">Simulated seconds per run.</param>
/// <param name="Vms">The host's VMs (the same in every run).</param>
/// <param name="Modes">One salt, a salt per VM, zero pages across VMs, in that order.</param>
public sealed record SaltingMeasurements(double Seconds, IReadOnlyList<VmSpec> Vms, IReadOnlyList<SaltingMode> Modes)
{
    /// <summary>One salt for all VMs (the paper's behaviour, the reference).</summary>
    public SaltingMode One => Mode(ShareSaltMode.SingleSalt);

    /// <summary>A salt per VM.</summary>
    public SaltingMode PerVm => Mode(ShareSaltMode.PerVm);

    /// <summary>A salt per VM except for zero (and all-0xFF) pages.</summary>
    public SaltingMode ZeroOnly => Mode(ShareSaltMode.UniformPagesAcrossVms);

    /// <summary>The VMs' configured memory, MB.</summary>
    public double ConfiguredMB => Vms.Sum(v => v.MemoryMB);

    /// <summary>A mode's reclaimed memory over one salt's.</summary>
    public double ShareOfOneSalt(SaltingMode mode)
    {
        ArgumentNullException.ThrowIfNull(mode);
        return mode.State.SavedMB / One.State.SavedMB;
    }

    private SaltingMode Mode(ShareSaltMode salting) => Modes.Single(m => m.Salting == salting);
}
