/*
 * Drives Linux KSM for one measurement and leaves it as it was found.
 *
 * Problem. A side-by-side with KSM must turn ksmd up (run=1, pages_to_scan high, sleep 0) on a shared
 * machine, and must put every knob back afterwards, also when the measurement throws. "As found"
 * covers more than knob values: pages merged during the run stay merged after run=0. So:
 *  - every knob is snapshotted before its first change, and restored in reverse order of change;
 *  - if run was 0 and nothing was merged when the controller was created, ksmd is stopped with run=2,
 *    which unmerges every merged page (only this run's pages then), and run is set back to 0;
 *  - if other pages were already merged, run=2 would unmerge them too: the controller then only stops
 *    ksmd (run=0) and the caller unmerges its own range (MADV_UNMERGEABLE or munmap);
 *  - run is written last, so ksmd never runs with a mix of old and new settings;
 *  - every restored knob is read back; a mismatch or a failed write is reported after all were tried.
 * Optionally the originals are kept in a journal file until they are restored (KsmJournal), so that a
 * run killed by SIGKILL is repaired by the next one: a controller given a journal folder, once it holds
 * the lock, restores what the journals of dead processes in that folder recorded and deletes them
 * (Recovered says what it did, one line each), before it reads a knob.
 * Two controllers of the host's KSM at once (two Memvisor processes, e.g. two test projects run side by
 * side) would each save the other's changed values as originals and leave ksmd running. So a controller
 * of the real /sys/kernel/mm/ksm holds an exclusive lock file from construction until it has restored
 * (.NET's FileShare.None is an flock on Linux, released when the process dies); a second one waits for
 * it, up to LockTimeout. The holder deletes the lock file as it releases it (nothing is left in the temp
 * folder), so a waiter that opened the file before the deletion checks, once it holds the lock, that the
 * path still names the file it locked (Native's FileIdentity), and starts again if not.
 */
using System.Globalization;
using Memvisor.Native;

namespace Memvisor.Linux.Ksm;

/// <summary>A knob's value before the controller first changed it.</summary>
public readonly record struct KnobSnapshot(string Knob, string Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Knob}={Value}";
}

/// <summary>Changes KSM knobs and restores them all on <see cref="Dispose"/>.</summary>
public sealed class KsmController : IDisposable
{
    /// <summary>How long a controller of the host's KSM waits for another one to restore.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(10);

    private readonly KsmSysfs _sysfs;
    private FileStream? _hostLock;
    private readonly string? _journalPath;
    private readonly long? _startTicks;
    private readonly List<KnobSnapshot> _originals = [];
    private bool _restored;

    /// <summary>
    /// Controls KSM through <paramref name="sysfs"/>. With <paramref name="journalFolder"/>, the originals are kept on
    /// disk there until restored, and journals that dead processes left there are restored first (see the file header).
    /// </summary>
    /// <exception cref="IOException">A dead process's journal could not be restored (its journal is kept), or the lock was held too long.</exception>
    /// <exception cref="ArgumentException"><paramref name="journalFolder"/> is not an existing folder.</exception>
    public KsmController(KsmSysfs sysfs, string? journalFolder = null, string procRoot = "/proc")
    {
        ArgumentNullException.ThrowIfNull(sysfs);
        if (journalFolder is not null && !Directory.Exists(journalFolder))
        {
            throw new ArgumentException($"KSM journal folder '{journalFolder}' is not a folder (journals are kept in a folder, one per process).", nameof(journalFolder));
        }

        _sysfs = sysfs;
        _hostLock = LockHost(sysfs);
        try
        {
            if (journalFolder is not null)
            {
                _journalPath = KsmJournal.PathFor(journalFolder, Environment.ProcessId);
                _startTicks = KsmJournal.StartTicksOf(Environment.ProcessId, procRoot);
                Recovered = RecoverAbandoned(sysfs, journalFolder, procRoot);
            }

            CountersAtStart = KsmCounters.Read(sysfs);
        }
        catch
        {
            ReleaseHost();
            throw;
        }

        NothingMergedAtStart = CountersAtStart.PagesShared == 0 && CountersAtStart.PagesSharing == 0 && (CountersAtStart.KsmZeroPages ?? 0) == 0;
    }

    private KsmController(KsmSysfs sysfs, string journalPath, bool nothingMergedAtStart, IEnumerable<KnobSnapshot> originals)
    {
        _sysfs = sysfs;
        _journalPath = journalPath;
        NothingMergedAtStart = nothingMergedAtStart;
        _originals.AddRange(originals);
    }

    /// <summary>Journals of dead processes this controller restored and deleted when it was created, one line each.</summary>
    public IReadOnlyList<string> Recovered { get; } = [];

    /// <summary>The counters when the controller was created.</summary>
    public KsmCounters CountersAtStart { get; }

    /// <summary>True when no page was merged when the controller was created.</summary>
    public bool NothingMergedAtStart { get; }

    /// <summary>The original value of every knob changed so far, in order of first change.</summary>
    public IReadOnlyList<KnobSnapshot> Originals => _originals;

    /// <summary>The KSM directory.</summary>
    public KsmSysfs Sysfs => _sysfs;

