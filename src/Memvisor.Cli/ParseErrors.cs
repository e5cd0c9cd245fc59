/*
 * What a command line that does not parse is told: one line, "memvisor COMMAND: PROBLEM", with the first
 * problem and how many more there are. An unknown command names the commands there are.
 */
using System.CommandLine;
using System.CommandLine.Parsing;

namespace Memvisor.Cli;

/// <summary>The one-line message for a command line that does not parse.</summary>
internal static class ParseErrors
{
    /// <summary>"memvisor host run: PROBLEM." for <paramref name="parse"/>, which has errors.</summary>
    public static string OneLine(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var names = new List<string>();
        for (SymbolResult? r = parse.CommandResult; r is CommandResult c; r = c.Parent)
        {
            names.Insert(0, c.Parent is null ? "memvisor" : c.Command.Name);
        }

        var command = parse.CommandResult.Command;
        var name = string.Join(' ', names);
        var visible = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
        var problem = visible.Count > 0 && parse.UnmatchedTokens.Count > 0
            ? $"unknown command '{parse.UnmatchedTokens[0]}'; expected one of {string.Join(", ", visible)} ({name} --help says what each does)"
            : parse.Errors[0].Message.TrimEnd('.');
        var more = parse.Errors.Count > 1 && !(visible.Count > 0 && parse.UnmatchedTokens.Count > 0) ? $" (and {parse.Errors.Count - 1} more problem(s))" : "";
        return $"{name}: {problem}{more}.";
    }
}
