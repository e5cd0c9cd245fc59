namespace Memvisor.Experiments.Tests;

/// <summary>Checks the sharing experiments' reports.</summary>
internal static class SharingReportAssert
{
    /// <summary>Every comparison row of the report shows the paper's number, Memvisor's and their ratio.</summary>
    public static void StatesPaperOursAndRatio(ExperimentResult result)
    {
        Assert.NotEmpty(result.Comparisons);
        var md = ExperimentReport.Markdown(result);
        foreach (var c in result.Comparisons)
        {
            var ratio = double.IsFinite(c.Ratio) ? ExperimentReport.Number(c.Ratio, 3) : "n/a";
            Assert.Contains($"| {c.Quantity} | {ExperimentReport.Number(c.Paper)} {c.Unit} | {ExperimentReport.Number(c.Memvisor)} {c.Unit} | {ratio} |", md, StringComparison.Ordinal);
        }
    }
}
