/*
 * How much of a real guest's time it stood waiting for its own disk.
 *
 * The paper runs a VM's sampling period on its execution time (§5.3), and Core advances a VM's period
 * only by what the substrate reports as executed (HostMemoryPolicy, invariant 3). A guest that thrashes
 * on its swap disk touches few pages per second of wall time while it waits, so with periods in wall
 * time it looks idle, is taxed, loses more memory and thrashes more: the simulator's stalled VMs do not
 * advance their clocks for that reason, and a real guest should not either.
 *
 * The guest agent reports, once a second of its own clock, the seconds its CPUs (summed) stood idle
 * while a task waited for I/O since boot (/proc/stat's iowait). Between two reports the stalled share
 * of the guest's time is the iowait's growth per CPU over the time between them, kept in [0, 1]; it
 * holds until the next report (an agent blocked on a fault reports late, and then with the stall it
 * was in). A guest without the agent, or whose agent does not say, is never counted as stalled.
 */
using Memvisor.Qemu.Launch;

namespace Memvisor.Qemu.Substrate;

/// <summary>A guest's stalled share of time, from its agent's successive reports (see the file header).</summary>
public sealed class GuestStall
{
    private double _lastSeconds = double.NaN;
    private double _lastIowaitSeconds = double.NaN;

    /// <summary>The share of the guest's time it stood waiting for I/O between its last two reports, in [0, 1].</summary>
    public double StalledFraction { get; private set; }

    /// <summary>Takes the agent's latest report (the same report again, or null, changes nothing).</summary>
    public void Observe(AgentReport? report)
    {
        if (report is not { IowaitSeconds: { } iowait } || report.Seconds == _lastSeconds)
        {
            return;
        }

        var elapsed = report.Seconds - _lastSeconds;
        var waited = (iowait - _lastIowaitSeconds) / (report.Cpus ?? 1);
        if (elapsed > 0 && waited >= 0)
        {
            StalledFraction = Math.Clamp(waited / elapsed, 0, 1);
        }

        (_lastSeconds, _lastIowaitSeconds) = (report.Seconds, iowait);
    }

    /// <summary>Of <paramref name="elapsed"/> of the guest's running time, what it executed: the rest of its stalled share.</summary>
    public TimeSpan Executed(TimeSpan elapsed) => elapsed * (1 - StalledFraction);
}
