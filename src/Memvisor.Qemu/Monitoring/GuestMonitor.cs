/*
 * Takes a GuestSample of a running guest: QMP (status, balloon actual, guest stats), smaps (through
 * the working-set meter when one is given, so that the mapping is walked once per sample), KSM's
 * per-process files, and the agent's latest report. Nothing here throws for a guest that misbehaves:
 * a QMP error, timeout or closed socket, or a vanished process, becomes a line in Faults and a null
 * figure.
 */
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Qmp;

namespace Memvisor.Qemu.Monitoring;

/// <summary>Samples guests.</summary>
public static class GuestMonitor
{
    /// <summary>
    /// Samples <paramref name="guest"/>; with <paramref name="meter"/>, completes the meter's period
    /// (its smaps read serves the sample, and the next period begins).
    /// </summary>
    public static async Task<GuestSample> SampleAsync(IQemuVm guest, WorkingSetMeter? meter = null, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(guest);
        var now = (time ?? TimeProvider.System).GetUtcNow();
        var faults = new List<string>();
        var alive = !guest.HasExited;

        var status = await Ask(faults, guest.Qmp.QueryStatusAsync, cancellationToken).ConfigureAwait(false);
        var actual = await Ask(faults, guest.Qmp.QueryBalloonActualBytesAsync, cancellationToken).ConfigureAwait(false);
        var stats = await Ask(faults, ct => guest.Qmp.GetGuestStatsAsync(guest.BalloonPath, ct), cancellationToken).ConfigureAwait(false);

        WorkingSetReading? reading = null;
        TimeSpan? ramReadCost = null;
        GuestRamUsage? ram = null;
        if (guest.RamMapping is null)
        {
            faults.Add("guest RAM: mapping not found in /proc/PID/maps");
        }
        else if (meter is not null)
        {
            reading = meter.CompletePeriod();
            ram = reading?.Usage;
        }
        else
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            ram = guest.RamMapping.ReadUsage();
            ramReadCost = clock.Elapsed;
        }

        if (guest.RamMapping is not null && ram is null)
        {
            faults.Add($"guest RAM: /proc/{guest.Pid}/smaps unreadable (QEMU gone?)");
        }

        var ksm = GuestKsm.Read(guest.Pid);
        if (ksm is null && alive)
        {
            faults.Add($"KSM: /proc/{guest.Pid}/ksm_merging_pages unreadable");
        }

        return new GuestSample(
            now,
            guest.Name,
            alive && !guest.HasExited,
            status.Ok ? status.Value : null,
            (long)guest.MemoryMiB << 20,
            actual.Ok ? actual.Value : null,
            ram,
            reading,
            ksm,
            stats.Ok ? stats.Value : null,
            guest.LatestReport,
            faults)
        {
            RamReadCost = reading?.Cost ?? ramReadCost,
        };
    }

    private static async Task<(bool Ok, T Value)> Ask<T>(List<string> faults, Func<CancellationToken, Task<T>> command, CancellationToken cancellationToken)
    {
        try
        {
            return (true, await command(cancellationToken).ConfigureAwait(false));
        }
        catch (QmpException e)
        {
            faults.Add(e.Message);
            return (false, default!);
        }
    }
}
