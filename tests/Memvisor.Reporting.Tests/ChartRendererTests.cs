using System.Xml.Linq;
using Memvisor.Reporting.Charts;

namespace Memvisor.Reporting.Tests;

public class ChartRendererTests
{
    private static readonly double[] Time = [0, 1, 2, 3];

    private static LineChart TwoLines() => new()
    {
        Title = "Two lines",
        XLabel = "time (s)",
        YLabel = "memory (MiB)",
        Series = [new("granted", Time, [10, 20, 30, 40]), new("target", Time, [40, 30, double.NaN, 10]) { Line = SeriesLine.Dashed }],
        Bands = [new ChartBand("state soft", 1, 2, "#E69F00")],
        ReferenceLines = [new ChartReferenceLine("max", 50, "#777777")],
    };

    [Fact]
    public void A_line_chart_is_svg_with_its_title_axis_labels_and_legend()
    {
        var svg = System.Text.Encoding.UTF8.GetString(ChartRenderer.Render(TwoLines(), ChartFormat.Svg));

        var root = XDocument.Parse(svg).Root!;
        Assert.Equal("svg", root.Name.LocalName);
        var text = string.Concat(root.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value));
        foreach (var expected in new[] { "Two lines", "time (s)", "memory (MiB)", "granted", "target", "state soft", "max" })
            Assert.Contains(expected, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Svg_ids_do_not_depend_on_how_many_charts_the_process_drew_before()
    {
        var first = ChartRenderer.Render(TwoLines(), ChartFormat.Svg);
        ChartRenderer.Render(TwoLines() with { Title = "another" }, ChartFormat.Svg);

        Assert.Equal(first, ChartRenderer.Render(TwoLines(), ChartFormat.Svg));
    }

    [Fact]
    public void Renumbering_renames_definitions_and_references_in_order_of_definition()
    {
        const string Svg = """<svg><clipPath id="cl_9"/><clipPath id="cl_4"/><g clip-path="url(#cl_4)"/><use href="#cl_9"/><g clip-path="url(#other)"/></svg>""";

        Assert.Equal(
            """<svg><clipPath id="k0"/><clipPath id="k1"/><g clip-path="url(#k1)"/><use href="#k0"/><g clip-path="url(#other)"/></svg>""",
            SvgNormalizer.RenumberIds(Svg, "k"));
    }

    [Fact]
    public void A_bar_chart_renders_as_png()
    {
        var png = ChartRenderer.Render(new BarChart
        {
            Title = "Throughput by VM",
            YLabel = "throughput (units/s)",
            Categories = ["a", "b", "c"],
            Groups = [new BarGroup("mean", [1, 2, double.NaN]), new BarGroup("peak", [2, 3, 4])],
        }, ChartFormat.Png);

        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Fact]
    public void A_chart_whose_series_are_all_unknown_still_renders_without_them()
    {
        var chart = TwoLines() with { Series = [new("true working set", Time, [double.NaN, double.NaN, double.NaN, double.NaN])], ReferenceLines = [] };

        var svg = System.Text.Encoding.UTF8.GetString(ChartRenderer.Render(chart, ChartFormat.Svg));

        Assert.DoesNotContain("true working set", svg, StringComparison.Ordinal);
        Assert.Contains("Two lines", svg, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_charts_are_refused_naming_the_field()
    {
        var mismatched = TwoLines() with { Series = [new("short", Time, [1, 2])] };
        var bars = new BarChart { Title = "b", Categories = ["a", "b"], Groups = [new BarGroup("g", [1])] };

        Assert.Contains("Series['short']", Assert.Throws<ArgumentException>(() => ChartRenderer.Render(mismatched, ChartFormat.Svg)).Message, StringComparison.Ordinal);
        Assert.Contains("Groups['g']", Assert.Throws<ArgumentException>(() => ChartRenderer.Render(bars, ChartFormat.Png)).Message, StringComparison.Ordinal);
        Assert.Contains("WidthPixels = 5", Assert.Throws<ArgumentException>(() => ChartRenderer.Render(TwoLines() with { WidthPixels = 5 }, ChartFormat.Png)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Long_series_are_thinned_to_their_envelope_keeping_gaps_and_ends()
    {
        const int Count = 100_000;
        var x = Enumerable.Range(0, Count).Select(i => (double)i).ToArray();
        var y = x.Select(v => Math.Sin(v / 50)).ToArray();
        y[50_001] = 1000;
        y[20_000] = -1000;
        for (var i = 70_000; i < 70_010; i++)
            y[i] = double.NaN;

        var (tx, ty) = ChartRenderer.Decimate(x, y, columns: 100);

        // 100 columns per run of finite points, at most 4 points each, two runs, one NaN separator.
        Assert.True(tx.Length <= (2 * 4 * 100) + 1, $"{tx.Length} points");
        Assert.Equal(1000, ty.Where(double.IsFinite).Max());
        Assert.Equal(-1000, ty.Where(double.IsFinite).Min());
        Assert.Single(ty, double.IsNaN);
        Assert.Equal((0.0, y[0]), (tx[0], ty[0]));
        Assert.Equal((Count - 1.0, y[^1]), (tx[^1], ty[^1]));
        Assert.Equal(tx.Order(), tx);
    }

    [Fact]
    public void Short_series_are_drawn_as_they_are()
    {
        var (tx, ty) = ChartRenderer.Decimate(Time, [1, double.NaN, 3, 4], columns: 1);

        Assert.Equal(Time, tx);
        Assert.Equal([1, double.NaN, 3, 4], ty);
    }
}
