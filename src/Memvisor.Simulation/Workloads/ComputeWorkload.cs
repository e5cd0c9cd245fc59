/*
 * A compute benchmark in the style of SPEC95 (paper Figure 4): a small working set of private data and
 * program code read from the guest image's library file through the page cache. VMs booted from the
 * same image run the same code, so their code pages (like their kernels) are identical and the host
 * shares them by content. The data is written before it is read (its first access to a page writes).
 */
using Memvisor.Core.Util;
using Memvisor.Simulation.Guests;

namespace Memvisor.Simulation.Workloads;

/// <summary>How the compute benchmark behaves.</summary>
public sealed record ComputeOptions
{
    /// <summary>Code pages (the first pages of the image's library file).</summary>
    public int CodePages { get; init; } = 1024;

    /// <summary>Private data pages.</summary>
    public int DataPages { get; init; } = 4096;

    /// <summary>Fraction of accesses that fetch code (the rest touch data).</summary>
    public double CodeFraction { get; init; } = 0.5;

    /// <summary>Fraction of data accesses that write.</summary>
    public double WriteFraction { get; init; } = 0.3;

    /// <summary>Accesses per simulated second when no access stalls.</summary>
    public double AccessesPerSecond { get; init; } = 2000;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field, the value and the rule when an option is invalid.</summary>
    public void Validate()
    {
        if (CodePages < 1 || DataPages < 1)
        {
            throw new ArgumentException($"Compute: {CodePages} code and {DataPages} data pages; each must be at least 1.");
        }

        if (CodeFraction is < 0 or > 1 || WriteFraction is < 0 or > 1)
        {
            throw new ArgumentException($"Compute: code fraction {CodeFraction}, write fraction {WriteFraction}; each must be between 0 and 1.");
        }

        if (!(AccessesPerSecond > 0) || !double.IsFinite(AccessesPerSecond))
        {
            throw new ArgumentException($"Compute access rate: {AccessesPerSecond} per second; must be positive and finite.");
        }
    }
}

/// <summary>A SPEC-like compute benchmark: small working set, code shared with VMs of the same image.</summary>
public sealed class ComputeWorkload : IWorkload
{
    private readonly long _accessNanoseconds;
    private DeterministicRandom? _random;
    private GuestSegment _code;
    private GuestSegment _data;
    private WrittenPages? _written;

    /// <summary>Creates a compute benchmark.</summary>
    public ComputeWorkload(ComputeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _accessNanoseconds = (long)(1e9 / options.AccessesPerSecond);
    }

    /// <inheritdoc/>
    public string Name => "compute";

    /// <inheritdoc/>
    public string WorkUnit => "accesses";

    /// <summary>How the benchmark behaves.</summary>
    public ComputeOptions Options { get; }

    /// <inheritdoc/>
    public void Attach(GuestOs guest)
    {
        ArgumentNullException.ThrowIfNull(guest);
        _random = guest.ForkRandom(0x5350_4543);
        _code = guest.OpenLibrary(Options.CodePages);
        _data = guest.CreateAnonymous(Options.DataPages);
        _written = new WrittenPages(Options.DataPages);
    }

    /// <inheritdoc/>
    public void Run(GuestOs guest, long untilNanoseconds)
    {
        ArgumentNullException.ThrowIfNull(guest);
        var random = _random ?? throw new InvalidOperationException("The compute benchmark runs before it was attached to a guest.");
        while (guest.NowNanoseconds < untilNanoseconds)
        {
            if (random.NextDouble() < Options.CodeFraction)
            {
                guest.Read(_code.Page(random.NextInt32(_code.Pages)));
            }
            else
            {
                var index = random.NextInt32(_data.Pages);
                guest.Access(_data.Page(index), _written!.Access(index, random.NextDouble() < Options.WriteFraction));
            }

            guest.Compute(_accessNanoseconds);
            guest.CompleteWork(1);
        }
    }
}
