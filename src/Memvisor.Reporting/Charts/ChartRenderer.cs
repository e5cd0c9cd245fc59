/*
 * Draws the chart model with ScottPlot 5. Output is deterministic for the same chart on the same machine:
 * the font is chosen from a fixed preference list, colours come from a fixed palette, numbers are
 * formatted with the invariant culture, and SVG ids are renumbered (see SvgNormalizer). PNG bytes from
 * Skia's encoder carry no time stamp. Text is measured with the installed fonts, so images from machines
 * with different fonts may differ; data files never depend on fonts.
 */
using System.Globalization;
using System.Text;
using ScottPlot;

namespace Memvisor.Reporting.Charts;

/// <summary>Renders <see cref="Chart"/>s to SVG or PNG.</summary>
public static class ChartRenderer
{
    /// <summary>Fonts tried in this order; the first one installed is used.</summary>
    private static readonly string[] FontPreference = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans"];

    /// <summary>A colour-blind-friendly palette (Okabe and Ito), then darker tones.</summary>
    private static readonly string[] Palette =
        ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#000000", "#E69F00", "#F0E442", "#7F3C8D", "#11A579", "#3969AC", "#80BA5A"];

    private static readonly Lazy<string?> ChosenFont = new(() =>
    {
        var installed = new HashSet<string>(SkiaSharp.SKFontManager.Default.FontFamilies, StringComparer.Ordinal);
        return FontPreference.FirstOrDefault(installed.Contains);
    });

    /// <summary>The palette colour for index <paramref name="index"/> (wraps around).</summary>
    public static string PaletteColor(int index) => Palette[((index % Palette.Length) + Palette.Length) % Palette.Length];

    /// <summary>The file extension of <paramref name="format"/>, without the dot.</summary>
    public static string Extension(ChartFormat format) => format switch
    {
        ChartFormat.Svg => "svg",
        ChartFormat.Png => "png",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown chart format"),
    };

