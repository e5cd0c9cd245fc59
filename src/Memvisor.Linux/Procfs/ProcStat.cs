/*
 * /proc/PID/stat (proc(5)): one line, "pid (comm) state ppid pgrp ...". comm is the process's name as
 * it chose it, spaces and parentheses included, so the fields are counted from the line's last ')'.
 * The fields after it start at proc(5)'s field 3 (state): field N of proc(5) is at index N - 3.
 */
namespace Memvisor.Linux.Procfs;

/// <summary>Splits a /proc/PID/stat line (see the file header).</summary>
public static class ProcStat
{
    /// <summary>The fields after "(comm)": index 0 is proc(5)'s field 3 (state), index N - 3 its field N.</summary>
    /// <exception cref="FormatException">The line has no ')' closing comm.</exception>
    public static string[] FieldsAfterComm(string statLine)
    {
        ArgumentNullException.ThrowIfNull(statLine);
        var close = statLine.LastIndexOf(')');
        return close < 0
            ? throw new FormatException("A /proc/<pid>/stat line has no ')' after comm.")
            : statLine[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }
}
