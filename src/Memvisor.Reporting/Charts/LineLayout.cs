/*
 * How a line chart is drawn, decided from the model alone (so tests assert it without reading SVG):
 *
 * 1. The y range. It covers every point and reference line, from zero for sizes and rates, with 5% room
 *    at the top. One exception, for a spike at the start (boot: free memory is nearly all of the host
 *    for the first seconds, then falls to the range the run lives in): when the points of the first
 *    LeadingFraction (5%) of the x range (and at least the first point) would need more than SpikeFactor (1.5) times the height that
 *    every later point and reference line needs, the range covers the later points only. Points above it
 *    are not hidden: each series with such points gets a marker at the top edge where it peaks, and the
 *    chart a note "off scale: <series> peaks at <y> at x = <x>" (Clipped). Only the start is ever cut:
 *    a rise later in the run always fits, so a late event is never mistaken for a spike. (A broken axis
 *    or an inset would show the spike's shape, but costs a second scale to read; the spike's shape, a
 *    drop from the boot value, carries no information the peak value does not.)
 *
 * 2. Coinciding series. A series coincides with an earlier one when, at 90% or more of the x values both
 *    have, the two differ by at most 0.5% of the y range (shared and zero pages of an idle VM, swapped
 *    and its target at zero). Each series of a group of coinciding ones gets a line pattern no earlier
 *    member has (its own first: solid, dashed, dotted, dash-dot), and widths that shrink in drawing order
 *    (the first widest, at most two steps wider), so every member shows around or through the ones
 *    drawn over it.
 *
 * 3. Markers. With two series or more, each has its own marker shape (in the legend too): on every point
 *    when a series has at most MarkerEveryPointLimit points (measured points, not a time series), else on
 *    MarkersPerSeries points staggered per series, so markers of coinciding series do not sit on each
 *    other. A series that is zero throughout says so in the legend.
 */
namespace Memvisor.Reporting.Charts;

/// <summary>Marker shapes of series, in the order series get them; drawn as outlines, so a line under a marker stays visible.</summary>
public enum SeriesMarker
{
    /// <summary>No markers (a chart with one series).</summary>
    None,

    /// <summary>A circle.</summary>
    Circle,

    /// <summary>A square.</summary>
    Square,

    /// <summary>A triangle pointing up.</summary>
    TriangleUp,

    /// <summary>A diamond.</summary>
    Diamond,

    /// <summary>A triangle pointing down.</summary>
    TriangleDown,

    /// <summary>A cross (x).</summary>
    Cross,

    /// <summary>A plus (+).</summary>
    Plus,

    /// <summary>An asterisk (*).</summary>
    Asterisk,
}

/// <summary>How one series is drawn.</summary>
/// <param name="Index">Index of the series in <see cref="LineChart.Series"/>.</param>
/// <param name="Legend">Legend text (the label, plus a note when the series is zero throughout).</param>
/// <param name="Color">"#RRGGBB".</param>
/// <param name="Line">Line pattern.</param>
/// <param name="WidthPixels">Line width.</param>
/// <param name="Marker">Marker shape.</param>
/// <param name="MarkerPoints">Indexes of the points that carry a marker.</param>
/// <param name="CoincidesWith">Indexes of earlier series this one coincides with.</param>
public sealed record SeriesStyle(int Index, string Legend, string Color, SeriesLine Line, double WidthPixels, SeriesMarker Marker,
    IReadOnlyList<int> MarkerPoints, IReadOnlyList<int> CoincidesWith);

/// <summary>Points of one series above the y range, marked at the top edge.</summary>
/// <param name="Index">Index of the series in <see cref="LineChart.Series"/>.</param>
/// <param name="Count">How many points are above the range.</param>
/// <param name="PeakX">X of the highest point.</param>
/// <param name="PeakY">Its y.</param>
public sealed record ClippedSeries(int Index, int Count, double PeakX, double PeakY);

/// <summary>The drawing decisions for a line chart (see the file header).</summary>
/// <param name="XMin">Left end of the x axis.</param>
/// <param name="XMax">Right end of the x axis.</param>
/// <param name="YMin">Bottom of the y axis.</param>
/// <param name="YMax">Top of the y axis.</param>
/// <param name="Series">Styles of the series drawn (those with data), in drawing and legend order.</param>
/// <param name="Clipped">Series with points above the y range (a spike at the start).</param>
public sealed record LineLayout(double XMin, double XMax, double YMin, double YMax, IReadOnlyList<SeriesStyle> Series, IReadOnlyList<ClippedSeries> Clipped)
{
    /// <summary>The start of the x range where a spike may be left off scale.</summary>
    public const double LeadingFraction = 0.05;

