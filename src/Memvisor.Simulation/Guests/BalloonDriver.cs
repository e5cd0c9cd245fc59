/*
 * The guest side of ballooning (paper §3.2).
 *
 * About once per simulated second the driver polls its target from the host. To inflate it allocates
 * pages through the guest's own allocator (free pages first, else the guest's clock replacement evicts
 * page cache or swaps out its own least valuable anonymous pages: the guest chooses what to lose) and
 * reports each page's PPN to the host, which releases its backing; to deflate it reports pages back and
 * frees them to the guest. Its rate is limited (pages per second), and it backs off when the guest
 * cannot give pages: after a poll in which allocation failed the rate halves, after a poll without
 * failure it doubles again up to the maximum. The balloon is capped (ESX's Mem.CtlMaxPercent = 65% of
 * guest memory, or a per-VM page limit like sched.mem.maxmemctl). A driver can be disabled, or not yet
 * loaded (a delay after boot); a VM without a driver simply has none (GuestOs.Balloon is null).
 * When the guest runs out of memory entirely it deflates the balloon itself, as Linux balloon drivers
 * that deflate on OOM do.
 *
 * The driver talks to the host through Core's BalloonChannel: it writes its status (not installed
 * until loaded, then active or disabled), reads the target, and reports pages in batches; the host
 * gives a verdict per page, and a page the host did not take into the balloon goes back to the guest.
 */
using Memvisor.Core.Balloon;
using Memvisor.Core.Memory;

namespace Memvisor.Simulation.Guests;

/// <summary>How a guest's balloon driver behaves.</summary>
public sealed record BalloonDriverOptions
{
    /// <summary>False: installed but disabled (it never inflates).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Seconds between polls of the host's target.</summary>
    public double PollIntervalSeconds { get; init; } = 1;

    /// <summary>Seconds after boot before the driver is loaded and polls for the first time.</summary>
    public double LoadDelaySeconds { get; init; }

    /// <summary>Most pages inflated per second (a slow driver has a low rate).</summary>
    public double MaxInflatePagesPerSecond { get; init; } = 4096;

    /// <summary>Most pages deflated per second.</summary>
    public double MaxDeflatePagesPerSecond { get; init; } = 8192;

    /// <summary>Largest balloon, as a percentage of guest memory (ESX's Mem.CtlMaxPercent).</summary>
    public double MaxBalloonPercent { get; init; } = 65;

    /// <summary>Largest balloon in pages, if smaller than the percentage (ESX's sched.mem.maxmemctl); null: no such limit.</summary>
    public int? MaxBalloonPages { get; init; }

    /// <summary>Pages per report to the host (at most the host's BalloonOptions.MaxPagesPerReport).</summary>
    public int ReportPages { get; init; } = 512;

    /// <summary>A slow driver: 256 pages (1 MiB) per second each way.</summary>
    public static BalloonDriverOptions Slow { get; } = new() { MaxInflatePagesPerSecond = 256, MaxDeflatePagesPerSecond = 256 };

    /// <summary>Throws <see cref="ArgumentException"/> naming the field, the value and the rule when an option is invalid.</summary>
    public void Validate()
    {
        if (!(PollIntervalSeconds > 0) || !double.IsFinite(PollIntervalSeconds))
        {
            throw new ArgumentException($"Balloon poll interval: {PollIntervalSeconds} s; must be positive and finite.");
        }

        if (!(LoadDelaySeconds >= 0) || !double.IsFinite(LoadDelaySeconds))
        {
            throw new ArgumentException($"Balloon load delay: {LoadDelaySeconds} s; must be finite and not negative.");
        }

        if (!(MaxInflatePagesPerSecond >= 0) || !double.IsFinite(MaxInflatePagesPerSecond))
        {
            throw new ArgumentException($"Balloon inflate rate: {MaxInflatePagesPerSecond} pages/s; must be finite and not negative.");
        }

        if (!(MaxDeflatePagesPerSecond >= 0) || !double.IsFinite(MaxDeflatePagesPerSecond))
        {
            throw new ArgumentException($"Balloon deflate rate: {MaxDeflatePagesPerSecond} pages/s; must be finite and not negative.");
        }

        if (MaxBalloonPercent is < 0 or > 100)
        {
            throw new ArgumentException($"Balloon maximum: {MaxBalloonPercent}% of guest memory; must be between 0 and 100.");
        }

        if (MaxBalloonPages is < 0)
        {
            throw new ArgumentException($"Balloon maximum: {MaxBalloonPages} pages; must not be negative.");
        }

        if (ReportPages < 1)
        {
            throw new ArgumentException($"Balloon report size: {ReportPages} pages; must be at least 1.");
        }
    }
}

/// <summary>A guest's balloon driver.</summary>
public sealed class BalloonDriver
{
    private const double MinRateFactor = 1.0 / 16;
    private readonly GuestOs _guest;
    private readonly BalloonChannel _channel;
    private readonly int[] _pages;
    private readonly Ppn[] _report;
    private readonly BalloonVerdict[] _verdicts;
    private long _nextPoll = long.MaxValue;
    private double _rateFactor = 1;

    internal BalloonDriver(GuestOs guest, BalloonChannel channel, BalloonDriverOptions options)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (channel.Vm != guest.Id)
        {
            throw new ArgumentException($"The balloon channel belongs to {channel.Vm}, not to {guest.Id}.", nameof(channel));
        }

