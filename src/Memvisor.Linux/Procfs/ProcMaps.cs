/*
 * Parsing /proc/PID/maps (proc(5)): which address ranges of a process hold memory to scan.
 *
 * Problem. `memvisor scan --pid N` estimates sharing on a process's memory (paper §4 applied to
 * processes). The process's mappings say where that memory is and whether it can be read.
 *
 * Format, one mapping per line:
 *     start-end perms offset dev inode [path]
 *     7f1c2a3b4000-7f1c2a3b6000 r--p 00000000 08:02 173521     /usr/lib/libc.so.6
 * start, end and offset are hexadecimal; perms is four letters (r, w, x, then p private or s shared);
 * the path is missing for anonymous memory, may hold spaces, may end in " (deleted)", and names
 * special mappings in brackets ([heap], [stack], [vdso], [vvar], [vsyscall]).
 */
using System.Globalization;
using Memvisor.Core.Memory;

namespace Memvisor.Linux.Procfs;

/// <summary>The permissions of a mapping.</summary>
[Flags]
public enum MappingAccess
{
    /// <summary>No access.</summary>
    None = 0,

    /// <summary>Readable.</summary>
    Read = 1,

    /// <summary>Writable.</summary>
    Write = 2,

    /// <summary>Executable.</summary>
    Execute = 4,

    /// <summary>Shared with other processes (not private copy-on-write).</summary>
    Shared = 8,
}

/// <summary>One line of /proc/PID/maps.</summary>
/// <param name="Start">First address.</param>
/// <param name="End">First address after the mapping.</param>
/// <param name="Access">Permissions.</param>
/// <param name="Offset">Offset into the mapped file.</param>
/// <param name="Device">Device of the mapped file, "major:minor".</param>
/// <param name="Inode">Inode of the mapped file; 0 for anonymous memory.</param>
/// <param name="Path">Mapped file or special name; empty for anonymous memory.</param>
public readonly record struct ProcMapping(ulong Start, ulong End, MappingAccess Access, ulong Offset, string Device, ulong Inode, string Path)
{
    /// <summary>Pages the mapping spans.</summary>
    public long PageCount => (long)((End - Start) >> PageGeometry.PageShift);

    /// <summary>The mapping is readable.</summary>
    public bool IsReadable => (Access & MappingAccess.Read) != 0;

    /// <summary>
    /// A kernel-provided mapping that /proc/PID/mem cannot read even when it is marked readable: the
    /// vDSO's data pages ([vvar], [vvar_vclock]) and the legacy [vsyscall] page.
    /// </summary>
    public bool IsUnreadableSpecial => Path is "[vvar]" or "[vvar_vclock]" or "[vsyscall]";
}

/// <summary>Parses /proc/PID/maps.</summary>
public static class ProcMaps
{
    /// <summary>Parses one line; false when it is not a mapping line.</summary>
    public static bool TryParseLine(ReadOnlySpan<char> line, out ProcMapping mapping)
    {
        mapping = default;
        line = line.TrimEnd("\r\n");
        var rest = line;
        if (!NextField(ref rest, out var range)
            || !NextField(ref rest, out var perms)
            || !NextField(ref rest, out var offsetText)
            || !NextField(ref rest, out var device)
            || !NextField(ref rest, out var inodeText))
        {
            return false;
        }

        var dash = range.IndexOf('-');
        if (dash <= 0
            || !TryHex(range[..dash], out var start)
            || !TryHex(range[(dash + 1)..], out var end)
            || end < start
            || !TryParseAccess(perms, out var access)
            || !TryHex(offsetText, out var offset)
            || device.IndexOf(':') <= 0
            || !ulong.TryParse(inodeText, NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
        {
            return false;
        }

        // The path is everything after the inode's padding, spaces included.
        mapping = new ProcMapping(start, end, access, offset, device.ToString(), inode, rest.TrimStart(' ').ToString());
        return true;
    }

    /// <summary>Parses a whole maps file; lines that are not mappings are an error.</summary>
    /// <exception cref="FormatException">A line is not a mapping line.</exception>
    public static IReadOnlyList<ProcMapping> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var mappings = new List<ProcMapping>();
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.IsWhiteSpace())
            {
                continue;
            }

            if (!TryParseLine(line, out var mapping))
            {
                throw new FormatException($"Not a /proc/PID/maps line: '{line}'.");
            }

            mappings.Add(mapping);
        }

        return mappings;
    }

    private static bool NextField(ref ReadOnlySpan<char> rest, out ReadOnlySpan<char> field)
    {
        rest = rest.TrimStart(' ');
        var end = rest.IndexOf(' ');
        field = end < 0 ? rest : rest[..end];
        rest = end < 0 ? [] : rest[end..];
        return !field.IsEmpty;
    }

    private static bool TryHex(ReadOnlySpan<char> text, out ulong value) =>
        ulong.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);

    private static bool TryParseAccess(ReadOnlySpan<char> perms, out MappingAccess access)
    {
        access = MappingAccess.None;
        if (perms.Length != 4)
        {
            return false;
        }

        if (!Flag(perms[0], 'r', MappingAccess.Read, ref access)
            || !Flag(perms[1], 'w', MappingAccess.Write, ref access)
            || !Flag(perms[2], 'x', MappingAccess.Execute, ref access))
        {
            return false;
        }

        switch (perms[3])
        {
            case 's':
                access |= MappingAccess.Shared;
                return true;
            case 'p':
                return true;
            default:
                return false;
        }
    }

    private static bool Flag(char c, char set, MappingAccess flag, ref MappingAccess access)
    {
        if (c == set)
        {
            access |= flag;
            return true;
        }

        return c == '-';
    }
}
