/*
 * One run at a time per output folder.
 *
 * Problem. Two runs started into the same --out at once each stage their outputs and rename them into
 * place (Reporting's WholeFolder). The renames interleave: one run's folder replaced the other's while
 * both said "outputs: ...", or the loser's earlier folder, renamed aside, could not be put back and was
 * left as a hidden .NAME.old-PID beside it (`experiment all` could even end with experiments/ from one
 * run and experiments.md from the other).
 *
 * So a command claims its output folder before it runs anything: an exclusive lock (flock, through
 * .NET's FileShare.None) on a hidden lock file beside the folder, .NAME.lock, held until the command
 * ends and then deleted. A second command into the same folder finds the lock taken and is refused in
 * one line before it runs: it has written nothing and leaves nothing. The kernel drops the lock when its
 * holder dies, so a killed run never blocks the next one; and the next claimant, which now owns the
 * folder, puts back what a run killed between its two renames left aside and removes its half-written
 * staging folder (WholeFolder.RecoverAbandoned).
 * The lock file needs the folder's parent: folders missing on the way to it are made, and removed again
 * (when still empty) as the claim ends, so a refused or interrupted run leaves no empty folders behind.
 * A lock file that its holder deletes can have been opened by a latecomer just before the deletion: the
 * latecomer would lock a deleted file. So a claimant checks, once locked, that the path still names the
 * file it locked (Native's FileIdentity), and tries again if not.
 */
using Memvisor.Native;
using Memvisor.Reporting;

namespace Memvisor.Cli;

/// <summary>An exclusive claim on an output folder, held until disposed.</summary>
internal sealed class OutputClaim : IDisposable
{
    /// <summary>errno EWOULDBLOCK: flock found the lock held (.NET reports it as an IOException with this HResult).</summary>
    private const int WouldBlock = 11;

    private readonly FileStream _lock;
    private readonly string _lockPath;
    private readonly List<string> _madeFolders;

    private OutputClaim(FileStream lockFile, string lockPath, List<string> madeFolders)
    {
        _lock = lockFile;
        _lockPath = lockPath;
        _madeFolders = madeFolders;
    }

    /// <summary>What a killed run had left beside the folder and this claim put back or removed, one line each.</summary>
    public IReadOnlyList<string> Recovered { get; private set; } = [];

    /// <summary>The hidden lock file that claims <paramref name="folder"/>.</summary>
    public static string LockPathOf(string folder)
    {
        var full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        return Path.Combine(Path.GetDirectoryName(full) ?? full, $".{Path.GetFileName(full)}.lock");
    }

    /// <summary>Claims <paramref name="folder"/> (whose parent exists); null, with <paramref name="problem"/> saying why in a few words, when another run holds it or the lock cannot be made.</summary>
    /// <param name="folder">The output folder.</param>
    /// <param name="recover">Puts back or removes what a killed run left (called once the claim is held); its lines, one per thing done.</param>
    /// <param name="problem">Why the folder cannot be claimed.</param>
    public static OutputClaim? TryTake(string folder, Func<IReadOnlyList<string>> recover, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(recover);
        problem = null;
        string lockPath;
        try
        {
            lockPath = LockPathOf(folder);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            problem = e.Message.TrimEnd('.');
            return null;
        }

        var made = new List<string>();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            FileStream? stream = null;
            try
            {
                MakeFolders(Path.GetDirectoryName(lockPath)!, made);
                stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                if (!FileIdentity.Same(stream.SafeFileHandle, lockPath))
                {
                    // Locked a lock file its holder deleted meanwhile: the claim is on the new one, if any.
                    stream.Dispose();
                    continue;
                }

                var claim = new OutputClaim(stream, lockPath, made);
                stream = null;
                try
                {
                    claim.Recovered = recover();
                    return claim;
                }
                catch
                {
                    claim.Dispose();
                    throw;
                }
            }
            catch (IOException e) when (e.HResult == WouldBlock)
            {
                RemoveFolders(made);
                problem = $"another memvisor run is writing to it at this moment (its lock '{lockPath}' is held); wait for that run to end or choose another folder";
                return null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ErrnoException)
            {
                RemoveFolders(made);
                problem = $"its lock file '{lockPath}' cannot be made ({e.Message.TrimEnd('.')})";
                return null;
            }
            finally
            {
                stream?.Dispose();
            }
        }

        RemoveFolders(made);
        problem = $"its lock file '{lockPath}' kept being replaced while it was claimed";
        return null;
    }

    /// <summary>Makes <paramref name="folder"/> and any missing folder above it, adding each one made to <paramref name="made"/> (deepest last).</summary>
    private static void MakeFolders(string folder, List<string> made)
    {
        var missing = new Stack<string>();
        for (var f = folder; f is not null && !Directory.Exists(f); f = Path.GetDirectoryName(f))
        {
            missing.Push(f);
        }

        foreach (var f in missing)
        {
            Directory.CreateDirectory(f);
            made.Add(f);
        }
    }

    /// <summary>Removes the folders in <paramref name="made"/> that are empty, deepest first.</summary>
    private static void RemoveFolders(List<string> made)
    {
        for (var i = made.Count - 1; i >= 0; i--)
        {
            try
            {
                Directory.Delete(made[i]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not empty: the run wrote into it, or another process did; it stays.
                break;
            }
        }

        made.Clear();
    }

    /// <summary>Deletes the lock file, then releases the lock.</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(_lockPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind it is an empty hidden file; the next claim takes it over.
        }

        _lock.Dispose();
        RemoveFolders(_madeFolders);
    }
}
