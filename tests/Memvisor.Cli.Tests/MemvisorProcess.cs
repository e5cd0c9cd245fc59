using System.Diagnostics;

namespace Memvisor.Cli.Tests;

/// <summary>Runs the real `memvisor` (the build beside the tests) as a process, as a user would.</summary>
internal static class MemvisorProcess
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "memvisor.dll");

    /// <summary>What a finished run printed and returned.</summary>
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr);

    public static Process Start(string workingDirectory, params string[] args) => Start(workingDirectory, new Dictionary<string, string>(), args);

    /// <summary>Starts memvisor with <paramref name="environment"/> added to its environment.</summary>
    public static Process Start(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        info.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
    }

    public static Outcome Run(string workingDirectory, params string[] args) => Run(workingDirectory, new Dictionary<string, string>(), args);

    /// <summary>Runs memvisor to its end with <paramref name="environment"/> added to its environment.</summary>
    public static Outcome Run(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Start(workingDirectory, environment, args);
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"memvisor {string.Join(' ', args)} did not finish within 2 minutes");
        }

        // The process has exited and closed its pipes: both reads complete.
        return new Outcome(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>Sends SIGINT (what Ctrl-C sends) to <paramref name="process"/>.</summary>
    public static void Interrupt(Process process) => Signal(process, "INT");

    /// <summary>Sends signal <paramref name="name"/> (INT, TERM) to <paramref name="process"/>.</summary>
    public static void Signal(Process process, string name)
    {
        using var kill = Process.Start("kill", [$"-{name}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Waits until <paramref name="process"/> has had <paramref name="cpu"/> of CPU (past its cold start, however loaded the machine), or has exited.</summary>
    public static async Task WaitForCpu(Process process, TimeSpan cpu)
    {
        var waited = Stopwatch.StartNew();
        while (!process.HasExited && process.TotalProcessorTime < cpu && waited.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), TestContext.Current.CancellationToken);
            process.Refresh();
        }
    }

    /// <summary>Runs a program to its end (mkfifo, mount); its exit code.</summary>
    public static int Tool(string file, params string[] args)
    {
        using var tool = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true }) ?? throw new InvalidOperationException($"{file} did not start");
        tool.WaitForExit();
        return tool.ExitCode;
    }
}
