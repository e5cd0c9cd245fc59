/*
 * `memvisor host attach --qmp SOCKET[,min=MiB][,shares=S] ... --budget MiB`: the policy over VMs
 * Memvisor did not start (a user's own QEMU or libvirt guests with a QMP socket and a balloon device).
 * Runs until Ctrl-C (its normal end, exit 0) or --duration; prints a line every 5 s. On every way out
 * every balloon goes back to the size it had at attach and KSM's knobs are restored; no VM is ever
 * stopped. With --out DIR, at the end it writes what `host run` writes (time series, summary, charts,
 * report) for what it managed, whole. Wiring and printing only: the run is Memvisor.Qemu's QemuAttach.
 */
using System.CommandLine;
using System.Globalization;
using Memvisor.Core.Allocation;
using Memvisor.Core.Host;
using Memvisor.Core.Sampling;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Substrate;
using Memvisor.Reporting;

namespace Memvisor.Cli.Commands;

/// <summary>The <c>host attach</c> command.</summary>
internal static class HostAttachCommand
{
    private const string Me = "memvisor host attach";
    private const int PagesPerMiB = 256;

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var qmp = new Option<string[]>("--qmp")
        {
            Description = "A VM's QMP socket, optionally with its min (MiB) and shares: SOCKET[,min=64][,shares=high|normal|low|N]. Repeat for each VM.",
            HelpName = "SOCKET[,min=MiB][,shares=S]",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var budget = Arguments.PositiveNumber("--budget", "Host memory the VMs may hold together, QEMU's own memory included, MiB.", "MiB", 16_777_216);
        budget.Required = true;
        var tau = Arguments.Fraction("--tau", "Idle memory tax rate in [0, 1) (default 0.75).", 0, 1, 0.75);
        var period = Arguments.PositiveNumber("--period", "Seconds between working-set measurements and rebalances (default 5).", "SECONDS", 3600);
        var duration = Arguments.PositiveNumber("--duration", "Seconds to manage the VMs (default: until Ctrl-C).", "SECONDS", 31_536_000);
        var output = new Option<string?>("--out")
        {
            Description = "Write the run's outputs (time series, summary, charts, HTML report: those of `host run`) to this folder when it ends (default: none).",
            HelpName = "DIR",
        };
        var noKsm = new Option<bool>("--no-ksm") { Description = "Leave KSM as it is (by default the policy sets its scan rate; every knob is restored)." };
        var command = new Command("attach", "Manage running QEMU VMs Memvisor did not start, through their QMP sockets: balloon targets by the policy (shares, idle tax, working sets from accessed bits), KSM's scan rate. On exit (Ctrl-C) every balloon goes back to where it was found and KSM is restored; the VMs run on. Exit code 1: bad arguments or a VM that cannot be managed (nothing changed).")
        {
            qmp, budget, tau, period, duration, output, noKsm,
        };
        command.SetAction((parse, ct) => RunAsync(parse.GetValue(qmp) ?? [], parse.GetValue(budget) ?? 0, parse.GetValue(tau), parse.GetValue(period) ?? 5, parse.GetValue(duration), parse.GetValue(output), !parse.GetValue(noKsm), ct));
        return command;
    }

    /// <summary>Parses SOCKET[,min=MiB][,shares=S]; null and the problem when it does not parse.</summary>
    internal static QemuAttachTarget? ParseTarget(string text, out string problem)
    {
        problem = "";
        var parts = text.Split(',');
        int? min = null;
        Shares? shares = null;
        foreach (var part in parts.Skip(1))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var (key, value) = eq < 0 ? (part, "") : (part[..eq], part[(eq + 1)..]);
            if (key == "min" && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var mib))
            {
                min = mib;
            }
            else if (key == "shares" && Shares.TryParse(value, out var s, out _))
            {
                shares = s;
            }
            else
            {
                problem = $"--qmp '{text}': '{part}' is not min=MiB or shares=high|normal|low|N";
                return null;
            }
        }

        if (parts[0].Length == 0)
        {
            problem = $"--qmp '{text}': the socket path is empty";
            return null;
        }

        return new QemuAttachTarget(parts[0], min, shares);
    }

    private static async Task<int> RunAsync(string[] sockets, double budgetMiB, double tau, double periodSeconds, double? duration, string? output, bool driveKsm, CancellationToken interrupted)
    {
        var targets = new List<QemuAttachTarget>();
        foreach (var text in sockets)
        {
            if (ParseTarget(text, out var problem) is not { } target)
            {
                Console.Error.WriteLine($"{Me}: {problem}; nothing changed.");
                return 1;
            }

            targets.Add(target);
        }

        using var claim = output is null ? null : RunOutputFolder.Claim(Me, output, "nothing changed");
        if (output is not null && claim is null)
        {
            return 1;
        }

        var options = new QemuRunOptions
        {
            BudgetPages = (long)(budgetMiB * PagesPerMiB),
            SwapCapacityPages = (long)(budgetMiB * PagesPerMiB) * 64,
            Duration = TimeSpan.FromSeconds(duration ?? 100 * 365 * 86_400.0),
            DriveKsm = driveKsm,
            Policy = new HostPolicyOptions
            {
                Allocation = new AllocationOptions { Tau = tau, BalancePeriodSeconds = periodSeconds },
                Sampling = new SamplingOptions { PeriodSeconds = periodSeconds },
            },
        };
        try
        {
            Console.WriteLine("time  state  free | per VM: target / consumed / balloon MiB, f (estimated active fraction)");
            var result = await QemuAttach.RunAsync(options, targets, new SynchronousProgress<QemuRunRow>(Print), stop: interrupted, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            foreach (var line in result.Notes.Concat(result.Run.Refused.Select(r => $"left alone (admission control): {r}")).Concat(result.Run.Faults))
            {
                Console.Error.WriteLine($"{Me}: note: {line}");
            }

            Console.Error.WriteLine($"{Me}: detached from {string.Join(", ", result.Vms.Select(v => $"{v.Name} (PID {v.Pid})"))}: balloons back where they were found, KSM restored; the VMs run on.");
            if (output is null)
            {
                return 0;
            }

            // Ctrl-C is how an attached run ends, so the interrupt has fired by now: the folder is written regardless.
            var record = result.Record;
            var summary = RunSummary.FromSamples(result.Scenario, record.Samples).WithStateLog(record.StateLog, record.EndSeconds).WithStops(record.Stops);
            if (RunOutputFolder.Write(Me, output, result.Scenario, record.Samples, summary, CancellationToken.None) is { } failed)
            {
                return failed;
            }

            Console.WriteLine($"outputs: {Path.GetFullPath(Path.Combine(output, RunOutputs.ReportFile))}");
            return 0;
        }
        catch (Exception e) when (e is AttachException or ArgumentException)
        {
            Console.Error.WriteLine($"{Me}: {e.Message}; nothing changed.");
            return 1;
        }
    }

    private static void Print(QemuRunRow row)
    {
        if ((int)Math.Round(row.Time.TotalSeconds) % 5 != 0)
        {
            return;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{row.Time.TotalSeconds,4:0}s {row.State,-5} {row.FreePages / PagesPerMiB,4} | ")
            + string.Join(" | ", row.Vms.Select(v => string.Create(
                CultureInfo.InvariantCulture,
                $"{v.Name} {v.Policy.TargetPages / PagesPerMiB}/{v.Policy.ConsumedPages / PagesPerMiB:0}/{v.Figures.BalloonPages / PagesPerMiB} f {v.Policy.ActiveFraction:0.00}"))));
    }
}
