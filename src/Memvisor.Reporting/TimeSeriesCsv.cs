/*
 * The time series as two CSV files (RFC 4180, UTF-8 without BOM, "\n" line ends, header row first):
 * timeseries-host.csv has one row per sample, timeseries-vms.csv one row per (sample, VM) in the order
 * the samples list their VMs. Columns are defined once below; docs/outputs.md describes each.
 * Numbers: invariant culture, at most 6 decimals, no exponent; NaN (unknown) is an empty cell.
 */
using System.Text;
using Memvisor.Core.Statistics;
using Memvisor.Scenarios;

namespace Memvisor.Reporting;

/// <summary>A CSV column: its header and how to spell a row's value.</summary>
/// <param name="Name">Header (snake_case, unit as suffix).</param>
/// <param name="Unit">Unit for the documentation.</param>
/// <param name="Cell">The cell text of a row.</param>
/// <typeparam name="T">Row type.</typeparam>
public sealed record CsvColumn<T>(string Name, string Unit, Func<T, string> Cell);

/// <summary>Writes the time-series CSV files.</summary>
public static class TimeSeriesCsv
{
    /// <summary>Columns of timeseries-host.csv.</summary>
    public static IReadOnlyList<CsvColumn<HostSample>> HostColumns { get; } =
    [
        new("time_s", "s", h => NumberText.Csv(h.TimeSeconds)),
        new("memory_mb", "MiB", h => NumberText.Csv(h.MemoryMB)),
        new("free_mb", "MiB", h => NumberText.Csv(h.FreeMB)),
        new("state", "high, soft, hard or low", h => Quote(h.State)),
        new("shared_saved_mb", "MiB", h => NumberText.Csv(h.SharedSavedMB)),
        new("swap_used_mb", "MiB", h => NumberText.Csv(h.SwapUsedMB)),
        new("balloon_mb", "MiB", h => NumberText.Csv(h.BalloonMB)),
        new("vms", "count", h => NumberText.Csv(h.Vms.Count)),
    ];

    /// <summary>Columns of timeseries-vms.csv (the row is the sample's time and one of its VMs).</summary>
    public static IReadOnlyList<CsvColumn<(double TimeSeconds, VmSample Vm)>> VmColumns { get; } =
    [
        new("time_s", "s", r => NumberText.Csv(r.TimeSeconds)),
        new("vm", "name", r => Quote(r.Vm.Name)),
        new("powered_on", "1 or 0", r => r.Vm.PoweredOn ? "1" : "0"),
        new("configured_mb", "MiB", r => NumberText.Csv(r.Vm.ConfiguredMB)),
        new("min_mb", "MiB", r => NumberText.Csv(r.Vm.MinMB)),
        new("shares", "shares", r => NumberText.Csv(r.Vm.Shares)),
        new("target_mb", "MiB", r => NumberText.Csv(r.Vm.TargetMB)),
        new("granted_mb", "MiB", r => NumberText.Csv(r.Vm.GrantedMB)),
        new("private_mb", "MiB", r => NumberText.Csv(r.Vm.PrivateMB)),
        new("active_estimate_mb", "MiB", r => NumberText.Csv(r.Vm.ActiveEstimateMB)),
        new("true_ws_mb", "MiB; empty when unknown", r => NumberText.Csv(r.Vm.TrueWorkingSetMB)),
        new("balloon_mb", "MiB", r => NumberText.Csv(r.Vm.BalloonMB)),
        new("balloon_target_mb", "MiB", r => NumberText.Csv(r.Vm.BalloonTargetMB)),
        new("swapped_mb", "MiB", r => NumberText.Csv(r.Vm.SwappedMB)),
        new("swap_target_mb", "MiB", r => NumberText.Csv(r.Vm.SwapTargetMB)),
        new("shared_mb", "MiB", r => NumberText.Csv(r.Vm.SharedMB)),
        new("shared_saved_mb", "MiB", r => NumberText.Csv(r.Vm.SharedSavedMB)),
        new("zero_mb", "MiB", r => NumberText.Csv(r.Vm.ZeroMB)),
        new("overhead_mb", "MiB", r => NumberText.Csv(r.Vm.OverheadMB)),
        new("throughput_per_s", "work units/s", r => NumberText.Csv(r.Vm.Throughput)),
        new("guest_swap_pages", "pages per interval", r => NumberText.Csv(r.Vm.GuestSwapPages)),
        new("host_swap_in_pages", "pages per interval", r => NumberText.Csv(r.Vm.HostSwapInPages)),
        new("bounce_copies", "copies per interval", r => NumberText.Csv(r.Vm.BounceCopies)),
        new("data_mismatches", "count since start", r => NumberText.Csv(r.Vm.DataMismatches)),
        new("double_paging_pages", "pages per interval", r => NumberText.Csv(r.Vm.DoublePagingPages)),
        new("io_remaps", "pages per interval", r => NumberText.Csv(r.Vm.IoRemaps)),
    ];

    /// <summary>Columns added to timeseries-vms.csv when the run has real guests (a sample VM with <see cref="VmSample.Real"/>); empty cells for VMs without.</summary>
    public static IReadOnlyList<CsvColumn<(double TimeSeconds, VmSample Vm)>> RealGuestColumns { get; } =
    [
        new("guest_total_mb", "MiB", r => NumberText.Csv(r.Vm.Real?.GuestTotalMB ?? double.NaN)),
        new("guest_free_mb", "MiB", r => NumberText.Csv(r.Vm.Real?.GuestFreeMB ?? double.NaN)),
        new("guest_available_mb", "MiB", r => NumberText.Csv(r.Vm.Real?.GuestAvailableMB ?? double.NaN)),
        new("guest_major_faults", "faults per interval", r => NumberText.Csv(r.Vm.Real?.GuestMajorFaults ?? double.NaN)),
        new("stalled_pct", "%", r => NumberText.Csv(r.Vm.Real?.StalledPercent ?? double.NaN)),
        new("referenced_mb", "MiB", r => NumberText.Csv(r.Vm.Real?.ReferencedMB ?? double.NaN)),
        new("measure_ms", "ms", r => NumberText.Csv(r.Vm.Real?.MeasureMilliseconds ?? double.NaN)),
        new("ksm_merging_mb", "MiB", r => NumberText.Csv(r.Vm.Real?.KsmMergingMB ?? double.NaN)),
        new("balloon_state", "no-target, at-target, moving or stalled", r => r.Vm.Real is { } real ? Quote(real.Balloon) : ""),
        new("paused", "1 or 0", r => r.Vm.Real is { } real ? (real.Paused ? "1" : "0") : ""),
    ];

    /// <summary>The text of timeseries-host.csv.</summary>
    public static string HostCsv(IReadOnlyList<HostSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return Write(HostColumns, samples);
    }

    /// <summary>The text of timeseries-vms.csv.</summary>
    public static string VmsCsv(IReadOnlyList<HostSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var real = samples.Any(h => h.Vms.Any(v => v.Real is not null));
        return Write(real ? [.. VmColumns, .. RealGuestColumns] : VmColumns, samples.SelectMany(h => h.Vms.Select(v => (h.TimeSeconds, v))));
    }

    private static string Write<T>(IReadOnlyList<CsvColumn<T>> columns, IEnumerable<T> rows)
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', columns.Select(c => c.Name)).Append('\n');
        foreach (var row in rows)
        {
            for (var i = 0; i < columns.Count; i++)
            {
                if (i > 0)
                    sb.Append(',');
                sb.Append(columns[i].Cell(row));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A text cell: quoted (with doubled quotes) when it holds a comma, quote, CR or LF.</summary>
    internal static string Quote(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
