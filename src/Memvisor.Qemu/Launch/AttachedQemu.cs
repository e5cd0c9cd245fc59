/*
 * A QEMU VM that Memvisor did not start: a user's own QEMU (or a libvirt guest) with a QMP socket.
 *
 * Attach: connect to the QMP socket (QEMU serves one client per socket: one held by libvirt needs a
 * second -qmp socket for Memvisor); the QEMU process is the socket's peer (SO_PEERCRED); its memory
 * is query-memory-size-summary's base memory; it must have a balloon device (query-balloon answers),
 * found in the QOM tree (/machine/peripheral, then /machine/peripheral-anon) for guest statistics; its
 * guest RAM is the anonymous mapping of that size in /proc/PID/maps. Its name is query-name's, else
 * "vm-PID". What was found is kept: the balloon's size at attach, THP on QEMU's guest RAM (accessed
 * bits then count 2 MiB at a time: the working-set estimate is coarse), mem-merge off (KSM cannot
 * merge the VM).
 *
 * Detach (DisposeAsync): the balloon is set back to the size it had at attach, and the QMP connection
 * closed. An attached VM is never stopped, paused at exit or signalled: it outlives Memvisor.
 */
using System.Globalization;
using System.Text.Json;
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Qmp;

namespace Memvisor.Qemu.Launch;

/// <summary>A QEMU VM managed through its QMP socket.</summary>
public sealed class AttachedQemu : IQemuVm, IAsyncDisposable
{
    private int _detached;

    private AttachedQemu(QmpClient qmp, string name, int pid, int memoryMiB, string balloonPath, long balloonActualAtAttach, GuestRamMapping? mapping, IReadOnlyList<string> notes)
    {
        Qmp = qmp;
        Name = name;
        Pid = pid;
        MemoryMiB = memoryMiB;
        BalloonPath = balloonPath;
        ActualBytesAtAttach = balloonActualAtAttach;
        RamMapping = mapping;
        Notes = notes;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public int MemoryMiB { get; }

    /// <inheritdoc/>
    public int Pid { get; }

    /// <inheritdoc/>
    public QmpClient Qmp { get; }

    /// <inheritdoc/>
    public GuestRamMapping? RamMapping { get; }

    /// <inheritdoc/>
    public string BalloonPath { get; }

    /// <summary>The guest's memory (configured minus balloon) when Memvisor attached: what it is given back at detach.</summary>
    public long ActualBytesAtAttach { get; }

    /// <summary>What limits management of this VM (THP, mem-merge off), one line each.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <inheritdoc/>
    public bool HasExited => !Qmp.IsConnected || !Directory.Exists($"/proc/{Pid}");

    /// <inheritdoc/>
    public AgentReport? LatestReport => null;

    /// <summary>Attaches to the QEMU serving <paramref name="socketPath"/>.</summary>
    /// <exception cref="AttachException">The VM cannot be managed (no QEMU there, no balloon, no guest RAM found): the message is the one-line reason.</exception>
    public static async Task<AttachedQemu> AttachAsync(string socketPath, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        QmpClient qmp;
        try
        {
            qmp = await QmpClient.ConnectAsync(socketPath, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (QmpTimeoutException e)
        {
            // QEMU serves one client per QMP socket: a second client is accepted but never greeted.
            throw new AttachException($"{socketPath}: QEMU does not greet ({e.Message}): another client (libvirt?) holds this socket; give QEMU a second -qmp socket for Memvisor");
        }
        catch (QmpException e)
        {
            throw new AttachException($"{socketPath}: no QMP server answers there ({e.Message})");
        }

        try
        {
            if (qmp.PeerProcessId is not { } pid)
            {
                throw new AttachException($"{socketPath}: the kernel does not say which process serves the socket (SO_PEERCRED)");
            }

            var memoryBytes = (await qmp.ExecuteAsync("query-memory-size-summary", cancellationToken: cancellationToken).ConfigureAwait(false)).GetProperty("base-memory").GetInt64();
            long actual;
            try
            {
                actual = await qmp.QueryBalloonActualBytesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (QmpErrorException e)
            {
                throw new AttachException($"{socketPath}: QEMU {pid} has no balloon device ({e.Description}): add -device virtio-balloon-pci,id=balloon0 to manage it");
            }

            var name = await NameOfAsync(qmp, pid, cancellationToken).ConfigureAwait(false);
            var balloonPath = await FindBalloonAsync(qmp, cancellationToken).ConfigureAwait(false) ?? QmpClient.DefaultBalloonPath;
            var mapping = GuestRamMapping.Find(pid, memoryBytes)
                ?? throw new AttachException($"{socketPath}: no guest-RAM mapping of {memoryBytes >> 20} MiB in /proc/{pid}/maps (not readable by this user?)");
            var notes = new List<string>();
            if (mapping.ReadUsage() is { } usage)
            {
                if (usage.AnonHugePagesBytes > 0)
                {
                    notes.Add($"{name}: its guest RAM has transparent huge pages ({usage.AnonHugePagesBytes >> 20} MiB): working sets are counted 2 MiB at a time (start QEMU with THP off for 4 KiB accuracy)");
                }

                if (!usage.Mergeable)
                {
                    notes.Add($"{name}: mem-merge is off: KSM cannot merge its memory");
                }
            }

            return new AttachedQemu(qmp, name, pid, (int)(memoryBytes >> 20), balloonPath, actual, mapping, notes);
        }
        catch (Exception e) when (e is QmpException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            await qmp.DisposeAsync().ConfigureAwait(false);
            throw new AttachException($"{socketPath}: unexpected answer from QEMU ({e.Message})");
        }
        catch
        {
            await qmp.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Gives the balloon back to where it was found and closes the connection; the VM runs on.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _detached, 1) != 0)
        {
            return;
        }

        try
        {
            if (Qmp.IsConnected)
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await Qmp.SetBalloonTargetAsync(ActualBytesAtAttach, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is QmpException or OperationCanceledException)
        {
            // QEMU went away or stopped answering: there is no balloon left to give back.
        }
        finally
        {
            await Qmp.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<string> NameOfAsync(QmpClient qmp, int pid, CancellationToken cancellationToken)
    {
        try
        {
            var result = await qmp.ExecuteAsync("query-name", cancellationToken: cancellationToken).ConfigureAwait(false);
            if (result.TryGetProperty("name", out var name) && name.GetString() is { Length: > 0 } text)
            {
                return text;
            }
        }
        catch (QmpErrorException)
        {
            // Older QEMU: fall back to the PID.
        }

        return "vm-" + pid.ToString(CultureInfo.InvariantCulture);
    }

    private static async Task<string?> FindBalloonAsync(QmpClient qmp, CancellationToken cancellationToken)
    {
        foreach (var parent in (string[])["/machine/peripheral", "/machine/peripheral-anon"])
        {
            JsonElement children;
            try
            {
                using var arguments = JsonDocument.Parse($"{{\"path\":\"{parent}\"}}");
                children = await qmp.ExecuteAsync("qom-list", arguments.RootElement, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (QmpErrorException)
            {
                continue;
            }

            foreach (var child in children.EnumerateArray())
            {
                var type = child.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
                if (type.StartsWith("child<virtio-balloon", StringComparison.Ordinal))
                {
                    return $"{parent}/{child.GetProperty("name").GetString()}";
                }
            }
        }

        return null;
    }
}

/// <summary>A VM cannot be attached to; the message is the reason in one line.</summary>
public sealed class AttachException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AttachException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public AttachException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public AttachException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
