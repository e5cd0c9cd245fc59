/*
 * The host's swap disk in simulated time: one device that serves requests one after another, in the
 * order they are submitted. A request of n pages submitted at time t starts when the device is free
 * (max(t, busy until)), takes the per-request latency (a seek: a random access) plus n pages at the
 * device's bandwidth, and completes then; the device is busy until that completion. A host swap-in is
 * a request of one page, and the faulting VM waits until it completes (so it waits behind whatever is
 * queued: the policy's page-outs, other VMs' swap-ins). The policy's page-outs of one VM in one tick are
 * one clustered write. The policy asks how many pages a write submitted now could complete within its
 * tick (WritablePages) and pages no more: paging costs time the policy sees.
 *
 * Guests run one after another within a quantum (SimulatedHost), so a request may queue behind one
 * another VM submitted later in the same quantum: an error of at most one quantum in the order.
 * Deterministic (integer nanoseconds); nothing allocates.
 *
 * Invariants:
 *   1. Completions are non-decreasing in submission order, and each is at least its submission time
 *      plus the latency plus its pages' transfer time.
 *   2. The device is never serving two requests at once: a request starts no earlier than the previous
 *      one completed.
 */
namespace Memvisor.Simulation.Memory;

/// <summary>A FIFO swap device with a per-request latency and a bandwidth, in simulated nanoseconds.</summary>
public sealed class SwapDisk
{
    private readonly double _nanosecondsPerPage;
    private long _busyUntil;

    /// <summary>A device whose requests take <paramref name="requestLatencyNanoseconds"/> plus each page at <paramref name="megabytesPerSecond"/> MiB/s.</summary>
    /// <exception cref="ArgumentOutOfRangeException">the latency is negative or the bandwidth not positive and finite.</exception>
    public SwapDisk(long requestLatencyNanoseconds, double megabytesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requestLatencyNanoseconds);
        if (!(megabytesPerSecond > 0) || !double.IsFinite(megabytesPerSecond))
        {
            throw new ArgumentOutOfRangeException(nameof(megabytesPerSecond), megabytesPerSecond, "Swap device bandwidth must be a positive number of MB/s.");
        }

        RequestLatencyNanoseconds = requestLatencyNanoseconds;
        _nanosecondsPerPage = 4096 * 1e9 / (megabytesPerSecond * 1024 * 1024);
    }

    /// <summary>What every request costs before its pages move (a random access).</summary>
    public long RequestLatencyNanoseconds { get; }

    /// <summary>When the device finishes what is queued.</summary>
    public long BusyUntilNanoseconds => _busyUntil;

    /// <summary>Requests served so far.</summary>
    public long Requests { get; private set; }

    /// <summary>Pages moved so far.</summary>
    public long Pages { get; private set; }

    /// <summary>Time a request of <paramref name="pages"/> pages occupies the device once it starts.</summary>
    public long ServiceNanoseconds(int pages) => RequestLatencyNanoseconds + (long)Math.Round(pages * _nanosecondsPerPage);

    /// <summary>Queues a request of <paramref name="pages"/> pages submitted at <paramref name="nowNanoseconds"/>; returns when it completes.</summary>
    public long Submit(long nowNanoseconds, int pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pages);
        var done = Math.Max(nowNanoseconds, _busyUntil) + ServiceNanoseconds(pages);
        _busyUntil = done;
        Requests++;
        Pages += pages;
        return done;
    }

    /// <summary>Pages one request submitted at <paramref name="nowNanoseconds"/> could move and complete within <paramref name="horizonNanoseconds"/>.</summary>
    public int WritablePages(long nowNanoseconds, long horizonNanoseconds)
    {
        var free = nowNanoseconds + horizonNanoseconds - Math.Max(nowNanoseconds, _busyUntil) - RequestLatencyNanoseconds;
        return free <= 0 ? 0 : (int)Math.Min(int.MaxValue, Math.Floor(free / _nanosecondsPerPage));
    }
}
