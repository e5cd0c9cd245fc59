/*
 * Every experiment of this assembly, in the paper's order. An experiment is a class implementing
 * IExperiment with a public parameterless constructor; it is found here without being registered, so
 * adding one is adding one file.
 */
using System.Diagnostics.CodeAnalysis;

namespace Memvisor.Experiments;

/// <summary>The experiments `memvisor experiment` knows.</summary>
public static class ExperimentCatalog
{
    /// <summary>The order of the paper (sections 3 to 7), then what goes beyond it.</summary>
    private static readonly string[] PaperOrder =
        ["balloon", "double-paging", "sharing-scaling", "sharing-mixed", "salting", "sampling", "idle-tax", "policy", "io-remap"];

    private static readonly Lazy<IReadOnlyList<IExperiment>> Found = new(Discover);

    /// <summary>All experiments, in the paper's order.</summary>
    public static IReadOnlyList<IExperiment> All => Found.Value;

    /// <summary>The experiment named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static IExperiment? Find(string name) =>
        All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));

    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "Experiments are concrete types of this assembly, which is not trimmed.")]
    private static IReadOnlyList<IExperiment> Discover()
    {
        var experiments = typeof(ExperimentCatalog).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IExperiment).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (IExperiment)Activator.CreateInstance(t)!)
            .ToList();
        var duplicate = experiments.GroupBy(e => e.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two experiments are named '{duplicate.Key}'; names must be unique.");
        }

        return [.. experiments
            .OrderBy(e => Array.IndexOf(PaperOrder, e.Name) is var i && i >= 0 ? i : PaperOrder.Length)
            .ThenBy(e => e.Name, StringComparer.Ordinal)];
    }
}
