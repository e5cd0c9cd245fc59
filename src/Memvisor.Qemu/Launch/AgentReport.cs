/*
 * One line of the guest agent's once-a-second report (see Guest/agent.c), parsed:
 *   {"t": 12.0, "state": "running", "phase": 1, "work": 76179, "touched_pages": 8145,
 *    "set_pages": 8192, "alloc_pages": 16384, "filled_pages": 16384, "bad_pages": 0,
 *    "iowait_s": 3.25, "cpus": 1}
 * touched_pages is the truth a host-side working-set estimate is judged against.
 */
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Memvisor.Qemu.Launch;

/// <summary>What the agent is doing.</summary>
public enum AgentState
{
    /// <summary>Allocating and writing its memory (or file).</summary>
    Filling,

    /// <summary>Running its workload.</summary>
    Running,
}

/// <summary>One agent report.</summary>
/// <param name="Seconds">Seconds since the agent started.</param>
/// <param name="State">Filling or running.</param>
/// <param name="Phase">The workload phase (0-based).</param>
/// <param name="Work">Work units done since start (pages touched).</param>
/// <param name="TouchedPages">Distinct pages touched in the last second.</param>
/// <param name="SetPages">Pages in the current working set.</param>
/// <param name="AllocPages">Pages allocated.</param>
/// <param name="FilledPages">Pages filled so far.</param>
public sealed record AgentReport(double Seconds, AgentState State, int Phase, long Work, long TouchedPages, long SetPages, long AllocPages, long FilledPages)
{
    /// <summary>Touches with touch=verify that found a page not as the agent filled it, since start (0 otherwise, and from older agents).</summary>
    public long BadPages { get; init; }

    /// <summary>Seconds the guest's CPUs, summed, stood idle waiting for I/O since it booted; null from agents that do not say (or cannot read /proc/stat).</summary>
    public double? IowaitSeconds { get; init; }

    /// <summary>The guest's online CPUs; null from agents that do not say.</summary>
    public int? Cpus { get; init; }

    /// <summary>Parses one report line; null when it is not one (console noise, a torn line).</summary>
    public static AgentReport? TryParse(string line)
    {
        try
        {
            var wire = JsonSerializer.Deserialize(line, AgentJsonContext.Default.AgentReportWire);
            return wire is null
                ? null
                : new AgentReport(wire.T, wire.State == "running" ? AgentState.Running : AgentState.Filling, wire.Phase, wire.Work, wire.TouchedPages, wire.SetPages, wire.AllocPages, wire.FilledPages) { BadPages = wire.BadPages, IowaitSeconds = wire.IowaitS >= 0 ? wire.IowaitS : null, Cpus = wire.Cpus > 0 ? wire.Cpus : null };
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The report as it is on the wire.</summary>
internal sealed record AgentReportWire(
    [property: JsonPropertyName("t")] double T,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("phase")] int Phase,
    [property: JsonPropertyName("work")] long Work,
    [property: JsonPropertyName("touched_pages")] long TouchedPages,
    [property: JsonPropertyName("set_pages")] long SetPages,
    [property: JsonPropertyName("alloc_pages")] long AllocPages,
    [property: JsonPropertyName("filled_pages")] long FilledPages,
    [property: JsonPropertyName("bad_pages")] long BadPages = 0,
    [property: JsonPropertyName("iowait_s")] double IowaitS = -1,
    [property: JsonPropertyName("cpus")] int Cpus = 0);

/// <summary>Source-generated serializer of agent reports.</summary>
[JsonSerializable(typeof(AgentReportWire))]
internal sealed partial class AgentJsonContext : JsonSerializerContext;
