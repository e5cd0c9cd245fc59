/*
 * A host's sharing at steady state: the means over the last quarter of a run, summed over its VMs. The
 * sharing experiments (sharing-scaling, sharing-mixed, salting) measure every run into one of these.
 */
using Memvisor.Scenarios;
using Memvisor.Simulation;

namespace Memvisor.Experiments;

/// <summary>A host's sharing at steady state: means over the last quarter of a run, summed over its VMs.</summary>
/// <param name="SharedMB">Memory of pages that map a shared frame.</param>
/// <param name="SavedMB">Memory freed by sharing (reclaimed).</param>
/// <param name="ZeroMB">Memory of pages that map a shared zero frame.</param>
/// <param name="TouchedMB">Memory the guests hold (private plus shared pages).</param>
/// <param name="Throughput">Work units per second, all VMs.</param>
/// <param name="ZeroFrames">Shared zero frames the zero pages map (one per salt that has zero pages).</param>
public sealed record SharingSteadyState(double SharedMB, double SavedMB, double ZeroMB, double TouchedMB, double Throughput, int ZeroFrames = 1)
{
    /// <summary>Reclaimed memory that is zero pages: the zero pages less the one machine page each zero frame keeps.</summary>
    public double ZeroSavedMB => ZeroMB <= 0 ? 0 : Math.Max(0, ZeroMB - (ZeroFrames * Core.Memory.PageGeometry.MegabytesFromPages(1)));

    /// <summary>The steady state of a run: the last quarter of its samples.</summary>
    internal static SharingSteadyState Of(SimulationResult run, int zeroFrames = 1)
    {
        ArgumentNullException.ThrowIfNull(run);
        var samples = run.Samples;
        var tail = samples.Skip(samples.Count - Math.Max(1, samples.Count / 4)).ToList();
        double Mean(Func<VmSample, double> value) => tail.Average(s => s.Vms.Where(v => v.PoweredOn).Sum(value));
        return new SharingSteadyState(Mean(v => v.SharedMB), Mean(v => v.SharedSavedMB), Mean(v => v.ZeroMB), Mean(v => v.PrivateMB + v.SharedMB), Mean(v => v.Throughput), zeroFrames);
    }
}
