/*
 * Reading scenario files. A scenario file is JSON (docs/scenario.schema.json). Every field is checked as
 * it is read: an unknown field, a value of the wrong type, or a value outside its range is an error
 * that names the field by its path (vms[2].memoryMB), the value found and what was expected. All
 * errors of a file are collected and reported together (the message lists the first 20), and nothing
 * runs half-configured: the caller gets either a whole valid Scenario or a ScenarioException. A field
 * given twice, and a string that is not text (a lone UTF-16 surrogate such as "\ud800"), are errors
 * too. Names of enum values are the schema's (ScenarioNames); ScenarioWriter writes what this reads.
 */
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Memvisor.Core.Allocation;
using Memvisor.Core.Memory;

namespace Memvisor.Scenarios;

/// <summary>A scenario file is invalid; <see cref="Errors"/> lists every problem found.</summary>
public sealed class ScenarioException : Exception
{
    /// <summary>The message lists at most this many problems, then how many more there are.</summary>
    public const int MaxListedErrors = 20;

    /// <summary>Creates the exception.</summary>
    public ScenarioException(string source, IReadOnlyList<string> errors)
        : base(Describe(source, errors))
    {
        Errors = errors;
    }

    /// <summary>Every problem, one line each, starting with the field's path.</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string Describe(string source, IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var listed = errors.Take(MaxListedErrors).ToList();
        if (errors.Count > MaxListedErrors)
        {
            listed.Add($"and {errors.Count - MaxListedErrors} more");
        }

        return $"{source}: {errors.Count} problem(s):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", listed);
    }
}

/// <summary>Reads and validates scenario files.</summary>
public static partial class ScenarioReader
{
    private const double MaxMemoryMB = 1024 * 1024;

    /// <summary>Custom shares: at least one share (a share is a weight; smaller numbers say nothing larger ones cannot, and vanish in the policy's ratios).</summary>
    private const double MinShares = 1, MaxShares = 1e12;

