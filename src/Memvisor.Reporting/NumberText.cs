/*
 * Every number in every output goes through here: invariant culture, no exponent, no "-0", and one
 * documented spelling of values that are not numbers (see docs/outputs.md).
 */
using System.Globalization;

namespace Memvisor.Reporting;

/// <summary>Fixed, culture-independent number spellings.</summary>
internal static class NumberText
{
    /// <summary>CSV: at most 6 decimals, trailing zeros dropped, never an exponent.</summary>
    private const string CsvFormat = "0.######";

    /// <summary>A CSV cell: empty for NaN and infinities.</summary>
    public static string Csv(double value) => double.IsFinite(value) ? NoNegativeZero(value.ToString(CsvFormat, CultureInfo.InvariantCulture)) : "";

    /// <summary>A CSV cell for an integer.</summary>
    public static string Csv(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Fixed decimals for people: "n/a" for NaN and infinities.</summary>
    public static string Fixed(double value, int decimals) =>
        double.IsFinite(value) ? NoNegativeZero(value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)) : "n/a";

    /// <summary>An integer for people.</summary>
    public static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string NoNegativeZero(string text) => text.Length > 1 && text[0] == '-' && text.AsSpan(1).Trim("0.").IsEmpty ? text[1..] : text;
}
