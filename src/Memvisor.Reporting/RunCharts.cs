/*
 * The charts of a run report, built from the statistics stream as chart models (see Charts/ChartModel.cs):
 * the host's free memory with its free-memory states shaded and the thresholds drawn; host reclamation;
 * for each charted VM its allocation (granted, target, active estimate, true working set, min and max),
 * balloon and swap, and sharing; throughput of the charted VMs; and figures in the paper's style
 * (Figure 8: aggregate allocation, active, balloon, shared and swapped of all VMs over time; per-VM bars).
 *
 * Many VMs: per-VM charts (and the per-VM lines and bars of the throughput and by-VM figures) are drawn
 * for at most PerVmCharts VMs, chosen by VmSelection as the ones a reader looks at first: half by the
 * most memory reclaimed from them (peak balloon + peak swapped), the rest by the largest mean granted
 * memory. The host charts and the aggregate figure cover every VM; timeseries-vms.csv has every VM's
 * values; the report says which VMs are charted and why.
 */
using System.Globalization;
using System.Text;
using Memvisor.Scenarios;
using Memvisor.Core.Statistics;
using Memvisor.Reporting.Charts;

namespace Memvisor.Reporting;

/// <summary>A chart of a report: where it goes, its file stem and caption.</summary>
/// <param name="Section">Report section id (host, allocation, balloon-swap, sharing, throughput, figures).</param>
/// <param name="FileStem">File name without extension, unique in the report.</param>
/// <param name="Chart">What to draw.</param>
/// <param name="Caption">A sentence under the chart.</param>
public sealed record ReportChart(string Section, string FileStem, Chart Chart, string Caption);

/// <summary>The charts of a run and the VMs they chart.</summary>
/// <param name="Charts">The charts, in report order (empty ones included: see <see cref="Chart.EmptyReason"/>).</param>
/// <param name="Vms">How the VMs with per-VM charts were chosen.</param>
public sealed record RunChartSet(IReadOnlyList<ReportChart> Charts, VmSelection Vms);

/// <summary>Which VMs get per-VM charts (see the RunCharts header).</summary>
/// <param name="Charted">Names of the charted VMs, in scenario order.</param>
/// <param name="VmCount">How many VMs the run has.</param>
/// <param name="Limit">At most this many are charted.</param>
/// <param name="ByReclaimed">How many of them were chosen for the memory reclaimed from them (the rest for their granted memory).</param>
public sealed record VmSelection(IReadOnlyList<string> Charted, int VmCount, int Limit, int ByReclaimed = 0)
{
    /// <summary>Whether some VMs have no per-VM charts.</summary>
    public bool IsPartial => Charted.Count < VmCount;

    /// <summary>The report's sentence about the selection (empty when every VM is charted).</summary>
    public string Note => !IsPartial ? "" :
        $"Per-VM charts for {Charted.Count} of {VmCount} VMs ({string.Join(", ", Charted)}): "
        + (ByReclaimed > 0 ? $"the {ByReclaimed} with the most memory reclaimed from them (peak balloon + peak swapped), then " : "")
        + $"the {Charted.Count - ByReclaimed} with the largest mean granted memory. The host charts and the aggregate figure cover all {VmCount} VMs; "
        + "every VM's values over time are in timeseries-vms.csv and its summary in summary.json.";

    /// <summary>Chooses at most <paramref name="limit"/> of <paramref name="names"/> (see the RunCharts header); ties keep scenario order.</summary>
    public static VmSelection Of(IReadOnlyList<string> names, RunSummary summary, int limit)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (names.Count <= limit)
            return new VmSelection(names, names.Count, limit);
        var byName = new Dictionary<string, VmSummary>(StringComparer.Ordinal);
        foreach (var vm in summary.Vms)
            byName.TryAdd(vm.Name, vm);
        double Value(string name, Func<VmSummary, double> value) =>
            byName.TryGetValue(name, out var vm) && double.IsFinite(value(vm)) ? value(vm) : 0;
        var order = Enumerable.Range(0, names.Count).ToList();
        var chosen = new HashSet<int>();
        foreach (var i in order.Where(i => Value(names[i], v => v.PeakBalloonMB + v.PeakSwappedMB) > 0)
                     .OrderByDescending(i => Value(names[i], v => v.PeakBalloonMB + v.PeakSwappedMB)).Take((limit + 1) / 2))
            chosen.Add(i);
        var byReclaimed = chosen.Count;
        foreach (var i in order.OrderByDescending(i => Value(names[i], v => v.MeanGrantedMB)))
        {
            if (chosen.Count >= limit)
                break;
            chosen.Add(i);
        }
        return new VmSelection([.. chosen.Order().Select(i => names[i])], names.Count, limit, byReclaimed);
    }
}

