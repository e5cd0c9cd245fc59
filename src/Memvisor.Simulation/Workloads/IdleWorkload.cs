using Memvisor.Simulation.Guests;

namespace Memvisor.Simulation.Workloads;

/// <summary>An idle guest: only the kernel's background activity touches memory.</summary>
public sealed class IdleWorkload : IWorkload
{
    /// <inheritdoc/>
    public string Name => "idle";

    /// <inheritdoc/>
    public string WorkUnit => "none";

    /// <inheritdoc/>
    public void Attach(GuestOs guest)
    {
    }

    /// <inheritdoc/>
    public void Run(GuestOs guest, long untilNanoseconds)
    {
        ArgumentNullException.ThrowIfNull(guest);
        if (untilNanoseconds > guest.NowNanoseconds)
        {
            guest.Idle(untilNanoseconds - guest.NowNanoseconds);
        }
    }
}
