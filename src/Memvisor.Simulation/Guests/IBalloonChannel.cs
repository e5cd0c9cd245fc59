using Memvisor.Core.Memory;

namespace Memvisor.Simulation.Guests;

/// <summary>
/// The guest side's view of a VM's private balloon channel (paper §3.2): the host sets a target, the
/// driver reports each page it hands over or takes back, and the host validates every report.
/// </summary>
public interface IBalloonChannel
{
    /// <summary>The balloon size the host wants, in pages.</summary>
    int TargetPages { get; }

    /// <summary>Reports that the guest gave <paramref name="ppn"/> to the balloon. False when the host rejects it (the page stays the guest's).</summary>
    bool Inflate(Ppn ppn);

    /// <summary>Reports that the guest takes <paramref name="ppn"/> back from the balloon. False when the host rejects it.</summary>
    bool Deflate(Ppn ppn);
}

/// <summary>A balloon channel straight onto the memory manager's pmap transitions, with a target the caller sets (for tests and hosts without a balloon policy).</summary>
public sealed class DirectBalloonChannel(MemoryManager manager, VmId vm) : IBalloonChannel
{
    /// <inheritdoc/>
    public int TargetPages { get; set; }

    /// <inheritdoc/>
    public bool Inflate(Ppn ppn) => manager.InflateBalloonPage(vm, ppn);

    /// <inheritdoc/>
    public bool Deflate(Ppn ppn) => manager.DeflateBalloonPage(vm, ppn);
}
