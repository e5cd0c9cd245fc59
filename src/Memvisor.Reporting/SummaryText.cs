/*
 * summary.txt: the report's tables as plain text for a terminal or a diff, columns padded with spaces,
 * numbers right-aligned, "\n" line ends.
 */
using System.Text;
using Memvisor.Scenarios;

namespace Memvisor.Reporting;

/// <summary>Writes the human-readable summary.</summary>
public static class SummaryText
{
    /// <summary>The text of summary.txt.</summary>
    public static string Write(Scenario scenario, RunSummary summary)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(summary);
        var sb = new StringBuilder();
        sb.Append("Memvisor run: ").Append(scenario.Name).Append('\n');
        if (scenario.Description.Length > 0)
            sb.Append(scenario.Description.ReplaceLineEndings("\n")).Append('\n');
        foreach (var table in ReportTables.Scenario(scenario, summary).Concat(ReportTables.Summary(summary)))
        {
            sb.Append('\n');
            AppendTable(sb, table);
        }
        return sb.ToString();
    }

    /// <summary>Appends <paramref name="table"/> as aligned text.</summary>
    public static void AppendTable(StringBuilder sb, ReportTable table)
    {
        ArgumentNullException.ThrowIfNull(sb);
        ArgumentNullException.ThrowIfNull(table);
        sb.Append(table.Title).Append('\n').Append('-', table.Title.Length).Append('\n');
        var keyValue = table.Headers.All(h => h.Length == 0);
        var columns = table.Headers.Count;
        var widths = new int[columns];
        for (var c = 0; c < columns; c++)
        {
            widths[c] = keyValue ? 0 : table.Headers[c].Length;
            foreach (var row in table.Rows)
                widths[c] = Math.Max(widths[c], row[c].Length);
        }
        var numeric = table.NumericColumns();
        if (!keyValue)
            AppendRow(sb, numeric, table.Headers, widths, header: true);
        foreach (var row in table.Rows)
            AppendRow(sb, numeric, row, widths, header: false);
        if (table.Note.Length > 0)
            sb.Append(table.Note).Append('\n');
    }

    private static void AppendRow(StringBuilder sb, bool[] numeric, IReadOnlyList<string> cells, int[] widths, bool header)
    {
        var line = new StringBuilder();
        for (var c = 0; c < cells.Count; c++)
        {
            if (c > 0)
                line.Append("  ");
            var right = !header && numeric[c];
            var last = c == cells.Count - 1;
            if (right)
                line.Append(' ', widths[c] - cells[c].Length).Append(cells[c]);
            else
                line.Append(cells[c]).Append(' ', last ? 0 : widths[c] - cells[c].Length);
        }
        sb.Append(line.ToString().TrimEnd()).Append('\n');
    }
}
