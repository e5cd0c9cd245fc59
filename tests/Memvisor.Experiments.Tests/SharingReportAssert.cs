using System.Globalization;

namespace Memvisor.Experiments.Tests;

/// <summary>Checks the sharing experiments' reports and reads their tables.</summary>
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

    /// <summary>The cells of column <paramref name="column"/> of table <paramref name="file"/>, as numbers.</summary>
    public static double[] Column(ExperimentResult result, string file, string column)
    {
        var table = result.Tables.Single(t => t.FileName == file);
        var index = table.Columns.ToList().IndexOf(column);
        Assert.True(index >= 0, $"table {file} has no column '{column}'");
        return [.. table.Rows.Select(r => double.Parse(r[index], CultureInfo.InvariantCulture))];
    }

    /// <summary>One row of table <paramref name="file"/> whose first cell is <paramref name="first"/>, cell of <paramref name="column"/>.</summary>
    public static double Cell(ExperimentResult result, string file, string first, string column)
    {
        var table = result.Tables.Single(t => t.FileName == file);
        var index = table.Columns.ToList().IndexOf(column);
        return double.Parse(table.Rows.Single(r => r[0] == first)[index], CultureInfo.InvariantCulture);
    }
}
