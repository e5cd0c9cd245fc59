/*
 * What simulated time each event costs a guest. A simulated guest's throughput falls when it is short
 * of memory because faults and I/O consume the time its workload would otherwise spend working.
 * Defaults are round figures for the paper's era (a 2002 server with SCSI disks); docs/simulator.md
 * lists them and why.
 */
namespace Memvisor.Simulation.Guests;

/// <summary>Simulated latencies, in nanoseconds.</summary>
public sealed record LatencyModel
{
    /// <summary>A host fault that only remaps a resident page (sampling trap, share comparison).</summary>
    public long MinorFaultNanoseconds { get; init; } = 1_500;

    /// <summary>A host fault on a first touch: the host zeroes a machine page.</summary>
    public long ZeroFillFaultNanoseconds { get; init; } = 2_000;

    /// <summary>A copy-on-write break of a shared page: the host copies 4 KiB.</summary>
    public long CopyOnWriteFaultNanoseconds { get; init; } = 3_000;

    /// <summary>A touch of a page the balloon held: the host zeroes a machine page.</summary>
    public long BalloonTouchFaultNanoseconds { get; init; } = 2_000;

    /// <summary>
    /// The host swap device's latency per request (a random access): a host swap-in is a request of one page,
    /// and waits for what the device has queued ahead of it (SwapDisk); the policy's page-outs of a VM in
    /// one tick are one clustered write.
    /// </summary>
    public long HostSwapInNanoseconds { get; init; } = 6_000_000;

    /// <summary>The host swap device's bandwidth, MiB/s (a 2002 SCSI disk's sequential rate).</summary>
    public double SwapDeviceMegabytesPerSecond { get; init; } = 100;

    /// <summary>A guest page fault that needs no I/O (first touch of anonymous memory, the guest zeroes a page).</summary>
    public long GuestMinorFaultNanoseconds { get; init; } = 1_000;

    /// <summary>A page read from the guest's virtual disk (a page-cache miss or a guest swap-in): one random read.</summary>
    public long GuestDiskReadNanoseconds { get; init; } = 6_000_000;

    /// <summary>A page written to the guest's virtual disk (guest swap-out, dirty page write-back), amortised over clustered asynchronous writes.</summary>
    public long GuestDiskWriteNanoseconds { get; init; } = 1_000_000;

    /// <summary>A DMA transfer of a high page copied through a low bounce buffer (paper §7): copying 4 KiB.</summary>
    public long BounceCopyNanoseconds { get; init; } = 2_000;

    /// <summary>The defaults.</summary>
    public static LatencyModel Default { get; } = new();

    /// <summary>The defaults with what a scenario's <c>latencies</c> sets (microseconds, rounded to whole nanoseconds).</summary>
    public static LatencyModel From(Memvisor.Scenarios.LatencySpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var d = Default;
        return new LatencyModel
        {
            MinorFaultNanoseconds = Ns(spec.MinorFaultMicroseconds, d.MinorFaultNanoseconds),
            ZeroFillFaultNanoseconds = Ns(spec.ZeroFillFaultMicroseconds, d.ZeroFillFaultNanoseconds),
            CopyOnWriteFaultNanoseconds = Ns(spec.CopyOnWriteFaultMicroseconds, d.CopyOnWriteFaultNanoseconds),
            BalloonTouchFaultNanoseconds = Ns(spec.BalloonTouchFaultMicroseconds, d.BalloonTouchFaultNanoseconds),
            HostSwapInNanoseconds = Ns(spec.HostSwapInMicroseconds, d.HostSwapInNanoseconds),
            GuestMinorFaultNanoseconds = Ns(spec.GuestMinorFaultMicroseconds, d.GuestMinorFaultNanoseconds),
            GuestDiskReadNanoseconds = Ns(spec.GuestDiskReadMicroseconds, d.GuestDiskReadNanoseconds),
            GuestDiskWriteNanoseconds = Ns(spec.GuestDiskWriteMicroseconds, d.GuestDiskWriteNanoseconds),
            BounceCopyNanoseconds = Ns(spec.BounceCopyMicroseconds, d.BounceCopyNanoseconds),
            SwapDeviceMegabytesPerSecond = spec.SwapDeviceMBPerSecond ?? d.SwapDeviceMegabytesPerSecond,
        };

        static long Ns(double? microseconds, long fallback) => microseconds is { } us ? (long)Math.Round(us * 1000) : fallback;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and rule when a latency is negative.</summary>
    public void Validate()
    {
        Check(MinorFaultNanoseconds, nameof(MinorFaultNanoseconds));
        Check(ZeroFillFaultNanoseconds, nameof(ZeroFillFaultNanoseconds));
        Check(CopyOnWriteFaultNanoseconds, nameof(CopyOnWriteFaultNanoseconds));
        Check(BalloonTouchFaultNanoseconds, nameof(BalloonTouchFaultNanoseconds));
        Check(HostSwapInNanoseconds, nameof(HostSwapInNanoseconds));
        Check(GuestMinorFaultNanoseconds, nameof(GuestMinorFaultNanoseconds));
        Check(GuestDiskReadNanoseconds, nameof(GuestDiskReadNanoseconds));
        Check(GuestDiskWriteNanoseconds, nameof(GuestDiskWriteNanoseconds));
        Check(BounceCopyNanoseconds, nameof(BounceCopyNanoseconds));
        if (!(SwapDeviceMegabytesPerSecond > 0) || !double.IsFinite(SwapDeviceMegabytesPerSecond))
        {
            throw new ArgumentException($"Swap device bandwidth: {SwapDeviceMegabytesPerSecond} MB/s; must be a positive number.");
        }
    }

    private static void Check(long value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentException($"Latency {name}: {value} ns; must not be negative.");
        }
    }
}
