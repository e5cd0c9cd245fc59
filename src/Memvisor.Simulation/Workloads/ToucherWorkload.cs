/*
 * The memory toucher of the paper's Figure 6: a program that touches a working set of pages, whose size
 * changes over time in phases. Accesses are uniform or Zipf over the current working set, or cover all
 * of it in every pass (cyclic: page after page; strided: every StridePages-th page, then the next lane),
 * as the paper's toucher repeatedly accessed all the memory it allocated; a fraction
 * are writes, and the first access to a page always writes it (the program initialises its memory). When a phase shrinks the working set the toucher frees the pages it no longer uses (so
 * the guest's free-page behaviour shows: stale on Linux, zeroed on Windows); when it grows again they
 * come back as fresh zero pages.
 */
using Memvisor.Core.Util;
using Memvisor.Scenarios;
using Memvisor.Simulation.Guests;

namespace Memvisor.Simulation.Workloads;

/// <summary>A working-set size from a point in time on.</summary>
/// <param name="StartSeconds">Seconds after the toucher starts.</param>
/// <param name="WorkingSetPages">Pages touched from then on.</param>
public readonly record struct ToucherPhase(double StartSeconds, int WorkingSetPages);

/// <summary>How the toucher behaves.</summary>
public sealed record ToucherOptions
{
    /// <summary>Pages touched from the start (until the first phase).</summary>
    public int WorkingSetPages { get; init; } = 16384;

    /// <summary>Uniform or Zipf over the working set, or every page of it in turn (cyclic, strided).</summary>
    public AccessPattern Pattern { get; init; } = AccessPattern.Uniform;

    /// <summary>The stride of the strided pattern, in pages (16: 64 KiB).</summary>
    public int StridePages { get; init; } = 16;

    /// <summary>The Zipf exponent s (Zipf pattern only).</summary>
    public double ZipfExponent { get; init; } = 1.0;

    /// <summary>Fraction of accesses that write the page.</summary>
    public double WriteFraction { get; init; } = 0.3;

    /// <summary>Accesses per simulated second when no access stalls (each stands for a batch of work on one page).</summary>
    public double AccessesPerSecond { get; init; } = 2000;

    /// <summary>Working-set changes over time, in order of start time.</summary>
    public IReadOnlyList<ToucherPhase> Phases { get; init; } = [];

    /// <summary>Free the pages beyond the working set when it shrinks.</summary>
    public bool ReleaseOnShrink { get; init; } = true;

    /// <summary>The largest working set over all phases: the memory the toucher allocates.</summary>
    public int MaxWorkingSetPages => Phases.Aggregate(WorkingSetPages, (max, phase) => Math.Max(max, phase.WorkingSetPages));

    /// <summary>Throws <see cref="ArgumentException"/> naming the field, the value and the rule when an option is invalid.</summary>
    public void Validate()
    {
        if (WorkingSetPages < 1)
        {
            throw new ArgumentException($"Toucher working set: {WorkingSetPages} pages; must be at least 1.");
        }

        if (!(ZipfExponent >= 0) || !double.IsFinite(ZipfExponent))
        {
            throw new ArgumentException($"Toucher Zipf exponent: {ZipfExponent}; must be finite and not negative.");
        }

        if (StridePages < 1)
        {
            throw new ArgumentException($"Toucher stride: {StridePages} pages; must be at least 1.");
        }

        if (WriteFraction is < 0 or > 1)
        {
            throw new ArgumentException($"Toucher write fraction: {WriteFraction}; must be between 0 and 1.");
        }

        if (!(AccessesPerSecond > 0) || !double.IsFinite(AccessesPerSecond))
        {
            throw new ArgumentException($"Toucher access rate: {AccessesPerSecond} per second; must be positive and finite.");
        }

        for (var i = 0; i < Phases.Count; i++)
        {
            var phase = Phases[i];
            if (phase.WorkingSetPages < 1 || !(phase.StartSeconds >= 0) || !double.IsFinite(phase.StartSeconds))
            {
                throw new ArgumentException($"Toucher phase {i}: {phase.WorkingSetPages} pages from {phase.StartSeconds} s; needs at least 1 page and a finite start time not before 0 s.");
            }

            if (i > 0 && phase.StartSeconds <= Phases[i - 1].StartSeconds)
            {
                throw new ArgumentException($"Toucher phase {i}: starts at {phase.StartSeconds} s, not after phase {i - 1} ({Phases[i - 1].StartSeconds} s); phases must be in order.");
            }
        }
    }
}

