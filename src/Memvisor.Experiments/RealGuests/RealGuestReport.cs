/*
 * The collected document of `memvisor experiment all --substrate qemu`: DIR/experiments.md (DIR is the
 * --out folder's qemu/ subfolder) with a summary of the claims holding on real guests (each report
 * sets them beside the simulator's), then every real-guest report; each report is also written on its own by ExperimentReport.
 */
using System.Globalization;
using System.Text;

namespace Memvisor.Experiments.RealGuests;

/// <summary>Writes the real-guest reports.</summary>
public static class RealGuestReport
{
    /// <summary>The collected document's text: the claims holding per experiment, then every report.</summary>
    public static string Collected(IReadOnlyList<ExperimentResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var text = new StringBuilder();
        text.Append("# Experiments on real guests: the paper's figures on Linux guests under QEMU, beside the simulator\n\n");
        text.Append("Written by `memvisor experiment all --substrate qemu`; each section is also in experiments/<name>/report.md with its charts and tables. ");
        text.Append("Real guests are not deterministic: figures vary from run to run (TCG timing, host load).\n\n");
        text.Append("| experiment | paper | claims holding on real guests |\n|---|---|---|\n");
        foreach (var r in results)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {r.Name} | {r.PaperReference} | {r.Claims.Count(c => c.Holds)} of {r.Claims.Count} |\n");
        }

        text.Append('\n');
        foreach (var r in results)
        {
            text.Append(ExperimentReport.Markdown(r, linkPrefix: $"{ExperimentReport.Folder}/{r.Name}/", headingLevel: 2)).Append('\n');
        }

        return text.ToString();
    }
}
