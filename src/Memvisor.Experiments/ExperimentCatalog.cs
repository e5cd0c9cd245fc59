/*
 * Every experiment of this assembly, in the paper's order (sections 3 to 7), then what goes beyond it.
 * The list is written out rather than found by reflection: a program that looks for its types at run
 * time cannot be trimmed or compiled ahead of time (Native AOT), and every start of `memvisor` reads
 * this list for the experiment command's help. Adding an experiment is adding its class and one line
 * here; ExperimentCatalogTests fails while a concrete experiment of the assembly is missing or listed
 * twice.
 */
namespace Memvisor.Experiments;

/// <summary>The experiments `memvisor experiment` knows.</summary>
public static class ExperimentCatalog
{
    private static readonly Lazy<IReadOnlyList<IExperiment>> Experiments = new(() =>
    [
        new BalloonExperiment(),
        new DoublePagingExperiment(),
        new SharingScalingExperiment(),
        new SharingMixedExperiment(),
        new SaltingExperiment(),
        new SamplingExperiment(),
        new IdleTaxExperiment(),
        new PolicyExperiment(),
        new IoRemapExperiment(),
    ]);

    /// <summary>All experiments, in the paper's order.</summary>
    public static IReadOnlyList<IExperiment> All => Experiments.Value;

    /// <summary>The experiment named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static IExperiment? Find(string name) =>
        All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
}
