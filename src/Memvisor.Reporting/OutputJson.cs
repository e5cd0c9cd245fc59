/*
 * JSON for the data files: camelCase names, two-space indentation, "\n" line ends on every OS, enums as
 * names, and NaN or infinite numbers as null (and null read back as NaN), so the files are valid JSON
 * and compare byte for byte. Source-generated: no reflection at run time.
 */
using System.Text.Json;
using System.Text.Json.Serialization;
using Memvisor.Scenarios;
using Memvisor.Core.Statistics;

namespace Memvisor.Reporting;

/// <summary>timeseries.json: the statistics stream.</summary>
public sealed record TimeSeriesDocument
{
    /// <summary>Format name and version of this file.</summary>
    public string Format { get; init; } = RunOutputs.TimeSeriesFormat;

    /// <summary>The scenario's name.</summary>
    public string Scenario { get; init; } = "";

    /// <summary>The seed of the run.</summary>
    public ulong Seed { get; init; }

    /// <summary>Seconds between samples, as configured.</summary>
    public double SampleIntervalSeconds { get; init; }

    /// <summary>The samples, in time order, as produced.</summary>
    public IReadOnlyList<HostSample> Samples { get; init; } = [];
}

/// <summary>summary.json: the scenario as run and the summary.</summary>
public sealed record SummaryDocument
{
    /// <summary>Format name and version of this file.</summary>
    public string Format { get; init; } = RunOutputs.SummaryFormat;

    /// <summary>The scenario (the swap folder is left out: outputs hold no paths of the machine).</summary>
    public required Scenario Scenario { get; init; }

    /// <summary>The summary.</summary>
    public required RunSummary Summary { get; init; }
}

/// <summary>Writes NaN and infinities as null and reads null as NaN.</summary>
internal sealed class FiniteOrNullConverter : JsonConverter<double>
{
    public override bool HandleNull => true;

    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        if (double.IsFinite(value))
            writer.WriteNumberValue(value);
        else
            writer.WriteNullValue();
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    NewLine = "\n",
    UseStringEnumConverter = true,
    RespectRequiredConstructorParameters = true,
    Converters = [typeof(FiniteOrNullConverter)])]
[JsonSerializable(typeof(TimeSeriesDocument))]
[JsonSerializable(typeof(SummaryDocument))]
[JsonSerializable(typeof(RunSummary))]
internal sealed partial class OutputJsonContext : JsonSerializerContext;

/// <summary>The same spelling on one line: timeseries.json writes each sample as one line (smaller, and diffs by sample).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = false,
    UseStringEnumConverter = true,
    Converters = [typeof(FiniteOrNullConverter)])]
[JsonSerializable(typeof(HostSample))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(ulong))]
[JsonSerializable(typeof(double))]
internal sealed partial class OneLineJsonContext : JsonSerializerContext;
