/*
 * A run of real guests under Core's policy: validate everything, admit, boot, tick, stop.
 *
 *   1. Every guest's options and the run's settings are checked before anything starts (one line per
 *      problem, ArgumentException).
 *   2. With DriveKsm, KSM is taken through a KsmController (every knob saved, with a journal).
 *   3. Admission control: a guest whose min + overhead (or max - min of backing) does not fit is
 *      refused with the reason and never started.
 *   4. The admitted guests start; a guest that cannot start or whose agent does not report within
 *      the boot timeout is a fault, and the run goes on with the others.
 *   5. The policy loop (PolicyLoop) ticks: refresh, remove dead guests, policy.Advance, flush; one row
 *      per tick.
 *   6. On every way out (the end, an exception, cancellation such as Ctrl-C): every guest is stopped
 *      (QMP quit, then kill by its PID) and every KSM knob is restored.
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Host;
using Memvisor.Core.Memory;
using Memvisor.Linux.Ksm;
using Memvisor.Qemu.Actuation;
using Memvisor.Qemu.Launch;

namespace Memvisor.Qemu.Substrate;

/// <summary>Runs guests under the policy.</summary>
public static class QemuHostRun
{
    /// <summary>Runs <paramref name="guests"/> with <paramref name="options"/>; reports each row to <paramref name="progress"/>.</summary>
    /// <exception cref="ArgumentException">A setting or a guest's options are invalid (the message is the problem).</exception>
    public static async Task<QemuRunResult> RunAsync(QemuRunOptions options, IReadOnlyList<QemuRunGuest> guests, IProgress<QemuRunRow>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(guests);
        var problem = options.Validate()
            ?? guests.Select(g => g.Options.Validate()).FirstOrDefault(p => p is not null)
            ?? (guests.Select(g => g.Options.Name).Distinct().Count() != guests.Count ? "two guests have the same name" : null)
            ?? guests.Where(g => g.Config.MaxPages != g.Options.MemoryMiB * 256).Select(g => $"guest {g.Options.Name}: the policy's max pages differ from its memory").FirstOrDefault();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(guests));
        }

        var ksm = PolicyLoop.OpenKsm(options.DriveKsm, out var ksmNotDriven, options.KsmMergeZeroPages);
        var started = new List<(VmId Id, QemuRunGuest Guest, QemuGuest Qemu)>();
        var refusals = new List<QemuRunRefusal>();
        var host = new QemuHostMemory(options.BudgetPages, options.SwapCapacityPages, ksm, options.BalloonStallTime);
        List<string> startFaults = [.. ksmNotDriven is null ? [] : new[] { ksmNotDriven }, .. ksm?.Recovered ?? []];
        var deaths = new List<QemuRunDeath>();
        try
        {
            // Admission control before anything starts, with the reservations of the guests admitted
            // so far (the policy repeats the same check when each is added).
            long reservedPages = 0;
            long reservedSwapPages = 0;
            ushort next = 1;
            foreach (var guest in guests)
            {
                // The policy's own rule (HostMemoryPolicy.Admit): the low threshold's pages are not reservable;
                // without it a guest admitted here was refused by the policy with an exception.
                var decision = AdmissionControl.Evaluate(
                    new HostReservations(options.BudgetPages, reservedPages, options.SwapCapacityPages, reservedSwapPages)
                    {
                        KeptFreePages = options.Policy.Allocation.ThresholdPages(FreeMemoryState.Low, options.BudgetPages),
                    },
                    guest.Config.ToMemoryConfig());
                if (!decision.Admitted)
                {
                    refusals.Add(new QemuRunRefusal(guest.Options.Name, decision.Message));
                    continue;
                }

                reservedPages += guest.Config.MinPages + guest.Config.EffectiveOverheadPages;
                reservedSwapPages += guest.Config.MaxPages - guest.Config.MinPages;
                try
                {
                    started.Add((new VmId(next++), guest, await QemuGuest.StartAsync(guest.Options, cancellationToken).ConfigureAwait(false)));
                }
                catch (Exception e) when (e is QemuStartException or Qmp.QmpException or IOException)
                {
                    startFaults.Add($"{guest.Options.Name}: could not start: {e.Message}");
                    deaths.Add(new QemuRunDeath(guest.Options.Name, TimeSpan.Zero, $"could not start: {e.Message}"));
                }
            }

            var managed = new List<PolicyLoop.Member>();
            foreach (var (id, guest, qemu) in started)
            {
                if (await qemu.WaitForReportAsync(_ => true, options.BootTimeout, cancellationToken).ConfigureAwait(false) is null)
                {
                    var why = $"no agent report within {options.BootTimeout.TotalSeconds:0} s: {qemu.DiagnosticTail()}";
                    startFaults.Add($"{guest.Options.Name}: {why}");
                    if (qemu.HasExited)
                    {
                        deaths.Add(new QemuRunDeath(guest.Options.Name, TimeSpan.Zero, why));
                    }
                }

                if (!qemu.HasExited)
                {
                    host.Add(id, qemu, guest.BalloonFloorMiB);
                    managed.Add(new PolicyLoop.Member(id, guest.Config, qemu));
                }
            }

            var rows = await PolicyLoop.RunAsync(options, host, managed, deaths, progress, cancellationToken).ConfigureAwait(false);
            return new QemuRunResult(rows, [.. refusals.Select(r => $"{r.Name}: {r.Reason}")], [.. startFaults, .. host.Faults])
            {
                Refusals = refusals,
                Deaths = deaths,
                PagingUnavailableReason = host.PagingUnavailableReason,
            };
        }
        finally
        {
            foreach (var (_, _, qemu) in started)
            {
                await qemu.DisposeAsync().ConfigureAwait(false);
            }

            ksm?.Dispose();
        }
    }
}
