/*
 * Every QEMU process this Memvisor process started, so that none outlives it.
 *
 * A guest is registered when started and removed when it is stopped. Whatever ends this process
 * normally (return, exception unwinding to exit, SIGTERM, SIGINT/Ctrl-C, SIGHUP), the registry kills
 * the guests still registered, each by its own Process object (so by the PID Memvisor started, never
 * by name). A signal another handler cancelled (the CLI turns a first Ctrl-C into a cancellation the
 * command handles, stopping its guests politely) kills nothing here. SIGKILL cannot be caught: a guest then survives its manager, which is why every path
 * that can stop a guest politely does so first.
 */
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Memvisor.Qemu.Launch;

/// <summary>The registry of started QEMU processes.</summary>
public static class GuestProcesses
{
    private static readonly ConcurrentDictionary<int, Process> Running = new();
    private static readonly Lock HookLock = new();
    private static readonly List<PosixSignalRegistration> Signals = [];
    private static bool _hooked;

    /// <summary>The PIDs of the guests started and not yet stopped.</summary>
    public static IReadOnlyCollection<int> Pids => [.. Running.Keys];

    /// <summary>Kills every registered guest (by its PID) and waits briefly for each to exit.</summary>
    public static void KillAll()
    {
        foreach (var (pid, process) in Running)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    process.WaitForExit(TimeSpan.FromSeconds(2));
                }
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }

            Running.TryRemove(pid, out _);
        }
    }

    internal static void Register(Process process)
    {
        HookOnce();
        Running[process.Id] = process;
    }

    internal static void Unregister(Process process) => Running.TryRemove(process.Id, out _);

    private static void HookOnce()
    {
        lock (HookLock)
        {
            if (_hooked)
            {
                return;
            }

            _hooked = true;
            AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
            foreach (var signal in (PosixSignal[])[PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP])
            {
                // A handler registered before this one (the CLI's, on a first Ctrl-C) may have cancelled
                // the signal to let the command stop its guests itself; then nothing is killed here and
                // ProcessExit remains the backstop. Otherwise the process is about to end: kill now.
                Signals.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    if (!context.Cancel)
                    {
                        KillAll();
                    }
                }));
            }
        }
    }
}
