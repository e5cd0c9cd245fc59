/*
 * Why a scan source (a process, a file) could not be opened, in words a user can act on.
 * `memvisor scan` turns this into an error for sources named on the command line, and into a
 * skipped count for processes it found by itself.
 */
namespace Memvisor.Linux.Scanning;

/// <summary>What kept a scan source from being opened.</summary>
public enum ScanSourceProblem
{
    /// <summary>Something else (an I/O error).</summary>
    Other = 0,

    /// <summary>No such process or file.</summary>
    NotFound,

    /// <summary>The caller may not read it.</summary>
    AccessDenied,

    /// <summary>A directory or other thing that is not a file of pages.</summary>
    NotAFile,

    /// <summary>The process exited while it was being opened.</summary>
    Vanished,
}

/// <summary>A scan source could not be opened; the message names the source and the problem.</summary>
public sealed class ScanSourceException : Exception
{
    /// <summary>Creates an exception of kind <see cref="ScanSourceProblem.Other"/>.</summary>
    public ScanSourceException()
    {
    }

    /// <summary>Creates an exception of kind <see cref="ScanSourceProblem.Other"/>.</summary>
    public ScanSourceException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception of kind <see cref="ScanSourceProblem.Other"/>.</summary>
    public ScanSourceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception of kind <paramref name="problem"/>.</summary>
    public ScanSourceException(ScanSourceProblem problem, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Problem = problem;
    }

    /// <summary>What kept the source from being opened.</summary>
    public ScanSourceProblem Problem { get; }
}