    /// <summary>Renders <paramref name="chart"/> to the bytes of an image file.</summary>
    /// <param name="chart">The chart.</param>
    /// <param name="format">SVG (UTF-8 text) or PNG.</param>
    /// <param name="svgIdPrefix">Prefix of SVG ids (see <see cref="SvgNormalizer.RenumberIds"/>).</param>
    public static byte[] Render(Chart chart, ChartFormat format, string svgIdPrefix = "c")
    {
        ArgumentNullException.ThrowIfNull(chart);
        chart.Validate();
        var culture = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        try
        {
            using var plot = Build(chart);
            return format switch
            {
                ChartFormat.Svg => new UTF8Encoding(false).GetBytes(
                    SvgNormalizer.RenumberIds(plot.GetSvgXml(chart.WidthPixels, chart.HeightPixels), svgIdPrefix)),
                ChartFormat.Png => plot.GetImageBytes(chart.WidthPixels, chart.HeightPixels, ImageFormat.Png),
                _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown chart format"),
            };
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    /// <summary>Renders <paramref name="chart"/> into the file <paramref name="path"/> (its folder must exist).</summary>
    public static void Save(Chart chart, string path, ChartFormat format) => File.WriteAllBytes(path, Render(chart, format));

    private static Plot Build(Chart chart)
    {
        var plot = new Plot();
        if (ChosenFont.Value is { } font)
            plot.Font.Set(font);
        plot.Title(chart.Title, 16);
        plot.XLabel(chart.XLabel, 13);
        plot.YLabel(chart.YLabel, 13);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 11;
        plot.Axes.Left.TickLabelStyle.FontSize = 11;
        plot.Axes.Left.TickGenerator = Ticks(chart.YValues);
        var legendItems = chart switch
        {
            LineChart line => AddLines(plot, line),
            BarChart bars => AddBars(plot, bars),
            _ => throw new ArgumentException($"chart type {chart.GetType().Name} is not supported", nameof(chart)),
        };
        if (legendItems > 0)
        {
            plot.ShowLegend(Edge.Right);
            plot.Legend.FontSize = 11;
        }
        else
        {
            plot.HideLegend();
        }
        return plot;
    }

    /// <summary>Tick labels: invariant, no thousands separators, at most 6 significant digits.</summary>
    private static string TickLabel(double value) => value.ToString("0.######", CultureInfo.InvariantCulture) switch
    {
        "-0" => "0",
        var text => text,
    };

    private static ScottPlot.TickGenerators.NumericAutomatic Ticks(AxisValues values) =>
        new() { LabelFormatter = TickLabel, IntegerTicksOnly = values == AxisValues.Counts };

    private static LinePattern Pattern(SeriesLine line) => line switch
    {
        SeriesLine.Dashed => new LinePattern([9, 5], 0, "dashed"),
        SeriesLine.Dotted => new LinePattern([2, 4], 0, "dotted"),
        SeriesLine.DashDot => new LinePattern([12, 4, 2, 4], 0, "dash-dot"),
        _ => LinePattern.Solid,
    };

    // Open shapes only: ScottPlot leaves a line's dash pattern on its paint, and Skia's SVG canvas cannot
    // fill with a dash effect ("Unsupported path effect"); an outline is drawn with its own (solid) pattern.
    private static MarkerShape Shape(SeriesMarker marker) => marker switch
    {
        SeriesMarker.Circle => MarkerShape.OpenCircle,
        SeriesMarker.Square => MarkerShape.OpenSquare,
        SeriesMarker.TriangleUp => MarkerShape.OpenTriangleUp,
        SeriesMarker.Diamond => MarkerShape.OpenDiamond,
        SeriesMarker.TriangleDown => MarkerShape.OpenTriangleDown,
        SeriesMarker.Cross => MarkerShape.Eks,
        SeriesMarker.Plus => MarkerShape.Cross,
        SeriesMarker.Asterisk => MarkerShape.Asterisk,
        _ => MarkerShape.None,
    };

    private const float MarkerSizePixels = 9;
    private const float MarkerLinePixels = 1.75f;

    private static int AddLines(Plot plot, LineChart chart)
    {
        plot.Axes.Bottom.TickGenerator = Ticks(chart.XValues);
        var layout = LineLayout.Of(chart, PaletteColor);
        var legend = new List<LegendItem>();

        var bandLabels = new HashSet<string>(StringComparer.Ordinal);
        var bandLegend = new List<LegendItem>();
        foreach (var band in chart.Bands)
        {
            var fill = Color.FromHex(band.Color).WithAlpha(0.25);
            var span = plot.Add.HorizontalSpan(band.FromX, band.ToX, fill);
            span.LineStyle.Width = 0;
            if (bandLabels.Add(band.Label))
                bandLegend.Add(new LegendItem { LabelText = band.Label, FillColor = fill, LineWidth = 0 });
        }

        // Reference lines (thresholds) under the series: solid enough to see, in their colour, labelled
        // inside the plot at the right end, just above the line, as well as in the legend.
        var referenceLegend = new List<LegendItem>();
        foreach (var reference in chart.ReferenceLines)
        {
            var color = Color.FromHex(reference.Color);
            var line = plot.Add.HorizontalLine(reference.Y, 1.75f, color, new LinePattern([7, 3], 0, "threshold"));
            line.ExcludeFromLegend = true;
            var label = plot.Add.Text(reference.Label, layout.XMax, reference.Y);
            label.Alignment = Alignment.LowerRight;
            label.OffsetX = -4;
            label.LabelFontSize = 10;
            label.LabelFontColor = color;
            label.LabelBold = true;
            referenceLegend.Add(new LegendItem { LabelText = reference.Label, LineColor = color, LineWidth = 1.75f, LinePattern = line.LinePattern });
        }

        foreach (var style in layout.Series)
        {
            var series = chart.Series[style.Index];
            var (xs, ys) = Decimate(series.X, series.Y, chart.WidthPixels);
            var color = Color.FromHex(style.Color);
            var scatter = plot.Add.ScatterLine(xs, ys, color);
            scatter.LineWidth = (float)style.WidthPixels;
            scatter.LinePattern = Pattern(style.Line);
            var item = new LegendItem { LabelText = style.Legend, LineColor = color, LineWidth = (float)style.WidthPixels, LinePattern = scatter.LinePattern };
            if (style.Marker != SeriesMarker.None && style.MarkerPoints.Count > 0)
            {
                double[] mx = [.. style.MarkerPoints.Select(k => series.X[k])];
                double[] my = [.. style.MarkerPoints.Select(k => series.Y[k])];
                var markers = plot.Add.Markers(mx, my, Shape(style.Marker), MarkerSizePixels, color);
                markers.MarkerStyle.LineWidth = MarkerLinePixels;
                item.MarkerShape = Shape(style.Marker);
                item.MarkerSize = MarkerSizePixels;
                item.MarkerColor = color;
                item.MarkerLineWidth = MarkerLinePixels;
            }
            legend.Add(item);
        }

        // Points above the range (a spike at the start) are marked where each series peaks, with a note.
        var range = layout.YMax - layout.YMin;
        for (var c = 0; c < layout.Clipped.Count; c++)
        {
            var clipped = layout.Clipped[c];
            var color = Color.FromHex(layout.Series.First(s => s.Index == clipped.Index).Color);
            var peak = plot.Add.Marker(clipped.PeakX, layout.YMax - (0.03 * range), MarkerShape.OpenTriangleUp, 12, color);
            peak.MarkerStyle.LineWidth = 2.5f;
            var note = plot.Add.Text("\u25B2 " + LineLayout.ClipNote(clipped, chart.Series[clipped.Index].Label, chart.XLabel), layout.XMin, layout.YMax);
            note.Alignment = Alignment.UpperLeft;
            note.OffsetX = 24;
            note.OffsetY = 4 + (16 * c);
            note.LabelFontSize = 11;
            note.LabelFontColor = color;
            note.LabelBackgroundColor = Colors.White.WithAlpha(0.85);
        }

        legend.AddRange(referenceLegend);
        legend.AddRange(bandLegend);
        plot.Legend.DisplayPlottableLegendItems = false;
        plot.Legend.ManualItems.AddRange(legend);
        plot.Axes.SetLimitsX(layout.XMin, layout.XMax);
        plot.Axes.SetLimitsY(layout.YMin, layout.YMax);
        return legend.Count;
    }

    /// <summary>
    /// Thins a long series to what the image can show: when it has more than 4 points per pixel column,
    /// each run of finite points is cut into <paramref name="columns"/> equal x buckets and each bucket keeps
    /// its first, lowest, highest and last point, in x order, so the drawn envelope is unchanged and
    /// SVG files stay small. Gaps (NaN) stay gaps. Assumes x does not decrease, as over time.
    /// </summary>
    internal static (double[] X, double[] Y) Decimate(IReadOnlyList<double> x, IReadOnlyList<double> y, int columns)
    {
        if (x.Count <= 4 * columns)
            return ([.. x], [.. y]);
        var outX = new List<double>(8 * columns);
        var outY = new List<double>(8 * columns);
        var start = 0;
        while (start < x.Count)
        {
            if (!double.IsFinite(x[start]) || !double.IsFinite(y[start]))
            {
                start++;
                continue;
            }
            var end = start;
            while (end + 1 < x.Count && double.IsFinite(x[end + 1]) && double.IsFinite(y[end + 1]))
                end++;
            if (outX.Count > 0)
            {
                outX.Add(x[start]);
                outY.Add(double.NaN);
            }
            DecimateRun(x, y, start, end, columns, outX, outY);
            start = end + 1;
        }
        return ([.. outX], [.. outY]);
    }

    private static void DecimateRun(IReadOnlyList<double> x, IReadOnlyList<double> y, int start, int end, int columns, List<double> outX, List<double> outY)
    {
        var width = x[end] - x[start];
        var i = start;
        while (i <= end)
        {
            var bucket = width > 0 ? Math.Min(columns - 1, (int)((x[i] - x[start]) / width * columns)) : 0;
            int first = i, low = i, high = i, last = i;
            while (last + 1 <= end && (width > 0 ? Math.Min(columns - 1, (int)((x[last + 1] - x[start]) / width * columns)) : 0) == bucket)
            {
                last++;
                if (y[last] < y[low])
                    low = last;
                if (y[last] > y[high])
                    high = last;
            }
            foreach (var k in new[] { first, low, high, last }.Distinct().Order())
            {
                outX.Add(x[k]);
                outY.Add(y[k]);
            }
            i = last + 1;
        }
    }

    private static int AddBars(Plot plot, BarChart chart)
    {
        var groups = chart.Groups.Count;
        const double CategoryWidth = 0.8;
        var barWidth = groups == 0 ? CategoryWidth : CategoryWidth / groups;
        var yMax = 0.0;
        var yMin = 0.0;
        for (var g = 0; g < groups; g++)
        {
            var group = chart.Groups[g];
            var color = Color.FromHex(group.Color ?? PaletteColor(g));
            var bars = new List<Bar>();
            for (var c = 0; c < chart.Categories.Count; c++)
            {
                var value = group.Values[c];
                if (!double.IsFinite(value))
                    continue;
                bars.Add(new Bar
                {
                    Position = c - (CategoryWidth / 2) + (barWidth * (g + 0.5)),
                    Value = value,
                    Size = barWidth * 0.92,
                    FillColor = color,
                    LineWidth = 0,
                });
                yMax = Math.Max(yMax, value);
                yMin = Math.Min(yMin, value);
            }
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = group.Label;
        }

        var positions = Enumerable.Range(0, chart.Categories.Count).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, [.. chart.Categories]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Grid.XAxisStyle.IsVisible = false;
        plot.Axes.SetLimitsX(-0.6, Math.Max(chart.Categories.Count, 1) - 0.4);
        var high = yMax > yMin ? yMax : yMin + 1;
        plot.Axes.SetLimitsY(yMin, high + ((high - yMin) * 0.08));
        return groups > 1 ? groups : 0;
    }
}
