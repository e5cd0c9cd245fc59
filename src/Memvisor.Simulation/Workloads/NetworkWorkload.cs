/*
 * A network-heavy guest (paper §7): an echo server whose network card can address only low memory.
 * Each operation receives a packet into a socket buffer page by DMA and the server reads it, or sends a
 * buffer back out by DMA. Buffer popularity is Zipf, so a few buffers carry most of the traffic: those
 * are the hot pages the host remaps to low memory, after which their transfers need no bounce copy.
 * Every transmitted page is checked against the guest's record, so remapping is covered by the
 * no-data-loss check like every other mechanism. Throughput is packets (page transfers) per second.
 */
using Memvisor.Core.Util;
using Memvisor.Simulation.Guests;

namespace Memvisor.Simulation.Workloads;

/// <summary>How the network workload behaves.</summary>
public sealed record NetworkOptions
{
    /// <summary>Socket buffer pages.</summary>
    public int BufferPages { get; init; } = 1024;

    /// <summary>Zipf exponent of buffer popularity (0: every buffer equally likely).</summary>
    public double ZipfExponent { get; init; } = 1.0;

    /// <summary>Fraction of operations that receive (the rest transmit).</summary>
    public double ReceiveFraction { get; init; } = 0.5;

    /// <summary>CPU time of one operation (protocol processing).</summary>
    public long OperationCpuNanoseconds { get; init; } = 250_000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field, the value and the rule when an option is invalid.</summary>
    public void Validate()
    {
        if (BufferPages < 1)
        {
            throw new ArgumentException($"Network buffers: {BufferPages} pages; must be at least 1.");
        }

        if (!(ZipfExponent >= 0) || !double.IsFinite(ZipfExponent))
        {
            throw new ArgumentException($"Network Zipf exponent: {ZipfExponent}; must be finite and not negative.");
        }

        if (ReceiveFraction is < 0 or > 1)
        {
            throw new ArgumentException($"Network receive fraction: {ReceiveFraction}; must be between 0 and 1.");
        }

        if (OperationCpuNanoseconds < 1)
        {
            throw new ArgumentException($"Network operation CPU time: {OperationCpuNanoseconds} ns; must be at least 1 ns.");
        }
    }
}

/// <summary>An echo server moving pages by DMA through a low-memory-only network card.</summary>
public sealed class NetworkWorkload : IWorkload
{
    private DeterministicRandom? _random;
    private ZipfSampler? _buffers;
    private GuestSegment _memory;

    /// <summary>Creates a network workload.</summary>
    public NetworkWorkload(NetworkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <inheritdoc/>
    public string Name => "network";

    /// <inheritdoc/>
    public string WorkUnit => "packets";

    /// <summary>How the workload behaves.</summary>
    public NetworkOptions Options { get; }

    /// <inheritdoc/>
    public void Attach(GuestOs guest)
    {
        ArgumentNullException.ThrowIfNull(guest);
        _random = guest.ForkRandom(0x4E45_5457);
        _memory = guest.CreateAnonymous(Options.BufferPages);
        _buffers = new ZipfSampler(Options.BufferPages, Options.ZipfExponent);
    }

    /// <inheritdoc/>
    public void Run(GuestOs guest, long untilNanoseconds)
    {
        ArgumentNullException.ThrowIfNull(guest);
        var random = _random ?? throw new InvalidOperationException("The network workload runs before it was attached to a guest.");
        var buffers = _buffers!;
        while (guest.NowNanoseconds < untilNanoseconds)
        {
            var page = _memory.Page(buffers.Next(random));
            if (random.NextDouble() < Options.ReceiveFraction)
            {
                guest.Receive(page, guest.NewToken());
                guest.Read(page);
            }
            else
            {
                guest.Transmit(page);
            }

            guest.Compute(Options.OperationCpuNanoseconds);
            guest.CompleteWork(1);
        }
    }
}
