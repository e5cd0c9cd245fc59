/*
 * The policy over VMs Memvisor did not start (`memvisor host attach`): a user's own QEMU or libvirt
 * guests, given their QMP sockets.
 *
 *   1. Every VM is attached (AttachedQemu: the QEMU PID from the socket's peer, its memory from QMP,
 *      a balloon device required, guest RAM from /proc/PID/maps) before the policy starts; a VM that
 *      cannot be managed stops everything with the reason in one line, and the VMs attached so far
 *      are detached untouched.
 *   2. Admission control over the budget: a VM whose min + overhead does not fit is left alone
 *      (listed with the reason); the others go to the policy, with their min, shares and a balloon
 *      floor of max(64 MiB, min).
 *   3. The policy loop runs (PolicyLoop) until the duration passes or `stop` is cancelled, which is
 *      the normal end (Ctrl-C for a manager that runs as long as its VMs).
 *   4. On every way out every balloon is set back to the size it had at attach, every KSM knob is
 *      restored, and no VM is stopped, paused or signalled.
 *   5. What was managed is also described as a scenario (the budget, tau and periods as the host; each
 *      attached VM with its memory, min, shares and QEMU's overhead) with the run's samples
 *      (QemuRunSampler, one a second), so that `host attach --out` writes what `host run` writes.
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Host;
using Memvisor.Core.Memory;
using Memvisor.Qemu.Launch;
using Memvisor.Scenarios;

namespace Memvisor.Qemu.Substrate;

/// <summary>One VM to attach to.</summary>
/// <param name="QmpSocket">Its QMP socket (a Unix socket path).</param>
/// <param name="MinMiB">Its guaranteed memory (min), MiB; null: 0.</param>
/// <param name="Shares">Its shares; null: normal.</param>
public sealed record QemuAttachTarget(string QmpSocket, int? MinMiB = null, Shares? Shares = null);

/// <summary>What an attached run produced.</summary>
/// <param name="Run">The rows, refusals and faults, as for a run of started guests.</param>
/// <param name="Vms">The VMs attached (detached again by now), in the order given.</param>
/// <param name="Notes">What limited their management (THP, mem-merge off), one line each.</param>
/// <param name="Scenario">What was managed, as a scenario: the host's budget and policy, the VMs attached (refused ones too).</param>
/// <param name="Record">The run as samples, state log and stops (refusals, deaths), as a scenario run on started guests gives.</param>
public sealed record QemuAttachResult(QemuRunResult Run, IReadOnlyList<(string Name, int Pid, int MemoryMiB)> Vms, IReadOnlyList<string> Notes, Scenario Scenario, QemuScenarioResult Record);

/// <summary>Runs the policy over attached VMs.</summary>
public static class QemuAttach
{
    private const int PagesPerMiB = 256;

    /// <summary>
    /// Attaches to <paramref name="targets"/> and runs the policy with <paramref name="options"/> until its
    /// duration passes or <paramref name="stop"/> is cancelled; <paramref name="cancellationToken"/> aborts
    /// (OperationCanceledException), still giving every balloon back.
    /// </summary>
    /// <exception cref="AttachException">A VM cannot be managed (one line; nothing was changed).</exception>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static async Task<QemuAttachResult> RunAsync(
        QemuRunOptions options, IReadOnlyList<QemuAttachTarget> targets, IProgress<QemuRunRow>? progress = null, CancellationToken stop = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(targets);
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        if (targets.Count == 0 || targets.Select(t => Path.GetFullPath(t.QmpSocket)).Distinct().Count() != targets.Count)
        {
            throw new ArgumentException("give each VM's QMP socket once", nameof(targets));
        }

        var attached = new List<AttachedQemu>();
        var ksm = (Actuation.KsmScanRate?)null;
        try
        {
            foreach (var target in targets)
            {
                attached.Add(await AttachedQemu.AttachAsync(target.QmpSocket, cancellationToken).ConfigureAwait(false));
            }

            if (attached.Select(a => a.Name).Distinct().Count() != attached.Count)
            {
                throw new AttachException($"two VMs have the same name ({string.Join(", ", attached.Select(a => a.Name))}): give each QEMU its own -name");
            }

            ksm = PolicyLoop.OpenKsm(options.DriveKsm, out var ksmNotDriven);
            var host = new QemuHostMemory(options.BudgetPages, options.SwapCapacityPages, ksm, options.BalloonStallTime);
            var members = new List<PolicyLoop.Member>();
            var refusals = new List<QemuRunRefusal>();
            long reservedPages = 0, reservedSwapPages = 0;
            ushort next = 1;
            for (var i = 0; i < attached.Count; i++)
            {
                var vm = attached[i];
                var min = Math.Min(targets[i].MinMiB ?? 0, vm.MemoryMiB);
                var config = new VmConfig
                {
                    Name = vm.Name,
                    MaxPages = vm.MemoryMiB * PagesPerMiB,
                    MinPages = min * PagesPerMiB,
                    Shares = targets[i].Shares ?? Shares.Normal,
                    OverheadPages = ScenarioGuests.QemuOverheadMiB * PagesPerMiB,
                };
                var decision = AdmissionControl.Evaluate(
                    new HostReservations(options.BudgetPages, reservedPages, options.SwapCapacityPages, reservedSwapPages)
                    {
                        KeptFreePages = options.Policy.Allocation.ThresholdPages(FreeMemoryState.Low, options.BudgetPages),
                    },
                    config.ToMemoryConfig());
                if (!decision.Admitted)
                {
                    refusals.Add(new QemuRunRefusal(vm.Name, decision.Message));
                    continue;
                }

                reservedPages += config.MinPages + config.EffectiveOverheadPages;
                reservedSwapPages += config.MaxPages - config.MinPages;
                var id = new VmId(next++);
                host.Add(id, vm, Math.Min(vm.MemoryMiB, Math.Max(ScenarioGuests.BalloonFloorMiB, min)));
                members.Add(new PolicyLoop.Member(id, config, vm));
            }

            var scenario = Describe(options, attached, targets);
            var sampler = new QemuRunSampler(scenario, options.BudgetPages, agents: false);
            var sampled = new RowReporter(row =>
            {
                progress?.Report(row);
                sampler.Take(row);
            });
            var deaths = new List<QemuRunDeath>();
            var rows = await PolicyLoop.RunAsync(options, host, members, deaths, sampled, cancellationToken, stop).ConfigureAwait(false);
            IReadOnlyList<string> faults = [.. ksmNotDriven is null ? [] : new[] { ksmNotDriven }, .. ksm?.Recovered ?? [], .. host.Faults];
            var run = new QemuRunResult(rows, [.. refusals.Select(r => $"{r.Name}: {r.Reason}")], faults)
            {
                Refusals = refusals,
                Deaths = deaths,
                PagingUnavailableReason = host.PagingUnavailableReason,
            };
            var end = rows.Count > 0 ? rows[^1].Time.TotalSeconds : 0;
            var record = new QemuScenarioResult(sampler.Samples, sampler.StateLog, end, faults, QemuScenarioRun.Stops(run));
            return new QemuAttachResult(run, [.. attached.Select(a => (a.Name, a.Pid, a.MemoryMiB))], [.. attached.SelectMany(a => a.Notes)], scenario with { DurationSeconds = end }, record);
        }
        finally
        {
            foreach (var vm in attached)
            {
                await vm.DisposeAsync().ConfigureAwait(false);
            }

            ksm?.Dispose();
        }
    }

    /// <summary>The attached VMs and the host's policy as a scenario (what `host attach --out` writes beside the samples).</summary>
    private static Scenario Describe(QemuRunOptions options, List<AttachedQemu> attached, IReadOnlyList<QemuAttachTarget> targets) => new()
    {
        Name = "host-attach",
        Description = $"The policy over {attached.Count} QEMU VM(s) Memvisor did not start ({string.Join(", ", attached.Select(a => $"{a.Name}, PID {a.Pid}"))}), attached through their QMP sockets.",
        DurationSeconds = options.Duration.TotalSeconds,
        Host = new HostSpec
        {
            MemoryMB = options.BudgetPages / (double)PagesPerMiB,
            SwapMB = options.SwapCapacityPages / (double)PagesPerMiB,
            IdleTax = options.Policy.Allocation.Tau,
            BalancePeriodSeconds = options.Policy.Allocation.BalancePeriodSeconds,
            SamplingPeriodSeconds = options.Policy.Sampling.PeriodSeconds,
        },
        Vms = [.. attached.Select((vm, i) => new VmSpec
        {
            Name = vm.Name,
            MemoryMB = vm.MemoryMiB,
            MinMB = Math.Min(targets[i].MinMiB ?? 0, vm.MemoryMiB),
            Shares = targets[i].Shares ?? Shares.Normal,
            OverheadMB = ScenarioGuests.QemuOverheadMiB,
        })],
    };
}
