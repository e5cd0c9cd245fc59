/*
 * An experiment answers a reader's question about one of the paper's figures: what is it trying to show,
 * and does it hold? It builds scenarios (plain Scenario records), runs them in the simulator, measures the
 * runs into its typed measurement record (e.g. BalloonMeasurements), judges each claim on that record (a
 * ClaimResult per ClaimId, with the measured and the paper's value) and renders from it an ExperimentResult:
 * the setup in words, what it shows, the paper's numbers beside Memvisor's with their ratio, the claims,
 * charts, tables, and why the numbers differ (PaperExperiment<TMeasurements> chains the steps; the result
 * carries the record, ExperimentResult<TMeasurements>). ExperimentReport turns a result into files
 * (report.md, SVG charts, CSV tables); ExperimentCatalog lists them all for `memvisor experiment`.
 *
 * Rules every experiment keeps:
 *   - never tune a model to hit the paper's number: a claim that does not hold is reported as such, with why;
 *   - a "paper" value is one PAPER.md gives (NaN where the paper gives none, and the note says so); a claim
 *     that hinges on a free parameter (one the paper does not give) is shown across that parameter's range,
 *     and its evidence says for which values it holds (sampling's fast gain, io-remap's threshold);
 *   - results depend only on the scale and the seed (the simulator is deterministic); reports hold no wall
 *     time, so two runs can be compared byte for byte (the real-memory part of sharing-mixed excepted);
 *   - the Reduced scale is what the tests run: the same claims on smaller, shorter setups;
 *   - every guest checks what it reads; a data mismatch anywhere fails the experiment (ExperimentRuns).
 */
using System.Diagnostics.CodeAnalysis;
using Memvisor.Reporting.Charts;

namespace Memvisor.Experiments;

/// <summary>How big an experiment runs.</summary>
public enum ExperimentScale
{
    /// <summary>The paper's setup as closely as the simulator allows (each under two minutes).</summary>
    Full,

    /// <summary>Smaller and shorter, for tests: the same qualitative claims in seconds.</summary>
    Reduced,
}

/// <summary>What an experiment is given to run with.</summary>
/// <param name="Scale">Full or reduced size.</param>
/// <param name="Seed">Seed of every scenario the experiment runs.</param>
/// <param name="Progress">Hears one line per step (optional).</param>
/// <param name="CancellationToken">Stops the experiment between (and inside) runs.</param>
public sealed record ExperimentContext(ExperimentScale Scale, ulong Seed = 1, IProgress<string>? Progress = null, CancellationToken CancellationToken = default)
{
    /// <summary>Whether this is the reduced (test) size.</summary>
    public bool Reduced => Scale == ExperimentScale.Reduced;

    /// <summary>Picks the full or the reduced value.</summary>
    public T Pick<T>(T full, T reduced) => Reduced ? reduced : full;

    /// <summary>Tells the progress listener what is happening.</summary>
    public void Report(string step) => Progress?.Report(step);
}

/// <summary>One experiment: a figure of the paper (or a question beyond it) re-run in the simulator.</summary>
public interface IExperiment
{
    /// <summary>The name on the command line, e.g. "balloon".</summary>
    string Name { get; }

    /// <summary>A title for reports, e.g. "Ballooning versus configured memory".</summary>
    string Title { get; }

    /// <summary>Where in the paper, e.g. "Figure 2, §3.2".</summary>
    string PaperReference { get; }

    /// <summary>Runs the experiment.</summary>
    /// <exception cref="OperationCanceledException">The context's token was cancelled.</exception>
    /// <exception cref="ExperimentException">A run lost guest data or could not be set up.</exception>
    ExperimentResult Run(ExperimentContext context);
}

/// <summary>An experiment could not complete (a run lost guest data, a setup was refused).</summary>
public sealed class ExperimentException : Exception
{
    /// <summary>An exception without a message (prefer the one with).</summary>
    public ExperimentException()
        : base("The experiment failed.")
    {
    }

    /// <summary>With a message that names the problem.</summary>
    public ExperimentException(string message)
        : base(message)
    {
    }

    /// <summary>With a message and the exception that caused it.</summary>
    public ExperimentException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>One of the paper's numbers beside Memvisor's.</summary>
/// <param name="Quantity">What is measured, e.g. "throughput loss of the ballooned VM at 128 MB".</param>
/// <param name="Paper">The paper's value.</param>
/// <param name="Memvisor">Memvisor's value.</param>
/// <param name="Unit">Unit of both values, e.g. "%", "MB", "copies".</param>
public sealed record PaperComparison(string Quantity, double Paper, double Memvisor, string Unit)
{
    /// <summary>Memvisor / paper (NaN when the paper's value is 0).</summary>
    public double Ratio => Paper == 0 ? double.NaN : Memvisor / Paper;

