/*
 * Checks on a file the user names as input, before it is opened: it must be given, exist and be a
 * regular file. A directory, a FIFO (opening one blocks until a writer comes), a device such as
 * /dev/zero (it never ends) or a socket is refused in one line that says what the path is instead.
 * For `scan`, which reads a file as pages up to the size the file system reports, a file of a kernel
 * file system (procfs, sysfs, debugfs, ...) is refused too: the kernel calls /proc/self/mem or
 * /proc/meminfo regular files of size 0, so they read as no pages at all (a process is scanned with --pid).
 */
using Memvisor.Native;

namespace Memvisor.Cli;

/// <summary>Validates input file paths.</summary>
internal static partial class InputFile
{
    /// <summary>Null when <paramref name="path"/> names a regular file, otherwise the problem in a few words.</summary>
    public static string? Problem(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return "the file name is empty";
        }

        FileKind kind;
        try
        {
            kind = FileKinds.Of(path);
        }
        catch (ErrnoException e)
        {
            return $"'{path}' cannot be examined ({e.ErrnoName})";
        }

        return kind switch
        {
            FileKind.Regular => null,
            FileKind.Missing => $"'{path}' does not exist",
            FileKind.Directory => $"'{path}' is a folder, not a file",
            FileKind.Fifo => $"'{path}' is a named pipe, not a regular file",
            FileKind.CharacterDevice or FileKind.BlockDevice => $"'{path}' is a device, not a regular file",
            FileKind.Socket => $"'{path}' is a socket, not a regular file",
            _ => $"'{path}' is not a regular file",
        };
    }

    /// <summary>Kernel file systems whose files report a size unrelated to their contents (names as .NET's DriveInfo.DriveFormat gives them).</summary>
    private static readonly HashSet<string> KernelFileSystems = new(StringComparer.Ordinal)
    {
        "proc", "sysfs", "debugfs", "tracefs", "securityfs", "configfs", "cgroupfs", "cgroup2fs", "bpf_fs", "pstorefs", "efivarfs", "fusectl", "binfmt_misc",
    };

    /// <summary>Null when <paramref name="path"/> (a regular file, see <see cref="Problem"/>) can be read as pages, otherwise why not.</summary>
    public static string? PagesProblem(string path)
    {
        string format, full;
        try
        {
            full = Path.GetFullPath(path);
            format = new DriveInfo(full).DriveFormat;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }

        if (!KernelFileSystems.Contains(format))
        {
            return null;
        }

        var process = ProcessMemory().Match(full);
        return process.Success
            ? $"'{path}' is a process's memory as procfs shows it, not a file of pages; scan the process with --pid {(process.Groups[1].Value == "self" ? "N" : process.Groups[1].Value)}"
            : $"'{path}' is a file of the kernel's {format} file system, whose size says nothing of its contents; scan files of pages (memory dumps, core files) or processes (--pid N)";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^/proc/(\d+|self)/(mem|task/\d+/mem)$")]
    private static partial System.Text.RegularExpressions.Regex ProcessMemory();
}
