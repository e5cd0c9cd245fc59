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
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = TickLabel };
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

    private static int AddLines(Plot plot, LineChart chart)
    {
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = TickLabel };
        var legendItems = 0;
        var xMin = double.PositiveInfinity;
        var xMax = double.NegativeInfinity;
        var yMax = double.NegativeInfinity;
        var yMin = double.PositiveInfinity;

        var bandLabels = new HashSet<string>(StringComparer.Ordinal);
        foreach (var band in chart.Bands)
        {
            var span = plot.Add.HorizontalSpan(band.FromX, band.ToX, Color.FromHex(band.Color).WithAlpha(0.22));
            span.LineStyle.Width = 0;
            if (bandLabels.Add(band.Label))
            {
                span.LegendText = band.Label;
                legendItems++;
            }
            xMin = Math.Min(xMin, band.FromX);
            xMax = Math.Max(xMax, band.ToX);
        }

        var colorIndex = 0;
        foreach (var series in chart.Series)
        {
            if (!series.HasData)
                continue;
            var (xs, ys) = Decimate(series.X, series.Y, chart.WidthPixels);
            var color = Color.FromHex(series.Color ?? PaletteColor(colorIndex));
            colorIndex++;
            var scatter = plot.Add.ScatterLine(xs, ys, color);
            scatter.LegendText = series.Label;
            scatter.LineWidth = 2;
            scatter.LinePattern = series.Line switch
            {
                SeriesLine.Dashed => LinePattern.Dashed,
                SeriesLine.Dotted => LinePattern.Dotted,
                _ => LinePattern.Solid,
            };
            legendItems++;
            for (var i = 0; i < xs.Length; i++)
            {
                if (!double.IsFinite(xs[i]))
                    continue;
                xMin = Math.Min(xMin, xs[i]);
                xMax = Math.Max(xMax, xs[i]);
                if (!double.IsFinite(ys[i]))
                    continue;
                yMin = Math.Min(yMin, ys[i]);
                yMax = Math.Max(yMax, ys[i]);
            }
        }

        foreach (var reference in chart.ReferenceLines)
        {
            var line = plot.Add.HorizontalLine(reference.Y, 1, Color.FromHex(reference.Color), LinePattern.Dashed);
            line.LegendText = reference.Label;
            legendItems++;
            yMin = Math.Min(yMin, reference.Y);
            yMax = Math.Max(yMax, reference.Y);
        }

        xMin = chart.XMin ?? xMin;
        xMax = chart.XMax ?? xMax;
        if (double.IsFinite(xMin) && double.IsFinite(xMax))
            plot.Axes.SetLimitsX(xMin, xMax > xMin ? xMax : xMin + 1);
        if (double.IsFinite(yMax))
        {
            var low = chart.YFromZero ? Math.Min(0, yMin) : yMin;
            var high = yMax > low ? yMax : low + 1;
            var pad = (high - low) * 0.05;
            plot.Axes.SetLimitsY(chart.YFromZero && low == 0 ? 0 : low - pad, high + pad);
        }
        else
        {
            plot.Axes.SetLimitsY(0, 1);
        }
        return legendItems;
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
