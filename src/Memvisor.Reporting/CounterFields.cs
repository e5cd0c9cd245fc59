/*
 * Core's counters structs as report rows, from the JSON metadata that writes them to summary.json: the
 * same fields in the same order, each labelled by its [Description] and spelled as a whole number
 * (a fraction with three decimals). A new counter in Core shows up here with no code.
 */
using System.ComponentModel;
using System.Reflection;
using System.Text.Json.Serialization.Metadata;

namespace Memvisor.Reporting;

/// <summary>Labels and values of a counters struct, in its JSON order.</summary>
internal static class CounterFields
{
    /// <summary>The labels of <typeparamref name="T"/>'s counters.</summary>
    public static IEnumerable<string> Labels<T>() where T : struct => Properties<T>().Select(Label);

    /// <summary>Each counter of <paramref name="counters"/>: its label and its value as text.</summary>
    public static IEnumerable<(string Key, string Value)> Of<T>(T counters) where T : struct
    {
        object boxed = counters;
        return Properties<T>().Select(p => (Label(p), Text(p.Get!(boxed))));
    }

    private static IList<JsonPropertyInfo> Properties<T>() => OutputJsonContext.Default.GetTypeInfo(typeof(T))!.Properties;

    private static string Label(JsonPropertyInfo p) =>
        (p.AttributeProvider as MemberInfo)?.GetCustomAttribute<DescriptionAttribute>()?.Description ?? p.Name;

    private static string Text(object? value) => value switch
    {
        double d => NumberText.Fixed(d, 3),
        long l => NumberText.Integer(l),
        int i => NumberText.Integer(i),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}
