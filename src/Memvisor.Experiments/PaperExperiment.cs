/*
 * What every experiment has in common, written once: its name, title and place in the paper (given to the
 * constructor), and the fields of its result that come from the context and the runs (scale, seed, the
 * simulator's notes, simulated seconds, run count). An experiment derives from PaperExperiment with a
 * public parameterless constructor (so ExperimentCatalog finds it), implements Run, and ends it with
 *     return Result(context, runs, setup, shows, discussion) with { Comparisons = ..., Claims = ..., ... };
 * setting only what is its own. Setup, Shows and Discussion stay required: they are the helper's parameters.
 */
namespace Memvisor.Experiments;

/// <summary>An experiment whose name, title and paper reference are fixed when it is constructed.</summary>
public abstract class PaperExperiment : IExperiment
{
    /// <summary>An experiment named <paramref name="name"/> (as on the command line).</summary>
    /// <param name="name">The name on the command line, e.g. "balloon".</param>
    /// <param name="title">A title for reports.</param>
    /// <param name="paperReference">Where in the paper, e.g. "Figure 2, §3.2".</param>
    protected PaperExperiment(string name, string title, string paperReference)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        ArgumentException.ThrowIfNullOrWhiteSpace(paperReference);
        Name = name;
        Title = title;
        PaperReference = paperReference;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public string Title { get; }

    /// <inheritdoc/>
    public string PaperReference { get; }

    /// <inheritdoc/>
    public abstract ExperimentResult Run(ExperimentContext context);

    /// <summary>
    /// This experiment's result with the common fields filled: name, title and paper reference; the context's
    /// scale and seed; the runs' notes, simulated seconds and count. The caller adds its own fields with
    /// <c>with { ... }</c> (and overrides a common one there where it counts differently).
    /// </summary>
    /// <param name="context">What the experiment ran with.</param>
    /// <param name="runs">The experiment's scenario runs.</param>
    /// <param name="setup">The setup in a few sentences, paper's and ours.</param>
    /// <param name="shows">What the experiment is trying to show.</param>
    /// <param name="discussion">Why Memvisor's numbers differ from the paper's where they do.</param>
    protected ExperimentResult Result(ExperimentContext context, ExperimentRuns runs, string setup, string shows, string discussion)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(runs);
        return new ExperimentResult
        {
            Name = Name,
            Title = Title,
            PaperReference = PaperReference,
            Scale = context.Scale,
            Seed = context.Seed,
            Setup = setup,
            Shows = shows,
            Discussion = discussion,
            Notes = runs.Notes,
            SimulatedSeconds = runs.SimulatedSeconds,
            Runs = runs.Count,
        };
    }
}
