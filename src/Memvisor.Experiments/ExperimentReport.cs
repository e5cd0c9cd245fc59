/*
 * Turns experiment results into files a reader opens:
 *   DIR/experiments/<name>/report.md   the setup, what it shows, paper vs Memvisor (with ratio), claims,
 *                                      charts, tables and why the numbers differ;
 *   DIR/experiments/<name>/*.svg       the charts (deterministic SVG);
 *   DIR/experiments/<name>/*.csv       the tables;
 *   DIR/experiments.md                 (for `all`) every report in one document, charts linked.
 * Nothing written holds a wall-clock time or a host name, so reruns compare byte for byte.
 */
using System.Globalization;
using System.Text;
using Memvisor.Reporting.Charts;

namespace Memvisor.Experiments;

/// <summary>Writes experiment reports.</summary>
public static class ExperimentReport
{
    /// <summary>Folder of the experiments under the output folder.</summary>
    public const string Folder = "experiments";

    /// <summary>The collected document written by <see cref="WriteAll"/>.</summary>
    public const string CollectedFile = "experiments.md";

    /// <summary>Tables longer than this are only linked from the report (their CSV has every row).</summary>
    public const int MaxReportRows = 30;

    /// <summary>Writes one experiment's report, charts and tables under <paramref name="dir"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Write(string dir, ExperimentResult result)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(result);
        return WriteFolder(Path.Combine(dir, Folder, result.Name), result);
    }

    /// <summary>Writes one experiment's report, charts and tables into <paramref name="folder"/> itself (what <see cref="Write"/> writes under dir/experiments/name); returns the files written.</summary>
    public static IReadOnlyList<string> WriteFolder(string folder, ExperimentResult result)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        foreach (var figure in result.Figures.Where(f => !f.Chart.IsEmpty))
        {
            var path = Path.Combine(folder, CheckedFileName(figure.FileName) + ".svg");
            File.WriteAllBytes(path, ChartRenderer.Render(figure.Chart, ChartFormat.Svg, figure.FileName));
            written.Add(path);
        }

        foreach (var table in result.Tables)
        {
            var path = Path.Combine(folder, CheckedFileName(table.FileName) + ".csv");
            File.WriteAllText(path, Csv(table), new UTF8Encoding(false));
            written.Add(path);
        }

        var report = Path.Combine(folder, "report.md");
        File.WriteAllText(report, Markdown(result, linkPrefix: "", headingLevel: 1), new UTF8Encoding(false));
        written.Add(report);
        return written;
    }

    /// <summary>Writes every result (as <see cref="Write"/>) and the collected document; returns its path.</summary>
    public static string WriteAll(string dir, IReadOnlyList<ExperimentResult> results)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(results);
        foreach (var result in results)
        {
            Write(dir, result);
        }

        var path = Path.Combine(dir, CollectedFile);
        File.WriteAllText(path, Collected(results), new UTF8Encoding(false));
        return path;
    }

    /// <summary>The collected document of <see cref="WriteAll"/> (experiments.md) as text.</summary>
    public static string Collected(IReadOnlyList<ExperimentResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        text.Append("# Experiments: the paper's figures re-run in the simulator\n\n");
        text.Append("Written by `memvisor experiment all`; each section is also in experiments/<name>/report.md with its charts and tables.\n");
        text.Append("Ratios are Memvisor / paper. A claim marked *does not hold* is reported, not tuned away.\n\n");
        text.Append("| experiment | paper | claims holding |\n|---|---|---|\n");
        foreach (var r in results)
        {
            text.Append(CultureInfo.InvariantCulture, $"| [{r.Name}](#{Anchor(r)}) | {r.PaperReference} | {r.Claims.Count(c => c.Holds)} of {r.Claims.Count} |\n");
        }

        text.Append('\n');
        foreach (var r in results)
        {
            text.Append(Markdown(r, linkPrefix: $"{Folder}/{r.Name}/", headingLevel: 2));
            text.Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The report of one result as Markdown; links to charts and tables start with <paramref name="linkPrefix"/>.</summary>
    public static string Markdown(ExperimentResult result, string linkPrefix = "", int headingLevel = 1)
    {
        ArgumentNullException.ThrowIfNull(result);
        var h = new string('#', headingLevel);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{h} {result.Name}: {result.Title}\n\n");
        text.Append(CultureInfo.InvariantCulture, $"Paper: {result.PaperReference}. Scale: {result.Scale.ToString().ToLowerInvariant()}, seed {result.Seed}, {result.Runs} run(s), {Number(result.SimulatedSeconds, 0)} simulated s.\n\n");
        text.Append(CultureInfo.InvariantCulture, $"**What it shows.** {result.Shows}\n\n");
        text.Append(CultureInfo.InvariantCulture, $"**Setup.** {result.Setup}\n\n");
        Section(text, "| quantity | paper | Memvisor | ratio | note |\n|---|---:|---:|---:|---|\n", result.Comparisons,
            c => $"| {c.Quantity} | {Number(c.Paper)} {c.Unit} | {Number(c.Memvisor)} {c.Unit} | {Ratio(c.Ratio)} | {c.Note} |");
        // Each claim with its id, so a reader can find the test that asserts it (tests find claims by ClaimId).
        Section(text, "**Claims.**\n\n", result.Claims, c => $"- {(c.Holds ? "holds" : "*does not hold*")} (`{c.Id}`): {c.Claim}. {c.Evidence}");

        foreach (var f in result.Figures)
        {
            // An empty chart (every value 0, or none) is not drawn; the report says so in its place.
            if (f.Chart.EmptyReason is { } why)
            {
                text.Append(CultureInfo.InvariantCulture, $"*Chart not drawn: {f.Chart.Title} ({why}).*\n\n");
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"![{f.Chart.Title}]({linkPrefix}{f.FileName}.svg)\n\n*{f.Caption}*\n\n");
            }
        }

        foreach (var t in result.Tables)
        {
            if (t.Rows.Count > MaxReportRows)
            {
                // A time series is for tools, not for reading: the report links it.
                text.Append(CultureInfo.InvariantCulture, $"**{t.Title}**: {t.Rows.Count} rows of {string.Join(", ", t.Columns)} in [{t.FileName}.csv]({linkPrefix}{t.FileName}.csv).\n\n");
                continue;
            }

            text.Append(CultureInfo.InvariantCulture, $"**{t.Title}** ([CSV]({linkPrefix}{t.FileName}.csv))\n\n");
            text.Append("| ").Append(string.Join(" | ", t.Columns)).Append(" |\n|");
            text.Append(string.Concat(Enumerable.Repeat("---|", t.Columns.Count))).Append('\n');
            foreach (var row in t.Rows)
            {
                text.Append("| ").Append(string.Join(" | ", row)).Append(" |\n");
            }

            text.Append('\n');
        }

        text.Append(CultureInfo.InvariantCulture, $"**Why the numbers differ.** {result.Discussion}\n\n");
        Section(text, "**Notes from the runs.**\n\n", result.Notes, n => $"- {n}");
        return text.ToString();
    }

    /// <summary>Appends <paramref name="header"/>, one line per item and a blank line; nothing when there are no items.</summary>
    private static void Section<T>(StringBuilder text, string header, IReadOnlyList<T> items, Func<T, string> line)
    {
        if (items.Count == 0)
        {
            return;
        }

        text.Append(header);
        foreach (var item in items)
        {
            text.Append(line(item)).Append('\n');
        }

        text.Append('\n');
    }

    /// <summary>A number for reports: invariant culture, at most <paramref name="decimals"/> decimals.</summary>
    public static string Number(double value, int decimals = 2) =>
        // Adding 0.0 turns a rounded -0 into 0: "-0 %" would read as a loss.
        double.IsFinite(value) ? (Math.Round(value, decimals) + 0.0).ToString("0." + new string('#', Math.Max(decimals, 0)), CultureInfo.InvariantCulture) : "n/a";

    private static string Ratio(double ratio) => double.IsFinite(ratio) ? Number(ratio, 3) : "n/a";

    private static string Anchor(ExperimentResult r) =>
        new string($"{r.Name}: {r.Title}".ToLowerInvariant().Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-').ToArray()).Replace(' ', '-');

    private static string Csv(ExperimentTable table)
    {
        var text = new StringBuilder();
        text.Append(string.Join(',', table.Columns.Select(CsvCell))).Append('\n');
        foreach (var row in table.Rows)
        {
            if (row.Count != table.Columns.Count)
            {
                throw new ArgumentException($"Table '{table.FileName}': a row has {row.Count} cells for {table.Columns.Count} columns; counts must match.", nameof(table));
            }

            text.Append(string.Join(',', row.Select(CsvCell))).Append('\n');
        }

        return text.ToString();
    }

    private static string CsvCell(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\n") >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;

    private static string CheckedFileName(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
            ? name
            : throw new ArgumentException($"File name '{name}': must be letters, digits and '-' only.", nameof(name));
}
