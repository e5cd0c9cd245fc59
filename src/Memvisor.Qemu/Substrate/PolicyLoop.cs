/*
 * The policy's loop over QEMU guests, shared by a run of guests Memvisor started (QemuHostRun) and
 * by guests it attached to (QemuAttach). The guests are already under QemuHostMemory; the loop
 *   1. refreshes the figures once and hands every guest to the policy (Admit, then Add);
 *   2. every tick: waits, refreshes every guest (RefreshAsync), removes a guest found dead from the
 *      policy and the substrate (recorded with the time and the reason; the others go on), advances
 *      the policy, and sends its balloon targets and blocks (FlushAsync);
 *   3. reports one row per tick: time, tau, free-memory state, free pages, and per guest the policy's
 *      decision, its active-memory estimate, the substrate's figures and the agent's latest report.
 * It runs until the duration has passed, or `stop` is cancelled (a normal end: the rows so far are
 * returned), or the token is cancelled (then OperationCanceledException).
 */
using Memvisor.Core.Host;
using Memvisor.Core.Memory;
using Memvisor.Linux.Ksm;
using Memvisor.Qemu.Actuation;
using Memvisor.Qemu.Launch;

namespace Memvisor.Qemu.Substrate;

/// <summary>The tick loop of the policy over QEMU guests.</summary>
internal static class PolicyLoop
{
    /// <summary>A guest handed to the policy.</summary>
    public sealed record Member(VmId Id, VmConfig Config, IQemuVm Vm);

    /// <summary>
    /// KSM's scan rate under the policy, through a controller that saved every knob; null when not asked
    /// (<paramref name="drive"/> false) or not writable, and then <paramref name="notDriven"/> says why in one line.
    /// </summary>
    public static KsmScanRate? OpenKsm(bool drive, out string? notDriven, bool mergeZeroPages = false) => OpenKsm(drive, out notDriven, mergeZeroPages, KsmSysfs.DefaultDirectory);

    /// <summary>As <see cref="OpenKsm(bool, out string?, bool)"/>, with KSM's sysfs folder given.</summary>
    internal static KsmScanRate? OpenKsm(bool drive, out string? notDriven, bool mergeZeroPages, string ksmDirectory)
    {
        notDriven = null;
        if (!drive)
        {
            return null;
        }

        if (KsmSysfs.WhyNotWritable(ksmDirectory) is { } why)
        {
            notDriven = $"KSM not driven (pages are shared only as KSM already runs, and are still counted): {why.TrimEnd('.')}";
            return null;
        }

        // The journal in the temp folder lets the next run restore KSM if this one is killed (and this one restores what a killed one left).
        var controller = new KsmController(new KsmSysfs(ksmDirectory), Path.GetTempPath());
        try
        {
            if (mergeZeroPages)
            {
                // Zero pages merged with the kernel's zero page are counted apart (ksm_zero_pages); restored with the rest.
                controller.Set(KsmKnob.UseZeroPages, 1);
            }
        }
        catch
        {
            controller.Dispose();
            throw;
        }

        return new KsmScanRate(controller);
    }

    /// <summary>Runs the policy over <paramref name="members"/> (already added to <paramref name="host"/>) for the options' duration.</summary>
    public static async Task<IReadOnlyList<QemuRunRow>> RunAsync(
        QemuRunOptions options, QemuHostMemory host, List<Member> members, List<QemuRunDeath> deaths, IProgress<QemuRunRow>? progress, CancellationToken cancellationToken, CancellationToken stop = default)
    {
        var rows = new List<QemuRunRow>();
        var policy = new HostMemoryPolicy(options.Policy, host, host);
        await host.RefreshAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        foreach (var member in members.ToList())
        {
            if (!host.FiguresOf(member.Id).Alive)
            {
                Forget(host, members, member, deaths, TimeSpan.Zero);
                continue;
            }

            policy.Admit(member.Config);
            policy.Add(member.Id, member.Config);
        }

        var end = policy.Now + options.Duration;
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stop);
        while (policy.Now < end && !stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Tick, either.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break;
            }

            await host.RefreshAsync(options.Tick, cancellationToken).ConfigureAwait(false);
            foreach (var gone in members.Where(m => !host.FiguresOf(m.Id).Alive).ToList())
            {
                policy.Remove(gone.Id);
                Forget(host, members, gone, deaths, policy.Now + options.Tick);
            }

            policy.Advance(options.Tick);
            await host.FlushAsync(cancellationToken).ConfigureAwait(false);
            var row = new QemuRunRow(
                policy.Now,
                policy.IdleTax,
                policy.States.State,
                host.FreePages,
                [.. members.Select(m => new QemuRunVmRow(m.Vm.Name, policy.PolicyOf(m.Id), host.FiguresOf(m.Id), m.Vm.LatestReport)
                {
                    ActivePages = policy.WorkingSetOf(m.Id).ActivePages,
                    Config = m.Config,
                    Shares = policy.SharesOf(m.Id),
                })]);
            rows.Add(row);
            progress?.Report(row);
        }

        return rows;
    }

    private static void Forget(QemuHostMemory host, List<Member> members, Member gone, List<QemuRunDeath> deaths, TimeSpan at)
    {
        var why = host.Faults.LastOrDefault(f => f.StartsWith(gone.Vm.Name + ":", StringComparison.Ordinal)) ?? $"{gone.Vm.Name}: QEMU exited";
        deaths.Add(new QemuRunDeath(gone.Vm.Name, at, why[(gone.Vm.Name.Length + 1)..].Trim()));
        host.Remove(gone.Id);
        members.Remove(gone);
    }
}
