/*
 * A QMP client: QEMU's machine protocol over a Unix socket, asynchronous, with a timeout on every
 * command.
 *
 * Protocol (QMP specification). The server speaks first with a greeting ({"QMP": {...}}); the client
 * answers with qmp_capabilities; from then on the client sends one JSON object per command
 * ({"execute": NAME, "arguments": {...}, "id": N}) and the server sends, one JSON object per line,
 * replies ({"return": ...} or {"error": {"class", "desc"}}, carrying the request's id) and, at any
 * time in between, events ({"event": NAME, "data": ..., "timestamp": ...}).
 *
 * Design. One reader task owns the socket's input: it matches replies to pending commands by id and
 * copies events to every subscription's channel. Writers serialise through a lock. Every command has
 * a deadline (the client's default or its own) covering both the write and the wait for the reply;
 * a command that misses it throws QmpTimeoutException and its late reply, if one comes, is dropped.
 * When the socket closes (QEMU exited) every pending and later command throws
 * QmpConnectionClosedException and every subscription's channel completes. An error reply throws
 * QmpErrorException with the server's class and description.
 *
 * Invariants:
 *   1. A command's task completes exactly once: with its reply, its error, a timeout or the close.
 *   2. After the reader stops, no command waits: pending ones fail, new ones fail at once.
 *   3. Events are delivered in the order the server sent them, to each subscription independently;
 *      a slow subscriber never blocks replies (channels are unbounded).
 */
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Memvisor.Qemu.Qmp;

/// <summary>An open QMP connection to one QEMU process.</summary>
public sealed partial class QmpClient : IAsyncDisposable, IDisposable
{
    /// <summary>The default deadline of a command.</summary>
    public static readonly TimeSpan DefaultCommandTimeout = TimeSpan.FromSeconds(5);

    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<long, PendingCommand> _pending = new();
    private readonly Lock _subscriptionsLock = new();
    private readonly List<QmpEventSubscription> _subscriptions = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _readLoop = Task.CompletedTask;
    private long _nextId;
    private volatile string? _closedReason;