/// <summary>Builds the standard charts of a run.</summary>
public static class RunCharts
{
    private const string TimeLabel = "time (s)";
    private const string MemoryLabel = "memory (MiB)";

    /// <summary>Band colour of each free-memory state below high.</summary>
    private static readonly Dictionary<string, string> StateColors = new(StringComparer.Ordinal)
    {
        [FreeMemoryStates.Soft] = "#E69F00",
        [FreeMemoryStates.Hard] = "#D55E00",
        [FreeMemoryStates.Low] = "#B00020",
    };

    /// <summary>Report section ids, in report order.</summary>
    public static IReadOnlyList<string> Sections { get; } = ["host", "allocation", "balloon-swap", "sharing", "throughput", "figures"];

    /// <summary>Per-VM charts by default for at most this many VMs.</summary>
    public const int DefaultPerVmCharts = 8;

    /// <summary>
    /// The standard charts, in report order, sized <paramref name="width"/> x <paramref name="height"/> pixels,
    /// with per-VM charts for at most <paramref name="perVmCharts"/> VMs.
    /// </summary>
    public static RunChartSet Build(Scenario scenario, IReadOnlyList<HostSample> samples, RunSummary summary, int width = 1300, int height = 420, int perVmCharts = DefaultPerVmCharts)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(summary);
        var time = samples.Select(s => s.TimeSeconds).ToArray();
        var bands = StateBands(samples);
        var allNames = VmOrder.Of(scenario, samples);
        var selection = VmSelection.Of(allNames, summary, perVmCharts);
        var names = selection.Charted;
        var some = selection.IsPartial ? $" (the {names.Count} charted VMs of {allNames.Count})" : "";
        var chartedSummaries = summary.Vms.Where(v => names.Contains(v.Name)).ToList();
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var k = 0; k < allNames.Count; k++)
            position.TryAdd(allNames[k], k + 1);
        var charts = new List<ReportChart>();
        double? end = time.Length > 0 && time[^1] > 0 ? time[^1] : null;
        void Add(string section, string stem, Chart chart, string caption)
        {
            // Every chart over time spans the whole run, from 0 to the last sample, so charts line up.
            var timed = chart is LineChart line && end is not null ? line with { XMin = 0, XMax = end } : chart;
            charts.Add(new ReportChart(section, stem, timed with { WidthPixels = width, HeightPixels = height }, caption));
        }

        Add("host", "host-free-memory", HostFreeMemory(scenario, samples, time, bands),
            "Free machine memory; shaded: free-memory state below high; dashed, labelled at the right: the state thresholds.");
        Add("host", "host-reclamation", MemoryChart("Host: reclamation and sharing",
            [
                new("balloons (all VMs)", time, [.. samples.Select(s => s.BalloonMB)]),
                new("swap used", time, [.. samples.Select(s => s.SwapUsedMB)]),
                new("saved by sharing", time, [.. samples.Select(s => s.SharedSavedMB)]),
            ], bands),
            "Memory reclaimed by ballooning and host swapping, and saved by content-based sharing.");

        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            // Numbered by scenario order, with as many digits as the largest number needs (at least two).
            var digits = Math.Max(2, allNames.Count.ToString(CultureInfo.InvariantCulture).Length);
            var stem = "vm-" + position[name].ToString(new string('0', digits), CultureInfo.InvariantCulture) + "-" + Slug(name);
            var spec = scenario.Vms.FirstOrDefault(v => string.Equals(v.Name, name, StringComparison.Ordinal));
            Add("allocation", stem + "-allocation", Allocation(name, spec, samples, time),
                $"{name}: memory backed by machine pages (granted), the policy's target, the sampled active estimate and the workload's true working set.");
            ChartSeries Of(string label, Func<VmSample, double> value, SeriesLine line = SeriesLine.Solid) =>
                Series(label, name, samples, time, value) with { Line = line };
            Add("balloon-swap", stem + "-balloon-swap", MemoryChart($"{name}: balloon and swap",
                [Of("balloon", v => v.BalloonMB), Of("balloon target", v => v.BalloonTargetMB, SeriesLine.Dashed),
                 Of("swapped", v => v.SwappedMB), Of("swap target", v => v.SwapTargetMB, SeriesLine.Dashed)], bands),
                $"{name}: balloon size and host swap, with their targets.");
            Add("sharing", stem + "-sharing", MemoryChart($"{name}: page sharing",
                [Of("shared", v => v.SharedMB), Of("saved", v => v.SharedSavedMB), Of("zero pages", v => v.ZeroMB)], []),
                $"{name}: memory mapping shared pages, this VM's part of the memory saved, and shared zero pages.");
        }

        Add("throughput", "throughput", new LineChart
        {
            Title = "Throughput",
            XLabel = TimeLabel,
            YLabel = "throughput (work units/s)",
            Series = [.. names.Select(n => Series(n, n, samples, time, v => v.Throughput))],
            Bands = bands,
        }, $"Work units per second of each VM{some} over each sample interval.");

        Add("figures", "figure-aggregate", Aggregate(samples, time, bands),
            "All VMs together over time, as in the paper's Figure 8: allocation (granted), active estimate, balloon, shared and swapped memory; shaded: free-memory state.");
        Add("figures", "figure-throughput-by-vm", new BarChart
        {
            Title = "Mean throughput by VM",
            YLabel = "throughput (work units/s)",
            Categories = [.. chartedSummaries.Select(v => v.Name)],
            Groups = [new BarGroup("mean throughput", [.. chartedSummaries.Select(v => v.MeanThroughput)])],
        }, $"Mean throughput of each VM{some} over the samples in which it was powered on.");
        Add("figures", "figure-memory-by-vm", new BarChart
        {
            Title = "Memory by VM",
            YLabel = MemoryLabel,
            Categories = [.. chartedSummaries.Select(v => v.Name)],
            Groups =
            [
                new BarGroup("granted (mean)", [.. chartedSummaries.Select(v => v.MeanGrantedMB)]),
                new BarGroup("active estimate (mean)", [.. chartedSummaries.Select(v => v.MeanActiveEstimateMB)]),
                new BarGroup("balloon (peak)", [.. chartedSummaries.Select(v => v.PeakBalloonMB)]),
                new BarGroup("swapped (peak)", [.. chartedSummaries.Select(v => v.PeakSwappedMB)]),
                new BarGroup("saved by sharing (end)", [.. chartedSummaries.Select(v => v.FinalSharedSavedMB)]),
            ],
        }, $"Each VM's{some} mean granted memory and active estimate, peak balloon and swap, and its part of the memory saved by sharing at the end.");
        return new RunChartSet(charts, selection);
    }

    /// <summary>
    /// Shaded ranges for samples in a state below high: a sample stands for the interval ending at its time
    /// (the first for the interval from 0); consecutive samples in the same state make one band.
    /// </summary>
    public static IReadOnlyList<ChartBand> StateBands(IReadOnlyList<HostSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var bands = new List<ChartBand>();
        var previousTime = 0.0;
        foreach (var s in samples)
        {
            if (StateColors.TryGetValue(s.State, out var color))
            {
                var label = "state " + s.State;
                if (bands.Count > 0 && bands[^1].Label == label && bands[^1].ToX == previousTime)
                    bands[^1] = bands[^1] with { ToX = s.TimeSeconds };
                else
                    bands.Add(new ChartBand(label, previousTime, s.TimeSeconds, color));
            }
            previousTime = s.TimeSeconds;
        }
        return bands;
    }

    /// <summary>A file-name-safe form of <paramref name="name"/>: lower-case ASCII letters, digits and '-', at most 40 characters.</summary>
    public static string Slug(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var sb = new StringBuilder(Math.Min(name.Length, 40));
        foreach (var c in name)
        {
            if (sb.Length == 40)
                break;
            if (char.IsAsciiLetterOrDigit(c))
                sb.Append(char.ToLowerInvariant(c));
            else if (sb.Length > 0 && sb[^1] != '-')
                sb.Append('-');
        }
        var slug = sb.ToString().TrimEnd('-');
        return slug.Length == 0 ? "vm" : slug;
    }

    /// <summary>A chart of memory sizes over time.</summary>
    private static LineChart MemoryChart(string title, IReadOnlyList<ChartSeries> series, IReadOnlyList<ChartBand> bands) => new()
    {
        Title = title,
        XLabel = TimeLabel,
        YLabel = MemoryLabel,
        Series = series,
        Bands = bands,
    };

    private static LineChart HostFreeMemory(Scenario scenario, IReadOnlyList<HostSample> samples, double[] time, IReadOnlyList<ChartBand> bands)
    {
        var memory = samples.Count > 0 ? samples[^1].MemoryMB : scenario.Host.MemoryMB;
        var host = scenario.Host;
        return MemoryChart("Host: free memory and free-memory state",
            [new("free memory", time, [.. samples.Select(s => s.FreeMB)]) { Color = "#000000" }], bands) with
        {
            ReferenceLines =
            [
                new($"high threshold ({Percent(host.HighPercent)})", memory * host.HighPercent / 100, "#009E73"),
                new($"soft threshold ({Percent(host.SoftPercent)})", memory * host.SoftPercent / 100, StateColors[FreeMemoryStates.Soft]),
                new($"hard threshold ({Percent(host.HardPercent)})", memory * host.HardPercent / 100, StateColors[FreeMemoryStates.Hard]),
                new($"low threshold ({Percent(host.LowPercent)})", memory * host.LowPercent / 100, StateColors[FreeMemoryStates.Low]),
            ],
        };
    }

    private static LineChart Allocation(string name, VmSpec? spec, IReadOnlyList<HostSample> samples, double[] time)
    {
        var configured = spec?.MemoryMB ?? LastValue(name, samples, v => v.ConfiguredMB);
        var min = spec?.MinMB ?? LastValue(name, samples, v => v.MinMB);
        var references = new List<ChartReferenceLine>();
        if (double.IsFinite(configured))
            references.Add(new ChartReferenceLine("configured (max)", configured, "#7F7F7F"));
        if (double.IsFinite(min) && min > 0)
            references.Add(new ChartReferenceLine("min", min, "#BBBBBB"));
        return MemoryChart($"{name}: allocation",
            [
                Series("granted", name, samples, time, v => v.GrantedMB) with { Color = ChartRenderer.PaletteColor(0) },
                Series("target", name, samples, time, v => v.TargetMB) with { Color = ChartRenderer.PaletteColor(1), Line = SeriesLine.Dashed },
                Series("active estimate", name, samples, time, v => v.ActiveEstimateMB) with { Color = ChartRenderer.PaletteColor(2) },
                Series("true working set", name, samples, time, v => v.TrueWorkingSetMB) with { Color = ChartRenderer.PaletteColor(3), Line = SeriesLine.Dotted },
            ], []) with { ReferenceLines = references };
    }

    private static LineChart Aggregate(IReadOnlyList<HostSample> samples, double[] time, IReadOnlyList<ChartBand> bands)
    {
        double[] Sum(Func<VmSample, double> value) =>
            [.. samples.Select(h => h.Vms.Where(v => v.PoweredOn).Sum(value))];
        return MemoryChart("All VMs: allocation, active, balloon, shared, swapped",
            [
                new("allocated (granted)", time, Sum(v => v.GrantedMB)),
                new("active estimate", time, Sum(v => v.ActiveEstimateMB)),
                new("balloon", time, Sum(v => v.BalloonMB)),
                new("shared", time, Sum(v => v.SharedMB)),
                new("swapped", time, Sum(v => v.SwappedMB)),
            ], bands);
    }

    /// <summary>One VM's value at every sample; NaN where the VM is absent or powered off.</summary>
    private static ChartSeries Series(string label, string vm, IReadOnlyList<HostSample> samples, double[] time, Func<VmSample, double> value)
    {
        var ys = new double[samples.Count];
        for (var i = 0; i < samples.Count; i++)
        {
            var sample = RunSummary.Find(samples[i], vm);
            ys[i] = sample is { PoweredOn: true } ? value(sample) : double.NaN;
        }
        return new ChartSeries(label, time, ys);
    }

    private static double LastValue(string vm, IReadOnlyList<HostSample> samples, Func<VmSample, double> value)
    {
        for (var i = samples.Count - 1; i >= 0; i--)
        {
            if (RunSummary.Find(samples[i], vm) is { } sample)
                return value(sample);
        }
        return double.NaN;
    }

    private static string Percent(double percent) => NumberText.Csv(percent) + "%";
}
