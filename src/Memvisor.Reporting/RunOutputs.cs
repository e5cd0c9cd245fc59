/*
 * The outputs of a run in one folder (docs/outputs.md describes every file):
 *   timeseries-host.csv, timeseries-vms.csv, timeseries.json   the statistics stream
 *   summary.json, summary.txt                                  the scenario as run and the summary
 *   report.html, charts/*.svg (or *.png)                       the report and its charts
 * Identical inputs give byte-identical files: invariant culture, fixed number spellings, "\n" line ends,
 * UTF-8 without BOM, stable ordering, and nothing from the wall clock, the machine's name or its paths
 * (the scenario's swap folder is left out). Chart images also depend on the installed fonts.
 */
using System.Text;
using System.Text.Json;
using Memvisor.Scenarios;
using Memvisor.Core.Statistics;
using Memvisor.Reporting.Charts;

namespace Memvisor.Reporting;

/// <summary>A figure a caller adds to the report's figures section (for instance one per paper figure).</summary>
/// <param name="Name">Short name; the file is charts/figure-{slug of name}.{ext}.</param>
/// <param name="Chart">What to draw.</param>
/// <param name="Caption">A sentence under the chart.</param>
public sealed record ReportFigure(string Name, Chart Chart, string Caption);

/// <summary>What to write besides the data files.</summary>
public sealed record ReportOptions
{
    /// <summary>Whether to draw charts (without them report.html has the tables only).</summary>
    public bool Charts { get; init; } = true;

    /// <summary>Image format of the charts.</summary>
    public ChartFormat ChartFormat { get; init; } = ChartFormat.Svg;

    /// <summary>Chart width, pixels (the report shows charts at the page's full width).</summary>
    public int ChartWidthPixels { get; init; } = 1300;

    /// <summary>Chart height, pixels.</summary>
    public int ChartHeightPixels { get; init; } = 420;

    /// <summary>Per-VM charts for at most this many VMs (see <see cref="VmSelection"/>); the rest are in the CSV.</summary>
    public int PerVmCharts { get; init; } = RunCharts.DefaultPerVmCharts;

    /// <summary>Figures added after the standard ones, in this order.</summary>
    public IReadOnlyList<ReportFigure> Figures { get; init; } = [];

    /// <summary>Throws ArgumentException naming the field, the value and the rule.</summary>
    public void Validate()
    {
        if (ChartWidthPixels is < 100 or > 10_000)
            throw new ArgumentException($"{nameof(ChartWidthPixels)} = {ChartWidthPixels}: must be in [100, 10000].", nameof(ChartWidthPixels));
        if (ChartHeightPixels is < 100 or > 10_000)
            throw new ArgumentException($"{nameof(ChartHeightPixels)} = {ChartHeightPixels}: must be in [100, 10000].", nameof(ChartHeightPixels));
        if (PerVmCharts is < 0 or > 10_000)
            throw new ArgumentException($"{nameof(PerVmCharts)} = {PerVmCharts}: must be in [0, 10000].", nameof(PerVmCharts));
        if (!Enum.IsDefined(ChartFormat))
            throw new ArgumentException($"{nameof(ChartFormat)} = {ChartFormat}: must be Svg or Png.", nameof(ChartFormat));
        var stems = new HashSet<string>(StringComparer.Ordinal);
        foreach (var figure in Figures)
        {
            figure.Chart.Validate();
            if (!stems.Add(RunCharts.Slug(figure.Name)))
                throw new ArgumentException($"{nameof(Figures)}: the name '{figure.Name}' gives the file name of an earlier figure; names must differ in letters or digits.", nameof(Figures));
        }
    }
}

/// <summary>Writes and reads the output folder of a run.</summary>
public static class RunOutputs
{
    /// <summary>Format name of timeseries.json.</summary>
    public const string TimeSeriesFormat = "memvisor-timeseries/1";

    /// <summary>Format name of summary.json.</summary>
    public const string SummaryFormat = "memvisor-summary/1";

