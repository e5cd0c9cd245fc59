/*
 * Where `memvisor experiment` writes, written whole (as `simulate` writes its folder: Reporting's
 * WholeFolder). One experiment: its folder experiments/<name> is staged beside its final place and
 * moved in once complete. All: every experiment runs first, then the whole experiments folder is staged
 * and moved in, and experiments.md (staged as a file) is renamed into place right after it. A failure or
 * Ctrl-C while writing leaves what was there before; a folder never holds parts of two runs. What would
 * be replaced must be an earlier run's (experiment folders holding reports, charts and tables only), so
 * that a user's own files in the way are refused before anything runs, never deleted.
 */
using System.Globalization;
using System.Text;
using Memvisor.Experiments;
using Memvisor.Reporting;

namespace Memvisor.Cli;

/// <summary>Checks and writes `experiment`'s output folder.</summary>
internal static class ExperimentOutputs
{
    private static readonly string[] ReportExtensions = [".md", ".svg", ".csv"];

    /// <summary>Null when reports can be written under <paramref name="output"/> (for one experiment, or all when <paramref name="experiment"/> is null); otherwise why not.</summary>
    public static string? Problem(string output, string? experiment)
    {
        if (string.IsNullOrWhiteSpace(output))
        {
            return "the folder name is empty";
        }

        try
        {
            var full = Path.GetFullPath(output);
            if (NearestExisting(full) is { } existing && File.Exists(existing))
            {
                return existing == full ? "it is a file, not a folder" : $"'{existing}' is a file, not a folder";
            }

            var folder = Path.Combine(full, ExperimentReport.Folder);
            if (File.Exists(folder))
            {
                return $"'{folder}' is a file, not a folder";
            }

            var replaced = experiment is null
                ? Directory.Exists(folder) ? Directory.EnumerateFileSystemEntries(folder).ToList() : []
                : [Path.Combine(folder, experiment)];
            foreach (var entry in replaced)
            {
                if (ForeignIn(entry) is { } foreign)
                {
                    return $"'{foreign}' is not an experiment's report, chart or table, and writing the reports would replace it; move it or choose another folder";
                }
            }

            // A read-only or kernel file system (/proc, /sys): refused now, not after the experiments ran.
            return NearestExisting(Directory.Exists(folder) ? folder : full) is { } writable ? WholeFolder.CannotWriteIn(writable) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return e.Message.TrimEnd('.');
        }
    }

    /// <summary>Writes one experiment's folder whole.</summary>
    public static void WriteOne(string output, ExperimentResult result, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(output, ExperimentReport.Folder);
        Directory.CreateDirectory(folder);
        WholeFolder.Write(Path.Combine(folder, result.Name), staging => ExperimentReport.WriteFolder(staging, result), cancellationToken);
    }

    /// <summary>Writes every experiment's folder (the experiments folder whole) and experiments.md (<paramref name="collectedText"/>: the simulator's or the real guests' collected document).</summary>
    public static void WriteAll(string output, IReadOnlyList<ExperimentResult> results, Func<IReadOnlyList<ExperimentResult>, string> collectedText, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(output);
        var collected = Path.Combine(output, ExperimentReport.CollectedFile);
        var stagedCollected = Path.Combine(output, $".{ExperimentReport.CollectedFile}.partial-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");
        File.WriteAllText(stagedCollected, collectedText(results), new UTF8Encoding(false));
        try
        {
            WholeFolder.Write(
                Path.Combine(output, ExperimentReport.Folder),
                staging =>
                {
                    foreach (var result in results)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        ExperimentReport.WriteFolder(Path.Combine(staging, result.Name), result);
                    }
                },
                cancellationToken);

            // The folder is in place: the collected document follows at once (a rename; no cancellation between).
            File.Move(stagedCollected, collected, overwrite: true);
        }
        finally
        {
            File.Delete(stagedCollected);
        }
    }

    /// <summary>Puts back or removes what a killed run left under <paramref name="output"/> (WholeFolder.RecoverAbandoned for each folder and file written whole); one line per thing done.</summary>
    public static IReadOnlyList<string> RecoverAbandoned(string output, IEnumerable<string> experiments)
    {
        var folder = Path.Combine(output, ExperimentReport.Folder);
        return [
            .. WholeFolder.RecoverAbandoned(folder),
            .. WholeFolder.RecoverAbandoned(Path.Combine(output, ExperimentReport.CollectedFile)),
            .. experiments.SelectMany(name => WholeFolder.RecoverAbandoned(Path.Combine(folder, name))),
        ];
    }

    /// <summary>Where an experiment's report.md is (or will be) under <paramref name="output"/>.</summary>
    public static string ReportPath(string output, ExperimentResult result) =>
        Path.GetFullPath(Path.Combine(output, ExperimentReport.Folder, result.Name, "report.md"));

    /// <summary>The first entry in <paramref name="folder"/> that is not an experiment's output (null when none, or when it does not exist).</summary>
    private static string? ForeignIn(string folder)
    {
        if (File.Exists(folder))
        {
            return folder;
        }

        if (!Directory.Exists(folder))
        {
            return null;
        }

        return Directory.EnumerateFileSystemEntries(folder)
            .FirstOrDefault(e => Directory.Exists(e) || !ReportExtensions.Contains(Path.GetExtension(e), StringComparer.Ordinal));
    }

    private static string? NearestExisting(string path)
    {
        for (var p = path; p is not null; p = Path.GetDirectoryName(p))
        {
            if (Path.Exists(p))
            {
                return p;
            }
        }

        return null;
    }
}
