/*
 * The tables of a run's report, built once and written twice: as text (summary.txt) and as HTML
 * (report.html). Numbers are spelled here with fixed decimals (NumberText), so both agree.
 */
using System.Globalization;
using Memvisor.Core.Statistics;
using Memvisor.Scenarios;

namespace Memvisor.Reporting;

/// <summary>A table of a report: a title, column headers and rows of text cells.</summary>
/// <param name="Id">Anchor id (letters, digits, '-').</param>
/// <param name="Title">Title above the table.</param>
/// <param name="Headers">Column headers; a key/value table has two.</param>
/// <param name="Rows">Rows, each with one cell per header.</param>
/// <param name="Note">A sentence under the table, or empty.</param>
/// <param name="NoteIsAlarm">Whether the note reports something wrong (shown prominently).</param>
public sealed record ReportTable(string Id, string Title, IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows, string Note = "", bool NoteIsAlarm = false)
{
    /// <summary>Whether column <paramref name="column"/> holds numbers (every non-empty cell parses), so it is right-aligned.</summary>
    public bool IsNumeric(int column) =>
        column > 0 && Rows.All(r => r[column].Length == 0 || r[column] == "n/a" ||
            double.TryParse(r[column], NumberStyles.Float, CultureInfo.InvariantCulture, out _));

    /// <summary><see cref="IsNumeric"/> of every column, computed once (a table of 10,000 VMs asked it per cell: quadratic).</summary>
    public bool[] NumericColumns() =>
        [.. Enumerable.Range(0, Rows.Select(r => r.Count).Append(Headers.Count).Max()).Select(IsNumeric)];
}

/// <summary>Builds the tables of a run report.</summary>
public static class ReportTables
{
    /// <summary>Transitions listed in full up to this many; more are counted in the note.</summary>
    public const int MaxTransitionRows = 40;

