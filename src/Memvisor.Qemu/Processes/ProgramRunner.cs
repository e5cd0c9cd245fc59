/*
 * Runs a short host program (gcc, busybox --list, qemu --version) to completion and returns its exit
 * code and output. A program that does not finish in time is killed by its PID (this runner started
 * it) and reported.
 */
using System.Diagnostics;

namespace Memvisor.Qemu.Processes;

/// <summary>The outcome of a finished program.</summary>
/// <param name="ExitCode">The exit code.</param>
/// <param name="StandardOutput">Everything it wrote to stdout.</param>
/// <param name="StandardError">Everything it wrote to stderr.</param>
public sealed record ProgramResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>The first non-empty line of stderr (or stdout), for one-line error messages.</summary>
    public string FirstErrorLine =>
        (StandardError + "\n" + StandardOutput).Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? $"exit code {ExitCode}";
}

/// <summary>Runs programs to completion.</summary>
public static class ProgramRunner
{
    /// <summary>Runs <paramref name="program"/> with <paramref name="arguments"/>; kills it after <paramref name="timeout"/>.</summary>
    /// <exception cref="TimeoutException">It did not finish in time (it was killed).</exception>
    public static async Task<ProgramResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: false);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new TimeoutException($"{Path.GetFileName(program)} did not finish within {timeout.TotalSeconds:0} s and was stopped");
        }

        return new ProgramResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }
}
