/*
 * An in-process stand-in for QEMU's QMP monitor on a Unix socket in a temporary folder, for testing
 * the client without QEMU: it sends a greeting, reads one JSON request per line, and answers each
 * as the test's handler says (a reply, an error, events first, nothing at all, or a close).
 */
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Memvisor.Qemu.Tests.Qmp;

/// <summary>What the fake does with one request.</summary>
internal sealed record FakeAnswer(IReadOnlyList<string> Lines, bool Close = false)
{
    /// <summary>Say nothing (a hung server).</summary>
    public static FakeAnswer Silence { get; } = new([]);

    /// <summary>Close the connection without answering (QEMU exited).</summary>
    public static FakeAnswer Hangup { get; } = new([], Close: true);

    /// <summary>A success reply with <paramref name="returnJson"/> for the request <paramref name="request"/>.</summary>
    public static FakeAnswer Return(FakeRequest request, string returnJson = "{}") =>
        new([$"{{\"return\": {returnJson}, \"id\": {request.IdJson}}}"]);

    /// <summary>An error reply.</summary>
    public static FakeAnswer Error(FakeRequest request, string errorClass, string description) =>
        new([$"{{\"id\": {request.IdJson}, \"error\": {{\"class\": \"{errorClass}\", \"desc\": \"{description}\"}}}}"]);

    /// <summary>This answer preceded by event lines.</summary>
    public FakeAnswer AfterEvents(params string[] events) => this with { Lines = [.. events, .. Lines] };
}

/// <summary>One request as the fake received it.</summary>
internal sealed record FakeRequest(string Execute, JsonElement Arguments, string IdJson);

/// <summary>A scripted QMP server accepting one client.</summary>
internal sealed class FakeQmpServer : IAsyncDisposable
{
    public const string QemuGreeting =
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"test\"}, \"capabilities\": [\"oob\"]}}";

    private readonly string _folder;
    private readonly Socket _listener;
    private readonly Func<FakeRequest, FakeAnswer> _handler;
    private readonly string _greeting;
    private readonly Task _serve;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly List<FakeRequest> _requests = [];
    private Socket? _connection;

    public FakeQmpServer(Func<FakeRequest, FakeAnswer> handler, string greeting = QemuGreeting)
    {
        _folder = Directory.CreateTempSubdirectory("memvisor-qmp-").FullName;
        SocketPath = Path.Combine(_folder, "qmp.sock");
        _handler = handler;
        _greeting = greeting;
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(1);
        _serve = Task.Run(ServeAsync);
    }

    public string SocketPath { get; }

    /// <summary>The requests received so far, in order.</summary>
    public IReadOnlyList<FakeRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Sends a line (an event) to the client at once.</summary>
    public async Task SendAsync(string line)
    {
        await _writeLock.WaitAsync();
        try
        {
            await _connection!.SendAsync(Encoding.UTF8.GetBytes(line + "\r\n"));
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _connection?.Dispose();
        _listener.Dispose();
        try
        {
            await _serve;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // Stopping the fake ends its loop by an exception.
        }

        _stop.Dispose();
        _writeLock.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task ServeAsync()
    {
        _connection = await _listener.AcceptAsync(_stop.Token);
        await SendAsync(_greeting);
        using var stream = new NetworkStream(_connection, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(_stop.Token) is { } line)
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            var request = new FakeRequest(
                root.GetProperty("execute").GetString()!,
                root.TryGetProperty("arguments", out var a) ? a.Clone() : default,
                root.TryGetProperty("id", out var id) ? id.GetRawText() : "null");
            lock (_requests)
            {
                _requests.Add(request);
            }

            var answer = request.Execute == "qmp_capabilities" ? FakeAnswer.Return(request) : _handler(request);
            foreach (var reply in answer.Lines)
            {
                await SendAsync(reply);
            }

            if (answer.Close)
            {
                _connection.Shutdown(SocketShutdown.Both);
                _connection.Close();
                return;
            }
        }
    }
}
