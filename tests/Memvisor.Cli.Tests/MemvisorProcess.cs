using System.Diagnostics;

namespace Memvisor.Cli.Tests;

/// <summary>Runs the real `memvisor` (the build beside the tests) as a process, as a user would.</summary>
internal static class MemvisorProcess
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "memvisor.dll");

    /// <summary>What a finished run printed and returned.</summary>
    public sealed record Outcome(int ExitCode, string Stdout, string Stderr);

    public static Process Start(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
    }

    public static Outcome Run(string workingDirectory, params string[] args)
    {
        using var process = Start(workingDirectory, args);
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
    public static void Interrupt(Process process)
    {
        using var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }
}