    /// <summary>Reads a scenario file (UTF-8; at most ScenarioLimits.MaxFileBytes).</summary>
    public static Scenario ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ScenarioException("scenario file", ["no file name given; expected the path of a scenario file"]);
        }

        if (Directory.Exists(path))
        {
            throw new ScenarioException(path, ["a folder; expected a scenario file"]);
        }

        string text;
        try
        {
            text = ScenarioLimits.ReadBounded(path);
        }
        catch (InvalidDataException e)
        {
            throw new ScenarioException(path, [e.Message]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScenarioException(path, [$"cannot read the file: {e.Message}"]);
        }

        return Parse(text, path);
    }

    /// <summary>Parses scenario JSON; <paramref name="source"/> names it in errors.</summary>
    public static Scenario Parse(string json, string source = "scenario")
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ScenarioException(source, [NotJson(json, e)]);
        }

        using (doc)
        {
            return Read(doc.RootElement, source);
        }
    }

    /// <summary>Reads a scenario from parsed JSON (for instance the scenario embedded in another document).</summary>
    public static Scenario Read(JsonElement root, string source = "scenario")
    {
        var errors = new List<string>();
        CheckText(root, "", errors);
        if (errors.Count == 0)
        {
            var scenario = ReadScenario(new Obj(root, "", errors));
            if (errors.Count == 0)
            {
                return scenario;
            }
        }

        throw new ScenarioException(source, errors);
    }

    /// <summary>"line L, column C: not valid JSON: ...", both counted from 1 (System.Text.Json counts lines from 0 and columns in bytes).</summary>
    private static string NotJson(string json, JsonException e)
    {
        var what = Quoted(JsonPosition().Replace(e.Message, ""));
        if (e.LineNumber is not { } line || e.BytePositionInLine is not { } bytes)
        {
            return $"not valid JSON: {what}";
        }

        var lines = json.Split('\n');
        var text = line < lines.Length ? lines[line] : "";
        var utf8 = Encoding.UTF8.GetBytes(text);
        var column = Encoding.UTF8.GetCharCount(utf8, 0, (int)Math.Min(bytes, utf8.Length)) + 1;
        return $"line {line + 1}, column {column}: not valid JSON: {what}";
    }

    /// <summary>
    /// A parser message as one short line: System.Text.Json quotes an invalid literal with the whole rest of the
    /// document ("'t 512,\n    \"swapMB\": ...' is an invalid JSON literal"), lines and all.
    /// </summary>
    private static string Quoted(string message)
    {
        const string Literal = "' is an invalid JSON literal";
        var end = message.IndexOf(Literal, StringComparison.Ordinal);
        return message.StartsWith('\'') && end > 0
            ? $"'{Shown(message[1..end])}{Shown(message[end..], 300)}"
            : Shown(message, 300);
    }

    [GeneratedRegex(@"\s*(Path: \S* \| )?LineNumber: \d+ \| BytePositionInLine: \d+\.?\s*$")]
    private static partial Regex JsonPosition();

    /// <summary>Every string and field name must be text: JSON lets "\ud800" (half a UTF-16 pair) through, .NET strings cannot hold it.</summary>
    private static void CheckText(JsonElement element, string path, List<string> errors)
    {
        string At(string p) => p.Length == 0 ? "(top level)" : p;
        switch (element.ValueKind)
        {
            case JsonValueKind.String when !IsText(() => element.GetString()):
                errors.Add($"{At(path)}: a string that is not text (a lone UTF-16 surrogate such as \"\\ud800\"); expected text");
                break;
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject())
                {
                    if (!IsText(() => p.Name))
                    {
                        errors.Add($"{At(path)}: a field name that is not text (a lone UTF-16 surrogate such as \"\\ud800\"); expected text");
                        continue;
                    }

                    CheckText(p.Value, path.Length == 0 ? Shown(p.Name) : $"{path}.{Shown(p.Name)}", errors);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    CheckText(item, $"{path}[{i++}]", errors);
                }

                break;
        }
    }

    private static bool IsText(Func<string?> get)
    {
        try
        {
            get();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static Scenario ReadScenario(Obj o)
    {
        if (!o.IsObject)
        {
            return new Scenario();
        }

        var s = new Scenario
        {
            Name = o.String("name", "scenario"),
            Description = o.String("description", "", allowEmpty: true, maxLength: ScenarioLimits.MaxDescriptionLength),
            Seed = o.UInt64("seed", 1),
            DurationSeconds = o.Number("durationSeconds", 300, 0.001, ScenarioLimits.MaxDurationSeconds),
            SampleIntervalSeconds = o.Number("sampleIntervalSeconds", 1, 0.001, 1e6),
            Host = o.Child("host") is { } h ? ReadHost(h) : new HostSpec(),
            Vms = o.Array("vms").Select(ReadVm).ToList(),
            Latencies = o.Child("latencies") is { } l ? ReadLatencies(l) : new LatencySpec(),
        };
        o.RejectUnknown("name", "description", "seed", "durationSeconds", "sampleIntervalSeconds", "host", "vms", "latencies");

        // A host without VMs runs nothing: leaving vms out is as much a mistake as writing [] (a misspelt "vms" is an unknown field as well).
        if (!o.Has("vms"))
        {
            o.Error("vms", "missing", "an array of at least one VM");
        }
        else if (s.Vms.Count == 0 && o.ArrayLength("vms") == 0)
        {
            o.Error("vms", "[]", "at least one VM");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < s.Vms.Count; i++)
        {
            var vm = s.Vms[i];
            if (!seen.Add(vm.Name))
            {
                o.Error($"vms[{i}].name", $"\"{vm.Name}\"", "a name no other VM has");
            }

            // The balloon limit depends on the host's percentage, so this check waits until both are read.
            var limitMB = Math.Min(vm.MemoryMB * s.Host.BalloonMaxPercent / 100, vm.BalloonMaxMB ?? double.PositiveInfinity);
            if (vm.BalloonTargetMB is { } target && target < vm.MemoryMB && target > limitMB)
            {
                o.Error($"vms[{i}].balloonTargetMB", target.ToString(CultureInfo.InvariantCulture),
                    $"at most the balloon limit ({limitMB.ToString(CultureInfo.InvariantCulture)} MiB: host balloonMaxPercent of memoryMB, and balloonMaxMB)");
            }
        }

        return s;
    }

    private static LatencySpec ReadLatencies(Obj o)
    {
        // Up to an hour per event: anything larger is a unit mistake (seconds written as microseconds).
        const double Max = 3.6e9;
        var l = new LatencySpec
        {
            MinorFaultMicroseconds = o.OptionalNumber("minorFaultMicroseconds", 0, Max),
            ZeroFillFaultMicroseconds = o.OptionalNumber("zeroFillFaultMicroseconds", 0, Max),
            CopyOnWriteFaultMicroseconds = o.OptionalNumber("copyOnWriteFaultMicroseconds", 0, Max),
            BalloonTouchFaultMicroseconds = o.OptionalNumber("balloonTouchFaultMicroseconds", 0, Max),
            HostSwapInMicroseconds = o.OptionalNumber("hostSwapInMicroseconds", 0, Max),
            GuestMinorFaultMicroseconds = o.OptionalNumber("guestMinorFaultMicroseconds", 0, Max),
            GuestDiskReadMicroseconds = o.OptionalNumber("guestDiskReadMicroseconds", 0, Max),
            GuestDiskWriteMicroseconds = o.OptionalNumber("guestDiskWriteMicroseconds", 0, Max),
            BounceCopyMicroseconds = o.OptionalNumber("bounceCopyMicroseconds", 0, Max),
            SwapDeviceMBPerSecond = o.OptionalNumber("swapDeviceMBPerSecond", 0.001, 1e9),
            GuestDiskTransferMicroseconds = o.OptionalNumber("guestDiskTransferMicroseconds", 0, Max),
            ShareScanHashMicroseconds = o.OptionalNumber("shareScanHashMicroseconds", 0, Max),
            ShareCompareMicroseconds = o.OptionalNumber("shareCompareMicroseconds", 0, Max),
        };
        o.RejectUnknown("minorFaultMicroseconds", "zeroFillFaultMicroseconds", "copyOnWriteFaultMicroseconds", "balloonTouchFaultMicroseconds",
            "hostSwapInMicroseconds", "guestMinorFaultMicroseconds", "guestDiskReadMicroseconds", "guestDiskWriteMicroseconds", "bounceCopyMicroseconds",
            "swapDeviceMBPerSecond", "guestDiskTransferMicroseconds", "shareScanHashMicroseconds", "shareCompareMicroseconds");
        return l;
    }

    private static HostSpec ReadHost(Obj o)
    {
        var h = new HostSpec
        {
            MemoryMB = o.Number("memoryMB", 1024, 1, MaxMemoryMB),
            ReservedMB = o.Number("reservedMB", 0, 0, MaxMemoryMB),
            DmaBoundaryMB = o.Number("dmaBoundaryMB", 4096, 0, MaxMemoryMB),
            SwapMB = o.Number("swapMB", 4096, 0, MaxMemoryMB),
            SwapDirectory = o.OptionalString("swapDirectory", ScenarioLimits.MaxPathLength),
            IdleTax = o.Number("idleTax", 0.75, 0, 0.99),
            IdleTaxChanges = ReadIdleTaxChanges(o),
            BalancePeriodSeconds = o.Number("balancePeriodSeconds", 15, 0.01, 3600),
            HighPercent = o.Number("highPercent", 6, 0.01, 99),
            SoftPercent = o.Number("softPercent", 4, 0.01, 99),
            HardPercent = o.Number("hardPercent", 2, 0.01, 99),
            LowPercent = o.Number("lowPercent", 1, 0.01, 99),
            Sharing = o.Bool("sharing", true),
            ShareScanPerVmPagesPerSecond = o.Number("shareScanPerVmPagesPerSecond", 50, 0.001, ScenarioLimits.MaxShareScanPagesPerSecond),
            ShareScanHostPagesPerSecond = o.Number("shareScanHostPagesPerSecond", 200, 0.001, ScenarioLimits.MaxShareScanPagesPerSecond),
            Salting = o.Enum("salting", ShareSaltMode.SingleSalt, ScenarioNames.Salting),
            SamplingPeriodSeconds = o.Number("samplingPeriodSeconds", 30, 0.01, 3600),
            SamplingPages = (int)o.Number("samplingPages", 100, 1, 100_000, integer: true),
            SamplingInitialActivePercent = o.Number("samplingInitialActivePercent", 100, 0, 100),
            BalloonMaxPercent = o.Number("balloonMaxPercent", 65, 0, 100),
            IoRemap = o.Bool("ioRemap", true),
            IoRemapThresholdCopies = (int)o.Number("ioRemapThresholdCopies", 16, 1, 1e9, integer: true),
        };
        o.RejectUnknown("memoryMB", "reservedMB", "dmaBoundaryMB", "swapMB", "swapDirectory", "idleTax", "idleTaxChanges", "balancePeriodSeconds", "highPercent", "softPercent", "hardPercent",
            "lowPercent", "sharing", "shareScanPerVmPagesPerSecond", "shareScanHostPagesPerSecond", "salting", "samplingPeriodSeconds", "samplingPages", "samplingInitialActivePercent",
            "balloonMaxPercent", "ioRemap", "ioRemapThresholdCopies");
        for (var i = 1; i < h.IdleTaxChanges.Count; i++)
        {
            if (h.IdleTaxChanges[i].AtSeconds <= h.IdleTaxChanges[i - 1].AtSeconds)
            {
                o.Error($"idleTaxChanges[{i}].atSeconds", h.IdleTaxChanges[i].AtSeconds.ToString(CultureInfo.InvariantCulture), "changes in increasing order of atSeconds");
            }
        }

        if (h.ReservedMB >= h.MemoryMB)
        {
            o.Error("reservedMB", h.ReservedMB.ToString(CultureInfo.InvariantCulture), $"less than memoryMB ({h.MemoryMB.ToString(CultureInfo.InvariantCulture)}): the VMs need some memory");
        }

        if (!(h.HighPercent > h.SoftPercent && h.SoftPercent > h.HardPercent && h.HardPercent > h.LowPercent))
        {
            o.Error("highPercent", $"{h.HighPercent}/{h.SoftPercent}/{h.HardPercent}/{h.LowPercent}", "thresholds with high > soft > hard > low");
        }

        // The policy keeps highPercent plus its hysteresis margin free (AllocationOptions.FreeTargetPages): that must leave memory for VMs.
        var margin = new AllocationOptions().HysteresisPercent;
        if (h.HighPercent + margin >= 100)
        {
            o.Error("highPercent", h.HighPercent.ToString(CultureInfo.InvariantCulture),
                $"less than {(100 - margin).ToString(CultureInfo.InvariantCulture)} (the host keeps highPercent plus a {margin.ToString(CultureInfo.InvariantCulture)}% margin of its memory free)");
        }

        return h;
    }

    private static IReadOnlyList<IdleTaxChange> ReadIdleTaxChanges(Obj o)
    {
        var changes = o.Array("idleTaxChanges").Select(c =>
        {
            var change = new IdleTaxChange(c.Number("atSeconds", 0, 0, 1e7, required: true), c.Number("tau", 0, 0, 0.99, required: true));
            c.RejectUnknown("atSeconds", "tau");
            return change;
        }).ToList();

        // None given: the model's own default, so that a host read with every default equals new HostSpec().
        return changes.Count == 0 ? new HostSpec().IdleTaxChanges : changes;
    }

    private static VmSpec ReadVm(Obj o)
    {
        var memory = o.Number("memoryMB", 0, 1, MaxMemoryMB, required: true);
        var vm = new VmSpec
        {
            Name = o.String("name", "", required: true),
            MemoryMB = memory,
            MinMB = o.Number("minMB", 0, 0, MaxMemoryMB),
            Shares = o.Shares("shares"),
            OverheadMB = o.OptionalNumber("overheadMB", 0, MaxMemoryMB),
            Guest = o.Enum("guest", GuestFlavour.Linux, ScenarioNames.Guest),
            Image = o.String("image", "default"),
            BalloonDriver = o.Enum("balloonDriver", BalloonDriverSpec.Active, ScenarioNames.BalloonDriver),
            BalloonMaxMB = o.OptionalNumber("balloonMaxMB", 0, MaxMemoryMB),
            BalloonTargetMB = o.OptionalNumber("balloonTargetMB", 0, MaxMemoryMB),
            ShareSalt = o.Has("shareSalt") ? o.UInt64("shareSalt", 0) : null,
            PowerOnSeconds = o.Number("powerOnSeconds", 0, 0, 1e7),
            PowerOffSeconds = o.OptionalNumber("powerOffSeconds", 0, 1e7),
            Workload = o.Child("workload") is { } w ? ReadWorkload(w) : new WorkloadSpec(),
        };
        o.RejectUnknown("name", "memoryMB", "minMB", "shares", "overheadMB", "guest", "image", "balloonDriver", "balloonMaxMB", "balloonTargetMB",
            "shareSalt", "powerOnSeconds", "powerOffSeconds", "workload");
        if (vm.MinMB > vm.MemoryMB)
        {
            o.Error("minMB", vm.MinMB.ToString(CultureInfo.InvariantCulture), $"at most memoryMB ({vm.MemoryMB.ToString(CultureInfo.InvariantCulture)})");
        }

        if (vm.BalloonTargetMB is { } target && target >= vm.MemoryMB)
        {
            o.Error("balloonTargetMB", target.ToString(CultureInfo.InvariantCulture), $"less than memoryMB ({vm.MemoryMB.ToString(CultureInfo.InvariantCulture)})");
        }

        if (vm.PowerOffSeconds is { } off && off <= vm.PowerOnSeconds)
        {
            o.Error("powerOffSeconds", off.ToString(CultureInfo.InvariantCulture), $"a time after powerOnSeconds ({vm.PowerOnSeconds.ToString(CultureInfo.InvariantCulture)})");
        }

        return vm;
    }

    private static WorkloadSpec ReadWorkload(Obj o)
    {
        var w = new WorkloadSpec
        {
            Kind = o.Enum("kind", WorkloadKind.Idle, ScenarioNames.Kind),
            WorkingSetMB = o.Number("workingSetMB", 64, 0, MaxMemoryMB),
            Distribution = o.Enum("distribution", AccessPattern.Uniform, ScenarioNames.Distribution),
            ZipfExponent = o.Number("zipfExponent", 1.0, 0.01, 10),
            Phases = o.Array("phases").Select(p =>
            {
                var phase = new WorkloadPhase(p.Number("startSeconds", 0, 0, 1e7, required: true), p.Number("workingSetMB", 0, 0, MaxMemoryMB, required: true));
                p.RejectUnknown("startSeconds", "workingSetMB");
                return phase;
            }).ToList(),
            FileSetMB = o.Number("fileSetMB", 256, 0, MaxMemoryMB),
            Clients = (int)o.Number("clients", 8, 1, 10_000, integer: true),
        };
        o.RejectUnknown("kind", "workingSetMB", "distribution", "zipfExponent", "phases", "fileSetMB", "clients");
        for (var i = 1; i < w.Phases.Count; i++)
        {
            if (w.Phases[i].StartSeconds <= w.Phases[i - 1].StartSeconds)
            {
                o.Error($"phases[{i}].startSeconds", w.Phases[i].StartSeconds.ToString(CultureInfo.InvariantCulture), "phases in increasing order of startSeconds");
            }
        }

        return w;
    }

    /// <summary>Longest value or field name quoted in an error, in characters: a 15 MB string is not repeated on the terminal.</summary>
    private const int MaxShownLength = 60;

    /// <summary>
    /// <paramref name="text"/> as an error quotes it: control characters escaped as in JSON (a line break or an
    /// escape sequence would otherwise break the one line or drive the terminal), at most MaxShownLength characters.
    /// </summary>
    private static string Shown(string text, int maxLength = MaxShownLength)
    {
        var shown = new StringBuilder();
        var cut = text.Length > maxLength && char.IsHighSurrogate(text[maxLength - 1]) ? maxLength - 1 : maxLength;
        foreach (var c in text.Length > maxLength ? text[..cut] : text)
        {
            // Control characters and invisible format characters (such as U+202E, which reverses the text after it).
            _ = char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format
                ? shown.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}")
                : shown.Append(c);
        }

        return text.Length > maxLength ? shown.Append(CultureInfo.InvariantCulture, $"... ({text.Length} characters)").ToString() : shown.ToString();
    }

    /// <summary>A JSON object being read, with its path, collecting errors.</summary>
    private sealed class Obj(JsonElement element, string path, List<string> errors)
    {
        public bool IsObject
        {
            get
            {
                if (element.ValueKind == JsonValueKind.Object)
                {
                    return true;
                }

                errors.Add($"{(path.Length == 0 ? "(top level)" : path)}: {Describe(element)}; expected an object {{ ... }}");
                return false;
            }
        }

        public bool Has(string name) => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out _);

        public void Error(string name, string value, string expected) => errors.Add($"{Path(name)}: {value}; expected {expected}");

        public Obj? Child(string name)
        {
            if (!TryGet(name, out var v))
            {
                return null;
            }

            var child = new Obj(v, Path(name), errors);
            return child.IsObject ? child : null;
        }

        public List<Obj> Array(string name)
        {
            if (!TryGet(name, out var v))
            {
                return [];
            }

            if (v.ValueKind != JsonValueKind.Array)
            {
                Error(name, Describe(v), "an array [ ... ]");
                return [];
            }

            var items = new List<Obj>();
            var i = 0;
            foreach (var item in v.EnumerateArray())
            {
                var child = new Obj(item, $"{Path(name)}[{i++}]", errors);
                if (child.IsObject)
                {
                    items.Add(child);
                }
            }

            return items;
        }

        public double Number(string name, double fallback, double min, double max, bool required = false, bool integer = false)
        {
            if (!TryGet(name, out var v))
            {
                if (required)
                {
                    errors.Add($"{Path(name)}: missing; expected a number from {Fmt(min)} to {Fmt(max)}");
                }

                return fallback;
            }

            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || double.IsNaN(d) || d < min || d > max || (integer && d != Math.Floor(d)))
            {
                Error(name, Describe(v), $"{(integer ? "a whole number" : "a number")} from {Fmt(min)} to {Fmt(max)}");
                return fallback;
            }

            return d;
        }

        public double? OptionalNumber(string name, double min, double max) =>
            TryGet(name, out var v) && v.ValueKind != JsonValueKind.Null ? Number(name, min, min, max) : null;

        public ulong UInt64(string name, ulong fallback)
        {
            if (!TryGet(name, out var v))
            {
                return fallback;
            }

            if (v.ValueKind != JsonValueKind.Number || !v.TryGetUInt64(out var u))
            {
                Error(name, Describe(v), "a whole number from 0 to 18446744073709551615");
                return fallback;
            }

            return u;
        }

        public bool Bool(string name, bool fallback)
        {
            if (!TryGet(name, out var v))
            {
                return fallback;
            }

            if (v.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                Error(name, Describe(v), "true or false");
                return fallback;
            }

            return v.GetBoolean();
        }

        public string String(string name, string fallback, bool required = false, bool allowEmpty = false, int maxLength = ScenarioLimits.MaxNameLength)
        {
            if (!TryGet(name, out var v))
            {
                if (required)
                {
                    errors.Add($"{Path(name)}: missing; expected a non-empty string");
                }

                return fallback;
            }

            if (v.ValueKind != JsonValueKind.String || (!allowEmpty && string.IsNullOrWhiteSpace(v.GetString())))
            {
                Error(name, Describe(v), allowEmpty ? "a string" : "a non-empty string");
                return fallback;
            }

            // Names reach file names, tables and terminals: bounded, and without control characters (a description may hold line breaks).
            var text = v.GetString()!;
            if (text.Length > maxLength)
            {
                Error(name, $"a string of {text.Length} characters", $"at most {maxLength} characters");
                return fallback;
            }

            if (text.Any(c => char.IsControl(c) && !(allowEmpty && c is '\n' or '\r' or '\t')))
            {
                Error(name, $"\"{Shown(text)}\"", "text without control characters");
                return fallback;
            }

            return text;
        }

        public string? OptionalString(string name, int maxLength = ScenarioLimits.MaxNameLength) =>
            TryGet(name, out var v) && v.ValueKind != JsonValueKind.Null ? String(name, "", maxLength: maxLength) : null;

        public T Enum<T>(string name, T fallback, NameTable<T> names)
            where T : struct, System.Enum
        {
            if (!TryGet(name, out var v))
            {
                return fallback;
            }

            if (v.ValueKind != JsonValueKind.String || !names.TryParse(v.GetString()!, out var value))
            {
                Error(name, Describe(v), "one of " + string.Join(", ", names.Names.Select(a => $"\"{a}\"")));
                return fallback;
            }

            return value;
        }

        public Shares Shares(string name)
        {
            if (!TryGet(name, out var v))
            {
                return Core.Allocation.Shares.Normal;
            }

            if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d >= MinShares && d <= MaxShares)
            {
                return Core.Allocation.Shares.Of(d);
            }

            if (v.ValueKind == JsonValueKind.String && ScenarioNames.SharesPreset.TryParse(v.GetString()!, out var level))
            {
                return level switch
                {
                    SharesLevel.Low => Core.Allocation.Shares.Low,
                    SharesLevel.High => Core.Allocation.Shares.High,
                    _ => Core.Allocation.Shares.Normal,
                };
            }

            Error(name, Describe(v), $"{string.Join(", ", ScenarioNames.SharesPreset.Names.Select(a => $"\"{a}\""))} or a number of shares from {Fmt(MinShares)} to {Fmt(MaxShares)}");
            return Core.Allocation.Shares.Normal;
        }

        public int ArrayLength(string name) => TryGet(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.GetArrayLength() : -1;

        /// <summary>Reports every field not in <paramref name="known"/>, and every field given more than once.</summary>
        public void RejectUnknown(params string[] known)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in element.EnumerateObject())
            {
                if (!seen.Add(p.Name))
                {
                    errors.Add($"{Path(Shown(p.Name))}: given more than once; expected each field once (which one counts would be a guess)");
                }
                else if (!known.Contains(p.Name, StringComparer.Ordinal))
                {
                    var near = known.FirstOrDefault(k => string.Equals(k, p.Name, StringComparison.OrdinalIgnoreCase));
                    errors.Add($"{Path(Shown(p.Name))}: unknown field{(near is null ? "" : $" (did you mean \"{near}\"?)")}; expected one of {string.Join(", ", known)}");
                }
            }
        }

        private bool TryGet(string name, out JsonElement value)
        {
            if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out value))
            {
                return true;
            }

            value = default;
            return false;
        }

        private string Path(string name) => path.Length == 0 ? name : $"{path}.{name}";

        private static string Fmt(double d) => d.ToString(CultureInfo.InvariantCulture);

        private static string Describe(JsonElement v) => v.ValueKind switch
        {
            JsonValueKind.String => $"\"{Shown(v.GetString()!)}\"",
            JsonValueKind.Number => Shown(v.GetRawText()),
            JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
            JsonValueKind.Null => "null",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            _ => v.ValueKind.ToString(),
        };
    }
}
