/*
 * Rows of a policy run on real guests (one per tick) turned into the statistics stream every substrate
 * produces: HostSample, one per sample interval, the same columns as `simulate`'s where they mean the
 * same; the free-memory state log (the policy's state at each tick); notes on agents gone silent (an
 * OOM kill in the guest, or a hang). Used by `host run` (QemuScenarioRun) and `host attach`.
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

/// <summary>Turns rows into samples, one per sample interval of <paramref name="scenario"/>; its VMs not in a row are powered off.</summary>
/// <param name="scenario">The VMs run (in output order) and the sample interval.</param>
/// <param name="budgetPages">The host's budget (the samples' host memory).</param>
/// <param name="agents">The guests run Memvisor's agent (false for attached VMs: no agent to go silent, no true working set).</param>
public sealed class QemuRunSampler(Scenario scenario, long budgetPages, bool agents = true)
{
    private const double PagesPerMiB = 256;
    private readonly Dictionary<string, (double Seconds, long Work, long GuestSwapBytes, long MajorFaults)> _last = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (double AgentSeconds, double Since)> _agent = new(StringComparer.Ordinal);
    private readonly HashSet<string> _silent = new(StringComparer.Ordinal);
    private double _nextSample = scenario.SampleIntervalSeconds;
    private string _state = "high";

    /// <summary>The samples so far.</summary>
    public List<HostSample> Samples { get; } = [];

    /// <summary>The state changes so far.</summary>
    public List<StateTransition> StateLog { get; } = [];

    /// <summary>What went wrong so far (agents gone silent), one line each.</summary>
    public List<string> Notes { get; } = [];

    /// <summary>Takes the next row; the sample it completes, or null within an interval.</summary>
    public HostSample? Take(QemuRunRow row)
    {
        var now = row.Time.TotalSeconds;
        var state = row.State.ToString().ToLowerInvariant();
        if (state != _state)
        {
            StateLog.Add(new StateTransition(now, _state, state));
            _state = state;
        }

        if (agents)
        {
            WatchAgents(row, now);
        }

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
                StalledPercent = 100 * f.StalledFraction,
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

            if (now - seen.Since >= QemuScenarioRun.AgentSilentSeconds && _silent.Add(vm.Name))
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
