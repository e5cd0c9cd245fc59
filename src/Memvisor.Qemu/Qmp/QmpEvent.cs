/*
 * Asynchronous QMP events: {"event": NAME, "data": {...}, "timestamp": {"seconds": S, "microseconds": U}}.
 *
 * QEMU sends events between replies at any time. The ones a memory manager cares about are mapped
 * to QmpEventKind; anything else arrives as Other with its name kept. Data stays a JsonElement
 * (cloned, so it outlives the document it came from): each event's fields differ, and the few that
 * matter have typed accessors here (BALLOON_CHANGE's "actual").
 */
using System.Text.Json;

namespace Memvisor.Qemu.Qmp;

/// <summary>The QMP events Memvisor reacts to.</summary>
public enum QmpEventKind
{
    /// <summary>Any other event (see <see cref="QmpEvent.Name"/>).</summary>
    Other,

    /// <summary>BALLOON_CHANGE: the guest's balloon changed size; data.actual is the guest's memory in bytes.</summary>
    BalloonChange,

    /// <summary>SHUTDOWN: the guest shut down or QEMU was asked to quit.</summary>
    Shutdown,

    /// <summary>POWERDOWN: an ACPI power-down request reached the guest.</summary>
    Powerdown,

    /// <summary>RESET: the guest reset.</summary>
    Reset,

    /// <summary>STOP: the VM stopped running (paused, or halted by an error such as a KVM internal error).</summary>
    Stop,

    /// <summary>RESUME: the VM runs again.</summary>
    Resume,

    /// <summary>GUEST_PANICKED: the guest kernel panicked (pvpanic).</summary>
    GuestPanicked,
}

/// <summary>One QMP event.</summary>
/// <param name="Kind">The event, mapped.</param>
/// <param name="Name">The event's name as QEMU sent it.</param>
/// <param name="Data">The event's data object, or an undefined element when it had none.</param>
/// <param name="Timestamp">When QEMU emitted the event (host wall clock).</param>
public sealed record QmpEvent(QmpEventKind Kind, string Name, JsonElement Data, DateTimeOffset Timestamp)
{
    /// <summary>BALLOON_CHANGE's data.actual: the guest's memory in bytes; null for other events.</summary>
    public long? BalloonActualBytes =>
        Kind == QmpEventKind.BalloonChange && Data.ValueKind == JsonValueKind.Object
            && Data.TryGetProperty("actual", out var actual) && actual.TryGetInt64(out var bytes)
            ? bytes
            : null;

    /// <summary>Maps an event name to its kind.</summary>
    public static QmpEventKind KindOf(string name) => name switch
    {
        "BALLOON_CHANGE" => QmpEventKind.BalloonChange,
        "SHUTDOWN" => QmpEventKind.Shutdown,
        "POWERDOWN" => QmpEventKind.Powerdown,
        "RESET" => QmpEventKind.Reset,
        "STOP" => QmpEventKind.Stop,
        "RESUME" => QmpEventKind.Resume,
        "GUEST_PANICKED" => QmpEventKind.GuestPanicked,
        _ => QmpEventKind.Other,
    };
}
