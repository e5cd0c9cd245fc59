namespace Memvisor.Core.Util;

/// <summary>
/// A clock that moves only when told: Core's components read time from it, and the substrate advances
/// it (simulated time in the simulator, elapsed real time under KVM), so Core never reads the wall clock.
/// </summary>
public sealed class ManualClock : TimeProvider
{
    private static readonly DateTimeOffset Epoch = new(2002, 12, 9, 0, 0, 0, TimeSpan.Zero); // OSDI 2002

    /// <summary>Time since the clock started.</summary>
    public TimeSpan Elapsed { get; private set; }

    /// <summary>Moves the clock forward.</summary>
    public void Advance(TimeSpan delta)
    {
        if (delta < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(delta), "Time does not run backwards.");
        }

        Elapsed += delta;
    }

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => Epoch + Elapsed;

    /// <inheritdoc/>
    public override long GetTimestamp() => Elapsed.Ticks;

    /// <inheritdoc/>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
}
