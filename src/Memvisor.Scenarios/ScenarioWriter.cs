/*
 * Writing scenarios as JSON in the schema's names (docs/scenario.schema.json), so that what is written
 * reads back with ScenarioReader into an equal model: every field of the model in the model's order,
 * enum values by their ScenarioNames, shares as a preset's name or a number, and a field that is null
 * (no value: the default applies) left out. Numbers are written in their shortest round-trip form.
 * ScenarioJsonConverter makes any System.Text.Json serialization of a Scenario use this writer (the
 * run summary embeds the scenario it ran this way, so that it can be run again).
 */
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Memvisor.Scenarios;

/// <summary>Writes scenarios as scenario files.</summary>
public static class ScenarioWriter
{
    /// <summary>The scenario file's text: two-space indentation, "\n" line ends, a final line end.</summary>
    public static string Write(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            Write(writer, scenario);
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Writes <paramref name="scenario"/> as one JSON object.</summary>
    public static void Write(Utf8JsonWriter writer, Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(scenario);
        writer.WriteStartObject();
        writer.WriteString("name", scenario.Name);
        writer.WriteString("description", scenario.Description);
        writer.WriteNumber("seed", scenario.Seed);
        writer.WriteNumber("durationSeconds", scenario.DurationSeconds);
        writer.WriteNumber("sampleIntervalSeconds", scenario.SampleIntervalSeconds);
        writer.WritePropertyName("host");
        WriteHost(writer, scenario.Host);
        writer.WriteStartArray("vms");
        foreach (var vm in scenario.Vms)
        {
            WriteVm(writer, vm);
        }

        writer.WriteEndArray();
        writer.WritePropertyName("latencies");
        WriteLatencies(writer, scenario.Latencies);
        writer.WriteEndObject();
    }

    private static void WriteHost(Utf8JsonWriter w, HostSpec h)
    {
        w.WriteStartObject();
        w.WriteNumber("memoryMB", h.MemoryMB);
        w.WriteNumber("dmaBoundaryMB", h.DmaBoundaryMB);
        w.WriteNumber("swapMB", h.SwapMB);
        Optional(w, "swapDirectory", h.SwapDirectory);
        w.WriteNumber("idleTax", h.IdleTax);
        Pairs(w, "idleTaxChanges", h.IdleTaxChanges, ("atSeconds", c => c.AtSeconds), ("tau", c => c.Tau));
        w.WriteNumber("balancePeriodSeconds", h.BalancePeriodSeconds);
        w.WriteNumber("highPercent", h.HighPercent);
        w.WriteNumber("softPercent", h.SoftPercent);
        w.WriteNumber("hardPercent", h.HardPercent);
        w.WriteNumber("lowPercent", h.LowPercent);
        w.WriteBoolean("sharing", h.Sharing);
        w.WriteNumber("shareScanPerVmPagesPerSecond", h.ShareScanPerVmPagesPerSecond);
        w.WriteNumber("shareScanHostPagesPerSecond", h.ShareScanHostPagesPerSecond);
        w.WriteString("salting", ScenarioNames.Of(h.Salting));
        w.WriteNumber("samplingPeriodSeconds", h.SamplingPeriodSeconds);
        w.WriteNumber("samplingPages", h.SamplingPages);
        w.WriteNumber("samplingInitialActivePercent", h.SamplingInitialActivePercent);
        w.WriteNumber("balloonMaxPercent", h.BalloonMaxPercent);
        w.WriteBoolean("ioRemap", h.IoRemap);
        w.WriteNumber("ioRemapThresholdCopies", h.IoRemapThresholdCopies);
        w.WriteEndObject();
    }

    private static void WriteVm(Utf8JsonWriter w, VmSpec vm)
    {
        w.WriteStartObject();
        w.WriteString("name", vm.Name);
        w.WriteNumber("memoryMB", vm.MemoryMB);
        w.WriteNumber("minMB", vm.MinMB);
        if (vm.Shares.Count is { } count)
        {
            w.WriteNumber("shares", count);
        }
        else
        {
            w.WriteString("shares", ScenarioNames.Of(vm.Shares));
        }

        Optional(w, "overheadMB", vm.OverheadMB);
        w.WriteString("guest", ScenarioNames.Of(vm.Guest));
        w.WriteString("image", vm.Image);
        w.WriteString("balloonDriver", ScenarioNames.Of(vm.BalloonDriver));
        Optional(w, "balloonMaxMB", vm.BalloonMaxMB);
        Optional(w, "balloonTargetMB", vm.BalloonTargetMB);
        if (vm.ShareSalt is { } salt)
        {
            w.WriteNumber("shareSalt", salt);
        }

        w.WriteNumber("powerOnSeconds", vm.PowerOnSeconds);
        Optional(w, "powerOffSeconds", vm.PowerOffSeconds);
        w.WritePropertyName("workload");
        WriteWorkload(w, vm.Workload);
        w.WriteEndObject();
    }

    private static void WriteWorkload(Utf8JsonWriter w, WorkloadSpec workload)
    {
        w.WriteStartObject();
        w.WriteString("kind", ScenarioNames.Of(workload.Kind));
        w.WriteNumber("workingSetMB", workload.WorkingSetMB);
        w.WriteString("distribution", ScenarioNames.Of(workload.Distribution));
        w.WriteNumber("zipfExponent", workload.ZipfExponent);
        Pairs(w, "phases", workload.Phases, ("startSeconds", p => p.StartSeconds), ("workingSetMB", p => p.WorkingSetMB));
        w.WriteNumber("fileSetMB", workload.FileSetMB);
        w.WriteNumber("clients", workload.Clients);
        w.WriteEndObject();
    }

    private static void WriteLatencies(Utf8JsonWriter w, LatencySpec l)
    {
        w.WriteStartObject();
        Optional(w, "minorFaultMicroseconds", l.MinorFaultMicroseconds);
        Optional(w, "zeroFillFaultMicroseconds", l.ZeroFillFaultMicroseconds);
        Optional(w, "copyOnWriteFaultMicroseconds", l.CopyOnWriteFaultMicroseconds);
        Optional(w, "balloonTouchFaultMicroseconds", l.BalloonTouchFaultMicroseconds);
        Optional(w, "hostSwapInMicroseconds", l.HostSwapInMicroseconds);
        Optional(w, "guestMinorFaultMicroseconds", l.GuestMinorFaultMicroseconds);
        Optional(w, "guestDiskReadMicroseconds", l.GuestDiskReadMicroseconds);
        Optional(w, "guestDiskWriteMicroseconds", l.GuestDiskWriteMicroseconds);
        Optional(w, "bounceCopyMicroseconds", l.BounceCopyMicroseconds);
        Optional(w, "swapDeviceMBPerSecond", l.SwapDeviceMBPerSecond);
        w.WriteEndObject();
    }

    /// <summary>An array of objects of two numbers each (idle tax changes, workload phases).</summary>
    private static void Pairs<T>(Utf8JsonWriter w, string name, IEnumerable<T> items, (string Name, Func<T, double> Value) first, (string Name, Func<T, double> Value) second)
    {
        w.WriteStartArray(name);
        foreach (var item in items)
        {
            w.WriteStartObject();
            w.WriteNumber(first.Name, first.Value(item));
            w.WriteNumber(second.Name, second.Value(item));
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void Optional(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }

    private static void Optional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }
}

/// <summary>Serializes a <see cref="Scenario"/> as a scenario file's object (ScenarioWriter) and reads it with ScenarioReader.</summary>
public sealed class ScenarioJsonConverter : JsonConverter<Scenario>
{
    /// <inheritdoc/>
    public override Scenario Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        try
        {
            return ScenarioReader.Read(document.RootElement, "embedded scenario");
        }
        catch (ScenarioException e)
        {
            throw new JsonException(e.Message, e);
        }
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, Scenario value, JsonSerializerOptions options) => ScenarioWriter.Write(writer, value);
}
