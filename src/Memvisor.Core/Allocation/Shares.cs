/*
 * A VM's shares (paper §5.1, §6.1): its entitlement to machine memory relative to the other VMs.
 * Either an explicit number or one of ESX's presets, which scale with configured memory:
 * low, normal and high give 5, 10 and 20 shares per MB of configured memory [product convention].
 * Shares are weights, so a resolved value need not be a whole number (a preset on a 1-page VM gives
 * a fraction of a share); only their ratios matter.
 */
using System.Globalization;
using Memvisor.Core.Memory;

namespace Memvisor.Core.Allocation;

/// <summary>Which kind of shares a <see cref="Shares"/> value is.</summary>
public enum SharesLevel
{
    /// <summary>10 shares per MB of configured memory (the default, and the value of <c>default(SharesLevel)</c>).</summary>
    Normal,

    /// <summary>5 shares per MB of configured memory.</summary>
    Low,

    /// <summary>20 shares per MB of configured memory.</summary>
    High,

    /// <summary>An explicit number of shares.</summary>
    Custom,
}

/// <summary>A VM's shares: an explicit number, or a low/normal/high preset that scales with configured memory.</summary>
public readonly record struct Shares
{
    /// <summary>Shares per MB of configured memory of the low preset.</summary>
    public const double LowPerMegabyte = 5;

    /// <summary>Shares per MB of configured memory of the normal preset.</summary>
    public const double NormalPerMegabyte = 10;

    /// <summary>Shares per MB of configured memory of the high preset.</summary>
    public const double HighPerMegabyte = 20;

    private readonly double _count;

    private Shares(SharesLevel level, double count)
    {
        Level = level;
        _count = count;
    }

    /// <summary>The low preset (5 shares per MB).</summary>
    public static Shares Low { get; } = new(SharesLevel.Low, 0);

    /// <summary>The normal preset (10 shares per MB); also the value of <c>default(Shares)</c>.</summary>
    public static Shares Normal { get; } = new(SharesLevel.Normal, 0);

    /// <summary>The high preset (20 shares per MB).</summary>
    public static Shares High { get; } = new(SharesLevel.High, 0);

    /// <summary>The preset, or <see cref="SharesLevel.Custom"/> for an explicit number.</summary>
    public SharesLevel Level { get; }

    /// <summary>The explicit number of shares, or null for a preset.</summary>
    public double? Count => Level == SharesLevel.Custom ? _count : null;

    /// <summary>An explicit number of shares; throws <see cref="ArgumentOutOfRangeException"/> unless positive and finite.</summary>
    public static Shares Of(double count)
    {
        if (!double.IsFinite(count) || count <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Shares: {count}; must be a positive finite number.");
        }

        return new Shares(SharesLevel.Custom, count);
    }

    /// <summary>
    /// Parses "low", "normal", "high" (any case) or a positive number ("1234", "12.5"; invariant culture).
    /// Throws <see cref="FormatException"/> saying what is accepted.
    /// </summary>
    public static Shares Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var shares, out var error) ? shares : throw new FormatException(error);
    }

    /// <summary>Like <see cref="Parse"/>, but returns false and the error message instead of throwing.</summary>
    public static bool TryParse(string? text, out Shares shares, out string error)
    {
        var trimmed = text?.Trim() ?? string.Empty;
        shares = Normal;
        error = string.Empty;
        switch (trimmed.ToUpperInvariant())
        {
            case "LOW":
                shares = Low;
                return true;
            case "NORMAL":
                shares = Normal;
                return true;
            case "HIGH":
                shares = High;
                return true;
        }

        if (double.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var count)
            && double.IsFinite(count) && count > 0)
        {
            shares = new Shares(SharesLevel.Custom, count);
            return true;
        }

        error = $"Shares '{text}': expected low, normal, high or a positive number of shares (such as 1000).";
        return false;
    }

    /// <summary>The number of shares of a VM configured with <paramref name="configuredPages"/> pages (max).</summary>
    public double Resolve(long configuredPages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(configuredPages);
        var megabytes = PageGeometry.MegabytesFromPages(configuredPages);
        return Level switch
        {
            SharesLevel.Low => LowPerMegabyte * megabytes,
            SharesLevel.Normal => NormalPerMegabyte * megabytes,
            SharesLevel.High => HighPerMegabyte * megabytes,
            _ => _count,
        };
    }

    /// <summary>"low", "normal", "high" or the number, as <see cref="Parse"/> reads it back.</summary>
    public override string ToString() => Level switch
    {
        SharesLevel.Low => "low",
        SharesLevel.Normal => "normal",
        SharesLevel.High => "high",
        _ => _count.ToString("R", CultureInfo.InvariantCulture),
    };
}
