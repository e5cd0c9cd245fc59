using Memvisor.Reporting.Charts;

namespace Memvisor.Experiments.Tests;

/// <summary>What a reader of an experiment's report relies on: the paper's number, ours and their ratio; the claims; files that link up.</summary>
public sealed class ExperimentReportTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memvisor-exp-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Report_states_paper_and_memvisor_numbers_with_their_ratio_and_each_claim()
    {
        var result = Sample();

        var md = ExperimentReport.Markdown(result);

        // 3.0 / 4.0 = 0.75.
        Assert.Contains("| loss at 128 MB | 4 % | 3 % | 0.75 |", md, StringComparison.Ordinal);
        Assert.Contains("- holds (`BalloonCloseToConfigured`): ballooned is close", md, StringComparison.Ordinal);
        Assert.Contains("- *does not hold* (`BalloonSlightlySlower`): something else", md, StringComparison.Ordinal);
        Assert.Contains("![Throughput](throughput.svg)", md, StringComparison.Ordinal);
        Assert.False(result.AllClaimsHold);
    }

    [Fact]
    public void A_claim_is_found_by_its_id_and_asking_for_one_the_experiment_does_not_check_names_both()
    {
        var result = Sample();

        var close = result.Claim(ClaimId.BalloonCloseToConfigured);
        Assert.Equal("ballooned is close", close.Claim);
        Assert.Equal(3, close.Measured);
        Assert.Equal(4.4, close.Paper);
        var e = Assert.Throws<ArgumentException>(() => result.Claim(ClaimId.PolicyAllocationTracksActivity));
        Assert.Contains("'demo'", e.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(ClaimId.PolicyAllocationTracksActivity), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_table_is_linked_from_the_report_not_printed_and_its_csv_has_every_row()
    {
        var rows = Enumerable.Range(0, ExperimentReport.MaxReportRows + 1).Select(i => (IReadOnlyList<string>)[i.ToString(System.Globalization.CultureInfo.InvariantCulture)]).ToList();
        var result = Sample() with { Tables = [new ExperimentTable("series", "Series", ["t (s)"], rows)] };

        var md = ExperimentReport.Markdown(result);
        ExperimentReport.Write(_dir, result);

        Assert.Contains("**Series**: 31 rows of t (s) in [series.csv](series.csv).", md, StringComparison.Ordinal);
        Assert.DoesNotContain("| 30 |", md, StringComparison.Ordinal);
        Assert.Equal(ExperimentReport.MaxReportRows + 2, File.ReadAllLines(Path.Combine(_dir, "experiments", "demo", "series.csv")).Length);
    }

    [Theory]
    [InlineData(-0.0001, 2, "0")]
    [InlineData(-0.004, 2, "0")]
    [InlineData(-0.006, 2, "-0.01")]
    [InlineData(1234.5678, 1, "1234.6")]
    [InlineData(double.NaN, 2, "n/a")]
    public void Numbers_are_invariant_rounded_and_never_minus_zero(double value, int decimals, string expected) =>
        Assert.Equal(expected, ExperimentReport.Number(value, decimals));

    [Fact]
    public void A_zero_paper_value_has_no_ratio()
    {
        Assert.True(double.IsNaN(new PaperComparison("x", 0, 5, "MB").Ratio));
        Assert.Contains("| n/a |", ExperimentReport.Markdown(Sample() with { Comparisons = [new PaperComparison("x", 0, 5, "MB")] }), StringComparison.Ordinal);
    }

    [Fact]
    public void WriteAll_writes_every_report_its_charts_and_tables_and_links_them_from_one_document()
    {
        var result = Sample();

        var collected = ExperimentReport.WriteAll(_dir, [result]);

        var folder = Path.Combine(_dir, "experiments", "demo");
        Assert.True(File.Exists(Path.Combine(folder, "report.md")));
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(folder, "throughput.svg")), StringComparison.Ordinal);
        Assert.Equal("size (MB),ballooned,\"note, quoted \"\"x\"\"\"\n128,1.5,a\n", File.ReadAllText(Path.Combine(folder, "points.csv")));
        var text = File.ReadAllText(collected);
        Assert.Contains("](experiments/demo/throughput.svg)", text, StringComparison.Ordinal);
        Assert.Contains("| [demo](#demo-a-demo) | Figure 0 | 1 of 2 |", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_writes_of_one_result_are_byte_identical()
    {
        var a = Path.Combine(_dir, "a");
        var b = Path.Combine(_dir, "b");
        ExperimentReport.WriteAll(a, [Sample()]);
        ExperimentReport.WriteAll(b, [Sample()]);

        foreach (var file in Directory.GetFiles(a, "*", SearchOption.AllDirectories))
        {
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(b, Path.GetRelativePath(a, file))));
        }
    }

    [Fact]
    public void A_file_name_with_a_path_in_it_is_refused()
    {
        var bad = Sample() with { Tables = [new ExperimentTable("../x", "t", ["a"], [["1"]])] };

        var e = Assert.Throws<ArgumentException>(() => ExperimentReport.Write(_dir, bad));
        Assert.Contains("'../x'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_figure_whose_values_are_all_zero_is_not_drawn_and_the_report_says_so()
    {
        var zeros = new ExperimentFigure("swap", new LineChart { Title = "Swapped", Series = [new ChartSeries("swapped", [1, 2], [0, 0])] }, "Swap.");
        var result = Sample() with { Figures = [.. Sample().Figures, zeros] };

        var written = ExperimentReport.Write(_dir, result);

        Assert.DoesNotContain(written, f => f.EndsWith("swap.svg", StringComparison.Ordinal));
        Assert.Contains(written, f => f.EndsWith("throughput.svg", StringComparison.Ordinal));
        var report = ExperimentReport.Markdown(result);
        Assert.Contains("*Chart not drawn: Swapped (every value is 0).*", report, StringComparison.Ordinal);
        Assert.DoesNotContain("swap.svg", report, StringComparison.Ordinal);
    }

    [Fact]
    public void Catalog_names_are_unique_lowercase_and_in_the_papers_order()
    {
        var names = ExperimentCatalog.All.Select(e => e.Name).ToList();
        string[] paperOrder = ["balloon", "double-paging", "sharing-scaling", "sharing-mixed", "salting", "sampling", "idle-tax", "policy", "io-remap"];

        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(names, n => Assert.Equal(n.ToLowerInvariant(), n));
        var known = names.Where(paperOrder.Contains).ToList();
        Assert.Equal(paperOrder.Where(known.Contains), known);
        Assert.All(names, n => Assert.Same(ExperimentCatalog.Find(n.ToUpperInvariant()), ExperimentCatalog.Find(n)));
        Assert.Null(ExperimentCatalog.Find("no-such-experiment"));
    }

    private static ExperimentResult Sample() => new()
    {
        Name = "demo",
        Title = "A demo",
        PaperReference = "Figure 0",
        Setup = "One VM.",
        Shows = "That reports work.",
        Discussion = "They do not differ.",
        Comparisons = [new PaperComparison("loss at 128 MB", 4, 3, "%")],
        Claims = [new ClaimResult(ClaimId.BalloonCloseToConfigured, "ballooned is close", true, "3% < 5%.") { Measured = 3, Paper = 4.4 }, new ClaimResult(ClaimId.BalloonSlightlySlower, "something else", false, "it failed.") { Measured = -1 }],
        Figures = [new ExperimentFigure("throughput", new LineChart { Title = "Throughput", Series = [new ChartSeries("a", [1, 2], [3, 4])] }, "A line.")],
        Tables = [new ExperimentTable("points", "Points", ["size (MB)", "ballooned", "note, quoted \"x\""], [["128", "1.5", "a"]])],
    };
}
