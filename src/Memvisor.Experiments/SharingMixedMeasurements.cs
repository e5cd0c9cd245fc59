/*
 * What the sharing-mixed experiment measures (Figure 5): the steady state of three simulated hosts of mixed
 * guests, each beside the paper's host it stands for, and the live scan of this machine's processes (which
 * differs from run to run and is reported, never judged).
 */
using Memvisor.Core.Sharing;
using Memvisor.Scenarios;

namespace Memvisor.Experiments;

/// <summary>One of the paper's hosts and our analogue of it.</summary>
/// <param name="Name">"A", "B" or "C".</param>
/// <param name="Guest">The guests in words, e.g. "10 Windows".</param>
/// <param name="PaperMB">The paper's host's VM memory.</param>
/// <param name="PaperSharedMB">Its shared memory.</param>
/// <param name="PaperReclaimedMB">Its reclaimed memory.</param>
/// <param name="PaperZeroMB">Its zero pages (null: not given).</param>
/// <param name="Vms">Our VMs.</param>
public sealed record MixedHost(string Name, string Guest, double PaperMB, double PaperSharedMB, double PaperReclaimedMB, double? PaperZeroMB, IReadOnlyList<VmSpec> Vms);

/// <summary>What one host measured.</summary>
/// <param name="Host">The host.</param>
/// <param name="ConfiguredMB">Its VMs' configured memory.</param>
/// <param name="State">Steady state of its run.</param>
public sealed record MixedHostPoint(MixedHost Host, double ConfiguredMB, SharingSteadyState State)
{
    /// <summary>Reclaimed memory, % of VM memory.</summary>
    public double ReclaimedPercent => SharingScalingExperiment.Percent(State.SavedMB, ConfiguredMB);

    /// <summary>The paper's reclaimed memory, % of its VM memory.</summary>
    public double PaperReclaimedPercent => SharingScalingExperiment.Percent(Host.PaperReclaimedMB, Host.PaperMB);
}

/// <summary>The real-memory scan of this machine, or why it was skipped.</summary>
/// <param name="Estimate">The estimate (null when skipped).</param>
/// <param name="Notes">What the scan left out, or why it was skipped.</param>
public sealed record RealMemoryScan(SharingEstimate? Estimate, IReadOnlyList<string> Notes);

/// <summary>Everything the sharing-mixed experiment measured.</summary>
/// <param name="Scale">Sizes relative to the paper's hosts.</param>
/// <param name="Seconds">Simulated seconds per host.</param>
/// <param name="Hosts">Hosts A, B and C, in that order.</param>
/// <param name="Real">This machine's processes.</param>
public sealed record SharingMixedMeasurements(double Scale, double Seconds, IReadOnlyList<MixedHostPoint> Hosts, RealMemoryScan Real)
{
    /// <summary>Host A: Windows VMs.</summary>
    public MixedHostPoint A => Host("A");

    /// <summary>Host B: many Linux VMs.</summary>
    public MixedHostPoint B => Host("B");

    /// <summary>Host C: few Linux VMs of different images.</summary>
    public MixedHostPoint C => Host("C");

    /// <summary>Whether host C reclaims the smallest fraction of its VM memory.</summary>
    public bool CReclaimsLeast => C.ReclaimedPercent < A.ReclaimedPercent && C.ReclaimedPercent < B.ReclaimedPercent;

    private MixedHostPoint Host(string name) => Hosts.Single(h => h.Host.Name == name);
}
