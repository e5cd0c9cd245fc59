/*
 * The simulator's discrete-event engine. Simulated time is an integer number of nanoseconds; events
 * run in order of (time, sequence number), the sequence number being the order in which they were
 * scheduled, so two events at the same time always run in the same order. Nothing here reads the wall
 * clock: a run depends only on what was scheduled, and so only on the scenario and its seed.
 */
namespace Memvisor.Simulation.Engine;

/// <summary>Deterministic discrete-event engine.</summary>
public sealed class EventEngine
{
    /// <summary>Nanoseconds per second.</summary>
    public const long NanosecondsPerSecond = 1_000_000_000;

    private readonly PriorityQueue<Action, (long Time, long Sequence)> _queue = new();
    private long _sequence;

    /// <summary>The current simulated time, in nanoseconds.</summary>
    public long NowNanoseconds { get; private set; }

    /// <summary>The current simulated time.</summary>
    public TimeSpan Now => TimeSpan.FromTicks(NowNanoseconds / 100);

    /// <summary>Events run so far.</summary>
    public long EventsRun { get; private set; }

    /// <summary>Events waiting.</summary>
    public int Pending => _queue.Count;

    /// <summary>Runs <paramref name="action"/> at simulated time <paramref name="atNanoseconds"/> (not before now).</summary>
    public void ScheduleAt(long atNanoseconds, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        if (atNanoseconds < NowNanoseconds)
        {
            throw new ArgumentOutOfRangeException(nameof(atNanoseconds), $"Cannot schedule at {atNanoseconds} ns, before now ({NowNanoseconds} ns).");
        }

        _queue.Enqueue(action, (atNanoseconds, _sequence++));
    }

    /// <summary>Runs <paramref name="action"/> after <paramref name="delayNanoseconds"/>.</summary>
    public void ScheduleAfter(long delayNanoseconds, Action action)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(delayNanoseconds);
        ScheduleAt(NowNanoseconds + delayNanoseconds, action);
    }

    /// <summary>
    /// Runs <paramref name="action"/> every <paramref name="periodNanoseconds"/>, first at
    /// <paramref name="firstAtNanoseconds"/>, for as long as it returns true.
    /// </summary>
    public void SchedulePeriodic(long firstAtNanoseconds, long periodNanoseconds, Func<bool> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(periodNanoseconds);
        void Tick()
        {
            if (action())
            {
                ScheduleAfter(periodNanoseconds, Tick);
            }
        }

        ScheduleAt(firstAtNanoseconds, Tick);
    }

    /// <summary>Runs events in order until none is due at or before <paramref name="endNanoseconds"/>; time then stands at the end.</summary>
    public void RunUntil(long endNanoseconds)
    {
        while (_queue.TryPeek(out _, out var key) && key.Time <= endNanoseconds)
        {
            var action = _queue.Dequeue();
            NowNanoseconds = key.Time;
            EventsRun++;
            action();
        }

        NowNanoseconds = Math.Max(NowNanoseconds, endNanoseconds);
    }

    /// <summary>Simulated nanoseconds in <paramref name="seconds"/> seconds.</summary>
    public static long Nanoseconds(double seconds) => (long)Math.Round(seconds * NanosecondsPerSecond);
}
