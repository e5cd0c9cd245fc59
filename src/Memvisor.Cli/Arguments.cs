/*
 * Parsers for the command line's numbers. System.CommandLine's own conversion reports a bad value with
 * .NET type names ("System.Nullable`1[System.Double]"), and a validator that reads a value that did not
 * parse throws out of the parser; these parse the token themselves and name the option, the value and
 * the rule in one line.
 */
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Memvisor.Cli;

/// <summary>Typed options with clear errors.</summary>
internal static class Arguments
{
    /// <summary>An optional number in (0, <paramref name="max"/>].</summary>
    public static Option<double?> PositiveNumber(string name, string description, string helpName, double max) =>
        new(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result =>
            {
                var text = Token(result);
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value > 0) || value > max)
                {
                    result.AddError($"{name} '{text}': expected a number greater than 0 and at most {max.ToString("G", CultureInfo.InvariantCulture)}.");
                    return null;
                }

                return value;
            },
        };

    /// <summary>A whole number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int> WholeNumber(string name, string description, string helpName, int min, int max, int defaultValue) =>
        new(name)
        {
            Description = description,
            HelpName = helpName,
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                var text = Token(result);
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
                {
                    result.AddError($"{name} '{text}': expected a whole number from {min} to {max}.");
                    return defaultValue;
                }

                return value;
            },
        };

    /// <summary>An optional seed: a whole number from 0 to 2^64 - 1.</summary>
    public static Option<ulong?> Seed(string description) =>
        new("--seed")
        {
            Description = description,
            HelpName = "N",
            CustomParser = result =>
            {
                var text = Token(result);
                if (!ulong.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                {
                    result.AddError($"--seed '{text}': expected a whole number from 0 to {ulong.MaxValue}.");
                    return null;
                }

                return value;
            },
        };

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>) with a default.</summary>
    public static Option<double> Fraction(string name, string description, double min, double max, double defaultValue) =>
        new(name)
        {
            Description = description,
            HelpName = "RATE",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                var text = Token(result);
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !(value >= min) || !(value < max))
                {
                    result.AddError($"{name} '{text}': expected a number from {min.ToString(CultureInfo.InvariantCulture)} up to (not including) {max.ToString(CultureInfo.InvariantCulture)}.");
                    return defaultValue;
                }

                return value;
            },
        };

    /// <summary>One of an enum's values, written in lower case (--substrate qemu), with a default.</summary>
    public static Option<T> Choice<T>(string name, string description, T defaultValue)
        where T : struct, Enum =>
        new(name)
        {
            Description = description,
            HelpName = string.Join("|", Enum.GetValues<T>().Select(Lower)),
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                var text = Token(result);
                foreach (var value in Enum.GetValues<T>())
                {
                    if (string.Equals(Lower(value), text, StringComparison.OrdinalIgnoreCase))
                    {
                        return value;
                    }
                }

                result.AddError($"{name} '{text}': expected one of {string.Join(", ", Enum.GetValues<T>().Select(Lower))}.");
                return defaultValue;
            },
        };

    /// <summary>
    /// Refuses a token of <paramref name="argument"/> that starts with '-' and names no file: an unknown option
    /// would otherwise be taken for a file name ("'--bogus' does not exist").
    /// </summary>
    public static void RejectUnknownOptions(Argument argument)
    {
        ArgumentNullException.ThrowIfNull(argument);
        argument.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (token.Value.StartsWith('-') && !File.Exists(token.Value))
                {
                    result.AddError($"unknown option '{token.Value}' (--help lists the options; a file whose name starts with '-' can be given as ./{token.Value}).");
                    return;
                }
            }
        });
    }

#pragma warning disable CA1308 // Option values are shown and typed in lower case; nothing is normalised for comparison.
    private static string Lower<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();
#pragma warning restore CA1308

    private static string Token(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
}
