/*
 * The three ways a QMP command can fail, as typed exceptions.
 *
 * A QMP server answers a command with either {"return": ...} or {"error": {"class": C, "desc": D}}.
 * The error class is a short machine name ("GenericError", "CommandNotFound", "DeviceNotActive",
 * "KVMMissingCap", "DeviceNotFound"); the description is a sentence for people. Besides an error
 * reply, a command can get no answer in time (QEMU hung, a guest stuck in a KVM error with the
 * monitor still alive, a socket nobody reads) or lose its connection (QEMU exited or crashed).
 * Callers react differently to each: a policy loop reports a timeout and goes on, treats a closed
 * socket as a dead guest, and treats an error reply as a fault of the request.
 */
namespace Memvisor.Qemu.Qmp;

/// <summary>Base of every QMP failure: names the command that failed.</summary>
public abstract class QmpException : Exception
{
    /// <summary>Creates an exception for <paramref name="command"/>.</summary>
    protected QmpException(string command, string message, Exception? inner = null)
        : base(message, inner)
    {
        Command = command;
    }

    /// <summary>The QMP command that failed ("balloon", "query-status"...), or "connect".</summary>
    public string Command { get; }
}

/// <summary>The server answered the command with an error reply.</summary>
public sealed class QmpErrorException : QmpException
{
    /// <summary>Creates the exception from the reply's class and description.</summary>
    public QmpErrorException(string command, string errorClass, string description)
        : base(command, $"QMP {command} failed: {errorClass}: {description}")
    {
        ErrorClass = errorClass;
        Description = description;
    }

    /// <summary>The error's class, e.g. "GenericError", "CommandNotFound", "DeviceNotActive".</summary>
    public string ErrorClass { get; }

    /// <summary>The error's human-readable description.</summary>
    public string Description { get; }
}

/// <summary>The server did not answer within the command's timeout.</summary>
public sealed class QmpTimeoutException : QmpException
{
    /// <summary>Creates the exception for <paramref name="command"/> after <paramref name="timeout"/>.</summary>
    public QmpTimeoutException(string command, TimeSpan timeout)
        : base(command, $"QMP {command}: no answer within {timeout.TotalSeconds:0.###} s")
    {
        Timeout = timeout;
    }

    /// <summary>How long the client waited.</summary>
    public TimeSpan Timeout { get; }
}

/// <summary>The connection is closed (QEMU exited, or the client was disposed) or could not be opened.</summary>
public sealed class QmpConnectionClosedException : QmpException
{
    /// <summary>Creates the exception for <paramref name="command"/>.</summary>
    public QmpConnectionClosedException(string command, string reason, Exception? inner = null)
        : base(command, $"QMP {command}: connection closed ({reason})", inner)
    {
        Reason = reason;
    }

    /// <summary>Why the connection is closed.</summary>
    public string Reason { get; }
}

/// <summary>The server sent something that is not QMP (no greeting, a reply that is not JSON...).</summary>
public sealed class QmpProtocolException : QmpException
{
    /// <summary>Creates the exception for <paramref name="command"/>.</summary>
    public QmpProtocolException(string command, string problem)
        : base(command, $"QMP {command}: protocol error: {problem}")
    {
    }
}
