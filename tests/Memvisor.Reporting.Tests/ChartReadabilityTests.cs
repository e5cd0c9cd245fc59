using System.Globalization;
using System.Text;
using System.Xml.Linq;
using Memvisor.Reporting.Charts;

namespace Memvisor.Reporting.Tests;

/// <summary>What makes a chart readable (issue 14, Outputs): integer ticks for counts, visible labelled
/// thresholds, a boot spike that does not squash the run, empty charts left out, coinciding series apart.</summary>
public partial class ChartReadabilityTests
{
    private static readonly double[] Seconds = [.. Enumerable.Range(1, 300).Select(t => (double)t)];

    private static string Svg(Chart chart) => Encoding.UTF8.GetString(ChartRenderer.Render(chart, ChartFormat.Svg));

    private static List<string> Texts(string svg) =>
        [.. XDocument.Parse(svg).Root!.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value.Trim())];

    private static List<double> NumericLabels(string svg) =>
        [.. Texts(svg).Where(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            .Select(t => double.Parse(t, CultureInfo.InvariantCulture))];

    private static LineChart PagesOverTime(AxisValues y) => new()
    {
        Title = "Double-paging reads",
        XLabel = "time (s)",
        YLabel = "pages",
        YValues = y,
        // x ticks are whole seconds anyway (0..300); y spans 0..3 pages, where automatic ticks go by 0.5 or less.
        Series = [new("reads", Seconds, [.. Seconds.Select(t => (double)((int)t % 4))])],
    };

    [Fact]
    public void An_axis_of_counts_has_only_integer_tick_labels()
    {
        var counts = NumericLabels(Svg(PagesOverTime(AxisValues.Counts)));
        var continuous = NumericLabels(Svg(PagesOverTime(AxisValues.Continuous)));

        Assert.Contains(3.0, counts);
        Assert.All(counts, v => Assert.Equal(Math.Round(v), v));
        // The same data as a continuous measure does get fractional ticks: the setting is what removes them.
        Assert.Contains(continuous, v => v != Math.Round(v));
    }

    [Fact]
    public void A_bar_chart_of_counts_has_only_integer_tick_labels()
    {
        var bars = new BarChart { Title = "Paging I/O", YLabel = "pages", YValues = AxisValues.Counts, Categories = ["in", "out"], Groups = [new BarGroup("pages", [1, 2])] };

        var labels = NumericLabels(Svg(bars));

        Assert.Contains(2.0, labels);
        Assert.All(labels, v => Assert.Equal(Math.Round(v), v));
    }

    [Fact]
    public void A_count_x_axis_of_vms_has_integer_ticks()
    {
        double[] vms = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        var chart = new LineChart { Title = "Shared vs VMs", XLabel = "VMs", YLabel = "MB", XValues = AxisValues.Counts, Series = [new("shared", vms, [.. vms.Select(v => v * 1000)])] };

        var labels = NumericLabels(Svg(chart));

        Assert.Contains(10.0, labels);
        Assert.All(labels, v => Assert.Equal(Math.Round(v), v));
    }

    private static LineChart FreeMemory(double[] free) => new()
    {
        Title = "Host: free memory",
        XLabel = "time (s)",
        YLabel = "memory (MiB)",
        Series = [new("free memory", Seconds, free)],
        ReferenceLines = [new("high threshold (6%)", 61.44, "#009E73"), new("low threshold (1%)", 10.24, "#B00020")],
    };

    /// <summary>720 MiB free for the first 3 s (boot), then between 40 and 170 MiB.</summary>
    private static double[] BootSpike() => [.. Seconds.Select(t => t <= 3 ? 720 - (t * 10) : 105 + (65 * Math.Sin(t / 20)))];

    [Fact]
    public void A_spike_at_boot_is_left_off_scale_and_marked_with_its_peak()
    {
        var chart = FreeMemory(BootSpike());

        var layout = LineLayout.Of(chart, ChartRenderer.PaletteColor);

        // The range fits the run after boot (peak 170), not the boot value.
        Assert.InRange(layout.YMax, 170, 200);
        var clipped = Assert.Single(layout.Clipped);
        Assert.Equal((0, 3, 1.0, 710.0), (clipped.Index, clipped.Count, clipped.PeakX, clipped.PeakY));
        // Not hidden: the chart says what is off scale and where.
        Assert.Contains("off scale: free memory peaks at 710 at time = 1", Svg(chart), StringComparison.Ordinal);
    }

    [Fact]
    public void In_a_short_run_the_first_sample_counts_as_the_start()
    {
        double[] time = [.. Enumerable.Range(1, 20).Select(t => (double)t)];
        var chart = new LineChart { Title = "Throughput", XMin = 0, XMax = 20, Series = [new("vm0", time, [.. time.Select(t => t == 1 ? 450 : 5)])] };

        var layout = LineLayout.Of(chart, ChartRenderer.PaletteColor);

        Assert.InRange(layout.YMax, 5, 10);
        Assert.Equal(450, Assert.Single(layout.Clipped).PeakY);
    }

    [Fact]
    public void Many_identical_series_stay_at_most_two_steps_wider_than_a_lone_line()
    {
        var chart = new LineChart { Title = "t", Series = [.. Enumerable.Range(0, 8).Select(i => new ChartSeries($"vm{i}", Seconds, [.. Seconds]))] };

        var widths = LineLayout.Of(chart, ChartRenderer.PaletteColor).Series.Select(s => s.WidthPixels).ToList();

        Assert.Equal(2.0, widths[^1]);
        Assert.True(widths[0] > widths[^1] && widths[0] <= 2 + (2 * 1.75), string.Join(", ", widths));
    }

    [Fact]
    public void A_peak_later_in_the_run_always_fits_the_range()
    {
        var late = BootSpike().Select((v, i) => i < 3 ? 120 : v).ToArray();
        late[250] = 720;

        var layout = LineLayout.Of(FreeMemory(late), ChartRenderer.PaletteColor);

        Assert.True(layout.YMax >= 720, $"y max {layout.YMax}");
        Assert.Empty(layout.Clipped);
    }

    [Fact]
    public void A_chart_may_ask_for_the_full_range_whatever_the_start()
    {
        var layout = LineLayout.Of(FreeMemory(BootSpike()) with { FitLeadingSpike = false }, ChartRenderer.PaletteColor);

        Assert.True(layout.YMax >= 710);
        Assert.Empty(layout.Clipped);
    }

    [Fact]
    public void Thresholds_are_labelled_on_the_chart_and_drawn_in_their_colour_not_faint()
    {
        var svg = Svg(FreeMemory(BootSpike()));

        // Once in the legend, once beside the line.
        Assert.Equal(2, Texts(svg).Count(t => t == "low threshold (1%)"));
        // Skia writes a dashed line as the filled outline of its dashes: a horizontal band as high as
        // the line is wide, in the threshold's colour at full opacity.
        var dashes = XDocument.Parse(svg).Root!.Descendants()
            .Where(e => e.Name.LocalName == "path" && string.Equals((string?)e.Attribute("fill"), "#B00020", StringComparison.OrdinalIgnoreCase))
            .ToList();
        Assert.Equal(2, dashes.Count); // the line across the plot and its legend symbol
        var band = dashes.MaxBy(p => ((string)p.Attribute("d")!).Length)!;
        Assert.Null(band.Attribute("fill-opacity"));
        var ys = NumberPair().Matches((string)band.Attribute("d")!).Select(m => double.Parse(m.Groups["y"].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.InRange(ys.Max() - ys.Min(), 1.5, 3);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"[ML](?<x>-?[0-9.]+) (?<y>-?[0-9.]+)")]
    private static partial System.Text.RegularExpressions.Regex NumberPair();

    [Fact]
    public void Two_identical_series_differ_in_pattern_width_and_marker_positions()
    {
        double[] same = [.. Seconds.Select(t => t / 2)];
        var chart = new LineChart { Title = "idle: page sharing", Series = [new("shared", Seconds, same), new("zero pages", Seconds, same), new("other", Seconds, [.. same.Select(v => 400 - v)])] };

        var layout = LineLayout.Of(chart, ChartRenderer.PaletteColor);

        var (first, second, other) = (layout.Series[0], layout.Series[1], layout.Series[2]);
        Assert.Equal([0], second.CoincidesWith);
        Assert.Empty(other.CoincidesWith);
        Assert.NotEqual(first.Line, second.Line);
        Assert.True(first.WidthPixels > second.WidthPixels, "the series drawn first is wider, so it shows around the one drawn over it");
        Assert.NotEqual(first.Marker, second.Marker);
        Assert.Empty(first.MarkerPoints.Intersect(second.MarkerPoints));
        // A series that coincides with nothing keeps its own pattern and width.
        Assert.Equal((SeriesLine.Solid, 2.0), (other.Line, other.WidthPixels));
        // The legend lists them in the model's order.
        Assert.Equal(["shared", "zero pages", "other"], layout.Series.Select(s => s.Legend));
    }

    [Fact]
    public void A_series_that_is_zero_throughout_says_so_in_the_legend()
    {
        var chart = new LineChart { Title = "db: balloon and swap", Series = [new("balloon", Seconds, [.. Seconds]), new("swapped", Seconds, [.. Seconds.Select(_ => 0.0)])] };

        Assert.Equal(["balloon", "swapped (0 throughout)"], LineLayout.Of(chart, ChartRenderer.PaletteColor).Series.Select(s => s.Legend));
    }

    [Fact]
    public void A_chart_of_zeros_or_of_nothing_is_empty_and_says_why()
    {
        var zeros = new LineChart { Title = "web: balloon and swap", Series = [new("balloon", Seconds, [.. Seconds.Select(_ => 0.0)])], ReferenceLines = [new("max", 384, "#777777")] };
        var nothing = zeros with { Series = [new("balloon", Seconds, [.. Seconds.Select(_ => double.NaN)])] };
        var one = zeros with { Series = [new("balloon", Seconds, [.. Seconds.Select(t => t == 300 ? 0.25 : 0)])] };
        var bars = new BarChart { Title = "b", Categories = ["a"], Groups = [new BarGroup("g", [0])] };

        Assert.Equal("every value is 0", zeros.EmptyReason);
        Assert.Equal("no values", nothing.EmptyReason);
        Assert.False(one.IsEmpty);
        Assert.Equal("every value is 0", bars.EmptyReason);
    }
}
