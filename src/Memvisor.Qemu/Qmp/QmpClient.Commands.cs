/*
 * The typed QMP commands Memvisor uses to manage a guest's memory: the balloon target and actual,
 * the balloon driver's guest statistics, the VM's run state, pause and resume (blocking a VM that
 * cannot get memory, paper §6.3), and quit.
 */
using System.Text.Json;

namespace Memvisor.Qemu.Qmp;

/// <summary>The typed commands of <see cref="QmpClient"/>.</summary>
public sealed partial class QmpClient
{
    /// <summary>The QOM path of a balloon device added with <c>-device virtio-balloon-pci,id=balloon0</c>.</summary>
    public const string DefaultBalloonPath = "/machine/peripheral/balloon0";

    /// <summary>
    /// Sets the guest's memory target in bytes (<c>balloon</c>): the balloon inflates or deflates
    /// until the guest holds <paramref name="targetBytes"/>. Returns at once; the guest gets there
    /// asynchronously (watch <see cref="QueryBalloonActualBytesAsync"/> or BALLOON_CHANGE events).
    /// </summary>
    /// <exception cref="QmpErrorException">No balloon device ("DeviceNotActive") or a bad value.</exception>
    public async Task SetBalloonTargetAsync(long targetBytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(targetBytes);
        var arguments = JsonSerializer.SerializeToElement(new BalloonArguments(targetBytes), QmpJsonContext.Default.BalloonArguments);
        await ExecuteAsync("balloon", arguments, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The guest's memory now, in bytes: configured memory minus the balloon (<c>query-balloon</c>).</summary>
    public async Task<long> QueryBalloonActualBytesAsync(CancellationToken cancellationToken = default)
    {
        var result = await ExecuteAsync("query-balloon", cancellationToken: cancellationToken).ConfigureAwait(false);
        return Deserialize(result, QmpJsonContext.Default.BalloonInfoReply, "query-balloon").ActualBytes;
    }

    /// <summary>The VM's run state (<c>query-status</c>).</summary>
    public async Task<VmStatus> QueryStatusAsync(CancellationToken cancellationToken = default)
    {
        var result = await ExecuteAsync("query-status", cancellationToken: cancellationToken).ConfigureAwait(false);
        var reply = Deserialize(result, QmpJsonContext.Default.StatusInfoReply, "query-status");
        return new VmStatus(reply.Running, VmStatus.StateOf(reply.Status), reply.Status);
    }

    /// <summary>
    /// Asks the balloon driver to report guest statistics every <paramref name="intervalSeconds"/>
    /// seconds (0 stops), through the balloon device at <paramref name="balloonPath"/>.
    /// </summary>
    public async Task SetGuestStatsPollingIntervalAsync(int intervalSeconds, string balloonPath = DefaultBalloonPath, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(intervalSeconds);
        var arguments = JsonSerializer.SerializeToElement(
            new QomSetIntegerArguments(balloonPath, "guest-stats-polling-interval", intervalSeconds),
            QmpJsonContext.Default.QomSetIntegerArguments);
        await ExecuteAsync("qom-set", arguments, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The guest statistics last reported by the balloon driver.</summary>
    public async Task<GuestMemoryStats> GetGuestStatsAsync(string balloonPath = DefaultBalloonPath, CancellationToken cancellationToken = default)
    {
        var arguments = JsonSerializer.SerializeToElement(new QomGetArguments(balloonPath, "guest-stats"), QmpJsonContext.Default.QomGetArguments);
        var result = await ExecuteAsync("qom-get", arguments, cancellationToken: cancellationToken).ConfigureAwait(false);
        return GuestMemoryStats.Parse(result);
    }

    /// <summary>Pauses the guest's vCPUs (<c>stop</c>): the policy's "block a VM". QEMU answers and sends STOP.</summary>
    public async Task PauseAsync(CancellationToken cancellationToken = default) =>
        await ExecuteAsync("stop", cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>Resumes a paused guest (<c>cont</c>): "unblock a VM". QEMU answers and sends RESUME.</summary>
    public async Task ResumeAsync(CancellationToken cancellationToken = default) =>
        await ExecuteAsync("cont", cancellationToken: cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Asks QEMU to exit (<c>quit</c>). QEMU answers, sends SHUTDOWN and closes the socket; a close
    /// that wins the race against the answer counts as success.
    /// </summary>
    public async Task QuitAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await ExecuteAsync("quit", cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (QmpConnectionClosedException)
        {
            // QEMU closed the socket as it exited: that is what quit asks for.
        }
    }

    private static T Deserialize<T>(JsonElement result, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, string command)
    {
        try
        {
            return result.Deserialize(typeInfo) ?? throw new QmpProtocolException(command, "a null return value");
        }
        catch (JsonException e)
        {
            throw new QmpProtocolException(command, $"unexpected return value: {e.Message}");
        }
    }
}