        _guest = guest;
        _channel = channel;
        _report = new Ppn[options.ReportPages];
        _verdicts = new BalloonVerdict[options.ReportPages];
        channel.DriverStatus = BalloonDriverStatus.NotInstalled;
        Options = options;
        var cap = (int)Math.Floor(guest.PageCount * options.MaxBalloonPercent / 100);
        CapPages = Math.Min(cap, options.MaxBalloonPages ?? int.MaxValue);
        _pages = new int[Math.Max(CapPages, 0)];
        if (guest.IsBooted)
        {
            Start(guest.NowNanoseconds);
        }
    }

    /// <summary>How the driver behaves.</summary>
    public BalloonDriverOptions Options { get; }

    /// <summary>Largest balloon the driver will hold, in pages.</summary>
    public int CapPages { get; }

    /// <summary>Pages in the balloon now.</summary>
    public int SizePages { get; private set; }

    /// <summary>True once the driver is loaded and polling.</summary>
    public bool IsLoaded { get; private set; }

    /// <summary>Polls of the host's target.</summary>
    public long Polls { get; private set; }

    /// <summary>Pages handed to the host.</summary>
    public long PagesInflated { get; private set; }

    /// <summary>Pages taken back from the host.</summary>
    public long PagesDeflated { get; private set; }

    /// <summary>Pages the guest needed back because it ran out of memory (deflated without the host asking).</summary>
    public long PagesDeflatedForGuest { get; private set; }

    /// <summary>Report entries the host rejected.</summary>
    public long Rejections { get; private set; }

    /// <summary>Polls in which the guest could not give as many pages as asked.</summary>
    public long AllocationFailures { get; private set; }

    internal void Start(long nowNanoseconds) => _nextPoll = nowNanoseconds + (long)(Options.LoadDelaySeconds * 1e9);

    internal void PollIfDue(long nowNanoseconds)
    {
        if (nowNanoseconds < _nextPoll)
        {
            return;
        }

        if (!IsLoaded)
        {
            IsLoaded = true;
            _channel.DriverStatus = Options.Enabled ? BalloonDriverStatus.Active : BalloonDriverStatus.Disabled;
        }

        var interval = (long)(Options.PollIntervalSeconds * 1e9);
        _nextPoll += interval * Math.Max(1, ((nowNanoseconds - _nextPoll) / interval) + 1);
        if (Options.Enabled)
        {
            Poll();
        }
    }

    /// <summary>Gives up to <paramref name="pages"/> balloon pages back to a guest that ran out of memory. Returns the number freed.</summary>
    internal int DeflateForGuest(int pages)
    {
        var done = Deflate(pages);
        PagesDeflatedForGuest += done;
        return done;
    }

    private void Poll()
    {
        Polls++;
        var target = Math.Clamp(_channel.TargetPages, 0, CapPages);
        if (target > SizePages)
        {
            var allowance = (int)Math.Max(1, Options.MaxInflatePagesPerSecond * Options.PollIntervalSeconds * _rateFactor);
            var wanted = Math.Min(target - SizePages, allowance);
            if (Inflate(wanted) < wanted)
            {
                AllocationFailures++;
                _rateFactor = Math.Max(MinRateFactor, _rateFactor / 2);
            }
            else
            {
                _rateFactor = Math.Min(1, _rateFactor * 2);
            }
        }
        else if (target < SizePages)
        {
            var allowance = (int)Math.Max(1, Options.MaxDeflatePagesPerSecond * Options.PollIntervalSeconds);
            Deflate(Math.Min(SizePages - target, allowance));
        }
    }

    private int Inflate(int pages)
    {
        var done = 0;
        while (done < pages)
        {
            var batch = 0;
            while (batch < _report.Length && done + batch < pages)
            {
                var p = _guest.TakePageForBalloon();
                if (p < 0)
                {
                    break;
                }

                _report[batch++] = new Ppn((uint)p);
            }

            if (batch == 0)
            {
                break;
            }

            _channel.Inflate(_guest.Id, _report.AsSpan(0, batch), _verdicts);
            var accepted = 0;
            for (var i = 0; i < batch; i++)
            {
                var p = (int)_report[i].Value;
                if (_verdicts[i] == BalloonVerdict.Accepted)
                {
                    _guest.ForgetContents(p);
                    _pages[SizePages++] = p;
                    accepted++;
                }
                else
                {
                    Rejections++;
                    _guest.ReturnPageFromBalloon(p);
                }
            }

            PagesInflated += accepted;
            done += accepted;
            if (accepted < batch)
            {
                break;
            }
        }

        return done;
    }

    private int Deflate(int pages)
    {
        var done = 0;
        while (done < pages && SizePages > 0)
        {
            var batch = Math.Min(Math.Min(pages - done, SizePages), _report.Length);
            for (var i = 0; i < batch; i++)
            {
                _report[i] = new Ppn((uint)_pages[SizePages - 1 - i]);
            }

            _channel.Deflate(_guest.Id, _report.AsSpan(0, batch), _verdicts);
            // Pages leave the top of the stack; a page the host refused stays in the balloon, so the stack is rebuilt from the bottom of the batch.
            var keep = SizePages - batch;
            var released = 0;
            for (var i = batch - 1; i >= 0; i--)
            {
                var p = (int)_report[i].Value;
                // NotBallooned: the host no longer counts the page in the balloon (the guest touched it): it is the guest's again.
                if (_verdicts[i] is BalloonVerdict.Accepted or BalloonVerdict.NotBallooned)
                {
                    _guest.ReturnPageFromBalloon(p);
                    released++;
                }
                else
                {
                    Rejections++;
                    _pages[keep++] = p;
                }
            }

            SizePages = keep;
            PagesDeflated += released;
            done += released;
            if (released < batch)
            {
                break;
            }
        }

        return done;
    }
}
