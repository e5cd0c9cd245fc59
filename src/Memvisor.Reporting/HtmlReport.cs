/*
 * report.html: one page, no scripts and no external resources other than the chart images it writes
 * beside itself (charts/*.svg or *.png, referenced relatively), so the output folder can be moved,
 * archived or opened from a file browser. A header with the scenario, the configuration and summary
 * tables, one section per chart topic, and a figures section.
 */
using System.Net;
using System.Text;
using Memvisor.Scenarios;

namespace Memvisor.Reporting;

/// <summary>What the report says about charts not drawn.</summary>
/// <param name="LeftOut">Charts left out because they are empty (see <see cref="Charts.Chart.EmptyReason"/>).</param>
/// <param name="Vms">Which VMs have per-VM charts (null: charts were not drawn).</param>
public sealed record ChartNotes(IReadOnlyList<ReportChart> LeftOut, VmSelection? Vms);

/// <summary>Writes the HTML report.</summary>
public static class HtmlReport
{
    private static readonly Dictionary<string, string> SectionTitles = new(StringComparer.Ordinal)
    {
        ["host"] = "Host memory",
        ["allocation"] = "Allocation",
        ["balloon-swap"] = "Balloon and swap",
        ["sharing"] = "Page sharing",
        ["throughput"] = "Throughput",
        ["figures"] = "Figures",
    };

    private const string Style = """
        body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; margin: 1.5em auto; max-width: 1500px; padding: 0 1em; color: #222; }
        h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
        table { border-collapse: collapse; margin: 0.5em 0 1em 0; font-size: 0.9em; }
        th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
        th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .tables { display: flex; flex-wrap: wrap; gap: 0 2em; align-items: flex-start; }
        .charts { display: flex; flex-direction: column; gap: 1.2em; }
        figure { margin: 0; width: 100%; } figure img { display: block; width: 100%; height: auto; border: 1px solid #eee; }
        figcaption { font-size: 0.85em; color: #555; }
        nav a { margin-right: 1em; } .note { font-size: 0.85em; color: #555; } .alarm { color: #B00020; font-weight: bold; }
        """;

    /// <summary>The text of report.html.</summary>
    /// <param name="scenario">The scenario.</param>
    /// <param name="summary">The summary.</param>
    /// <param name="charts">The charts and the relative path ('/' separated) of each image file.</param>
    /// <param name="dataFiles">Relative paths of the data files, linked at the end.</param>
    /// <param name="notes">Charts left out as empty and the VMs charted one by one (null: none left out, every VM charted).</param>
    public static string Write(Scenario scenario, RunSummary summary, IReadOnlyList<(ReportChart Chart, string RelativePath)> charts, IReadOnlyList<string> dataFiles, ChartNotes? notes = null)
    {
        notes ??= new ChartNotes([], null);
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(charts);
        ArgumentNullException.ThrowIfNull(dataFiles);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Memvisor run: ").Append(E(scenario.Name)).Append("</title>\n");
        sb.Append("<style>\n").Append(Style.ReplaceLineEndings("\n")).Append("\n</style>\n</head>\n<body>\n");
        sb.Append("<h1>Memvisor run: ").Append(E(scenario.Name)).Append("</h1>\n");
        if (scenario.Description.Length > 0)
            sb.Append("<p>").Append(E(scenario.Description)).Append("</p>\n");

        var sections = RunCharts.Sections.Where(s => charts.Any(c => c.Chart.Section == s) || notes.LeftOut.Any(c => c.Section == s)).ToList();
        var perVmNoteAt = sections.FirstOrDefault(s => s is "allocation" or "balloon-swap" or "sharing") ?? sections.FirstOrDefault();
        sb.Append("<nav><a href=\"#scenario\">Scenario</a><a href=\"#summary\">Summary</a>");
        foreach (var s in sections)
            sb.Append("<a href=\"#").Append(s).Append("\">").Append(E(Title(s))).Append("</a>");
        sb.Append("<a href=\"#data\">Data files</a></nav>\n");

        sb.Append("<h2 id=\"scenario\">Scenario</h2>\n<div class=\"tables\">\n");
        foreach (var table in ReportTables.Scenario(scenario, summary))
            AppendTable(sb, table);
        sb.Append("</div>\n<h2 id=\"summary\">Summary</h2>\n<div class=\"tables\">\n");
        foreach (var table in ReportTables.Summary(summary))
            AppendTable(sb, table);
        sb.Append("</div>\n");

        foreach (var section in sections)
        {
            sb.Append("<h2 id=\"").Append(section).Append("\">").Append(E(Title(section))).Append("</h2>\n");
            if (section == perVmNoteAt && notes.Vms is { IsPartial: true } vms)
                sb.Append("<p class=\"note\">").Append(E(vms.Note)).Append("</p>\n");
            sb.Append("<div class=\"charts\">\n");
            foreach (var (chart, path) in charts.Where(c => c.Chart.Section == section))
            {
                sb.Append("<figure id=\"").Append(E(chart.FileStem)).Append("\"><img src=\"").Append(E(path)).Append("\" alt=\"").Append(E(chart.Chart.Title))
                  .Append("\" width=\"").Append(NumberText.Integer(chart.Chart.WidthPixels)).Append("\" height=\"").Append(NumberText.Integer(chart.Chart.HeightPixels))
                  .Append("\"><figcaption>").Append(E(chart.Caption)).Append("</figcaption></figure>\n");
            }
            sb.Append("</div>\n");
            var left = notes.LeftOut.Where(c => c.Section == section).ToList();
            if (left.Count > 0)
            {
                sb.Append("<p class=\"note\">Not drawn, having nothing to show: ")
                  .Append(E(string.Join("; ", left.Select(c => $"{c.Chart.Title} ({c.Chart.EmptyReason})")))).Append(".</p>\n");
            }
        }

        sb.Append("<h2 id=\"data\">Data files</h2>\n<ul>\n");
        foreach (var file in dataFiles)
            sb.Append("<li><a href=\"").Append(E(file)).Append("\">").Append(E(file)).Append("</a></li>\n");
        sb.Append("</ul>\n<p class=\"note\">Columns and units: see docs/outputs.md of Memvisor.</p>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private static void AppendTable(StringBuilder sb, ReportTable table)
    {
        var keyValue = table.Headers.All(h => h.Length == 0);
        sb.Append("<section id=\"").Append(E(table.Id)).Append("\"><h3>").Append(E(table.Title)).Append("</h3>\n<table>\n");
        if (!keyValue)
        {
            sb.Append("<tr>");
            foreach (var h in table.Headers)
                sb.Append("<th>").Append(E(h)).Append("</th>");
            sb.Append("</tr>\n");
        }
        var numeric = table.NumericColumns();
        foreach (var row in table.Rows)
        {
            sb.Append("<tr>");
            for (var c = 0; c < row.Count; c++)
            {
                var tag = keyValue && c == 0 ? "th" : "td";
                sb.Append('<').Append(tag).Append(numeric[c] ? " class=\"num\">" : ">").Append(E(row[c])).Append("</").Append(tag).Append('>');
            }
            sb.Append("</tr>\n");
        }
        sb.Append("</table>\n");
        if (table.Note.Length > 0)
            sb.Append("<p class=\"").Append(table.NoteIsAlarm ? "alarm" : "note").Append("\">").Append(E(table.Note)).Append("</p>\n");
        sb.Append("</section>\n");
    }

    private static string Title(string section) => SectionTitles.TryGetValue(section, out var title) ? title : section;

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