    private QmpClient(Socket socket, TimeSpan commandTimeout, string socketPath)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(_stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), detectEncodingFromByteOrderMarks: false);
        CommandTimeout = commandTimeout;
        SocketPath = socketPath;
        Greeting = new QmpGreeting(0, 0, 0, "", []);
    }

    /// <summary>The greeting the server sent.</summary>
    public QmpGreeting Greeting { get; private set; }

    /// <summary>The deadline of a command that does not give its own.</summary>
    public TimeSpan CommandTimeout { get; }

    /// <summary>The socket's path.</summary>
    public string SocketPath { get; }

    /// <summary>
    /// The PID of the process at the other end of the socket (the QEMU serving it), from the kernel's
    /// peer credentials (SO_PEERCRED, taken when the server accepted); null where the kernel does not say.
    /// </summary>
    public int? PeerProcessId { get; private set; }

    /// <summary>False once the connection closed (QEMU exited, the socket failed, or the client was disposed).</summary>
    public bool IsConnected => _closedReason is null;

    /// <summary>Why the connection closed; null while it is open.</summary>
    public string? ClosedReason => _closedReason;

    /// <summary>
    /// Connects to the QMP socket at <paramref name="socketPath"/>, reads the greeting and negotiates
    /// capabilities, all within <paramref name="commandTimeout"/> (default 5 s) per step.
    /// </summary>
    /// <exception cref="QmpConnectionClosedException">No server at the path, or it closed during the handshake.</exception>
    /// <exception cref="QmpTimeoutException">No greeting or no answer to qmp_capabilities in time.</exception>
    /// <exception cref="QmpProtocolException">The server's first message is not a QMP greeting.</exception>
    public static async Task<QmpClient> ConnectAsync(string socketPath, TimeSpan? commandTimeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        var timeout = commandTimeout ?? DefaultCommandTimeout;
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using (var connectDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectDeadline.CancelAfter(timeout);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), connectDeadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new QmpTimeoutException("connect", timeout);
                }
                catch (SocketException e)
                {
                    throw new QmpConnectionClosedException("connect", $"cannot connect to {socketPath}: {e.SocketErrorCode}", e);
                }
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var client = new QmpClient(socket, timeout, socketPath) { PeerProcessId = PeerPid(socket) };
        try
        {
            client.Greeting = await client.ReadGreetingAsync(cancellationToken).ConfigureAwait(false);
            client._readLoop = Task.Run(client.ReadLoopAsync, CancellationToken.None);
            await client.ExecuteAsync("qmp_capabilities", cancellationToken: cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static int? PeerPid(Socket socket)
    {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } from getsockopt(SOL_SOCKET = 1, SO_PEERCRED = 17).
        const int SolSocket = 1, SoPeerCred = 17;
        Span<byte> credentials = stackalloc byte[12];
        try
        {
            return socket.GetRawSocketOption(SolSocket, SoPeerCred, credentials) == credentials.Length
                ? System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(credentials) is > 0 and var pid ? pid : null
                : null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>
    /// Runs <paramref name="command"/> with optional <paramref name="arguments"/> (a JSON object) and
    /// returns its "return" value (cloned; an empty object for commands that return nothing).
    /// </summary>
    /// <exception cref="QmpErrorException">The server answered with an error.</exception>
    /// <exception cref="QmpTimeoutException">No answer within the deadline.</exception>
    /// <exception cref="QmpConnectionClosedException">The connection is or became closed.</exception>
    public async Task<JsonElement> ExecuteAsync(string command, JsonElement? arguments = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(command);
        var closed = _closedReason;
        if (closed is not null)
        {
            throw new QmpConnectionClosedException(command, closed);
        }

        var deadline = timeout ?? CommandTimeout;
        var id = Interlocked.Increment(ref _nextId);
        var pending = new PendingCommand(command);
        _pending[id] = pending;
        try
        {
            // The close may have happened between the check above and the registration: re-check so
            // that the command cannot wait for a reader that is gone (invariant 2).
            closed = _closedReason;
            if (closed is not null)
            {
                throw new QmpConnectionClosedException(command, closed);
            }

            var request = JsonSerializer.SerializeToUtf8Bytes(new QmpRequest(command, arguments, id), QmpJsonContext.Default.QmpRequest);
            using var deadlineSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadlineSource.CancelAfter(deadline);
            try
            {
                await WriteAsync(command, request, deadlineSource.Token).ConfigureAwait(false);
                return await pending.Reply.Task.WaitAsync(deadlineSource.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new QmpTimeoutException(command, deadline);
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Starts receiving events: every event that arrives from now on is written to the returned
    /// subscription's channel until it is disposed or the connection closes.
    /// </summary>
    public QmpEventSubscription Subscribe()
    {
        var subscription = new QmpEventSubscription(this);
        lock (_subscriptionsLock)
        {
            if (_closedReason is not null)
            {
                subscription.Complete();
            }
            else
            {
                _subscriptions.Add(subscription);
            }
        }

        return subscription;
    }

    /// <summary>Closes the connection; pending commands fail with <see cref="QmpConnectionClosedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        Close("client disposed");
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or SocketException)
        {
            // The read loop ends by failing on the closed socket; nothing is left to report.
        }

        _reader.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _writeLock.Dispose();
        _stop.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    internal void Unsubscribe(QmpEventSubscription subscription)
    {
        lock (_subscriptionsLock)
        {
            _subscriptions.Remove(subscription);
        }
    }

    private async Task<QmpGreeting> ReadGreetingAsync(CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(CommandTimeout);
        string? line;
        try
        {
            do
            {
                line = await _reader.ReadLineAsync(deadline.Token).ConfigureAwait(false);
            }
            while (line is not null && string.IsNullOrWhiteSpace(line));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new QmpTimeoutException("greeting", CommandTimeout);
        }
        catch (IOException e)
        {
            throw new QmpConnectionClosedException("greeting", e.Message, e);
        }

        if (line is null)
        {
            throw new QmpConnectionClosedException("greeting", "the server closed the connection before its greeting");
        }

        try
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("QMP", out var qmp)
                && QmpGreeting.Parse(qmp) is { } greeting)
            {
                return greeting;
            }
        }
        catch (JsonException)
        {
            // Falls through to the protocol error below.
        }

        throw new QmpProtocolException("greeting", $"the first message is not a QMP greeting: {Truncate(line)}");
    }

    private async Task WriteAsync(string command, byte[] request, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _stream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
            await _stream.WriteAsync(NewLine, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            Close($"write failed: {e.Message}");
            throw new QmpConnectionClosedException(command, _closedReason ?? "write failed", e);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var reason = "the server closed the connection";
        try
        {
            while (true)
            {
                var line = await _reader.ReadLineAsync(_stop.Token).ConfigureAwait(false);
                if (line is null)
                {
                    break;
                }

                if (!string.IsNullOrWhiteSpace(line))
                {
                    Dispatch(line);
                }
            }
        }
        catch (OperationCanceledException)
        {
            reason = "client disposed";
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            reason = $"read failed: {e.Message}";
        }
        finally
        {
            Close(reason);
        }
    }

    private void Dispatch(string line)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException)
        {
            // Not JSON: nothing can be matched to it. QEMU never sends such a line; a fake or a broken
            // server might, and one bad line must not end the session.
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (root.TryGetProperty("event", out var name) && name.ValueKind == JsonValueKind.String)
            {
                Publish(ParseEvent(root, name.GetString()!));
                return;
            }

            if (!root.TryGetProperty("id", out var idElement) || !idElement.TryGetInt64(out var id)
                || !_pending.TryGetValue(id, out var pending))
            {
                // A reply to no pending command: one that timed out, or an error without an id.
                return;
            }

            if (root.TryGetProperty("return", out var result))
            {
                pending.Reply.TrySetResult(result.Clone());
            }
            else if (root.TryGetProperty("error", out var error))
            {
                var errorClass = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("class", out var c) ? c.GetString() ?? "" : "";
                var description = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("desc", out var d) ? d.GetString() ?? "" : "";
                pending.Reply.TrySetException(new QmpErrorException(pending.Command, errorClass, description));
            }
            else
            {
                pending.Reply.TrySetException(new QmpProtocolException(pending.Command, $"a reply with neither return nor error: {Truncate(line)}"));
            }
        }
    }

    private static QmpEvent ParseEvent(JsonElement root, string name)
    {
        var data = root.TryGetProperty("data", out var d) ? d.Clone() : default;
        var timestamp = DateTimeOffset.UnixEpoch;
        if (root.TryGetProperty("timestamp", out var t) && t.ValueKind == JsonValueKind.Object
            && t.TryGetProperty("seconds", out var s) && s.TryGetInt64(out var seconds))
        {
            var micro = t.TryGetProperty("microseconds", out var u) && u.TryGetInt64(out var us) ? us : 0;
            timestamp = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(micro * 10);
        }

        return new QmpEvent(QmpEvent.KindOf(name), name, data, timestamp);
    }

    private void Publish(QmpEvent qmpEvent)
    {
        lock (_subscriptionsLock)
        {
            foreach (var subscription in _subscriptions)
            {
                subscription.Write(qmpEvent);
            }
        }
    }

    private void Close(string reason)
    {
        lock (_subscriptionsLock)
        {
            if (_closedReason is not null)
            {
                return;
            }

            _closedReason = reason;
            foreach (var subscription in _subscriptions)
            {
                subscription.Complete();
            }

            _subscriptions.Clear();
        }

        foreach (var pending in _pending.Values)
        {
            pending.Reply.TrySetException(new QmpConnectionClosedException(pending.Command, reason));
        }
    }

    private static string Truncate(string line) => line.Length <= 200 ? line : string.Concat(line.AsSpan(0, 200), "...");

    private sealed class PendingCommand(string command)
    {
        public string Command { get; } = command;

        public TaskCompletionSource<JsonElement> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
