/*
 * Charts as plain data, so that a run report (simulated or real guests) and `memvisor experiment` (one
 * chart per paper figure) describe what to draw without touching the plotting library: a line chart of
 * several series over a shared x axis (time, usually), optionally with shaded x ranges (free-memory
 * states) and labelled
 * horizontal reference lines (thresholds), and a bar chart of categories with one bar per group.
 * An axis of counts (pages, events, copies, VMs) says so and gets integer ticks. A chart whose every
 * value is zero (or that has no value) is empty: callers leave it out and say why (EmptyReason).
 * LineLayout decides how a line chart is drawn (y range, styles of coinciding series); ChartRenderer
 * draws it with ScottPlot as SVG or PNG.
 */
namespace Memvisor.Reporting.Charts;

/// <summary>Image format of a rendered chart.</summary>
public enum ChartFormat
{
    /// <summary>Scalable vector graphics (text stays text; smallest for line charts).</summary>
    Svg,

    /// <summary>Portable network graphics (pixels; looks the same in every viewer).</summary>
    Png,
}

/// <summary>How a series' line is drawn.</summary>
public enum SeriesLine
{
    /// <summary>A solid line.</summary>
    Solid,

    /// <summary>A dashed line (targets, limits).</summary>
    Dashed,

    /// <summary>A dotted line (estimates).</summary>
    Dotted,

    /// <summary>Long dashes with dots between (a further series coinciding with dashed and dotted ones).</summary>
    DashDot,
}

/// <summary>What the values along an axis are.</summary>
public enum AxisValues
{
    /// <summary>Measures that may take any value (memory sizes, rates, times): ticks at round numbers, fractions allowed.</summary>
    Continuous,

    /// <summary>Counts (pages, events, copies, VMs): ticks only at whole numbers.</summary>
    Counts,
}

/// <summary>One line of a line chart: y over x; a NaN y leaves a gap.</summary>
/// <param name="Label">Legend text.</param>
/// <param name="X">X values (same count as <paramref name="Y"/>).</param>
/// <param name="Y">Y values; NaN where there is no value.</param>
public sealed record ChartSeries(string Label, IReadOnlyList<double> X, IReadOnlyList<double> Y)
{
    /// <summary>Line style.</summary>
    public SeriesLine Line { get; init; } = SeriesLine.Solid;

    /// <summary>Line colour as "#RRGGBB" (null: the next colour of the palette).</summary>
    public string? Color { get; init; }

    /// <summary>Whether at least one point has a finite x and y.</summary>
    public bool HasData => AnyPoint(static _ => true);

    /// <summary>Whether at least one point has a finite x and a finite, non-zero y.</summary>
    public bool HasNonZeroData => AnyPoint(static y => y != 0);

    private bool AnyPoint(Func<double, bool> yMatches)
    {
        var count = Math.Min(X.Count, Y.Count);
        for (var i = 0; i < count; i++)
        {
            if (double.IsFinite(X[i]) && double.IsFinite(Y[i]) && yMatches(Y[i]))
                return true;
        }
        return false;
    }
}

/// <summary>A shaded range of x (for instance a period in the soft free-memory state).</summary>
/// <param name="Label">Legend text; bands with the same label share one legend entry.</param>
/// <param name="FromX">Start of the range.</param>
/// <param name="ToX">End of the range.</param>
/// <param name="Color">Fill colour as "#RRGGBB"; drawn translucent.</param>
public sealed record ChartBand(string Label, double FromX, double ToX, string Color);

/// <summary>A horizontal reference line (for instance a free-memory threshold).</summary>
/// <param name="Label">Legend text.</param>
/// <param name="Y">Height of the line.</param>
/// <param name="Color">Colour as "#RRGGBB".</param>
public sealed record ChartReferenceLine(string Label, double Y, string Color);

/// <summary>What every chart has: a title, axis labels (with units) and a size.</summary>
public abstract record Chart
{
    /// <summary>Title above the chart.</summary>
    public required string Title { get; init; }

    /// <summary>X axis label, with its unit, e.g. "time (s)".</summary>
    public string XLabel { get; init; } = "";

    /// <summary>Y axis label, with its unit, e.g. "memory (MiB)".</summary>
    public string YLabel { get; init; } = "";

    /// <summary>Image width, pixels.</summary>
    public int WidthPixels { get; init; } = 900;

    /// <summary>Image height, pixels.</summary>
    public int HeightPixels { get; init; } = 380;

    /// <summary>Whether the y axis starts at zero (true for sizes and rates).</summary>
    public bool YFromZero { get; init; } = true;

    /// <summary>What the x values are (a bar chart's x axis holds categories and ignores this).</summary>
    public AxisValues XValues { get; init; } = AxisValues.Continuous;

    /// <summary>What the y values are.</summary>
    public AxisValues YValues { get; init; } = AxisValues.Continuous;