/// <summary>Touches a working set whose size changes in phases (paper Figure 6).</summary>
public sealed class ToucherWorkload : IWorkload
{
    private readonly long _accessNanoseconds;
    private DeterministicRandom? _random;
    private ZipfSampler? _zipf;
    private GuestSegment _memory;
    private WrittenPages? _written;
    private long _startNanoseconds;
    private int _nextPhase;
    // Cyclic and strided: the next page, and (strided) the lane the pass is in.
    private int _position;
    private int _lane;
    private long _nextPhaseNanoseconds = long.MaxValue;

    /// <summary>Creates a toucher.</summary>
    public ToucherWorkload(ToucherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _accessNanoseconds = (long)(1e9 / options.AccessesPerSecond);
        WorkingSetPages = options.WorkingSetPages;
    }

    /// <inheritdoc/>
    public string Name => "toucher";

    /// <inheritdoc/>
    public string WorkUnit => "accesses";

    /// <summary>How the toucher behaves.</summary>
    public ToucherOptions Options { get; }

    /// <summary>The working set the toucher is configured to touch now, in pages.</summary>
    public int WorkingSetPages { get; private set; }

    /// <inheritdoc/>
    public void Attach(GuestOs guest)
    {
        ArgumentNullException.ThrowIfNull(guest);
        _random = guest.ForkRandom(0x544F_5543);
        _memory = guest.CreateAnonymous(Options.MaxWorkingSetPages);
        _written = new WrittenPages(Options.MaxWorkingSetPages);
        _startNanoseconds = guest.NowNanoseconds;
        SetWorkingSet(guest, Options.WorkingSetPages);
        ScheduleNextPhase();
    }

    /// <inheritdoc/>
    public void Run(GuestOs guest, long untilNanoseconds)
    {
        ArgumentNullException.ThrowIfNull(guest);
        var random = _random ?? throw new InvalidOperationException("The toucher runs before it was attached to a guest.");
        while (guest.NowNanoseconds < untilNanoseconds)
        {
            while (guest.NowNanoseconds >= _nextPhaseNanoseconds)
            {
                SetWorkingSet(guest, Options.Phases[_nextPhase].WorkingSetPages);
                _nextPhase++;
                ScheduleNextPhase();
            }

            var index = NextPage(random);
            guest.Access(_memory.First + index, _written!.Access(index, random.NextDouble() < Options.WriteFraction));

            guest.Compute(_accessNanoseconds);
            guest.CompleteWork(1);
        }
    }

    /// <summary>The next page of the working set the pattern touches.</summary>
    private int NextPage(DeterministicRandom random)
    {
        switch (Options.Pattern)
        {
            case AccessPattern.Zipf:
                return _zipf!.Next(random);
            case AccessPattern.Cyclic:
                var page = _position;
                _position = page + 1 == WorkingSetPages ? 0 : page + 1;
                return page;
            case AccessPattern.Strided:
                var strided = _position;
                _position += Options.StridePages;
                if (_position >= WorkingSetPages)
                {
                    // The lane is done: the next starts one page further; after the last lane, the pass starts again.
                    _lane = _lane + 1 >= Math.Min(Options.StridePages, WorkingSetPages) ? 0 : _lane + 1;
                    _position = _lane;
                }

                return strided;
            default:
                return random.NextInt32(WorkingSetPages);
        }
    }

    private void SetWorkingSet(GuestOs guest, int pages)
    {
        if (pages < WorkingSetPages && Options.ReleaseOnShrink)
        {
            for (var i = pages; i < WorkingSetPages; i++)
            {
                guest.Release(_memory.Page(i));
                _written!.Forget(i);
            }
        }

        WorkingSetPages = pages;
        // A new working set starts a new pass.
        _position = 0;
        _lane = 0;
        _zipf = Options.Pattern == AccessPattern.Zipf ? new ZipfSampler(pages, Options.ZipfExponent) : null;
    }

    private void ScheduleNextPhase() =>
        _nextPhaseNanoseconds = _nextPhase < Options.Phases.Count
            ? _startNanoseconds + (long)(Options.Phases[_nextPhase].StartSeconds * 1e9)
            : long.MaxValue;
}