    /// <summary>Sets <paramref name="knob"/> to <paramref name="value"/>, remembering its original value first.</summary>
    public void Set(string knob, long value)
    {
        ObjectDisposedException.ThrowIf(_restored, this);
        if (!_originals.Exists(o => o.Knob == knob))
        {
            _originals.Add(new KnobSnapshot(knob, _sysfs.Read(knob)));
            WriteJournal();
        }

        _sysfs.Write(knob, value.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Sets the scan rate, then starts ksmd (run=1).</summary>
    public void Start(int pagesToScan, int sleepMilliseconds)
    {
        Set(KsmKnob.PagesToScan, pagesToScan);
        Set(KsmKnob.SleepMilliseconds, sleepMilliseconds);
        Set(KsmKnob.Run, 1);
    }

    /// <summary>Puts every changed knob back (see the file header). Throws when any knob could not be restored.</summary>
    public void Restore()
    {
        if (_restored)
        {
            return;
        }

        var errors = new List<Exception>();
        var run = _originals.Find(o => o.Knob == KsmKnob.Run);
        if (run.Knob is not null)
        {
            var stop = run.Value == "0" && NothingMergedAtStart ? "2" : "0";
            TryWrite(KsmKnob.Run, stop, errors);
        }

        for (var i = _originals.Count - 1; i >= 0; i--)
        {
            if (_originals[i].Knob != KsmKnob.Run)
            {
                TryWrite(_originals[i].Knob, _originals[i].Value, errors);
            }
        }

        if (run.Knob is not null)
        {
            TryWrite(KsmKnob.Run, run.Value, errors);
        }

        foreach (var original in _originals)
        {
            try
            {
                var now = _sysfs.Read(original.Knob);
                if (now != original.Value)
                {
                    errors.Add(new InvalidOperationException($"{_sysfs.PathOf(original.Knob)} reads '{now}' after restoring '{original.Value}'."));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add(e);
            }
        }

        if (errors.Count > 0)
        {
            throw new AggregateException($"KSM settings in {_sysfs.Directory} could not all be restored; originals: {string.Join(", ", _originals)}", errors);
        }

        _restored = true;
        try
        {
            if (_journalPath is not null)
            {
                File.Delete(_journalPath);
            }
        }
        finally
        {
            // Every knob is back: the lock goes whether or not the journal could be deleted (a journal left
            // behind names this process and records originals that are already restored).
            ReleaseHost();
        }
    }

    /// <summary>Deletes the lock file, then releases the lock (see the file header).</summary>
    private void ReleaseHost()
    {
        if (_hostLock is null)
        {
            return;
        }

        try
        {
            File.Delete(_hostLock.Name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind it is an empty file; the next controller takes it over.
        }

        _hostLock.Dispose();
        _hostLock = null;
    }

    /// <summary>The lock on the host's KSM (null for any other directory, such as a test's).</summary>
    /// <exception cref="IOException">Another controller held it for <see cref="LockTimeout"/>.</exception>
    private static FileStream? LockHost(KsmSysfs sysfs)
    {
        if (sysfs.Directory != KsmSysfs.DefaultDirectory)
        {
            return null;
        }

        var path = Path.Combine(Path.GetTempPath(), "memvisor-ksm.lock");
        var deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                if (FileIdentity.Same(stream.SafeFileHandle, path))
                {
                    return stream;
                }

                // The holder deleted the file we locked as it released it: lock the current one.
                stream.Dispose();
                continue;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(250);
            }
            catch (IOException e)
            {
                throw new IOException($"KSM is being driven by another process (lock {path}) for over {LockTimeout.TotalMinutes:0} minutes; its settings would be mixed with ours.", e);
            }
        }
    }

    /// <summary>Restores every changed knob; throws (after trying them all) when one could not be restored.</summary>
    public void Dispose() => Restore();

    /// <summary>Restores the knobs a journal left by an interrupted run names, then deletes the journal.</summary>
    public static IReadOnlyList<KnobSnapshot> RestoreFromJournal(KsmSysfs sysfs, string journalPath)
    {
        ArgumentNullException.ThrowIfNull(sysfs);
        var journal = KsmJournal.Read(journalPath);
        using var controller = new KsmController(sysfs, journalPath, journal.NothingMergedAtStart, journal.Originals);
        return controller.Originals;
    }

    /// <summary>Restores and deletes the journals that dead processes left in <paramref name="folder"/> for <paramref name="sysfs"/>; one line per journal.</summary>
    private static List<string> RecoverAbandoned(KsmSysfs sysfs, string folder, string procRoot)
    {
        var lines = new List<string>();
        foreach (var (path, journal) in KsmJournal.Abandoned(folder, sysfs.Directory, Environment.ProcessId, procRoot))
        {
            try
            {
                using (new KsmController(sysfs, path, journal.NothingMergedAtStart, journal.Originals))
                {
                }
            }
            catch (AggregateException e)
            {
                throw new IOException($"KSM in {sysfs.Directory} was left changed by process {journal.Pid}, which ended without restoring it, and restoring its originals ({string.Join(", ", journal.Originals)}) from {path} failed: {e.InnerExceptions[0].Message}", e);
            }

            lines.Add(journal.Originals.Count == 0
                ? $"removed {path}: process {journal.Pid} ended without removing it; it had changed no KSM knob"
                : $"restored KSM's {string.Join(", ", journal.Originals)}, which process {journal.Pid} changed and ended without restoring (journal {path}, removed)");
        }

        return lines;
    }

    private void TryWrite(string knob, string value, List<Exception> errors)
    {
        try
        {
            _sysfs.Write(knob, value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add(e);
        }
    }

    private void WriteJournal()
    {
        if (_journalPath is null)
        {
            return;
        }

        KsmJournal.Write(_journalPath, new KsmJournalContents(_sysfs.Directory, Environment.ProcessId, _startTicks, NothingMergedAtStart, _originals));
    }
}