    /// <summary>The scenario's tables: the run, the host's configuration, the VMs' configuration.</summary>
    public static IReadOnlyList<ReportTable> Scenario(Scenario scenario, RunSummary summary)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(summary);
        var h = scenario.Host;
        return
        [
            KeyValue("run", "Run",
            [
                ("scenario", scenario.Name),
                ("seed", summary.Seed.ToString(CultureInfo.InvariantCulture)),
                ("duration configured (s)", F(scenario.DurationSeconds, 1)),
                ("time of the last sample (s)", F(summary.SimulatedSeconds, 1)),
                ("sample interval (s)", F(scenario.SampleIntervalSeconds, 3)),
                ("samples", NumberText.Integer(summary.SampleCount)),
                ("events", NumberText.Integer(summary.Events)),
            ]),
            KeyValue("host-config", "Host configuration", HostConfiguration(h, realGuests: summary.Vms.Any(v => v.Real is not null))),
            new ReportTable("vm-config", "VM configuration",
                ["VM", "memory (MiB)", "min (MiB)", "shares", "overhead (MiB)", "guest", "image", "balloon driver", "on at (s)", "off at (s)", "workload"],
                [.. scenario.Vms.Select(v => (IReadOnlyList<string>)
                [
                    v.Name, F(v.MemoryMB, 1), F(v.MinMB, 1), ScenarioNames.Of(v.Shares), v.OverheadMB is { } o ? F(o, 1) : "auto", ScenarioNames.Of(v.Guest), v.Image,
                    ScenarioNames.Of(v.BalloonDriver) + (v.BalloonMaxMB is { } b ? $" (max {F(b, 1)} MiB)" : ""),
                    F(v.PowerOnSeconds, 1), v.PowerOffSeconds is { } off ? F(off, 1) : "", WorkloadText(v.Workload),
                ])]),
        ];
    }

    /// <summary>
    /// The host configuration's rows. On real guests (QEMU) the rows that only the simulator uses are left out
    /// (salts, the per-VM scan rate, the sample size: every page's accessed bit is read, I/O remapping and its
    /// DMA boundary) and one row names them; the scan rate is KSM's pages per second there.
    /// </summary>
    private static List<(string Key, string Value)> HostConfiguration(HostSpec h, bool realGuests)
    {
        List<(string Key, string Value)> rows =
        [
            ("machine memory (MiB)", F(h.MemoryMB, 1)),
            ("swap area (MiB)", F(h.SwapMB, 1)),
            ("idle memory tax", F(h.IdleTax, 2)),
            ("balance period (s)", F(h.BalancePeriodSeconds, 1)),
            ("free-memory thresholds high/soft/hard/low (%)", $"{F(h.HighPercent, 1)} / {F(h.SoftPercent, 1)} / {F(h.HardPercent, 1)} / {F(h.LowPercent, 1)}"),
            ("page sharing", h.Sharing ? "on" : "off"),
        ];
        if (realGuests)
        {
            rows.Add(("KSM scan rate (pages/s)", F(h.ShareScanHostPagesPerSecond, 0)));
            rows.Add(("working-set sampling", $"every page's accessed bit per {F(h.SamplingPeriodSeconds, 1)} s, estimates start at {F(h.SamplingInitialActivePercent, 0)}%"));
            rows.Add(("balloon limit (% of configured)", F(h.BalloonMaxPercent, 1)));
            rows.Add(("simulator only, not used here", "sharing salts, per-VM scan rate, sample size, I/O page remapping, DMA boundary"));
            return rows;
        }

        rows.Add(("sharing salts", ScenarioNames.Of(h.Salting)));
        rows.Add(("share scan rate per VM / host (pages/s)", $"{F(h.ShareScanPerVmPagesPerSecond, 0)} / {F(h.ShareScanHostPagesPerSecond, 0)}"));
        rows.Add(("working-set sampling", $"{NumberText.Integer(h.SamplingPages)} pages per {F(h.SamplingPeriodSeconds, 1)} s, estimates start at {F(h.SamplingInitialActivePercent, 0)}%"));
        rows.Add(("balloon limit (% of configured)", F(h.BalloonMaxPercent, 1)));
        rows.Add(("I/O page remapping", h.IoRemap ? $"on, after {NumberText.Integer(h.IoRemapThresholdCopies)} copies" : "off"));
        rows.Add(("DMA boundary (MiB)", F(h.DmaBoundaryMB, 1)));
        return rows;
    }

    /// <summary>The summary's tables: host, time in state, transitions, VMs, and Core's counters when attached.</summary>
    public static IReadOnlyList<ReportTable> Summary(RunSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var host = summary.Host;
        var total = host.TimeInState.Sum(s => s.Seconds);
        var tables = new List<ReportTable>
        {
            KeyValue("host-summary", "Host",
            [
                ("machine memory (MiB)", F(host.MemoryMB, 1)),
                ("free memory, lowest (MiB)", F(host.MinFreeMB, 1)),
                ("free memory, mean (MiB)", F(host.MeanFreeMB, 1)),
                ("swap used, peak (MiB)", F(host.PeakSwapUsedMB, 1)),
                ("balloons, peak (MiB)", F(host.PeakBalloonMB, 1)),
                ("saved by sharing, peak (MiB)", F(host.PeakSharedSavedMB, 1)),
                ("saved by sharing, at the end (MiB)", F(host.FinalSharedSavedMB, 1)),
                ("free-memory state at the end", host.FinalState),
                ("state transitions", NumberText.Integer(host.StateTransitions.Count)),
            ]),
            new ReportTable("time-in-state", "Time in each free-memory state", ["state", "seconds", "share (%)"],
                [.. host.TimeInState.Select(s => (IReadOnlyList<string>)[s.State, F(s.Seconds, 1), total > 0 ? F(100 * s.Seconds / total, 1) : "n/a"])]),
            new ReportTable("transitions", "Free-memory state transitions", ["time (s)", "from", "to"],
                [.. host.StateTransitions.Take(MaxTransitionRows).Select(t => (IReadOnlyList<string>)[F(t.TimeSeconds, 1), t.From, t.To])],
                host.StateTransitions.Count > MaxTransitionRows
                    ? $"The first {MaxTransitionRows} of {host.StateTransitions.Count} transitions; summary.json lists all."
                    : host.StateTransitions.Count == 0 ? "No transitions." : ""),
            new ReportTable("vm-summary", "VMs",
                ["VM", "configured (MiB)", "on (s)", "mean throughput (units/s)", "mean granted (MiB)", "mean active (MiB)", "peak balloon (MiB)",
                    "peak swapped (MiB)", "saved by sharing at end (MiB)", "guest swap (pages)", "host swap-ins (pages)", "double paging (pages)", "bounce copies", "remaps", "data mismatches"],
                [.. summary.Vms.Select(v => (IReadOnlyList<string>)
                [
                    v.Name, F(v.ConfiguredMB, 1), F(v.SecondsPoweredOn, 1), F(v.MeanThroughput, 1), F(v.MeanGrantedMB, 1), F(v.MeanActiveEstimateMB, 1),
                    F(v.PeakBalloonMB, 1), F(v.PeakSwappedMB, 1), F(v.FinalSharedSavedMB, 1), F(v.GuestSwapPages, 0), F(v.HostSwapInPages, 0),
                    F(v.DoublePagingPages, 0), F(v.BounceCopies, 0), F(v.IoRemaps, 0), NumberText.Integer(v.DataMismatches),
                ])],
                summary.Vms.Any(v => v.DataMismatches != 0) ? "DATA MISMATCHES: a guest read back data different from what it wrote." : "",
                NoteIsAlarm: summary.Vms.Any(v => v.DataMismatches != 0)),
        };
        if (summary.Vms.Any(v => v.Real is not null))
        {
            tables.Add(new ReportTable("real-guests", "Real guests (QEMU)",
                ["VM", "mean true working set (MiB)", "mean |estimate - truth| (MiB)", "peak QEMU overhead (MiB)", "KSM merged at end (MiB)", "guest major faults", "balloon stalled (s)", "mean measurement (ms)"],
                [.. summary.Vms.Where(v => v.Real is not null).Select(v => (IReadOnlyList<string>)
                [
                    v.Name, F(v.Real!.MeanTrueWorkingSetMB, 1), F(v.Real.MeanEstimateErrorMB, 1), F(v.Real.PeakOverheadMB, 1), F(v.Real.FinalKsmMergingMB, 1),
                    F(v.Real.GuestMajorFaults, 0), F(v.Real.BalloonStalledSeconds, 1), F(v.Real.MeanMeasureMilliseconds, 1),
                ])],
                "The true working set is what each guest's agent reports it touched; the estimate is the host's, from accessed bits."));
        }
        if (summary.Vms.Any(v => v.Stopped is not null))
        {
            tables.Add(new ReportTable("vm-stops", "VMs the host stopped or refused", ["VM", "stopped at (s)", "cause", "detail"],
                [.. summary.Vms.Where(v => v.Stopped is not null).Select(v => (IReadOnlyList<string>)[v.Name, F(v.Stopped!.TimeSeconds, 1), v.Stopped.Cause.ToString(), v.Stopped.Detail])],
                "The host could not serve these VMs and stopped them, or admission control refused them at power-on; the other VMs ran on.", NoteIsAlarm: true));
        }
        if (host.Counters is { } c)
            tables.Add(KeyValue("host-counters", "Host counters (Core)", CounterFields.Of(c)));
        if (summary.Vms.Any(v => v.Counters is not null))
        {
            tables.Add(new ReportTable("vm-counters", "VM counters (Core)",
                ["VM", .. CounterFields.Labels<VmCounters>()],
                [.. summary.Vms.Where(v => v.Counters is not null).Select(v => (IReadOnlyList<string>)
                    [v.Name, .. CounterFields.Of(v.Counters!.Value).Select(f => f.Value)])]));
        }
        return tables;
    }

    private static ReportTable KeyValue(string id, string title, IEnumerable<(string Key, string Value)> rows) =>
        new(id, title, ["", ""], [.. rows.Select(r => (IReadOnlyList<string>)[r.Key, r.Value])]);

    /// <summary>A workload in a few words for tables, e.g. "toucher: 64 -> 160 MiB zipf" (the working set of each phase).</summary>
    public static string WorkloadText(WorkloadSpec w)
    {
        ArgumentNullException.ThrowIfNull(w);
        var kind = ScenarioNames.Of(w.Kind);
        return w.Kind switch
        {
            WorkloadKind.Toucher => $"{kind}: {string.Join(" -> ", w.Phases.Select(p => p.WorkingSetMB).Prepend(w.WorkingSetMB).Select(mb => F(mb, 0)))} MiB {ScenarioNames.Of(w.Distribution)}",
            WorkloadKind.FileServer => $"{kind}: {F(w.FileSetMB, 0)} MiB files, {NumberText.Integer(w.Clients)} clients",
            WorkloadKind.Idle => kind,
            _ => $"{kind}: {F(w.WorkingSetMB, 0)} MiB",
        };
    }

    private static string F(double value, int decimals) => NumberText.Fixed(value, decimals);
}
