using System.Globalization;
using System.Text.RegularExpressions;
using Memvisor.Reporting;
using Memvisor.Reporting.Charts;
using Memvisor.Testing;

namespace Memvisor.Reporting.Tests;

public partial class RunOutputsTests
{
    private static IReadOnlyList<string> WriteSynthetic(OutputFolder folder, ChartFormat format = ChartFormat.Svg, bool charts = true)
    {
        var scenario = SyntheticRun.Scenario();
        var samples = SyntheticRun.Samples();
        return RunOutputs.Write(folder.Path, scenario, samples, RunSummary.FromSamples(scenario, samples, events: 5000),
            new ReportOptions { ChartFormat = format, Charts = charts });
    }

    [Theory]
    [InlineData(ChartFormat.Svg)]
    [InlineData(ChartFormat.Png)]
    public void The_same_run_written_twice_gives_byte_identical_folders(ChartFormat format)
    {
        using var first = new OutputFolder();
        using var second = new OutputFolder();

        var written = WriteSynthetic(first, format);
        WriteSynthetic(second, format);

        Assert.Equal(first.Files(), second.Files());
        Assert.Equal(written, first.Files());
        foreach (var file in first.Files())
            Assert.True(File.ReadAllBytes(first.Full(file)).AsSpan().SequenceEqual(File.ReadAllBytes(second.Full(file))), file + " differs");
    }

    [Fact]
    public void Outputs_hold_no_folder_path_machine_name_or_date()
    {
        using var folder = new OutputFolder();
        var written = WriteSynthetic(folder);
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

        foreach (var file in written)
        {
            var text = File.ReadAllText(folder.Full(file));
            Assert.DoesNotContain(folder.Path, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Path.GetTempPath(), text, StringComparison.Ordinal);
            Assert.DoesNotContain("memvisor-swap-secret", text, StringComparison.Ordinal);
            Assert.DoesNotContain(today, text, StringComparison.Ordinal);
            if (Environment.MachineName.Length >= 6)
                Assert.DoesNotContain(Environment.MachineName, text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void The_report_shows_every_chart_written_and_every_image_it_shows_exists()
    {
        using var folder = new OutputFolder();
        var written = WriteSynthetic(folder);
        var html = File.ReadAllText(folder.Full(RunOutputs.ReportFile));

        var shown = ImageSource().Matches(html).Select(m => m.Groups[1].Value).ToList();
        var charts = written.Where(f => f.StartsWith("charts/", StringComparison.Ordinal)).ToList();

        // 2 host charts + 3 per VM x 3 VMs + throughput + 3 figures.
        Assert.Equal(2 + (3 * 3) + 1 + 3, charts.Count);
        Assert.Equal(charts.Order(StringComparer.Ordinal), shown.Order(StringComparer.Ordinal));
        foreach (var src in shown)
            Assert.True(new FileInfo(folder.Full(src)).Length > 0, src + " is empty");
        foreach (var link in DataLink().Matches(html).Select(m => m.Groups[1].Value))
            Assert.True(File.Exists(folder.Full(link)), link + " is linked but missing");
        foreach (var expected in new[] { "synthetic", "db", "web", "idle box", "Figures", "Free-memory state transitions" })
            Assert.Contains(expected, html, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_charts_the_report_has_tables_and_no_images()
    {
        using var folder = new OutputFolder();
        var written = WriteSynthetic(folder, charts: false);

        Assert.Equal(
            ["report.html", "summary.json", "summary.txt", "timeseries-host.csv", "timeseries-vms.csv", "timeseries.json"],
            written);
        Assert.DoesNotContain("<img", File.ReadAllText(folder.Full(RunOutputs.ReportFile)), StringComparison.Ordinal);
    }

    [Fact]
    public void Caller_figures_go_into_the_figures_section()
    {
        using var folder = new OutputFolder();
        var scenario = SyntheticRun.Scenario(10);
        var samples = SyntheticRun.Samples(10);
        var figure = new ReportFigure("Figure 4: sharing", new BarChart
        {
            Title = "Sharing by VM count",
            YLabel = "memory (MiB)",
            Categories = ["1", "2"],
            Groups = [new BarGroup("shared", [5, 20]), new BarGroup("reclaimed", [4, 15])],
        }, "Shared and reclaimed memory.");

        var written = RunOutputs.Write(folder.Path, scenario, samples, RunSummary.FromSamples(scenario, samples), new ReportOptions { Figures = [figure] });

        Assert.Contains("charts/figure-figure-4-sharing.svg", written);
        var html = File.ReadAllText(folder.Full(RunOutputs.ReportFile));
        Assert.True(html.IndexOf("figure-figure-4-sharing.svg", StringComparison.Ordinal) > html.IndexOf("id=\"figures\"", StringComparison.Ordinal));
    }

    [Fact]
    public void A_caller_figure_may_not_replace_a_standard_one()
    {
        using var folder = new OutputFolder();
        var scenario = SyntheticRun.Scenario(5);
        var samples = SyntheticRun.Samples(5);
        var figure = new ReportFigure("Aggregate", new BarChart { Title = "t" }, "");

        var e = Assert.Throws<ArgumentException>(() =>
            RunOutputs.Write(folder.Path, scenario, samples, RunSummary.FromSamples(scenario, samples), new ReportOptions { Figures = [figure] }));
        Assert.Contains("figure-aggregate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_text_lists_the_time_in_each_state()
    {
        using var folder = new OutputFolder();
        WriteSynthetic(folder, charts: false);
        var text = File.ReadAllText(folder.Full(RunOutputs.SummaryTextFile));

        // SyntheticRun: free = 12 + 138 |t - 60| / 60 falls below 61.44 MiB (6% of 1024) for |t - 60| < 21.5,
        // i.e. t = 39..81: 43 one-second samples out of 120 are below high, so high holds 120 - 43 = 77 s.
        Assert.Matches(@"\nhigh\s+77\.0\s+64\.2\n", text);
        Assert.Contains("Memvisor run: synthetic\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\r", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Samples_out_of_time_order_are_refused()
    {
        using var folder = new OutputFolder();
        var samples = SyntheticRun.Samples(3);

        var e = Assert.Throws<ArgumentException>(() =>
            RunOutputs.Write(folder.Path, SyntheticRun.Scenario(3), [samples[1], samples[0]], RunSummary.FromSamples(SyntheticRun.Scenario(3), samples)));
        Assert.Contains("TimeSeconds = 1", e.Message, StringComparison.Ordinal);
    }

    [GeneratedRegex("<img src=\"([^\"]+)\"")]
    private static partial Regex ImageSource();

    [GeneratedRegex("<li><a href=\"([^\"]+)\"")]
    private static partial Regex DataLink();
}
