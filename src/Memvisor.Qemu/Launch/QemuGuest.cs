/*
 * One running QEMU guest that this process started: the process, its QMP connection, its agent's
 * reports and its guest-RAM mapping.
 *
 * Start: validate the options (one line per mistake, before anything runs); choose the accelerator
 * (KVM only when asked and usable, else TCG with the reason); start qemu-system-x86_64 with THP
 * disabled for its memory, in a fresh run folder holding the QMP socket, the agent's socket, the
 * console log and the sparse disk images (and the guest-RAM file, when RAM is file-backed); register the process so that no exit path of Memvisor leaves it running; connect QMP
 * and the agent's socket; find the guest-RAM mapping.
 *
 * Stop (DisposeAsync, and every failure during start): QMP quit, then, if QEMU has not exited within
 * a few seconds, kill by the PID this object started; then the run folder is removed. Stopping twice
 * is harmless.
 */
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Qmp;

namespace Memvisor.Qemu.Launch;

/// <summary>A running guest started by this process.</summary>
public sealed class QemuGuest : IQemuVm, IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan QuitTimeout = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly string _folder;
    private readonly List<AgentReport> _reports = [];
    private readonly Lock _reportsLock = new();
    private readonly StringBuilder _stderr = new();
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _reportArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Socket? _agentSocket;
    private Task _agentLoop = Task.CompletedTask;
    private QmpClient? _qmp;
    private int _stopped;
    private bool _disposedExited;

    private QemuGuest(QemuGuestOptions options, Process process, string folder, GuestFiles files, Accelerator accelerator, string acceleratorNote)
    {
        Options = options;
        _process = process;
        Pid = process.Id;
        _folder = folder;
        Files = files;
        Accelerator = accelerator;
        AcceleratorNote = acceleratorNote;
    }

    /// <summary>The guest's configuration.</summary>
    public QemuGuestOptions Options { get; }

    /// <inheritdoc/>
    public string Name => Options.Name;

    /// <inheritdoc/>
    public int MemoryMiB => Options.MemoryMiB;

    /// <inheritdoc/>
    public string BalloonPath => QmpClient.DefaultBalloonPath;

    /// <summary>The QEMU process's PID.</summary>
    public int Pid { get; }

    /// <summary>The accelerator the guest runs under.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Why that accelerator (e.g. why KVM was not used).</summary>
    public string AcceleratorNote { get; }

    /// <summary>The guest's sockets and console log.</summary>
    public GuestFiles Files { get; }

    /// <summary>The QMP connection.</summary>
    public QmpClient Qmp => _qmp ?? throw new InvalidOperationException("the guest's QMP connection is not open");

    /// <summary>The guest-RAM mapping in the QEMU process.</summary>
    public GuestRamMapping? RamMapping { get; private set; }

    /// <summary>True once QEMU has exited.</summary>
    public bool HasExited => _disposedExited || _process.HasExited;

    /// <summary>The agent reports received so far, oldest first.</summary>
    public IReadOnlyList<AgentReport> Reports
    {
        get
        {
            lock (_reportsLock)
            {
                return [.. _reports];
            }
        }
    }

    /// <summary>The newest agent report, or null before the first.</summary>
    public AgentReport? LatestReport
    {
        get
        {
            lock (_reportsLock)
            {
                return _reports.Count > 0 ? _reports[^1] : null;
            }
        }
    }

    /// <summary>Starts a guest.</summary>
    /// <exception cref="ArgumentException">The options are invalid (the message is the one-line problem).</exception>
    /// <exception cref="MissingHostPackageException">QEMU is not installed.</exception>
    /// <exception cref="QemuStartException">QEMU exited or did not open its sockets in time.</exception>
    public static async Task<QemuGuest> StartAsync(QemuGuestOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        var qemu = HostTools.RequireQemu();
        var (accelerator, note) = ChooseAccelerator(options.Accelerator);
        var folder = Directory.CreateTempSubdirectory($"memvisor-{options.Name}-").FullName;
        var files = GuestFiles.In(folder);
        // Sparse: a disk takes host space only for what the guest writes to it.
        try
        {
            CreateSparseDisk(files.SwapDisk, options.GuestSwapMiB);
            CreateSparseDisk(files.DataDisk, options.DataDiskMiB);
            CreateSparseDisk(files.RamFile, options.RamBackingFile ? options.MemoryMiB : 0);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }

        var start = new ProcessStartInfo(qemu)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in QemuCommandLine.Build(options, accelerator, files))
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = options.DisableTransparentHugePages ? ThpDisabledStart.Start(start) : Process.Start(start)!;
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }

        GuestProcesses.Register(process);
        var guest = new QemuGuest(options, process, folder, files, accelerator, note);
        try
        {
            await guest.ConnectAsync(cancellationToken).ConfigureAwait(false);
            return guest;
        }
        catch
        {
            await guest.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Waits for the first agent report (from now on or already received) that satisfies
    /// <paramref name="predicate"/>; null when <paramref name="timeout"/> passes or QEMU exits first.
    /// </summary>
    public async Task<AgentReport?> WaitForReportAsync(Func<AgentReport, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var seen = 0;
        while (true)
        {
            Task arrived;
            lock (_reportsLock)
            {
                for (; seen < _reports.Count; seen++)
                {
                    if (predicate(_reports[seen]))
                    {
                        return _reports[seen];
                    }
                }

                arrived = _reportArrived.Task;
            }

            if (_process.HasExited)
            {
                return null;
            }

            try
            {
                await Task.WhenAny(arrived, _process.WaitForExitAsync(deadline.Token)).WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null;
            }
        }
    }

    /// <summary>A kernel panic line if any, then the last <paramref name="lineCount"/> lines of the guest's console and QEMU's stderr, for diagnosis.</summary>
    public string DiagnosticTail(int lineCount = 5)
    {
        var lines = File.Exists(Files.ConsoleLog) ? File.ReadAllLines(Files.ConsoleLog) : [];
        var panic = lines.Where(l => l.Contains("Kernel panic", StringComparison.Ordinal)).Take(1);
        var console = panic.Concat(lines.TakeLast(lineCount));
        string stderr;
        lock (_stderr)
        {
            stderr = _stderr.ToString();
        }

        return string.Join(" | ", console.Concat(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lineCount)));
    }

    /// <summary>Stops the guest: QMP quit, then kill by PID if it has not exited; removes the run folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited && _qmp is { IsConnected: true } qmp)
            {
                try
                {
                    using var quitDeadline = new CancellationTokenSource(QuitTimeout);
                    await qmp.QuitAsync(quitDeadline.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is QmpException or OperationCanceledException)
                {
                    // Not answering: the kill below stops it.
                }
            }

            if (!await ExitedWithinAsync(QuitTimeout).ConfigureAwait(false))
            {
                _process.Kill();
                await ExitedWithinAsync(QuitTimeout).ConfigureAwait(false);
            }
        }
        finally
        {
            GuestProcesses.Unregister(_process);
            await _stop.CancelAsync().ConfigureAwait(false);
            _agentSocket?.Dispose();
            await _agentLoop.ConfigureAwait(false);
            if (_qmp is not null)
            {
                await _qmp.DisposeAsync().ConfigureAwait(false);
            }

            _disposedExited = _process.HasExited;
            _process.Dispose();
            _stop.Dispose();
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open: the temporary folder is left for the system to clean.
            }
        }
    }

    private static void CreateSparseDisk(string path, int mib)
    {
        if (mib > 0)
        {
            using var disk = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            disk.SetLength((long)mib << 20);
        }
    }

    private static (Accelerator Accelerator, string Note) ChooseAccelerator(Accelerator asked)
    {
        if (asked == Accelerator.Tcg)
        {
            return (Accelerator.Tcg, "TCG as configured");
        }

        var kvm = KvmProbe.Check();
        return kvm.Usable ? (Accelerator.Kvm, kvm.Reason) : (Accelerator.Tcg, $"TCG instead of KVM: {kvm.Reason}");
    }

    private async Task<bool> ExitedWithinAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();

        var deadline = DateTime.UtcNow + StartTimeout;
        while (!File.Exists(Files.QmpSocket) || !File.Exists(Files.AgentSocket))
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                throw new QemuStartException($"guest {Options.Name}: QEMU exited at start (code {_process.ExitCode}): {DiagnosticTail()}");
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new QemuStartException($"guest {Options.Name}: QEMU did not open its QMP socket within {StartTimeout.TotalSeconds:0} s");
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        _qmp = await QmpClient.ConnectAsync(Files.QmpSocket, cancellationToken: cancellationToken).ConfigureAwait(false);
        var agent = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await agent.ConnectAsync(new UnixDomainSocketEndPoint(Files.AgentSocket), cancellationToken).ConfigureAwait(false);
        _agentSocket = agent;
        _agentLoop = Task.Run(ReadAgentAsync, CancellationToken.None);
        RamMapping = GuestRamMapping.Find(Pid, (long)Options.MemoryMiB << 20, Options.RamBackingFile ? Files.RamFile : null);
    }

    private async Task ReadAgentAsync()
    {
        try
        {
            using var stream = new NetworkStream(_agentSocket!, ownsSocket: false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(_stop.Token).ConfigureAwait(false) is { } line)
            {
                if (AgentReport.TryParse(line) is not { } report)
                {
                    continue;
                }

                TaskCompletionSource arrived;
                lock (_reportsLock)
                {
                    _reports.Add(report);
                    arrived = _reportArrived;
                    _reportArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                arrived.TrySetResult();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
            // The guest stopped or is being stopped: no more reports.
        }
    }
}

/// <summary>QEMU could not be started.</summary>
public sealed class QemuStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QemuStartException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public QemuStartException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public QemuStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
