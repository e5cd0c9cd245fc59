/*
 * `memvisor simulate`: runs a scenario (or the built-in default) on the simulated host and writes the
 * run's outputs (time series, summary, charts, HTML report). Wiring and printing only: the run is
 * Memvisor.Simulation's SimulatedHost, the outputs Memvisor.Reporting's RunOutputs. While it runs on a
 * terminal it shows a live table in the style of esxtop's memory panel.
 */
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Memvisor.Scenarios;
using Memvisor.Core.Statistics;
using Memvisor.Reporting;
using Memvisor.Simulation;
using Memvisor.Simulation.Scenarios;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Memvisor.Cli.Commands;

/// <summary>The <c>simulate</c> command.</summary>
internal static class SimulateCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var file = new Argument<string?>("SCENARIO")
        {
            Description = "A scenario file (JSON, see docs); without one the built-in default scenario runs.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var output = new Option<string>("--out")
        {
            Description = "Folder for the run's outputs.",
            HelpName = "DIR",
            DefaultValueFactory = _ => "memvisor-out",
        };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of every random choice (replaces the scenario's).", HelpName = "N" };
        var duration = new Option<double?>("--duration") { Description = "Simulated seconds to run (replaces the scenario's).", HelpName = "SECONDS" };
        duration.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is { } d && !(d > 0 && double.IsFinite(d)))
            {
                result.AddError("--duration expects a positive number of seconds.");
            }
        });
        var quiet = new Option<bool>("--quiet") { Description = "No live table, only the short summary at the end." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON (summary.json's text) instead of text." };
        var command = new Command("simulate", "Run a scenario on the simulated host and write its time series, summary, charts and report. Exit code 1: bad scenario (nothing written); 2: a guest read back data it did not write.")
        {
            file, output, seed, duration, quiet, json,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(
            parse.GetValue(file),
            parse.GetValue(output) ?? "memvisor-out",
            parse.GetValue(seed),
            parse.GetValue(duration),
            parse.GetValue(quiet),
            parse.GetValue(json),
            cancellationToken)));
        return command;
    }

    private static int Run(string? path, string output, ulong? seed, double? duration, bool quiet, bool json, CancellationToken cancellationToken)
    {
        Scenario scenario;
        try
        {
            scenario = path is null ? BuiltInScenarios.Default : ScenarioReader.ReadFile(path);
        }
        catch (ScenarioException e)
        {
            Console.Error.WriteLine($"memvisor simulate: {e.Message}");
            return 1;
        }

        scenario = scenario with { Seed = seed ?? scenario.Seed, DurationSeconds = duration ?? scenario.DurationSeconds };
        if (!CanWrite(output, out var why))
        {
            Console.Error.WriteLine($"memvisor simulate: cannot write outputs to --out '{output}': {why}; nothing run.");
            return 1;
        }

        var clock = Stopwatch.StartNew();
        SimulationResult result;
        try
        {
            using var host = new SimulatedHost(scenario);
            result = quiet || json || Console.IsOutputRedirected
                ? host.Run(null, cancellationToken)
                : RunLive(host, scenario, cancellationToken);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"memvisor simulate: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("memvisor simulate: cancelled; nothing written.");
            return 130;
        }

        clock.Stop();
        var summary = RunSummary.From(result.Record);
        try
        {
            RunOutputs.Write(output, scenario, result.Samples, summary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"memvisor simulate: writing the outputs to '{output}' failed: {e.Message}");
            return 1;
        }
        foreach (var note in result.Notes)
        {
            Console.Error.WriteLine($"memvisor simulate: note: {note}");
        }

        if (json)
        {
            Console.WriteLine(RunOutputs.SummaryJson(scenario, summary));
        }
        else
        {
            PrintSummary(scenario, summary, clock.Elapsed, output);
        }

        return summary.Vms.Any(v => v.DataMismatches > 0) ? 2 : 0;
    }

    /// <summary>Whether the output folder exists or can be made, so that a long run is not lost at its end.</summary>
    internal static bool CanWrite(string folder, out string why)
    {
        try
        {
            Directory.CreateDirectory(folder);
            why = "";
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            why = e.Message.TrimEnd('.');
            return false;
        }
    }

    private static SimulationResult RunLive(SimulatedHost host, Scenario scenario, CancellationToken cancellationToken)
    {
        SimulationResult? result = null;
        AnsiConsole.Live(View(scenario, null))
            .AutoClear(true)
            .Start(context =>
            {
                var progress = new LiveProgress(sample =>
                {
                    context.UpdateTarget(View(scenario, sample));
                    context.Refresh();
                });
                result = host.Run(progress, cancellationToken);
            });
        return result!;
    }

    private static IRenderable View(Scenario scenario, SimulationProgress? progress)
    {
        var done = progress?.SimulatedSeconds ?? 0;
        var fraction = scenario.DurationSeconds > 0 ? Math.Clamp(done / scenario.DurationSeconds, 0, 1) : 1;
        const int width = 30;
        var filled = (int)Math.Round(fraction * width);
        var bar = string.Create(CultureInfo.InvariantCulture, $"[green]{new string('━', filled)}[/][grey]{new string('━', width - filled)}[/] {fraction * 100,3:0}%  {done:0}/{scenario.DurationSeconds:0} s");
        var header = new Markup($"[bold]{Markup.Escape(scenario.Name)}[/] seed {scenario.Seed}  {bar}");
        if (progress is null)
        {
            return header;
        }

        var sample = progress.Sample;
        var host = new Markup(string.Create(
            CultureInfo.InvariantCulture,
            $"PMEM {sample.MemoryMB:0} MB  free {sample.FreeMB:0}  state [bold]{sample.State}[/]  saved by sharing {sample.SharedSavedMB:0}  swap {sample.SwapUsedMB:0}  balloon {sample.BalloonMB:0}"));
        // esxtop's memory panel names (TRUEWS: the working set the workload really touched), whole MB so that it fits 80 columns.
        var table = new Table().Border(TableBorder.Simple).Title("MB");
        table.AddColumn(new TableColumn("VM").PadLeft(0).NoWrap());
        foreach (var name in (string[])["MEMSZ", "SZTGT", "GRANT", "ACTV", "TRUEWS", "MCTLSZ", "SWCUR", "SHRD", "ZERO"])
        {
            table.AddColumn(new TableColumn(name).RightAligned().NoWrap().PadLeft(1).PadRight(0));
        }

        table.AddColumn(new TableColumn("STATE").NoWrap().PadLeft(2));
        foreach (var vm in sample.Vms)
        {
            table.AddRow(
                Markup.Escape(vm.Name),
                Mb(vm.ConfiguredMB),
                Mb(vm.TargetMB),
                Mb(vm.GrantedMB),
                Mb(vm.ActiveEstimateMB),
                Mb(vm.TrueWorkingSetMB),
                Mb(vm.BalloonMB),
                Mb(vm.SwappedMB),
                Mb(vm.SharedMB),
                Mb(vm.ZeroMB),
                !vm.PoweredOn ? "[grey]off[/]" : vm.DataMismatches > 0 ? "[red]DATA LOSS[/]" : "on");
        }

        return new Rows(header, host, table);
    }

    private static string Mb(double value) => double.IsNaN(value) ? "-" : value.ToString("0", CultureInfo.InvariantCulture);

    private static void PrintSummary(Scenario scenario, RunSummary summary, TimeSpan elapsed, string output)
    {
        var speed = elapsed.TotalSeconds > 0 ? summary.SimulatedSeconds / elapsed.TotalSeconds : double.PositiveInfinity;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{scenario.Name} (seed {summary.Seed}): {summary.SimulatedSeconds:0.#} s simulated in {elapsed.TotalSeconds:0.0} s ({speed:0.#}x), {summary.SampleCount} samples, final state {summary.Host.FinalState}."));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"host: min free {summary.Host.MinFreeMB:0.0} MB, peak shared saved {summary.Host.PeakSharedSavedMB:0.0} MB, peak balloon {summary.Host.PeakBalloonMB:0.0} MB, peak swap used {summary.Host.PeakSwapUsedMB:0.0} MB."));
        foreach (var vm in summary.Vms)
        {
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  {vm.Name,-12} on {vm.SecondsPoweredOn,6:0.#} s  throughput {vm.MeanThroughput,9:0.#}/s  granted {vm.MeanGrantedMB,7:0.0} MB  active {vm.MeanActiveEstimateMB,7:0.0} MB  data mismatches {vm.DataMismatches}"));
        }

        Console.WriteLine($"outputs: {Path.GetFullPath(Path.Combine(output, RunOutputs.ReportFile))}");
    }

    /// <summary>Reports synchronously on the simulating thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class LiveProgress(Action<SimulationProgress> report) : IProgress<SimulationProgress>
    {
        private long _lastTicks = long.MinValue;

        public void Report(SimulationProgress value)
        {
            // Redraw at most about ten times a wall second: drawing must not slow the simulation.
            var now = Stopwatch.GetTimestamp();
            if (now - _lastTicks < Stopwatch.Frequency / 10 && value.SimulatedSeconds < value.DurationSeconds)
            {
                return;
            }

            _lastTicks = now;
            report(value);
        }
    }
}
