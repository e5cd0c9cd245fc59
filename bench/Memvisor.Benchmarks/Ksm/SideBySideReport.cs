/*
 * The results of one side-by-side run, as a table for people or as JSON for tools.
 */
using System.Globalization;
using System.Text;
using System.Text.Json;
using Memvisor.Core.Content;

namespace Memvisor.Benchmarks.Ksm;

/// <summary>Everything one side-by-side run measured.</summary>
internal sealed record SideBySideReport(
    string Machine,
    int Megabytes,
    int Pages,
    long ZeroPages,
    long DuplicatePages,
    int DistinctDuplicates,
    long UniquePages,
    SharingExpectation Expected,
    double ReadPagesPerSecond,
    double HashPagesPerSecond,
    MemvisorFigures Memvisor,
    KsmFigures? Ksm,
    string? KsmUnavailableReason)
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Memvisor's scan throughput over plain read throughput.</summary>
    public double ScanToReadRatio => Memvisor.ScanPagesPerSecond / ReadPagesPerSecond;

    /// <summary>KSM's wall time to steady sharing over Memvisor's.</summary>
    public double? KsmToMemvisorWallRatio => Ksm is null ? null : Ksm.WallSecondsToSteady / Memvisor.MedianWallSeconds;

    /// <summary>ksmd's CPU time to steady sharing over Memvisor's process CPU time.</summary>
    public double? KsmToMemvisorCpuRatio => Ksm?.KsmdCpuSecondsToSteady is { } cpu ? cpu / Memvisor.MedianCpuSeconds : null;

    /// <summary>The report as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>The report as a table.</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine("Memvisor page sharing vs Linux KSM: the same buffer, one run");
        s.AppendLine(c, $"machine: {Machine}");
        s.AppendLine(c, $"buffer: {Megabytes} MiB = {Pages:N0} pages: {ZeroPages:N0} zero, {DuplicatePages:N0} copies of {DistinctDuplicates} contents, {UniquePages:N0} unique");
        s.AppendLine(c, $"ideal sharing: {Expected.SharedPages:N0} backing pages, {Expected.PagesSaved:N0} pages saved");
        s.AppendLine();
        s.AppendLine("references on the same buffer (median of 5 passes):");
        s.AppendLine(c, $"  plain read        {ReadPagesPerSecond,12:N0} pages/s  ({ReadPagesPerSecond * 4096 / 1e9:F1} GB/s)");
        s.AppendLine(c, $"  XxHash3           {HashPagesPerSecond,12:N0} pages/s  ({HashPagesPerSecond / ReadPagesPerSecond:F2} of plain read)");
        s.AppendLine();
        s.AppendLine(c, $"{"",-34}{"Memvisor",14}{"Linux KSM",14}{"KSM/Memvisor",14}");
        Row(s, "wall time to full sharing (s)", Memvisor.MedianWallSeconds.ToString("F3", c), Ksm?.WallSecondsToSteady.ToString("F3", c), KsmToMemvisorWallRatio);
        Row(s, "CPU time to full sharing (s)", Memvisor.MedianCpuSeconds.ToString("F3", c), Ksm?.KsmdCpuSecondsToSteady?.ToString("F3", c), KsmToMemvisorCpuRatio);
        Row(s, "pages shared (backing pages)", Memvisor.SharedPages.ToString("N0", c), Ksm?.PagesShared.ToString("N0", c), null);
        Row(s, "pages saved", Memvisor.PagesSaved.ToString("N0", c), Ksm?.PagesSaved.ToString("N0", c), null);
        Row(s, "pages saved if ideal", Expected.PagesSaved.ToString("N0", c), Ksm?.Expected.PagesSaved.ToString("N0", c), null);
        Row(s, "passes over memory", "1", Ksm?.FullScansToSteady.ToString(c), null);
        Row(s, "COW break (us per page)", "-", Ksm?.CowBreakMicroseconds?.ToString("F2", c), null);
        s.AppendLine();
        s.AppendLine(c, $"Memvisor scan: {Memvisor.ScanPagesPerSecond:N0} pages/s = {ScanToReadRatio:F2} of plain read; process CPU / wall {Memvisor.MedianCpuSeconds / Memvisor.MedianWallSeconds:F2}");
        s.AppendLine(c, $"Memvisor passes (s, wall/CPU): warm-up {Memvisor.WarmUp.WallSeconds:F3}/{Memvisor.WarmUp.CpuSeconds:F3}; measured {string.Join("; ", Memvisor.Passes.Select(p => $"{p.WallSeconds:F3}/{p.CpuSeconds:F3}"))}");
        s.AppendLine(c, $"Memvisor full compares {Memvisor.FullCompares:N0}, hash collisions {Memvisor.Collisions:N0}");
        s.AppendLine(c, $"sharing metadata: {Memvisor.MetadataBytes:N0} bytes = {Memvisor.MetadataBytesPerMachinePage:F2} bytes per machine page ({Memvisor.MetadataBytesPerMachinePage / 4096:P2} of memory)");
        s.AppendLine();
        if (Ksm is null)
        {
            s.AppendLine(c, $"Linux KSM not measured: {KsmUnavailableReason}");
            return s.ToString();
        }

        s.AppendLine(c, $"KSM: outcome {Ksm.Outcome}, pages_to_scan {Ksm.PagesToScan}, sleep_millisecs 0, max_page_sharing {Ksm.MaxPageSharing}; pages_shared {Ksm.PagesShared:N0}, pages_sharing {Ksm.PagesSharing:N0}, ksm_zero_pages {Ksm.KsmZeroPages?.ToString(c) ?? "n/a"}");
        s.AppendLine("KSM knobs before -> after:");
        foreach (var (knob, value) in Ksm.KnobsBefore)
        {
            var after = Ksm.KnobsAfter.TryGetValue(knob, out var v) ? v : "(missing)";
            s.AppendLine(c, $"  {knob,-36} {value,-20} -> {after}{(after == value ? "" : "   CHANGED")}");
        }

        s.AppendLine(Ksm.KnobsRestored ? "all KSM knobs are back to their values before the run" : "WARNING: some KSM knobs differ from before the run");
        return s.ToString();
    }

    private static void Row(StringBuilder s, string name, string memvisor, string? ksm, double? ratio) =>
        s.AppendLine(CultureInfo.InvariantCulture, $"  {name,-32}{memvisor,14}{ksm ?? "-",14}{(ratio is { } r ? r.ToString("F1", CultureInfo.InvariantCulture) + "x" : ""),14}");
}
