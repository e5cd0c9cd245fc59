/*
 * Real-guest tests of different test projects must not run at the same time: `dotnet test` runs the
 * test projects in parallel processes, and two sets of TCG guests on a 2-core host starve each other
 * (a guest's agent falls seconds behind, a balloon deflation is read as the idle guest's working set)
 * and share one KSM. The first real-guest test of a process takes a host-wide lock (flock through
 * FileShare.None) and keeps it until the process exits, so a second test process's real-guest tests
 * wait for the first process to finish; inside a process the projects keep their own collections.
 * The kernel drops the lock when the process ends, however it ends.
 */
namespace Memvisor.Testing;

/// <summary>One test process at a time boots real guests on this host.</summary>
public static class RealGuestHostLock
{
    private static readonly Lock Gate = new();
    private static FileStream? _held;

    /// <summary>Where the lock lives.</summary>
    public static string LockPath => Path.Combine(Path.GetTempPath(), "memvisor-real-guest-tests.lock");

    /// <summary>Waits (up to an hour) until this process holds the host's real-guest lock; returns at once once it does.</summary>
    public static void Acquire()
    {
        lock (Gate)
        {
            if (_held is not null)
            {
                return;
            }

            var deadline = DateTime.UtcNow.AddHours(1);
            while (true)
            {
                try
                {
                    _held = new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                    return;
                }
                catch (IOException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(TimeSpan.FromSeconds(1));
                }
            }
        }
    }
}