    /// <summary>How much more height than the rest the start must need before it is left off scale.</summary>
    public const double SpikeFactor = 1.5;

    /// <summary>Series with at most this many points carry a marker on every point.</summary>
    public const int MarkerEveryPointLimit = 12;

    /// <summary>Markers on a longer series.</summary>
    public const int MarkersPerSeries = 8;

    /// <summary>Fraction of the y range within which two series count as the same.</summary>
    public const double CoincideTolerance = 0.005;

    /// <summary>Fraction of shared x values at which two series must be the same to coincide.</summary>
    public const double CoincideShare = 0.9;

    private const double BaseWidthPixels = 2;
    private const double WidthStepPixels = 1.75;
    private const int MaxWidthSteps = 2;

    private static readonly SeriesLine[] Patterns = [SeriesLine.Solid, SeriesLine.Dashed, SeriesLine.Dotted, SeriesLine.DashDot];

    /// <summary>The sentence written on the chart for a clipped series, e.g. "off scale: free memory peaks at 724 at x = 1".</summary>
    public static string ClipNote(ClippedSeries clipped, string label, string xLabel) =>
        $"off scale: {label} peaks at {Number(clipped.PeakY)} at {AxisName(xLabel)} = {Number(clipped.PeakX)}";

    /// <summary>Decides how <paramref name="chart"/> is drawn; <paramref name="palette"/> gives the colour of the i-th drawn series without one.</summary>
    public static LineLayout Of(LineChart chart, Func<int, string> palette)
    {
        ArgumentNullException.ThrowIfNull(chart);
        ArgumentNullException.ThrowIfNull(palette);
        var drawn = Enumerable.Range(0, chart.Series.Count).Where(i => chart.Series[i].HasData).ToList();

        var xMin = double.PositiveInfinity;
        var xMax = double.NegativeInfinity;
        foreach (var band in chart.Bands)
        {
            xMin = Math.Min(xMin, band.FromX);
            xMax = Math.Max(xMax, band.ToX);
        }
        foreach (var (x, _) in drawn.SelectMany(i => Points(chart.Series[i])))
        {
            xMin = Math.Min(xMin, x);
            xMax = Math.Max(xMax, x);
        }
        xMin = chart.XMin ?? xMin;
        xMax = chart.XMax ?? xMax;
        if (!double.IsFinite(xMin) || !double.IsFinite(xMax))
            (xMin, xMax) = (0, 1);
        else if (!(xMax > xMin))
            xMax = xMin + 1;

        var (yMin, yMax, clipped) = YRange(chart, drawn, xMin, xMax);
        var tolerance = CoincideTolerance * (yMax - yMin);
        var styles = new List<SeriesStyle>();
        var colorIndex = 0;
        foreach (var i in drawn)
        {
            var series = chart.Series[i];
            var coincides = styles.Where(earlier => Coincide(chart.Series[earlier.Index], series, tolerance)).Select(s => s.Index).ToList();
            var taken = styles.Where(s => coincides.Contains(s.Index)).Select(s => s.Line).ToHashSet();
            var line = taken.Contains(series.Line) ? Patterns.FirstOrDefault(p => !taken.Contains(p), series.Line) : series.Line;
            var legend = series.HasNonZeroData ? series.Label : series.Label + " (0 throughout)";
            var marker = drawn.Count > 1 ? (SeriesMarker)(1 + (styles.Count % 8)) : SeriesMarker.None;
            var markerPoints = marker == SeriesMarker.None ? [] : MarkerPoints(series, styles.Count, drawn.Count, xMin, xMax);
            styles.Add(new SeriesStyle(i, legend, series.Color ?? palette(colorIndex), line, BaseWidthPixels, marker, markerPoints, coincides));
            colorIndex++;
        }

        // Widths shrink in drawing order within each group of coinciding series: a series is wider by one
        // step for each later series drawn over it, by two steps at most (many identical series would
        // otherwise draw the first as a wall).
        for (var k = 0; k < styles.Count; k++)
        {
            var coveredBy = Math.Min(MaxWidthSteps, styles.Skip(k + 1).Count(later => later.CoincidesWith.Contains(styles[k].Index)));
            styles[k] = styles[k] with { WidthPixels = BaseWidthPixels + (WidthStepPixels * coveredBy) };
        }
        return new LineLayout(xMin, xMax, yMin, yMax, styles, clipped);
    }