    /// <summary>
    /// Whether the chart shows nothing: no finite value, or every value zero (a flat line on the x axis,
    /// drawn against a made-up 0-1 range). Reference lines and bands alone do not make a chart worth drawing.
    /// </summary>
    public bool IsEmpty => EmptyReason is not null;

    /// <summary>Why the chart is empty, as a phrase ("every value is 0", "no values"); null when it is not.</summary>
    public abstract string? EmptyReason { get; }

    /// <summary>The phrase for <see cref="EmptyReason"/>: null if any value is non-zero.</summary>
    protected static string? ReasonEmpty(IEnumerable<double> values)
    {
        var any = false;
        foreach (var v in values)
        {
            if (!double.IsFinite(v))
                continue;
            if (v != 0)
                return null;
            any = true;
        }
        return any ? "every value is 0" : "no values";
    }

    /// <summary>Throws ArgumentException naming the field, the value and the rule.</summary>
    public virtual void Validate()
    {
        if (string.IsNullOrWhiteSpace(Title))
            throw new ArgumentException($"{nameof(Title)} = '{Title}': a chart needs a title.", nameof(Title));
        if (WidthPixels is < 100 or > 10_000)
            throw new ArgumentException($"{nameof(WidthPixels)} = {WidthPixels}: must be in [100, 10000].", nameof(WidthPixels));
        if (HeightPixels is < 100 or > 10_000)
            throw new ArgumentException($"{nameof(HeightPixels)} = {HeightPixels}: must be in [100, 10000].", nameof(HeightPixels));
    }
}

/// <summary>Several series over a shared x axis.</summary>
public sealed record LineChart : Chart
{
    /// <summary>The lines, drawn in this order; series without any finite point are left out.</summary>
    public IReadOnlyList<ChartSeries> Series { get; init; } = [];

    /// <summary>Shaded x ranges, drawn behind the lines.</summary>
    public IReadOnlyList<ChartBand> Bands { get; init; } = [];

    /// <summary>Horizontal reference lines.</summary>
    public IReadOnlyList<ChartReferenceLine> ReferenceLines { get; init; } = [];

    /// <summary>
    /// Whether the y range may leave out a spike at the start (the first <see cref="LineLayout.LeadingFraction"/>
    /// of the x range, for instance boot) that would squash the rest: the range then covers every later
    /// point, and the points above it are marked on the chart with the spike's peak (see LineLayout).
    /// </summary>
    public bool FitLeadingSpike { get; init; } = true;

    /// <inheritdoc/>
    public override string? EmptyReason =>
        ReasonEmpty(Series.SelectMany(s => s.X.Zip(s.Y, (x, y) => double.IsFinite(x) ? y : double.NaN)));

    /// <summary>Left end of the x axis (null: the smallest x of the data and bands).</summary>
    public double? XMin { get; init; }

    /// <summary>Right end of the x axis (null: the largest x of the data and bands).</summary>
    public double? XMax { get; init; }

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        foreach (var s in Series)
        {
            if (s.X.Count != s.Y.Count)
                throw new ArgumentException($"{nameof(Series)}['{s.Label}']: {s.X.Count} x values but {s.Y.Count} y values; counts must match.", nameof(Series));
        }
        if (XMin is { } low && XMax is { } high && !(high > low))
            throw new ArgumentException($"{nameof(XMax)} = {high}: must be greater than {nameof(XMin)} = {low}.", nameof(XMax));
        foreach (var b in Bands)
        {
            if (!(b.ToX >= b.FromX))
                throw new ArgumentException($"{nameof(Bands)}['{b.Label}']: from {b.FromX} to {b.ToX}; must not end before it starts.", nameof(Bands));
        }
    }
}

/// <summary>One group of bars: one value per category (NaN: no bar).</summary>
/// <param name="Label">Legend text.</param>
/// <param name="Values">One value per category of the chart.</param>
public sealed record BarGroup(string Label, IReadOnlyList<double> Values)
{
    /// <summary>Bar colour as "#RRGGBB" (null: the next colour of the palette).</summary>
    public string? Color { get; init; }
}

/// <summary>Bars for categories; with several groups, each category gets one bar per group side by side.</summary>
public sealed record BarChart : Chart
{
    /// <summary>Category names along the x axis, in this order.</summary>
    public IReadOnlyList<string> Categories { get; init; } = [];

    /// <summary>The groups of bars.</summary>
    public IReadOnlyList<BarGroup> Groups { get; init; } = [];

    /// <inheritdoc/>
    public override string? EmptyReason => ReasonEmpty(Groups.SelectMany(g => g.Values));

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        foreach (var g in Groups)
        {
            if (g.Values.Count != Categories.Count)
                throw new ArgumentException($"{nameof(Groups)}['{g.Label}']: {g.Values.Count} values for {Categories.Count} categories; counts must match.", nameof(Groups));
        }
    }
}