    /// <summary>File names in the output folder.</summary>
    public const string HostCsvFile = "timeseries-host.csv", VmsCsvFile = "timeseries-vms.csv", TimeSeriesJsonFile = "timeseries.json",
        SummaryJsonFile = "summary.json", SummaryTextFile = "summary.txt", ReportFile = "report.html", ChartsFolder = "charts";

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// Writes every output of a run into <paramref name="dir"/> (created if needed; files of the same
    /// names are replaced, other files are left alone). Returns the written files' paths relative to
    /// <paramref name="dir"/>, '/' separated, in ordinal order.
    /// </summary>
    public static IReadOnlyList<string> Write(string dir, Scenario scenario, IReadOnlyList<HostSample> samples, RunSummary summary, ReportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(summary);
        options ??= new ReportOptions();
        options.Validate();
        for (var i = 0; i < samples.Count; i++)
            RunRecorder.CheckNext(i == 0 ? null : samples[i - 1], samples[i]);

        Directory.CreateDirectory(dir);
        var written = new List<string>();
        void WriteText(string relative, string text)
        {
            File.WriteAllText(Path.Combine(dir, relative), text, Utf8);
            written.Add(relative);
        }

        WriteText(HostCsvFile, TimeSeriesCsv.HostCsv(samples));
        WriteText(VmsCsvFile, TimeSeriesCsv.VmsCsv(samples));
        WriteText(TimeSeriesJsonFile, TimeSeriesJson(scenario, samples));
        WriteText(SummaryJsonFile, SummaryJson(scenario, summary));
        WriteText(SummaryTextFile, SummaryText.Write(scenario, summary));
        var dataFiles = written.ToList();

        var charts = new List<(ReportChart Chart, string RelativePath)>();
        var leftOut = new List<ReportChart>();
        VmSelection? selection = null;
        if (options.Charts)
        {
            Directory.CreateDirectory(Path.Combine(dir, ChartsFolder));
            var set = RunCharts.Build(scenario, samples, summary, options.ChartWidthPixels, options.ChartHeightPixels, options.PerVmCharts);
            selection = set.Vms;
            var all = set.Charts.ToList();
            foreach (var figure in options.Figures)
            {
                var stem = "figure-" + RunCharts.Slug(figure.Name);
                if (all.Any(c => c.FileStem == stem))
                    throw new ArgumentException($"{nameof(ReportOptions.Figures)}: the name '{figure.Name}' gives the file name of a standard figure ({stem}); choose another.", nameof(options));
                all.Add(new ReportChart("figures", stem, figure.Chart, figure.Caption));
            }
            var extension = ChartRenderer.Extension(options.ChartFormat);
            foreach (var chart in all)
            {
                if (chart.Chart.IsEmpty)
                {
                    // Not drawn (a flat line at 0 on a made-up range); the report says which and why.
                    leftOut.Add(chart);
                    continue;
                }
                var relative = ChartsFolder + "/" + chart.FileStem + "." + extension;
                File.WriteAllBytes(Path.Combine(dir, ChartsFolder, chart.FileStem + "." + extension), ChartRenderer.Render(chart.Chart, options.ChartFormat));
                written.Add(relative);
                charts.Add((chart, relative));
            }
        }
        WriteText(ReportFile, HtmlReport.Write(scenario, summary, charts, dataFiles, new ChartNotes(leftOut, selection)));
        written.Sort(StringComparer.Ordinal);
        return written;
    }

    /// <summary>The text of timeseries.json: the header fields, then one sample per line.</summary>
    public static string TimeSeriesJson(Scenario scenario, IReadOnlyList<HostSample> samples)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(samples);
        var json = OneLineJsonContext.Default;
        var sb = new StringBuilder();
        sb.Append("{\n  \"format\": ").Append(JsonSerializer.Serialize(TimeSeriesFormat, json.String))
          .Append(",\n  \"scenario\": ").Append(JsonSerializer.Serialize(scenario.Name, json.String))
          .Append(",\n  \"seed\": ").Append(JsonSerializer.Serialize(scenario.Seed, json.UInt64))
          .Append(",\n  \"sampleIntervalSeconds\": ").Append(JsonSerializer.Serialize(scenario.SampleIntervalSeconds, json.Double))
          .Append(",\n  \"samples\": [");
        for (var i = 0; i < samples.Count; i++)
            sb.Append(i == 0 ? "\n    " : ",\n    ").Append(JsonSerializer.Serialize(samples[i], json.HostSample));
        sb.Append(samples.Count == 0 ? "]\n}\n" : "\n  ]\n}\n");
        return sb.ToString();
    }

    /// <summary>The text of summary.json.</summary>
    public static string SummaryJson(Scenario scenario, RunSummary summary)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(summary);
        var document = new SummaryDocument
        {
            Scenario = scenario with { Host = scenario.Host with { SwapDirectory = null } },
            Summary = summary,
        };
        return JsonSerializer.Serialize(document, OutputJsonContext.Default.SummaryDocument) + "\n";
    }

    /// <summary>Reads a timeseries.json (null numbers come back as NaN).</summary>
    /// <exception cref="InvalidDataException">Not a Memvisor time series.</exception>
    public static TimeSeriesDocument ReadTimeSeries(string path) => Parse(path, TimeSeriesFormat, OutputJsonContext.Default.TimeSeriesDocument);

    /// <summary>Reads a summary.json.</summary>
    /// <exception cref="InvalidDataException">Not a Memvisor summary.</exception>
    public static SummaryDocument ReadSummary(string path) => Parse(path, SummaryFormat, OutputJsonContext.Default.SummaryDocument);

    private static T Parse<T>(string path, string format, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var text = File.ReadAllText(path, Utf8);
        try
        {
            using (var document = JsonDocument.Parse(text))
            {
                var found = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("format", out var f)
                    && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                if (found != format)
                    throw new InvalidDataException($"{path}: format '{found ?? "(none)"}', expected '{format}'.");
            }
            return JsonSerializer.Deserialize(text, type) ?? throw new InvalidDataException($"{path}: the file holds null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON of the format '{format}': {e.Message}", e);
        }
    }
}
