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
using Memvisor.Cli.Live;
using Spectre.Console;

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
        Arguments.RejectUnknownOptions(file);
        var output = new Option<string>("--out")
        {
            Description = "Folder for the run's outputs.",
            HelpName = "DIR",
            DefaultValueFactory = _ => "memvisor-out",
        };
        var seed = Arguments.Seed("Seed of every random choice (replaces the scenario's).");
        var duration = Arguments.PositiveNumber("--duration", "Simulated seconds to run (replaces the scenario's).", "SECONDS", ScenarioLimits.MaxDurationSeconds);
        var quiet = new Option<bool>("--quiet") { Description = "No live table, only the short summary at the end." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON (summary.json's text) instead of text." };
        var command = new Command("simulate", "Run a scenario on the simulated host and write its time series, summary, charts and report. Exit code 1: bad scenario or arguments, or an unusable swap folder (nothing run, nothing written); 2: a guest read back data it did not write; 3: a bug in Memvisor; 4: admission control refused every VM; 5: the host stopped a VM it could not serve (swap full or unreadable; the others ran on); 130: interrupted (Ctrl-C or SIGTERM; nothing written).")
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
        if (path is not null && InputFile.Problem(path) is { } problem)
        {
            Console.Error.WriteLine($"memvisor simulate: {problem}; nothing run.");
            return 1;
        }

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
        if (scenario.Host.SwapDirectory is { } swap && SwapFolderProblem(swap) is { } swapProblem)
        {
            // The machine's, found before the run: the swap file is made there when the host starts.
            Console.Error.WriteLine($"memvisor simulate: host.swapDirectory '{swap}': {swapProblem}; nothing run.");
            return 1;
        }

        using var claim = RunOutputFolder.Claim("memvisor simulate", output);
        if (claim is null)
        {
            return 1;
        }

        var clock = Stopwatch.StartNew();
        SimulationResult result;
        try
        {
            using var host = new SimulatedHost(scenario);
            result = quiet || json || Console.IsOutputRedirected
                ? host.Run(null, cancellationToken)
                : RunLive(AnsiConsole.Console, host, scenario, cancellationToken);
        }
        catch (ScenarioException e)
        {
            // Found by validation before anything ran: the scenario's fault.
            Console.Error.WriteLine($"memvisor simulate: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("memvisor simulate: interrupted; nothing written.");
            return 130;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The machine's, not the scenario's: the swap file or machine memory could not be set up.
            Console.Error.WriteLine($"memvisor simulate: {e.Message.TrimEnd('.')}; nothing written.");
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"memvisor simulate: bug: the run failed; nothing written. Please report this with the scenario and seed:{Environment.NewLine}{e}");
            return 3;
        }

        clock.Stop();
        var summary = RunSummary.From(result.Record);
        if (RunOutputFolder.Write("memvisor simulate", output, scenario, result.Samples, summary, cancellationToken) is { } failed)
        {
            return failed;
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

        if (summary.Vms.Any(v => v.DataMismatches > 0))
        {
            return 2;
        }

        if (result.Record.Stops.FirstOrDefault(s => s.Cause != VmStopCause.AdmissionRefused) is { } stopped)
        {
            // A fault of the machine (swap full, a swap read that failed its checksum) stopped a VM; the others ran on.
            Console.Error.WriteLine($"memvisor simulate: the host stopped {result.Record.Stops.Count(s => s.Cause != VmStopCause.AdmissionRefused)} VM(s) it could not serve (first: '{stopped.Vm}' at {stopped.TimeSeconds.ToString(CultureInfo.InvariantCulture)} s, {stopped.Cause}); the others ran on, and the outputs say what happened.");
            return 5;
        }

        if (scenario.Vms.Count > 0 && result.Record.Stops.Count(s => s.Cause == VmStopCause.AdmissionRefused) == scenario.Vms.Count)
        {
            // The outputs say why each was refused; a run in which nothing ran is not a success.
            Console.Error.WriteLine("memvisor simulate: admission control refused every VM (see the notes above and the report); nothing ran.");
            return 4;
        }

        return 0;
    }

    /// <summary>Null when the host's swap file can be made in <paramref name="folder"/>, otherwise why not in a few words.</summary>
    private static string? SwapFolderProblem(string folder)
    {
        try
        {
            return File.Exists(folder) ? "it is a file, not a folder"
                : !Directory.Exists(folder) ? "it does not exist"
                : WholeFolder.CannotWriteIn(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return e.Message.TrimEnd('.');
        }
    }

    /// <summary>Runs <paramref name="host"/> with the live table on <paramref name="console"/>.</summary>
    internal static SimulationResult RunLive(IAnsiConsole console, SimulatedHost host, Scenario scenario, CancellationToken cancellationToken)
    {
        SimulationResult? result = null;
        // The last frame stays on the screen above the summary; an interrupted run leaves its last frame too.
        console.Live(LiveView.Render(scenario.Name, scenario.Seed, scenario.DurationSeconds, null))
            .AutoClear(false)
            .Start(context =>
            {
                var throttle = FrameThrottle.TenPerSecond();
                var progress = new SynchronousProgress<SimulationProgress>(p =>
                {
                    if (throttle.ShouldDraw(final: p.SimulatedSeconds >= p.DurationSeconds))
                    {
                        context.UpdateTarget(LiveView.Render(scenario.Name, scenario.Seed, scenario.DurationSeconds, p.Sample));
                        context.Refresh();
                    }
                });
                result = host.Run(progress, cancellationToken);
            });
        return result!;
    }

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
            if (!double.IsFinite(vm.MeanThroughput))
            {
                // Never on (refused at admission, or stopped at once): no means to show.
                Console.WriteLine($"  {vm.Name,-12} never ran{(vm.Stopped is { } stop ? $" ({stop.Cause})" : "")}  data mismatches {vm.DataMismatches}");
                continue;
            }

            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  {vm.Name,-12} on {vm.SecondsPoweredOn,6:0.#} s  throughput {vm.MeanThroughput,9:0.#}/s  granted {vm.MeanGrantedMB,7:0.0} MB  active {vm.MeanActiveEstimateMB,7:0.0} MB  data mismatches {vm.DataMismatches}"));
        }

        Console.WriteLine($"outputs: {Path.GetFullPath(Path.Combine(output, RunOutputs.ReportFile))}");
    }
}
