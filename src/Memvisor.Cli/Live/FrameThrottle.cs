/*
 * When a live view may redraw: the first frame at once, then at most one frame per interval of wall
 * time, and always the last one (the run's end), so that drawing never slows a fast simulation and a
 * slow run still shows every change within the interval.
 */
using System.Diagnostics;

namespace Memvisor.Cli.Live;

/// <summary>Decides which progress reports are drawn.</summary>
/// <param name="intervalTicks">Least time between two frames, in <see cref="Stopwatch"/> ticks.</param>
/// <param name="now">The clock (Stopwatch.GetTimestamp in use; a fake in tests).</param>
internal sealed class FrameThrottle(long intervalTicks, Func<long> now)
{
    private long _lastFrameTicks;
    private bool _drawn;

    /// <summary>About ten frames a second of wall time.</summary>
    public static FrameThrottle TenPerSecond() => new(Stopwatch.Frequency / 10, Stopwatch.GetTimestamp);

    /// <summary>True when this report should be drawn; <paramref name="final"/> marks the run's last report.</summary>
    public bool ShouldDraw(bool final)
    {
        var t = now();
        // No subtraction from a sentinel: the first frame is decided by a flag, not by a time that could overflow.
        if (_drawn && !final && t - _lastFrameTicks < intervalTicks)
        {
            return false;
        }

        _drawn = true;
        _lastFrameTicks = t;
        return true;
    }
}
