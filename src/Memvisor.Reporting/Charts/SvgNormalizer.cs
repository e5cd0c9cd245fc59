/*
 * ScottPlot's SVG (Skia's SVG canvas) names its clip paths from a counter shared by the whole process
 * ("cl_4" in one chart, "cl_9" in the same chart drawn later), so the same chart drawn twice differs.
 * Everything else in it depends only on the chart and the installed fonts. This renames every id to its
 * rank of first appearance, so the text depends on the chart alone, and with a prefix the ids of several
 * SVGs inlined into one page stay unique.
 */
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Memvisor.Reporting.Charts;

/// <summary>Makes SVG text independent of process-global id counters.</summary>
public static partial class SvgNormalizer
{
    /// <summary>Renames every id="..." (and its url(#...) and href="#..." references) to prefix + rank of first definition.</summary>
    /// <param name="svg">SVG text.</param>
    /// <param name="idPrefix">Prefix of the new ids: letters, digits, '-' or '_', starting with a letter.</param>
    public static string RenumberIds(string svg, string idPrefix = "c")
    {
        ArgumentNullException.ThrowIfNull(svg);
        if (!IdPrefixPattern().IsMatch(idPrefix))
            throw new ArgumentException($"{nameof(idPrefix)} = '{idPrefix}': must start with a letter and hold only letters, digits, '-' and '_'.", nameof(idPrefix));

        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in IdDefinition().Matches(svg))
        {
            var old = m.Groups["id"].Value;
            if (!names.ContainsKey(old))
                names.Add(old, idPrefix + names.Count.ToString(CultureInfo.InvariantCulture));
        }
        if (names.Count == 0)
            return svg;

        return IdUse().Replace(svg, m =>
        {
            var old = m.Groups["id"].Value;
            if (!names.TryGetValue(old, out var renamed))
                return m.Value;
            var sb = new StringBuilder(m.Length);
            sb.Append(m.Groups["head"].Value).Append(renamed).Append(m.Groups["tail"].Value);
            return sb.ToString();
        });
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]*$")]
    private static partial Regex IdPrefixPattern();

    [GeneratedRegex("\\bid=\"(?<id>[^\"]+)\"")]
    private static partial Regex IdDefinition();

    [GeneratedRegex("(?<head>\\bid=\"|url\\(#|href=\"#)(?<id>[^\")]+)(?<tail>[\")])")]
    private static partial Regex IdUse();
}
