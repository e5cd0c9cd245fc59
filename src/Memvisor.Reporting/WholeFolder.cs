/*
 * Writing a run's outputs so that a folder holds one complete run or none.
 *
 * The files are written into a staging folder beside the destination (same parent, so the final move is
 * a rename on one file system), then the staging folder takes the destination's name: an earlier run's
 * folder is first renamed aside and deleted only after the new one is in place. A failure or a
 * cancellation while writing deletes the staging folder and leaves the destination as it was.
 * The destination is replaced whole, so it must be new, empty, or an earlier run's output folder (one
 * that holds summary.json and nothing but run outputs): a folder holding anything else is refused before
 * anything runs (CheckReplaceable), since replacing it would delete the user's files.
 * A run killed outright (SIGKILL, a power cut) can leave its staging folder, or, between its two renames,
 * the earlier run's folder renamed aside with no folder in its place. RecoverAbandoned, called by the next
 * writer of the same destination while it alone may write there (the CLI's claim on the folder), removes
 * the first and puts the second back.
 */
namespace Memvisor.Reporting;

/// <summary>Writes a folder whole: all of it, or nothing.</summary>
public static class WholeFolder
{
    private static readonly HashSet<string> RunEntries = new(StringComparer.Ordinal)
    {
        RunOutputs.HostCsvFile, RunOutputs.VmsCsvFile, RunOutputs.TimeSeriesJsonFile, RunOutputs.SummaryJsonFile,
        RunOutputs.SummaryTextFile, RunOutputs.ReportFile, RunOutputs.ChartsFolder,
    };

    /// <summary>
    /// Null when <paramref name="dir"/> may be replaced by a run's outputs (it does not exist, is empty, or
    /// holds an earlier run's outputs only), otherwise why not, in a few words.
    /// </summary>
    public static string? CheckReplaceable(string dir)
    {
        if (string.IsNullOrWhiteSpace(dir))
        {
            return "the folder name is empty";
        }

        try
        {
            if (File.Exists(dir))
            {
                return "it is a file, not a folder";
            }

            if (!Directory.Exists(dir))
            {
                var parent = Path.GetDirectoryName(Path.GetFullPath(dir));
                return parent is null || Directory.Exists(parent) ? Writable(dir) : $"its parent folder '{parent}' does not exist";
            }

            var entries = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).ToList();
            if (entries.Count == 0)
            {
                return Writable(dir);
            }

            var foreign = entries.Where(e => !RunEntries.Contains(e!)).Take(3).ToList();
            if (foreign.Count > 0 || !entries.Contains(RunOutputs.SummaryJsonFile))
            {
                return $"it holds files that are not a Memvisor run's outputs ({string.Join(", ", foreign.DefaultIfEmpty(entries[0]))}); choose a new or empty folder";
            }

            return Writable(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return e.Message.TrimEnd('.');
        }
    }

    /// <summary>
    /// Calls <paramref name="write"/> with a fresh staging folder, then puts that folder in place of
    /// <paramref name="dir"/>. On any exception (cancellation included) the staging folder is deleted, the
    /// destination is untouched, and the exception propagates.
    /// </summary>
    public static void Write(string dir, Action<string> write, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{dir}' has no parent folder.", nameof(dir));
        var name = Path.GetFileName(full);
        var pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var staging = Path.Combine(parent, $".{name}.partial-{pid}");
        var aside = Path.Combine(parent, $".{name}.old-{pid}");
        DeleteQuietly(staging);
        Directory.CreateDirectory(staging);
        try
        {
            write(staging);
            cancellationToken.ThrowIfCancellationRequested();
            if (Directory.Exists(full))
            {
                DeleteQuietly(aside);
                Directory.Move(full, aside);
                try
                {
                    Directory.Move(staging, full);
                }
                catch
                {
                    Directory.Move(aside, full);
                    throw;
                }

                DeleteQuietly(aside);
            }
            else
            {
                Directory.Move(staging, full);
            }
        }
        catch
        {
            DeleteQuietly(staging);
            throw;
        }
    }

    /// <summary>
    /// Removes the staging folders of <paramref name="dir"/> that killed runs left beside it, and puts back
    /// an earlier run's folder a killed run had renamed aside (when nothing took its place; otherwise it is
    /// removed). Only for a caller that alone writes <paramref name="dir"/> now. Returns one line per thing
    /// done.
    /// </summary>
    public static IReadOnlyList<string> RecoverAbandoned(string dir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        var full = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full);
        var done = new List<string>();
        if (parent is null || !Directory.Exists(parent))
        {
            return done;
        }

        var name = Path.GetFileName(full);
        foreach (var kind in new[] { "partial", "old" })
        {
            foreach (var left in Directory.EnumerateFileSystemEntries(parent, $".{name}.{kind}-*").Where(d => IsPidSuffixed(d, $".{name}.{kind}-")).Order(StringComparer.Ordinal))
            {
                if (kind == "old" && Directory.Exists(left) && !Path.Exists(full))
                {
                    try
                    {
                        Directory.Move(left, full);
                        done.Add($"put back '{full}', which a killed run had renamed to '{left}'");
                        continue;
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // Removed below, as any other leftover.
                    }
                }

                DeleteQuietly(left);
                if (!Path.Exists(left))
                {
                    done.Add($"removed '{left}', left by a killed run");
                }
            }
        }

        return done;
    }

    private static bool IsPidSuffixed(string path, string prefix)
    {
        var suffix = Path.GetFileName(path)[prefix.Length..];
        return suffix.Length > 0 && suffix.All(char.IsAsciiDigit);
    }

    /// <summary>Null when a staging folder can be made beside <paramref name="dir"/> (a read-only or full file system cannot), otherwise why not.</summary>
    private static string? Writable(string dir) =>
        CannotWriteIn(Path.GetDirectoryName(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar)) ?? dir);

    /// <summary>Null when a folder holding a file can be made in the existing folder <paramref name="folder"/>, otherwise why not ("its folder cannot be written (...)").</summary>
    public static string? CannotWriteIn(string folder)
    {
        var probe = Path.Combine(folder, $".memvisor.probe-{Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        try
        {
            Directory.CreateDirectory(probe);
            File.WriteAllBytes(Path.Combine(probe, "probe"), [0]);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"its folder cannot be written ({e.Message.TrimEnd('.')})";
        }
        finally
        {
            DeleteQuietly(probe);
        }
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover staging or old folder is hidden (dot name) and harmless; the run's result stands.
        }
    }
}
