/*
 * The JSON shapes of the QMP commands Memvisor sends and the replies it reads, with a
 * source-generated serializer context (no reflection at run time).
 *
 * Wire facts (QMP specification, QEMU 7.2):
 *   request   {"execute": "balloon", "arguments": {"value": 268435456}, "id": 7}
 *   reply     {"return": {...}, "id": 7}   or   {"error": {"class": "...", "desc": "..."}, "id": 7}
 *   balloon           arguments.value: the guest's target memory in bytes; returns {} at once
 *   query-balloon     returns {"actual": bytes}: the guest's memory now (configured minus balloon)
 *   query-status      returns {"running": bool, "status": "running" | "paused" | "internal-error" ...}
 *   qom-set / qom-get arguments {"path", "property"[, "value"]}; on the balloon device
 *                     "guest-stats-polling-interval" (seconds; 0 stops) and "guest-stats"
 *                     ({"stats": {"stat-free-memory": bytes, ...}, "last-update": unix seconds})
 */
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Memvisor.Qemu.Qmp;

/// <summary>A request on the wire.</summary>
internal sealed record QmpRequest(
    [property: JsonPropertyName("execute")] string Execute,
    [property: JsonPropertyName("arguments"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Arguments,
    [property: JsonPropertyName("id")] long Id);

/// <summary>Arguments of <c>balloon</c>.</summary>
internal sealed record BalloonArguments([property: JsonPropertyName("value")] long ValueBytes);

/// <summary>Arguments of <c>qom-get</c>.</summary>
internal sealed record QomGetArguments(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("property")] string Property);

/// <summary>Arguments of <c>qom-set</c> with an integer value.</summary>
internal sealed record QomSetIntegerArguments(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("property")] string Property,
    [property: JsonPropertyName("value")] long Value);

/// <summary>The reply of <c>query-balloon</c>.</summary>
internal sealed record BalloonInfoReply([property: JsonPropertyName("actual")] long ActualBytes);

/// <summary>The reply of <c>query-status</c>.</summary>
internal sealed record StatusInfoReply(
    [property: JsonPropertyName("running")] bool Running,
    [property: JsonPropertyName("status")] string Status);

/// <summary>The value of the balloon's <c>guest-stats</c> property.</summary>
internal sealed record GuestStatsReply(
    [property: JsonPropertyName("stats")] Dictionary<string, long>? Stats,
    [property: JsonPropertyName("last-update")] long LastUpdateUnixSeconds);

/// <summary>Source-generated serializers for the QMP messages above.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(QmpRequest))]
[JsonSerializable(typeof(BalloonArguments))]
[JsonSerializable(typeof(QomGetArguments))]
[JsonSerializable(typeof(QomSetIntegerArguments))]
[JsonSerializable(typeof(BalloonInfoReply))]
[JsonSerializable(typeof(StatusInfoReply))]
[JsonSerializable(typeof(GuestStatsReply))]
internal sealed partial class QmpJsonContext : JsonSerializerContext;
