/*
 * One subscriber's view of a QMP connection's events: an unbounded channel the client's reader
 * writes to, so that a slow subscriber never holds up command replies. Completes when the connection
 * closes, so a loop over Events ends with the guest.
 */
using System.Threading.Channels;

namespace Memvisor.Qemu.Qmp;

/// <summary>Events from one <see cref="QmpClient"/>, from the moment of subscribing until disposal or close.</summary>
public sealed class QmpEventSubscription : IDisposable
{
    private readonly QmpClient _client;
    private readonly Channel<QmpEvent> _channel = Channel.CreateUnbounded<QmpEvent>(new UnboundedChannelOptions { SingleReader = true });

    internal QmpEventSubscription(QmpClient client)
    {
        _client = client;
    }

    /// <summary>The events, in the order the server sent them; completes when the connection closes.</summary>
    public ChannelReader<QmpEvent> Events => _channel.Reader;

    /// <summary>
    /// Waits for the next event of <paramref name="kind"/> (others are consumed and skipped) and
    /// returns it; null when the connection closes or <paramref name="timeout"/> passes first.
    /// </summary>
    public async Task<QmpEvent?> WaitForAsync(QmpEventKind kind, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await foreach (var qmpEvent in _channel.Reader.ReadAllAsync(deadline.Token).ConfigureAwait(false))
            {
                if (qmpEvent.Kind == kind)
                {
                    return qmpEvent;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        return null;
    }

    /// <summary>Stops receiving events.</summary>
    public void Dispose()
    {
        _client.Unsubscribe(this);
        Complete();
    }

    internal void Write(QmpEvent qmpEvent) => _channel.Writer.TryWrite(qmpEvent);

    internal void Complete() => _channel.Writer.TryComplete();
}