    /// <summary>A remark on this row (e.g. "paper: range 1.4..4.4, midpoint shown").</summary>
    public string Note { get; init; } = "";
}

/// <summary>A qualitative claim of the paper and whether it held here.</summary>
/// <param name="Id">Which claim (stable: tests and tools find a claim by it, never by its wording or position).</param>
/// <param name="Claim">The claim, in the paper's sense, e.g. "a ballooned VM performs close to one configured with that memory".</param>
/// <param name="Holds">Whether the runs bear it out.</param>
/// <param name="Evidence">The numbers that decide it, and why it fails where it does.</param>
public sealed record ClaimResult(ClaimId Id, string Claim, bool Holds, string Evidence)
{
    /// <summary>The figure the claim is decided on, as measured here (its meaning is given on the claim's <see cref="ClaimId"/>).</summary>
    public required double Measured { get; init; }

    /// <summary>The paper's value of that figure (null where the paper gives none).</summary>
    public double? Paper { get; init; }
}

/// <summary>A chart of the experiment.</summary>
/// <param name="FileName">File name without extension (letters, digits, '-').</param>
/// <param name="Chart">What to draw.</param>
/// <param name="Caption">One sentence under the chart.</param>
public sealed record ExperimentFigure(string FileName, Chart Chart, string Caption);

/// <summary>A table of the experiment (also written as CSV).</summary>
/// <param name="FileName">CSV file name without extension (letters, digits, '-').</param>
/// <param name="Title">Heading above the table.</param>
/// <param name="Columns">Column headings, with units.</param>
/// <param name="Rows">Cells as text, one list per row, as many cells as columns.</param>
public sealed record ExperimentTable(string FileName, string Title, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>What an experiment found, as a report (the typed figures are in <see cref="ExperimentResult{TMeasurements}"/>).</summary>
public record ExperimentResult
{
    /// <summary>The experiment's name (as on the command line).</summary>
    public required string Name { get; init; }

    /// <summary>Title for reports.</summary>
    public required string Title { get; init; }

    /// <summary>Where in the paper.</summary>
    public required string PaperReference { get; init; }

    /// <summary>Scale it ran at.</summary>
    public ExperimentScale Scale { get; init; }

    /// <summary>Seed it ran with.</summary>
    public ulong Seed { get; init; }

    /// <summary>The setup in a few sentences (hosts, VMs, workloads, durations), paper's and ours.</summary>
    public required string Setup { get; init; }

    /// <summary>What the experiment is trying to show.</summary>
    public required string Shows { get; init; }

    /// <summary>The paper's numbers beside Memvisor's.</summary>
    public IReadOnlyList<PaperComparison> Comparisons { get; init; } = [];

    /// <summary>The qualitative claims checked.</summary>
    public IReadOnlyList<ClaimResult> Claims { get; init; } = [];

    /// <summary>Why Memvisor's numbers differ from the paper's where they do.</summary>
    public required string Discussion { get; init; }

    /// <summary>Charts.</summary>
    public IReadOnlyList<ExperimentFigure> Figures { get; init; } = [];

    /// <summary>Tables.</summary>
    public IReadOnlyList<ExperimentTable> Tables { get; init; } = [];

    /// <summary>Remarks from the runs (approximations the simulator made, refused VMs).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Simulated seconds over all runs.</summary>
    public double SimulatedSeconds { get; init; }

    /// <summary>Scenario runs made.</summary>
    public int Runs { get; init; }

    /// <summary>Whether every claim held.</summary>
    public bool AllClaimsHold => Claims.All(c => c.Holds);

    /// <summary>The result of claim <paramref name="id"/>.</summary>
    /// <exception cref="ArgumentException">This experiment does not check that claim.</exception>
    public ClaimResult Claim(ClaimId id) =>
        Claims.FirstOrDefault(c => c.Id == id) ?? throw new ArgumentException($"Experiment '{Name}' does not check claim {id}.", nameof(id));
}

/// <summary>What an experiment found: the report, and the typed measurements it was rendered from.</summary>
/// <typeparam name="TMeasurements">The experiment's measurement record.</typeparam>
public sealed record ExperimentResult<TMeasurements> : ExperimentResult
    where TMeasurements : class
{
    /// <summary>The report <paramref name="report"/> with the measurements it was rendered from.</summary>
    [SetsRequiredMembers]
    public ExperimentResult(ExperimentResult report, TMeasurements measurements)
        : base(report)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        Measurements = measurements;
    }

    /// <summary>The figures measured in the runs, per run and aggregated, that the claims and the report use.</summary>
    public TMeasurements Measurements { get; init; }
}
