/*
 * What every real-guest experiment needs from the QEMU substrate, written once: whether this machine can
 * boot guests at all (one line naming what is missing, before anything runs), the guest image (built
 * into the cache once, reused while its inputs are unchanged), starting guests and waiting for their
 * agents, stopping every guest an experiment started on every way out, and reading the agent's work
 * rate (pages touched per second of the agent's own clock) over a window of its reports.
 *
 * Experiments are synchronous (ExperimentContext, PaperExperiment.Run); the substrate is asynchronous.
 * RunSync runs the asynchronous measurement on the thread pool and waits for it, so no caller's
 * synchronization context is ever needed to finish it.
 */
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Launch;

namespace Memvisor.Experiments.RealGuests;

/// <summary>Guests for experiments: availability, image, start, wait, stop, work rates.</summary>
internal static class RealGuestLab
{
    /// <summary>4 KiB pages per MiB.</summary>
    public const int PagesPerMiB = 256;

    /// <summary>How long a guest may take from QEMU's start to its agent's first running report (TCG on a loaded 2-core host).</summary>
    public static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(150);

    /// <summary>What this machine lacks to boot real guests (with the install line), or null.</summary>
    public static string? WhyUnavailable() =>
        HostTools.MissingGuestPackages() is { Count: > 0 } missing
            ? $"real guests need {string.Join(", ", missing.Select(HostPackages.NameOf))}: {HostPackages.InstallLine(missing)}"
            : null;

    /// <summary>Runs an asynchronous measurement to its end on the thread pool.</summary>
    public static T RunSync<T>(Func<Task<T>> measure) => Task.Run(measure).GetAwaiter().GetResult();

    /// <summary>The guest image from the default cache (built when missing or stale).</summary>
    /// <exception cref="ExperimentException">A host package is missing or the build failed.</exception>
    public static async Task<GuestImage> ImageAsync(ExperimentContext context)
    {
        if (WhyUnavailable() is { } why)
        {
            throw new ExperimentException(why);
        }

        try
        {
            var image = await GuestImageBuilder.BuildAsync(cancellationToken: context.CancellationToken).ConfigureAwait(false);
            context.Report($"guest image {image.Folder} ({(image.Reused ? "reused" : "built")}, kernel {image.KernelVersion})");
            return image;
        }
        catch (Exception e) when (e is MissingHostPackageException or GuestImageException or IOException)
        {
            throw new ExperimentException($"the guest image could not be built: {e.Message}", e);
        }
    }

    /// <summary>Agent settings from KEY=VALUE strings.</summary>
    public static Dictionary<string, string> Agent(params string[] settings) =>
        settings.Select(s => s.Split('=', 2)).ToDictionary(s => s[0], s => s[1], StringComparer.Ordinal);

    /// <summary>
    /// Starts every guest (each start returns once QEMU's sockets are open, so they boot side by side) and
    /// waits for each agent's first running report. The guests are added to <paramref name="started"/> as
    /// they start, so the caller stops them (<see cref="StopAllAsync"/>) whatever happens here.
    /// </summary>
    /// <exception cref="ExperimentException">A guest did not start or its agent did not report.</exception>
    public static async Task StartAsync(IEnumerable<QemuGuestOptions> guests, List<QemuGuest> started, ExperimentContext context)
    {
        var ct = context.CancellationToken;
        var batch = new List<QemuGuest>();
        foreach (var options in guests)
        {
            try
            {
                var guest = await QemuGuest.StartAsync(options, ct).ConfigureAwait(false);
                started.Add(guest);
                batch.Add(guest);
            }
            catch (Exception e) when (e is QemuStartException or MissingHostPackageException or IOException or Qemu.Qmp.QmpException)
            {
                throw new ExperimentException($"guest {options.Name} did not start: {e.Message}", e);
            }
        }

        foreach (var guest in batch)
        {
            if (await guest.WaitForReportAsync(r => r.State == AgentState.Running, BootTimeout, ct).ConfigureAwait(false) is null)
            {
                ct.ThrowIfCancellationRequested();
                throw new ExperimentException($"guest {guest.Options.Name}: no running report from its agent within {BootTimeout.TotalSeconds:0} s: {guest.DiagnosticTail()}");
            }
        }

        context.Report($"{string.Join(", ", batch.Select(g => g.Options.Name))}: booted, agents running");
    }

    /// <summary>Stops every guest (QMP quit, then kill by its PID); never throws.</summary>
    public static async Task StopAllAsync(IEnumerable<QemuGuest> guests)
    {
        foreach (var guest in guests)
        {
            await guest.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Waits <paramref name="duration"/>, or throws when the experiment is cancelled.</summary>
    public static Task WaitAsync(TimeSpan duration, ExperimentContext context) => Task.Delay(duration, context.CancellationToken);

    /// <summary>The agent's newest report, or an experiment failure naming the guest.</summary>
    public static AgentReport Latest(QemuGuest guest) =>
        guest.LatestReport ?? throw new ExperimentException($"guest {guest.Options.Name}: its agent has not reported: {guest.DiagnosticTail()}");

    /// <summary>The agent's work rate (pages per second of its own clock) between two of its reports.</summary>
    /// <exception cref="ExperimentException">The guest's agent stopped reporting between the two.</exception>
    public static double WorkRate(QemuGuest guest, AgentReport from, AgentReport to)
    {
        if (to.Seconds <= from.Seconds || guest.HasExited)
        {
            throw new ExperimentException($"guest {guest.Options.Name}: its agent did not report during the measurement ({from.Seconds:0.0} s -> {to.Seconds:0.0} s): {guest.DiagnosticTail()}");
        }

        return (to.Work - from.Work) / (to.Seconds - from.Seconds);
    }
}
