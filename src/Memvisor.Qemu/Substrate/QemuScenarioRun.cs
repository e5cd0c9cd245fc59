/*
 * A scenario run on real guests: `memvisor host run [SCENARIO]`. ScenarioGuests maps the scenario
 * to QEMU guests; QemuHostRun boots them and runs the policy; this turns its rows (one per policy
 * tick) into the statistics stream every substrate produces (HostSample, one per sample interval,
 * the same columns as `simulate`'s where they mean the same), the exact free-memory state log (the
 * policy's state at each tick), the VMs refused or dead (VmStop), and notes: faults, host paging off,
 * an agent gone silent (an OOM kill in the guest, or a hang).
 * The figures are QemuRunSampler's.
 */
using Memvisor.Scenarios;

namespace Memvisor.Qemu.Substrate;

/// <summary>What a scenario run on real guests produced.</summary>
/// <param name="Samples">One sample per interval, in time order.</param>
/// <param name="StateLog">Every free-memory state change, at the tick it happened.</param>
/// <param name="EndSeconds">Policy seconds at the end.</param>
/// <param name="Notes">What went wrong or could not be done, one line each.</param>
/// <param name="Stops">VMs refused by admission control or dead during the run.</param>
public sealed record QemuScenarioResult(IReadOnlyList<HostSample> Samples, IReadOnlyList<StateTransition> StateLog, double EndSeconds, IReadOnlyList<string> Notes, IReadOnlyList<VmStop> Stops);

/// <summary>Runs a scenario on real guests.</summary>
public static class QemuScenarioRun
{
    /// <summary>Seconds without a new agent report after which the agent counts as silent.</summary>
    public const double AgentSilentSeconds = 10;

    /// <summary>Runs <paramref name="guests"/>; <paramref name="progress"/> hears of every sample, on the run's thread.</summary>
    /// <exception cref="ArgumentException">The guests' options are invalid.</exception>
    /// <exception cref="OperationCanceledException">Cancelled: every guest has been stopped and KSM restored.</exception>
    public static async Task<QemuScenarioResult> RunAsync(ScenarioGuests guests, IProgress<HostSample>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(guests);
        var recorder = new QemuRunSampler(guests.Scenario, guests.Options.BudgetPages);
        var rows = new RowReporter(row =>
        {
            if (recorder.Take(row) is { } sample)
            {
                progress?.Report(sample);
            }
        });
        var result = await QemuHostRun.RunAsync(guests.Options, guests.Guests, rows, cancellationToken).ConfigureAwait(false);
        var notes = new List<string>();
        foreach (var refusal in result.Refusals)
        {
            notes.Add($"VM '{refusal.Name}' was refused at power-on and never started: {refusal.Reason}");
        }

        notes.AddRange(result.Faults);
        notes.AddRange(recorder.Notes);
        return new QemuScenarioResult(recorder.Samples, recorder.StateLog, result.Rows.Count > 0 ? result.Rows[^1].Time.TotalSeconds : 0, notes, Stops(result));
    }

    /// <summary>The VMs a run stopped: refused by admission control (at 0 s), and dead during it.</summary>
    internal static IReadOnlyList<VmStop> Stops(QemuRunResult result) =>
    [
        .. result.Refusals.Select(r => new VmStop(r.Name, 0, VmStopCause.AdmissionRefused, r.Reason)),
        .. result.Deaths.Select(d => new VmStop(d.Name, d.Time.TotalSeconds, VmStopCause.GuestDied, d.Detail)),
    ];
}
