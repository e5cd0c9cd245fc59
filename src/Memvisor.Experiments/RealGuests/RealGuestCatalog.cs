/*
 * The experiments `memvisor experiment NAME --substrate qemu` knows: the paper's experiments a TCG guest
 * can show, each re-run on real guests beside the simulator's (RealGuestExperiment). Listed here, in the
 * paper's order, and never in the simulator's ExperimentCatalog (ExperimentCatalogTests checks both lists).
 */
namespace Memvisor.Experiments.RealGuests;

/// <summary>The real-guest experiments.</summary>
public static class RealGuestCatalog
{
    private static readonly Lazy<IReadOnlyList<IExperiment>> Experiments = new(() =>
    [
        new RealBalloonExperiment(),
        new RealDoublePagingExperiment(),
        new RealSharingScalingExperiment(),
        new RealSamplingExperiment(),
        new RealIdleTaxExperiment(),
    ]);

    /// <summary>All real-guest experiments, in the paper's order.</summary>
    public static IReadOnlyList<IExperiment> All => Experiments.Value;

    /// <summary>What this machine lacks to run them (with the install line), or null.</summary>
    public static string? WhyUnavailable() => RealGuestLab.WhyUnavailable();

    /// <summary>The experiment named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static IExperiment? Find(string name) =>
        All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
}
