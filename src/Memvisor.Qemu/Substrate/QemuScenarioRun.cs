/*
 * A scenario run on real guests: `memvisor host run [SCENARIO]`. ScenarioGuests maps the scenario
 * to QEMU guests; QemuHostRun boots them and runs the policy; this turns its rows (one per policy
 * tick) into the statistics stream every substrate produces (HostSample, one per sample interval,
 * the same columns as `simulate`'s where they mean the same), the exact free-memory state log (the
 * policy's state at each tick), the VMs refused or dead (VmStop), and notes: faults, host paging off,
 * an agent gone silent (an OOM kill in the guest, or a hang).
 *
 * What the figures are on QEMU: granted = guest-RAM RSS; private = RSS less the pages KSM merged;
 * shared = pages KSM merged (ksm_merging_pages); shared saved = those less the VM's part of the KSM
 * pages; zero = pages merged with the zero page; overhead = QEMU's own resident memory; swapped = guest
 * RAM in host swap; active estimate = the policy's estimator over accessed bits; true working set =
 * the pages the agent touched in its last second; throughput = the agent's pages touched per second;
 * guest swap = pages the guest swapped in and out over the interval (its balloon driver's statistics).
 * Real-only figures go in VmSample.Real.
 */
using System.Globalization;
using Memvisor.Qemu.Actuation;
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

    private const double PagesPerMiB = 256;

    /// <summary>Runs <paramref name="guests"/>; <paramref name="progress"/> hears of every sample, on the run's thread.</summary>
    /// <exception cref="ArgumentException">The guests' options are invalid.</exception>
    /// <exception cref="OperationCanceledException">Cancelled: every guest has been stopped and KSM restored.</exception>
    public static async Task<QemuScenarioResult> RunAsync(ScenarioGuests guests, IProgress<HostSample>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(guests);
        var recorder = new Sampler(guests.Scenario, guests.Options.BudgetPages);
        var rows = new RowReporter(row =>
        {
            if (recorder.Take(row) is { } sample)
            {
                progress?.Report(sample);
            }
        });
        var result = await QemuHostRun.RunAsync(guests.Options, guests.Guests, rows, cancellationToken).ConfigureAwait(false);
        var notes = new List<string>();
        var stops = new List<VmStop>();
        foreach (var refusal in result.Refusals)
        {
            notes.Add($"VM '{refusal.Name}' was refused at power-on and never started: {refusal.Reason}");
            stops.Add(new VmStop(refusal.Name, 0, VmStopCause.AdmissionRefused, refusal.Reason));
        }

        foreach (var death in result.Deaths)
        {
            stops.Add(new VmStop(death.Name, death.Time.TotalSeconds, VmStopCause.GuestDied, death.Detail));
        }

        notes.AddRange(result.Faults);
        notes.AddRange(recorder.Notes);
        return new QemuScenarioResult(recorder.Samples, recorder.StateLog, result.Rows.Count > 0 ? result.Rows[^1].Time.TotalSeconds : 0, notes, stops);
    }

    /// <summary>Turns rows into samples, one per sample interval.</summary>
    private sealed class Sampler(Scenario scenario, long budgetPages)
    {
        private readonly Dictionary<string, (double Seconds, long Work, long GuestSwapBytes, long MajorFaults)> _last = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (double AgentSeconds, double Since)> _agent = new(StringComparer.Ordinal);
        private readonly HashSet<string> _silent = new(StringComparer.Ordinal);
        private double _nextSample = scenario.SampleIntervalSeconds;
        private string _state = "high";

        public List<HostSample> Samples { get; } = [];

        public List<StateTransition> StateLog { get; } = [];

        public List<string> Notes { get; } = [];

        public HostSample? Take(QemuRunRow row)
        {
            var now = row.Time.TotalSeconds;
            var state = row.State.ToString().ToLowerInvariant();
            if (state != _state)
            {
                StateLog.Add(new StateTransition(now, _state, state));
                _state = state;
            }

            WatchAgents(row, now);
            if (now + 1e-9 < _nextSample)
            {
                return null;
            }

            while (_nextSample <= now + 1e-9)
            {
                _nextSample += scenario.SampleIntervalSeconds;
            }

            var vms = scenario.Vms.Select(spec => row.Vms.FirstOrDefault(v => v.Name == spec.Name) is { } vm
                ? Vm(spec, vm, now)
                : new VmSample { Name = spec.Name, ConfiguredMB = spec.MemoryMB, MinMB = spec.MinMB, PoweredOn = false }).ToArray();
            var sample = new HostSample
            {
                TimeSeconds = now,
                MemoryMB = budgetPages / PagesPerMiB,
                FreeMB = row.FreePages / PagesPerMiB,
                State = state,
                SharedSavedMB = vms.Where(v => v.PoweredOn).Sum(v => v.SharedSavedMB),
                SwapUsedMB = vms.Where(v => v.PoweredOn).Sum(v => v.SwappedMB),
                BalloonMB = vms.Where(v => v.PoweredOn).Sum(v => v.BalloonMB),
                Vms = vms,
            };
            Samples.Add(sample);
            return sample;
        }

        private VmSample Vm(VmSpec spec, QemuRunVmRow vm, double now)
        {
            var f = vm.Figures;
            var stats = f.GuestStats;
            var guestSwapBytes = (stats?.SwapInBytes ?? 0) + (stats?.SwapOutBytes ?? 0);
            var majorFaults = stats?.MajorFaults ?? 0;
            var work = vm.Agent?.Work ?? 0;
            var (lastSeconds, lastWork, lastSwap, lastFaults) = _last.GetValueOrDefault(vm.Name, (0, work, guestSwapBytes, majorFaults));
            _last[vm.Name] = (now, work, guestSwapBytes, majorFaults);
            var interval = now - lastSeconds;
            return new VmSample
            {
                Name = vm.Name,
                ConfiguredMB = spec.MemoryMB,
                MinMB = (vm.Config?.MinPages ?? 0) / PagesPerMiB,
                Shares = vm.Shares,
                TargetMB = vm.Policy.TargetPages / PagesPerMiB,
                GrantedMB = f.RssPages / PagesPerMiB,
                PrivateMB = Math.Max(0, f.RssPages - f.KsmMergingPages) / PagesPerMiB,
                ActiveEstimateMB = vm.ActivePages / PagesPerMiB,
                TrueWorkingSetMB = vm.Agent is { } agent ? agent.TouchedPages / PagesPerMiB : double.NaN,
                BalloonMB = f.BalloonPages / PagesPerMiB,
                BalloonTargetMB = f.BalloonTargetPages / PagesPerMiB,
                SwappedMB = f.HostSwappedPages / PagesPerMiB,
                SwapTargetMB = vm.Policy.SwapTargetPages / PagesPerMiB,
                SharedMB = f.KsmMergingPages / PagesPerMiB,
                SharedSavedMB = f.SharedSavedPages / PagesPerMiB,
                ZeroMB = (f.KsmZeroPages ?? 0) / PagesPerMiB,
                OverheadMB = f.OverheadPages / PagesPerMiB,
                Throughput = interval > 0 ? (work - lastWork) / interval : 0,
                GuestSwapPages = Math.Max(0, guestSwapBytes - lastSwap) / 4096.0,
                Real = new RealGuestSample
                {
                    GuestTotalMB = Mb(stats?.TotalBytes),
                    GuestFreeMB = Mb(stats?.FreeBytes),
                    GuestAvailableMB = Mb(stats?.AvailableBytes),
                    GuestMajorFaults = stats?.MajorFaults is null ? double.NaN : Math.Max(0, majorFaults - lastFaults),
                    ReferencedMB = f.LastPeriodReferencedPages / PagesPerMiB,
                    MeasureMilliseconds = f.MeasureCost.TotalMilliseconds,
                    KsmMergingMB = f.KsmMergingPages / PagesPerMiB,
                    Balloon = BalloonName(f.BalloonProgress),
                    Paused = f.Blocked,
                },
            };
        }

        private void WatchAgents(QemuRunRow row, double now)
        {
            foreach (var vm in row.Vms)
            {
                var seconds = vm.Agent?.Seconds ?? -1;
                if (!_agent.TryGetValue(vm.Name, out var seen) || seen.AgentSeconds != seconds)
                {
                    _agent[vm.Name] = (seconds, now);
                    continue;
                }

                if (now - seen.Since >= AgentSilentSeconds && _silent.Add(vm.Name))
                {
                    Notes.Add(string.Create(CultureInfo.InvariantCulture, $"VM '{vm.Name}': its agent stopped reporting at {seen.Since:0} s (killed by the guest's OOM killer, or the guest hangs)"));
                }
            }
        }

        private static double Mb(long? bytes) => bytes is { } b ? b / (1024.0 * 1024.0) : double.NaN;

        private static string BalloonName(BalloonProgress progress) => progress switch
        {
            BalloonProgress.AtTarget => "at-target",
            BalloonProgress.Moving => "moving",
            BalloonProgress.Stalled => "stalled",
            _ => "no-target",
        };
    }

    /// <summary>Hears rows on the run's own thread.</summary>
    private sealed class RowReporter(Action<QemuRunRow> report) : IProgress<QemuRunRow>
    {
        public void Report(QemuRunRow value) => report(value);
    }
}
