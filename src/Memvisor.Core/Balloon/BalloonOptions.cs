using Memvisor.Core.Memory;

namespace Memvisor.Core.Balloon;

/// <summary>
/// Limits and deadlines of the balloon protocol (paper §3.2). The host's options are every VM's
/// default; a VM attached with its own options (typically <c>host.Options with { MaxPages = ... }</c>)
/// uses those instead.
/// </summary>
public sealed record BalloonOptions
{
    /// <summary>
    /// The most a balloon may hold, in percent of the VM's configured memory (ESX's Mem.CtlMaxPercent:
    /// 65). The limit is rounded down to whole pages.
    /// </summary>
    public double MaxPercent { get; init; } = 65;

    /// <summary>
    /// An absolute cap on the balloon, in pages (ESX's per-VM sched.mem.maxmemctl, which is given in MB:
    /// convert with <see cref="PageGeometry.PagesFromMegabytes"/>). Null: no cap beyond
    /// <see cref="MaxPercent"/>. The limit is the smaller of the two.
    /// </summary>
    public int? MaxPages { get; init; }

    /// <summary>
    /// How long a balloon may stay away from its target without moving toward it before its driver is
    /// treated as absent (its VM is then reclaimed by host swapping). Default 15 s: drivers poll their
    /// target about once per second, so a working driver shows progress within a second or two even when
    /// it throttles its allocation rate; 15 s is one ESX balance period (Mem.BalancePeriod), so a stuck
    /// driver loses its VM's claim to ballooning by the next rebalancing but one, and a driver that is
    /// only slow (a guest paging out its own memory to free pages) gets fifteen polls to show any
    /// progress. Not a figure from the paper.
    /// </summary>
    public TimeSpan UnresponsiveDeadline { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The most PPNs one report may carry; entries beyond are rejected. Default 512: one 4 KiB page of
    /// 64-bit PPNs, the size of a batch on a shared page. Bounds the host's work per guest request.
    /// </summary>
    public int MaxPagesPerReport { get; init; } = 512;

    /// <summary>The balloon limit of a VM configured with <paramref name="configuredPages"/> pages: min(MaxPercent %, MaxPages).</summary>
    public int LimitPages(int configuredPages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(configuredPages);
        // configured × percent is an exact integer for whole percentages, so the quotient is exact too.
        var byPercent = (int)Math.Floor(configuredPages * MaxPercent / 100);
        return MaxPages is { } cap ? Math.Min(byPercent, cap) : byPercent;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the field, its value and the rule when an option is invalid.</summary>
    public void Validate()
    {
        if (!(MaxPercent >= 0 && MaxPercent <= 100))
        {
            throw new ArgumentException($"Balloon {nameof(MaxPercent)}: {MaxPercent}%; must be between 0 and 100.", nameof(MaxPercent));
        }

        if (MaxPages is < 0)
        {
            throw new ArgumentException($"Balloon {nameof(MaxPages)}: {MaxPages} pages; must not be negative (null for no cap).", nameof(MaxPages));
        }

        if (UnresponsiveDeadline <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Balloon {nameof(UnresponsiveDeadline)}: {UnresponsiveDeadline.TotalSeconds} s; must be positive.", nameof(UnresponsiveDeadline));
        }

        if (MaxPagesPerReport < 1)
        {
            throw new ArgumentException($"Balloon {nameof(MaxPagesPerReport)}: {MaxPagesPerReport}; must be at least 1.", nameof(MaxPagesPerReport));
        }
    }
}
