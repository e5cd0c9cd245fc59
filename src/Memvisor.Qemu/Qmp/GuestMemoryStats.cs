/*
 * The statistics a guest's virtio-balloon driver reports (when QEMU polls it: qom-set
 * guest-stats-polling-interval), read with qom-get guest-stats:
 *   {"stats": {"stat-swap-in": B, "stat-swap-out": B, "stat-major-faults": N, "stat-minor-faults": N,
 *              "stat-free-memory": B, "stat-total-memory": B, "stat-available-memory": B,
 *              "stat-disk-caches": B, "stat-htlb-pgalloc": N, "stat-htlb-pgfail": N},
 *    "last-update": unix seconds}
 * Swap and memory figures are bytes, faults are counts. A statistic the guest has not reported is
 * absent or carries an out-of-range value (QEMU's "unset" marker, -1 or 2^64-1); it reads as null.
 */
using System.Text.Json;

namespace Memvisor.Qemu.Qmp;

/// <summary>A guest's memory statistics from its balloon driver; null where the guest gave none.</summary>
/// <param name="SwapInBytes">Memory the guest swapped in since boot.</param>
/// <param name="SwapOutBytes">Memory the guest swapped out since boot.</param>
/// <param name="MajorFaults">Major page faults since boot.</param>
/// <param name="MinorFaults">Minor page faults since boot.</param>
/// <param name="FreeBytes">Memory the guest does not use at all.</param>
/// <param name="TotalBytes">Memory the guest's kernel manages (MemTotal).</param>
/// <param name="AvailableBytes">The guest's estimate of memory available to new work (MemAvailable).</param>
/// <param name="DiskCachesBytes">Page cache the guest could drop.</param>
/// <param name="LastUpdate">When the guest last reported; null if it never did.</param>
public sealed record GuestMemoryStats(
    long? SwapInBytes,
    long? SwapOutBytes,
    long? MajorFaults,
    long? MinorFaults,
    long? FreeBytes,
    long? TotalBytes,
    long? AvailableBytes,
    long? DiskCachesBytes,
    DateTimeOffset? LastUpdate)
{
    /// <summary>Reads the value of the guest-stats property.</summary>
    /// <exception cref="QmpProtocolException">The value is not an object.</exception>
    public static GuestMemoryStats Parse(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new QmpProtocolException("qom-get guest-stats", $"expected an object, got {value.ValueKind}");
        }

        var stats = value.TryGetProperty("stats", out var s) && s.ValueKind == JsonValueKind.Object ? s : default;
        long? Stat(string name) =>
            stats.ValueKind == JsonValueKind.Object && stats.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) && n >= 0 ? n : null;

        DateTimeOffset? lastUpdate = value.TryGetProperty("last-update", out var u) && u.TryGetInt64(out var seconds) && seconds > 0
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
        return new GuestMemoryStats(
            Stat("stat-swap-in"),
            Stat("stat-swap-out"),
            Stat("stat-major-faults"),
            Stat("stat-minor-faults"),
            Stat("stat-free-memory"),
            Stat("stat-total-memory"),
            Stat("stat-available-memory"),
            Stat("stat-disk-caches"),
            lastUpdate);
    }
}
