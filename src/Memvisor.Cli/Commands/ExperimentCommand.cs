/*
 * `memvisor experiment <name>|all|list [--substrate simulator|qemu]`: re-runs the paper's experiments in the
 * simulator (the default) or on real guests under QEMU beside the simulator's (Memvisor.Experiments'
 * RealGuests; reports under DIR/qemu/), and writes their reports. Wiring and printing only: the
 * experiments, their claims and their reports are Memvisor.Experiments'.
 */
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Memvisor.Experiments;
using Memvisor.Experiments.RealGuests;
using Spectre.Console;

namespace Memvisor.Cli.Commands;

/// <summary>The <c>experiment</c> command.</summary>
internal static class ExperimentCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var name = new Argument<string>("NAME")
        {
            Description = "An experiment (" + string.Join(", ", ExperimentCatalog.All.Select(e => e.Name)) + "), 'all', or 'list'.",
        };
        var output = new Option<string>("--out")
        {
            Description = "Folder for the reports (experiments/<name>/report.md, charts, tables; experiments.md for 'all').",
            HelpName = "DIR",
            DefaultValueFactory = _ => "memvisor-out",
        };
        var seed = Arguments.Seed("Seed of every scenario the experiments run (default 1).");
        var reduced = new Option<bool>("--reduced") { Description = "Smaller, shorter setups (what the tests run): the same claims in seconds." };
        var substrate = Arguments.Choice(
            "--substrate",
            "simulator (default), or qemu: real Linux guests under QEMU beside the simulator (" + string.Join(", ", RealGuestCatalog.All.Select(e => e.Name)) + "; reports under DIR/qemu).",
            ExperimentSubstrate.Simulator);
        var command = new Command("experiment", "Re-run the paper's experiments in the simulator: each writes a report with the paper's numbers beside Memvisor's and whether the paper's claims hold. Exit code 1: unknown experiment; 2: an experiment failed (e.g. a guest read back data it did not write); 3: a bug in Memvisor.")
        {
            name, output, seed, reduced, substrate,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(
            parse.GetValue(name)!,
            parse.GetValue(output) ?? "memvisor-out",
            parse.GetValue(seed) ?? 1,
            parse.GetValue(reduced) ? ExperimentScale.Reduced : ExperimentScale.Full,
            parse.GetValue(substrate),
            cancellationToken)));
        return command;
    }

    private static int Run(string name, string output, ulong seed, ExperimentScale scale, ExperimentSubstrate substrate, CancellationToken cancellationToken)
    {
        var real = substrate == ExperimentSubstrate.Qemu;
        var catalog = real ? RealGuestCatalog.All : ExperimentCatalog.All;
        if (name == "list")
        {
            foreach (var e in catalog)
            {
                Console.WriteLine($"{e.Name,-16} {e.Title} ({e.PaperReference})");
            }

            return 0;
        }

        IReadOnlyList<IExperiment> chosen = name == "all"
            ? catalog
            : catalog.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase)) is { } one ? [one] : [];
        if (chosen.Count == 0)
        {
            Console.Error.WriteLine($"memvisor experiment: no {(real ? "real-guest " : "")}experiment named '{name}'; expected one of: {string.Join(", ", catalog.Select(e => e.Name))}, all, list.");
            return 1;
        }

        if (real && RealGuestCatalog.WhyUnavailable() is { } missing)
        {
            Console.Error.WriteLine($"memvisor experiment: {missing}; nothing run.");
            return 2;
        }

        output = real ? Path.Combine(output, "qemu") : output;

        var why = ExperimentOutputs.Problem(output, name == "all" ? null : name);
        using var claim = why is null ? OutputClaim.TryTake(output, () => ExperimentOutputs.RecoverAbandoned(output, catalog.Select(e => e.Name)), out why) : null;
        if (claim is null)
        {
            Console.Error.WriteLine($"memvisor experiment: cannot write reports to --out '{output}': {why}; nothing run.");
            return 1;
        }

        foreach (var line in claim.Recovered)
        {
            Console.Error.WriteLine($"memvisor experiment: note: {line}.");
        }

        var results = new List<ExperimentResult>();
        var failed = 0;
        var bugs = 0;
        foreach (var experiment in chosen)
        {
            var clock = Stopwatch.StartNew();
            var context = new ExperimentContext(scale, seed, new StepPrinter(experiment.Name), cancellationToken);
            ExperimentResult result;
            try
            {
                result = experiment.Run(context);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine(name == "all"
                    ? $"memvisor experiment: interrupted during '{experiment.Name}'; nothing written, '{output}' is as it was."
                    : $"memvisor experiment: interrupted during '{experiment.Name}'; its report was not written.");
                return 130;
            }
            catch (ExperimentException e)
            {
                Console.Error.WriteLine($"memvisor experiment: '{experiment.Name}' failed: {e.Message}");
                failed++;
                continue;
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"memvisor experiment: bug: '{experiment.Name}' failed; its report was not written. Please report this with the seed:{Environment.NewLine}{e}");
                bugs++;
                continue;
            }

            clock.Stop();
            results.Add(result);
            if (name != "all")
            {
                // One experiment: its folder is written whole (experiments/<name>).
                if (!WriteOrSay(() => ExperimentOutputs.WriteOne(output, result, cancellationToken), output))
                {
                    return cancellationToken.IsCancellationRequested ? 130 : 1;
                }
            }

            Print(result, clock.Elapsed, ExperimentOutputs.ReportPath(output, result));
        }

        if (name == "all" && results.Count > 0)
        {
            // All: every report is written at the end, the experiments folder whole, then experiments.md.
            if (!WriteOrSay(() => ExperimentOutputs.WriteAll(output, results, real ? RealGuestReport.Collected : ExperimentReport.Collected, cancellationToken), output))
            {
                return cancellationToken.IsCancellationRequested ? 130 : 1;
            }

            Console.WriteLine($"all reports: {Path.GetFullPath(Path.Combine(output, ExperimentReport.CollectedFile))}");
        }

        return bugs > 0 ? 3 : failed > 0 ? 2 : 0;
    }

    /// <summary>Runs <paramref name="write"/>; on a failure or Ctrl-C says so in one line and returns false.</summary>
    private static bool WriteOrSay(Action write, string output)
    {
        try
        {
            write();
            return true;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"memvisor experiment: interrupted while writing; '{output}' is as it was.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"memvisor experiment: writing the reports to '{output}' failed ({e.Message.TrimEnd('.')}); '{output}' is as it was.");
        }

        return false;
    }

    private static void Print(ExperimentResult result, TimeSpan elapsed, string report)
    {
        AnsiConsole.MarkupLine(string.Create(
            CultureInfo.InvariantCulture,
            $"[bold]{Markup.Escape(result.Name)}[/]: {Markup.Escape(result.Title)} ({Markup.Escape(result.PaperReference)}): {result.Runs} run(s), {result.SimulatedSeconds:0} simulated s in {elapsed.TotalSeconds:0.0} s"));
        if (result.Comparisons.Count > 0)
        {
            var table = new Table().Border(TableBorder.Simple);
            table.AddColumn("quantity");
            table.AddColumn(new TableColumn("paper").RightAligned());
            table.AddColumn(new TableColumn("Memvisor").RightAligned());
            table.AddColumn(new TableColumn("ratio").RightAligned());
            foreach (var c in result.Comparisons)
            {
                table.AddRow(
                    Markup.Escape(c.Quantity),
                    Markup.Escape($"{ExperimentReport.Number(c.Paper)} {c.Unit}"),
                    Markup.Escape($"{ExperimentReport.Number(c.Memvisor)} {c.Unit}"),
                    double.IsFinite(c.Ratio) ? ExperimentReport.Number(c.Ratio, 3) : "n/a");
            }

            AnsiConsole.Write(table);
        }

        foreach (var c in result.Claims)
        {
            AnsiConsole.MarkupLine($"  {(c.Holds ? "[green]holds[/]" : "[red]does not hold[/]")}: {Markup.Escape(c.Claim)}");
        }

        Console.WriteLine($"  report: {Path.GetFullPath(report)}");
    }

    /// <summary>Where the experiments run.</summary>
    private enum ExperimentSubstrate
    {
        /// <summary>The simulator.</summary>
        Simulator,

        /// <summary>Real guests under QEMU.</summary>
        Qemu,
    }

    /// <summary>Prints each step of an experiment on stderr as it starts (synchronously).</summary>
    private sealed class StepPrinter(string experiment) : IProgress<string>
    {
        public void Report(string value) => Console.Error.WriteLine($"  [{experiment}] {value}");
    }
}
