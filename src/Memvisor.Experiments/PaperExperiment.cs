/*
 * What every experiment has in common, written once. An experiment derives from PaperExperiment<TMeasurements>
 * with a parameterless constructor (listed in ExperimentCatalog) that gives its name, title and
 * place in the paper, and implements the three steps Run chains:
 *   Measure  builds its scenarios (setup), runs them through ExperimentRuns and reduces the runs to its typed
 *            measurement record (the figures a reader and the claims need, per run and aggregated);
 *   Judge    record -> one ClaimResult per claim, each with its ClaimId, the measured and the paper's value;
 *   Render   record -> the report: setup, what it shows, paper vs Memvisor, charts, tables, discussion,
 *            ending in Result(context, runs, setup, shows, discussion) with { Comparisons = ..., ... }.
 * Run puts the claims into the report and returns both with the record (ExperimentResult<TMeasurements>), so
 * tests assert on typed figures and claim ids, and the report is only ever rendered from what was measured.
 */
namespace Memvisor.Experiments;

/// <summary>An experiment whose name, title and paper reference are fixed when it is constructed.</summary>
public abstract class PaperExperiment : IExperiment
{
    /// <summary>An experiment named <paramref name="name"/> (as on the command line).</summary>
    /// <param name="name">The name on the command line, e.g. "balloon".</param>
    /// <param name="title">A title for reports.</param>
    /// <param name="paperReference">Where in the paper, e.g. "Figure 2, §3.2".</param>
    private protected PaperExperiment(string name, string title, string paperReference)
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
    /// This experiment's report with the common fields filled: name, title and paper reference; the context's
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

/// <summary>An experiment that measures into <typeparamref name="TMeasurements"/>, judges its claims on it and renders its report from it.</summary>
/// <typeparam name="TMeasurements">The experiment's measurement record.</typeparam>
/// <param name="name">The name on the command line, e.g. "balloon".</param>
/// <param name="title">A title for reports.</param>
/// <param name="paperReference">Where in the paper, e.g. "Figure 2, §3.2".</param>
public abstract class PaperExperiment<TMeasurements>(string name, string title, string paperReference) : PaperExperiment(name, title, paperReference)
    where TMeasurements : class
{
    /// <summary>Runs the experiment: measure, judge, render.</summary>
    /// <exception cref="OperationCanceledException">The context's token was cancelled.</exception>
    /// <exception cref="ExperimentException">A run lost guest data or could not be set up.</exception>
    public sealed override ExperimentResult<TMeasurements> Run(ExperimentContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var runs = new ExperimentRuns(context);
        var measured = Measure(context, runs);
        var claims = Judge(measured);
        return new ExperimentResult<TMeasurements>(Render(context, runs, measured) with { Claims = claims }, measured);
    }

    /// <summary>Builds the scenarios, runs them with <paramref name="runs"/> and reduces them to the measurement record.</summary>
    protected abstract TMeasurements Measure(ExperimentContext context, ExperimentRuns runs);

    /// <summary>Checks every claim on the measurements: one result per claim, in the order the report lists them.</summary>
    protected abstract IReadOnlyList<ClaimResult> Judge(TMeasurements measured);

    /// <summary>The report of the measurements (the claims are added by <see cref="Run"/>).</summary>
    protected abstract ExperimentResult Render(ExperimentContext context, ExperimentRuns runs, TMeasurements measured);
}
