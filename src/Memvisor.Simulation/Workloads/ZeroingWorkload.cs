/*
 * A zeroing workload: a program that fills a buffer with zeros page by page, over and over, and
 * (optionally) frees and reallocates it after each pass. Its pages are all zero, so the host can share
 * them with the zero page; every pass writes them again, breaking copy-on-write.
 */
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Images;

namespace Memvisor.Simulation.Workloads;

/// <summary>How the zeroing workload behaves.</summary>
public sealed record ZeroingOptions
{
    /// <summary>Pages in the buffer.</summary>
    public int BufferPages { get; init; } = 8192;

    /// <summary>Pages zeroed per simulated second when nothing stalls.</summary>
    public double PagesPerSecond { get; init; } = 2000;

    /// <summary>Free the buffer after each pass and allocate it again.</summary>
    public bool ReleaseAfterPass { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field, the value and the rule when an option is invalid.</summary>
    public void Validate()
    {
        if (BufferPages < 1)
        {
            throw new ArgumentException($"Zeroing buffer: {BufferPages} pages; must be at least 1.");
        }

        if (!(PagesPerSecond > 0) || !double.IsFinite(PagesPerSecond))
        {
            throw new ArgumentException($"Zeroing rate: {PagesPerSecond} pages per second; must be positive and finite.");
        }
    }
}

/// <summary>Zeroes a buffer page by page, pass after pass.</summary>
public sealed class ZeroingWorkload : IWorkload
{
    private readonly long _pageNanoseconds;
    private GuestSegment _buffer;
    private int _next;

    /// <summary>Creates a zeroing workload.</summary>
    public ZeroingWorkload(ZeroingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _pageNanoseconds = (long)(1e9 / options.PagesPerSecond);
    }

    /// <inheritdoc/>
    public string Name => "zeroing";

    /// <inheritdoc/>
    public string WorkUnit => "pages zeroed";

    /// <summary>How the workload behaves.</summary>
    public ZeroingOptions Options { get; }

    /// <inheritdoc/>
    public void Attach(GuestOs guest)
    {
        ArgumentNullException.ThrowIfNull(guest);
        _buffer = guest.CreateAnonymous(Options.BufferPages);
    }

    /// <inheritdoc/>
    public void Run(GuestOs guest, long untilNanoseconds)
    {
        ArgumentNullException.ThrowIfNull(guest);
        while (guest.NowNanoseconds < untilNanoseconds)
        {
            guest.Write(_buffer.Page(_next), PageContent.Zero);
            guest.Compute(_pageNanoseconds);
            guest.CompleteWork(1);
            if (++_next == _buffer.Pages)
            {
                _next = 0;
                if (Options.ReleaseAfterPass)
                {
                    for (var i = 0; i < _buffer.Pages; i++)
                    {
                        guest.Release(_buffer.Page(i));
                    }
                }
            }
        }
    }
}
