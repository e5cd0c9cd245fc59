/*
 * Checks on a file the user names as input, before it is opened: it must be given, exist and be a
 * regular file. A directory, a FIFO (opening one blocks until a writer comes), a device such as
 * /dev/zero (it never ends) or a socket is refused in one line that says what the path is instead.
 */
using Memvisor.Native;

namespace Memvisor.Cli;

/// <summary>Validates input file paths.</summary>
internal static class InputFile
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
}
