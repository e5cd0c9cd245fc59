/*
 * Starting a child process with transparent huge pages disabled for its memory.
 *
 * .NET has no hook between fork and exec, but the THP-disable flag (prctl PR_SET_THP_DISABLE) is
 * inherited across both. So: under a lock, remember this process's flag, set it, start the child,
 * and put the flag back. While the flag is set, memory this process maps is not THP-backed: a few
 * milliseconds, harmless. The lock keeps two starts from undoing each other's flag. The child's
 * /proc/PID/status then shows "THP_enabled: 0" (checked by the launcher's tests).
 */
using System.Diagnostics;
using Memvisor.Native;

namespace Memvisor.Qemu.Launch;

/// <summary>Starts processes with THP disabled.</summary>
internal static class ThpDisabledStart
{
    private static readonly Lock StartLock = new();

    /// <summary>Starts <paramref name="start"/> with THP disabled in the child.</summary>
    public static Process Start(ProcessStartInfo start)
    {
        lock (StartLock)
        {
            var wasDisabled = TransparentHugePages.IsDisabledForThisProcess();
            if (!wasDisabled)
            {
                TransparentHugePages.SetDisabledForThisProcess(true);
            }

            try
            {
                return Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
            }
            finally
            {
                if (!wasDisabled)
                {
                    TransparentHugePages.SetDisabledForThisProcess(false);
                }
            }
        }
    }

    /// <summary>True when /proc/PID/status says THP is disabled for <paramref name="pid"/> (null if unreadable).</summary>
    public static bool? IsThpDisabledFor(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("THP_enabled:", StringComparison.Ordinal))
                {
                    return line.AsSpan("THP_enabled:".Length).Trim() is "0";
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return null;
    }
}