    private static (double Min, double Max, IReadOnlyList<ClippedSeries> Clipped) YRange(LineChart chart, List<int> drawn, double xMin, double xMax)
    {
        var all = drawn.SelectMany(i => Points(chart.Series[i]).Select(p => p.Y)).Concat(chart.ReferenceLines.Select(r => r.Y)).ToList();
        if (all.Count == 0)
            return (0, 1, []);
        var dataMin = all.Min();
        var dataMax = all.Max();
        var low = chart.YFromZero ? Math.Min(0, dataMin) : dataMin;

        var top = dataMax;
        if (chart.FitLeadingSpike)
        {
            // The start: the first 5% of the x range, and at least the first point (a short run's first sample).
            var firstX = drawn.SelectMany(i => Points(chart.Series[i]).Select(p => p.X)).Min();
            var spikeEnd = Math.Max(xMin + (LeadingFraction * (xMax - xMin)), firstX);
            var body = drawn.SelectMany(i => Points(chart.Series[i]).Where(p => p.X > spikeEnd).Select(p => p.Y))
                .Concat(chart.ReferenceLines.Select(r => r.Y)).DefaultIfEmpty(double.NaN).Max();
            if (body > low && dataMax - low > SpikeFactor * (body - low))
                top = body;
        }

        var high = top > low ? top : low + 1;
        var pad = (high - low) * 0.05;
        var yMin = chart.YFromZero && low == 0 ? 0 : low - pad;
        var yMax = high + pad;
        var clipped = new List<ClippedSeries>();
        foreach (var i in drawn)
        {
            var above = Points(chart.Series[i]).Where(p => p.Y > yMax).ToList();
            if (above.Count == 0)
                continue;
            var peak = above.MaxBy(p => p.Y);
            clipped.Add(new ClippedSeries(i, above.Count, peak.X, peak.Y));
        }
        return (yMin, yMax, clipped);
    }

    /// <summary>Whether <paramref name="b"/> lies on <paramref name="a"/> (see the file header).</summary>
    private static bool Coincide(ChartSeries a, ChartSeries b, double tolerance)
    {
        var xs = new Dictionary<double, double>();
        foreach (var (x, y) in Points(a))
            xs.TryAdd(x, y);
        var shared = 0;
        var same = 0;
        foreach (var (x, y) in Points(b))
        {
            if (!xs.TryGetValue(x, out var ya))
                continue;
            shared++;
            if (Math.Abs(ya - y) <= tolerance)
                same++;
        }
        return shared >= 2 && same >= CoincideShare * shared;
    }

    private static int[] MarkerPoints(ChartSeries series, int rank, int seriesCount, double xMin, double xMax)
    {
        var finite = Enumerable.Range(0, Math.Min(series.X.Count, series.Y.Count))
            .Where(k => double.IsFinite(series.X[k]) && double.IsFinite(series.Y[k])).ToArray();
        if (finite.Length <= MarkerEveryPointLimit)
            return finite;
        var picked = new SortedSet<int>();
        var offset = (rank + 1.0) / (seriesCount + 1.0);
        for (var m = 0; m < MarkersPerSeries; m++)
        {
            var x = xMin + ((m + offset) / MarkersPerSeries * (xMax - xMin));
            picked.Add(finite.MinBy(k => Math.Abs(series.X[k] - x)));
        }
        return [.. picked];
    }

    private static IEnumerable<(double X, double Y)> Points(ChartSeries series)
    {
        var count = Math.Min(series.X.Count, series.Y.Count);
        for (var k = 0; k < count; k++)
        {
            if (double.IsFinite(series.X[k]) && double.IsFinite(series.Y[k]))
                yield return (series.X[k], series.Y[k]);
        }
    }

    private static string AxisName(string label)
    {
        var paren = label.IndexOf(" (", StringComparison.Ordinal);
        var name = paren > 0 ? label[..paren] : label;
        return name.Length == 0 ? "x" : name;
    }

    private static string Number(double value) =>
        Math.Abs(value) >= 100 ? Math.Round(value).ToString("0", System.Globalization.CultureInfo.InvariantCulture)
            : value.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
}
