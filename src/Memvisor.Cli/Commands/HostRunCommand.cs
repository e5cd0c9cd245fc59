/*
 * `memvisor host run [SCENARIO]`: a scenario (the format `simulate` runs; without one the built-in
 * real-guest scenario) on real Linux guests under QEMU, with `simulate`'s live table, outputs (written
 * whole), summary and report. Before anything runs it says, in one line, what real guests cannot do
 * as the scenario says (Windows guests, workloads the agent lacks...). Wiring and printing only: the
 * mapping and the run are Memvisor.Qemu's ScenarioGuests and QemuScenarioRun, the outputs
 * Memvisor.Reporting's. Ctrl-C: every guest stopped, KSM restored, nothing written, exit 130.
 */
using System.CommandLine;
using System.Globalization;
using Memvisor.Cli.Live;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Substrate;
using Memvisor.Reporting;
using Memvisor.Scenarios;
using Spectre.Console;

namespace Memvisor.Cli.Commands;

/// <summary>The <c>host run</c> command.</summary>
internal static class HostRunCommand
{
    private const string Me = "memvisor host run";

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var file = new Argument<string?>("SCENARIO")
        {
            Description = "A scenario file (the format of `simulate`); without one the built-in real-guest scenario runs (three 256 MiB guests on a 704 MiB budget, idle tax 0.75).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        Arguments.RejectUnknownOptions(file);
        var output = new Option<string>("--out")
        {
            Description = "Folder for the run's outputs.",
            HelpName = "DIR",
            DefaultValueFactory = _ => "memvisor-out",
        };
        var duration = Arguments.PositiveNumber("--duration", "Seconds the policy runs once the guests have booted (replaces the scenario's).", "SECONDS", ScenarioLimits.MaxDurationSeconds);
        var quiet = new Option<bool>("--quiet") { Description = "No live table, only the short summary at the end." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON (summary.json's text) instead of text." };
        var command = new Command("run", "Boot a scenario's VMs as real guests under QEMU, run the policy over them and write the time series, summary, charts and report as `simulate` does. Exit code 1: bad scenario or arguments, missing packages, a budget the machine does not have (nothing run); 3: a bug in Memvisor; 4: admission control refused every VM; 130: interrupted (every guest stopped, KSM restored, nothing written).")
        {
            file, output, duration, quiet, json,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(file), parse.GetValue(output) ?? "memvisor-out", parse.GetValue(duration), parse.GetValue(quiet), parse.GetValue(json), ct));
        return command;
    }

    private static async Task<int> RunAsync(string? path, string output, double? duration, bool quiet, bool json, CancellationToken cancellationToken)
    {
        // The output folder is claimed once the scenario is read, and released on every way out.
        OutputClaim? claim = null;
        try
        {
            return await RunClaimedAsync(path, output, duration, quiet, json, taken => claim = taken, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            claim?.Dispose();
        }
    }

    private static async Task<int> RunClaimedAsync(string? path, string output, double? duration, bool quiet, bool json, Action<OutputClaim> claimed, CancellationToken cancellationToken)
    {
        if (path is not null && InputFile.Problem(path) is { } problem)
        {
            Console.Error.WriteLine($"{Me}: {problem}; nothing run.");
            return 1;
        }

        Scenario scenario;
        ScenarioGuests guests;
        try
        {
            scenario = path is null ? BuiltInRun.Scenario : ScenarioReader.ReadFile(path);
            scenario = scenario with { DurationSeconds = duration ?? scenario.DurationSeconds };
            if (RunOutputFolder.Claim(Me, output) is not { } claim)
            {
                return 1;
            }

            claimed(claim);

            HostTools.RequireQemu();
            var image = await GuestImageBuilder.BuildAsync(null, cancellationToken).ConfigureAwait(false);
            guests = ScenarioGuests.Of(scenario, image, ScenarioGuests.MachineAvailableMiB());
        }
        catch (ScenarioException e)
        {
            Console.Error.WriteLine($"{Me}: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is MissingHostPackageException or GuestImageException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"{Me}: {e.Message}; nothing run.");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"{Me}: interrupted; nothing run.");
            return 130;
        }

        if (guests.Unhonoured.Count > 0)
        {
            Console.Error.WriteLine($"{Me}: real guests cannot honour: {string.Join("; ", guests.Unhonoured)}. The rest runs as written.");
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Me}: booting {guests.Guests.Count} guests under QEMU on a {scenario.Host.MemoryMB:0} MiB budget; the policy then runs {scenario.DurationSeconds:0} s."));
        QemuScenarioResult result;
        try
        {
            result = quiet || json || Console.IsOutputRedirected
                ? await QemuScenarioRun.RunAsync(guests, null, cancellationToken).ConfigureAwait(false)
                : await RunLiveAsync(AnsiConsole.Console, guests, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"{Me}: interrupted; every guest stopped, KSM restored, nothing written.");
            return 130;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"{Me}: {e.Message}; nothing run.");
            return 1;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"{Me}: bug: the run failed; every guest stopped, nothing written. Please report this with the scenario:{Environment.NewLine}{e}");
            return 3;
        }

        var summary = RunSummary.FromSamples(scenario, result.Samples).WithStateLog(result.StateLog, result.EndSeconds).WithStops(result.Stops);
        if (RunOutputFolder.Write(Me, output, scenario, result.Samples, summary, cancellationToken) is { } failed)
        {
            return failed;
        }

        foreach (var note in result.Notes)
        {
            Console.Error.WriteLine($"{Me}: note: {note}");
        }

        if (json)
        {
            Console.WriteLine(RunOutputs.SummaryJson(scenario, summary));
        }
        else
        {
            PrintSummary(scenario, summary, output);
        }

        if (scenario.Vms.Count > 0 && result.Stops.Count(s => s.Cause == VmStopCause.AdmissionRefused) == scenario.Vms.Count)
        {
            Console.Error.WriteLine($"{Me}: admission control refused every VM (see the notes above and the report); nothing ran.");
            return 4;
        }

        return 0;
    }

    private static async Task<QemuScenarioResult> RunLiveAsync(IAnsiConsole console, ScenarioGuests guests, CancellationToken cancellationToken)
    {
        var scenario = guests.Scenario;
        QemuScenarioResult? result = null;
        await console.Live(LiveView.Render(scenario.Name, scenario.Seed, scenario.DurationSeconds, null))
            .AutoClear(false)
            .StartAsync(async context =>
            {
                var progress = new SynchronousProgress<HostSample>(sample =>
                {
                    context.UpdateTarget(LiveView.Render(scenario.Name, scenario.Seed, scenario.DurationSeconds, sample));
                    context.Refresh();
                });
                result = await QemuScenarioRun.RunAsync(guests, progress, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return result!;
    }

    private static void PrintSummary(Scenario scenario, RunSummary summary, string output)
    {
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{scenario.Name}: {summary.SimulatedSeconds:0.#} s of policy on real guests, {summary.SampleCount} samples, final state {summary.Host.FinalState}."));
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"host: min free {summary.Host.MinFreeMB:0.0} MB, peak saved by KSM {summary.Host.PeakSharedSavedMB:0.0} MB, peak balloon {summary.Host.PeakBalloonMB:0.0} MB, peak host swap {summary.Host.PeakSwapUsedMB:0.0} MB."));
        foreach (var vm in summary.Vms)
        {
            var real = vm.Real;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  {vm.Name,-12} on {vm.SecondsPoweredOn,6:0.#} s  granted {vm.MeanGrantedMB,7:0.0} MB  active {vm.MeanActiveEstimateMB,7:0.0} MB  true {real?.MeanTrueWorkingSetMB ?? double.NaN,7:0.0} MB  |est-true| {real?.MeanEstimateErrorMB ?? double.NaN,5:0.0} MB  QEMU {real?.PeakOverheadMB ?? double.NaN,5:0} MB  KSM {real?.FinalKsmMergingMB ?? double.NaN,5:0.0} MB"));
        }

        Console.WriteLine($"outputs: {Path.GetFullPath(Path.Combine(output, RunOutputs.ReportFile))}");
    }
}
