/*
 * How `simulate`, `host run` and `host attach` write a run's output folder: claimed before the run
 * (OutputClaim: one run at a time per folder), then written whole (Reporting's WholeFolder: the folder
 * holds this run or, on a failure or Ctrl-C, what it held before), each failure one line.
 */
using Memvisor.Reporting;
using Memvisor.Scenarios;

namespace Memvisor.Cli;

/// <summary>Writes a run's outputs for a command.</summary>
internal static class RunOutputFolder
{
    /// <summary>
    /// Checks that <paramref name="output"/> may take a run's outputs and claims it for this run; null, after
    /// saying why in one line ("{command}: cannot write outputs to --out ...; {nothingDone}."), when it cannot.
    /// </summary>
    public static OutputClaim? Claim(string command, string output, string nothingDone = "nothing run")
    {
        var why = WholeFolder.CheckReplaceable(output);
        var claim = why is null ? OutputClaim.TryTake(output, () => WholeFolder.RecoverAbandoned(output), out why) : null;
        if (claim is null)
        {
            Console.Error.WriteLine($"{command}: cannot write outputs to --out '{output}': {why}; {nothingDone}.");
            return null;
        }

        foreach (var line in claim.Recovered)
        {
            Console.Error.WriteLine($"{command}: note: {line}.");
        }

        return claim;
    }

    /// <summary>Writes the folder whole; null when written, otherwise the exit code after saying why in one line (130 on Ctrl-C, 1 on a failed write).</summary>
    public static int? Write(string command, string output, Scenario scenario, IReadOnlyList<HostSample> samples, RunSummary summary, CancellationToken cancellationToken)
    {
        try
        {
            WholeFolder.Write(output, staging => RunOutputs.Write(staging, scenario, samples, summary), cancellationToken);
            return null;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"{command}: interrupted while writing; '{output}' is as it was.");
            return 130;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"{command}: writing the outputs to '{output}' failed ({e.Message}); '{output}' is as it was.");
            return 1;
        }
    }
}
