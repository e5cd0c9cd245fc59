/*
 * The guest's true working set (pages touched in the last window of VM execution time, the clock the
 * sampler's periods run on, so that the truth and the estimate cover the same stretch), kept incrementally.
 *
 * The sampler's estimate is compared with the truth once per sample and VM; counting it by scanning
 * every page's last-touch time cost a pass over the guest's page array each time. Instead the guest
 * logs (execution time, PPN) whenever a touch changes a page's last-touch time (the execution clock never
 * goes back, so the
 * log is in time order) and keeps the number of pages touched at or after the start of the last window
 * asked for. A later window start trims the log from the front: an entry leaves the count when it is
 * still its page's last touch. Entries overtaken by a later touch of the same page are stale; when the
 * log is full they are dropped in place (a page has at most one live entry, so the log, twice the
 * guest's size, is then at most half full). A window that starts before the last one asked for
 * (a longer window) is counted by a scan, as before.
 */
namespace Memvisor.Simulation.Guests;

public abstract partial class GuestOs
{
    private long[] _touchTimes = [];
    private int[] _touchPages = [];
    private int _touchHead;
    private int _touchTail;
    // Every touch at or after this time is in the log, and _windowPages pages were last touched then or later.
    private long _windowStart = long.MinValue;
    private int _windowPages;

    /// <summary>Guest physical pages touched (by anyone in the guest) in the last <paramref name="windowNanoseconds"/> of its execution time: the true working set.</summary>
    public int TouchedPages(long windowNanoseconds)
    {
        var since = ExecutionNanoseconds - windowNanoseconds;
        if (windowNanoseconds < 0 || since < _windowStart)
        {
            return CountTouchedSince(since);
        }

        while (_touchHead < _touchTail && _touchTimes[_touchHead] < since)
        {
            if (_ppn[_touchPages[_touchHead]].LastTouch == _touchTimes[_touchHead])
            {
                _windowPages--;
            }

            _touchHead++;
        }

        _windowStart = since;
        return _windowPages;
    }

    /// <summary>Records that page <paramref name="p"/> was touched now.</summary>
    private void LogTouch(int p)
    {
        ref var page = ref _ppn[p];
        var previous = page.LastTouch;
        var now = ExecutionNanoseconds;
        if (previous == now)
        {
            return;
        }

        page.LastTouch = now;
        if (previous == NeverTouched || previous < _windowStart)
        {
            _windowPages++;
        }

        if (_touchTail == _touchTimes.Length)
        {
            MakeRoomInTouchLog();
        }

        _touchTimes[_touchTail] = now;
        _touchPages[_touchTail] = p;
        _touchTail++;
    }

    private void MakeRoomInTouchLog()
    {
        if (_touchTimes.Length == 0)
        {
            _touchTimes = new long[2 * PageCount];
            _touchPages = new int[2 * PageCount];
            return;
        }

        // Keep the live entries (each its page's last touch), in order, at the front.
        var kept = 0;
        for (var i = _touchHead; i < _touchTail; i++)
        {
            if (_ppn[_touchPages[i]].LastTouch == _touchTimes[i])
            {
                _touchTimes[kept] = _touchTimes[i];
                _touchPages[kept] = _touchPages[i];
                kept++;
            }
        }

        _touchHead = 0;
        _touchTail = kept;
    }

    private int CountTouchedSince(long since)
    {
        var count = 0;
        foreach (ref readonly var page in _ppn.AsSpan())
        {
            var t = page.LastTouch;
            if (t != NeverTouched && t >= since)
            {
                count++;
            }
        }

        return count;
    }
}
