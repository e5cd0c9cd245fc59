/*
 * The results of one side-by-side run, as a table for people or as JSON for tools. Ratios compare
 * KSM with Memvisor's memory manager (first engine) and with the manager releasing freed pages
 * (second engine), the like-for-like figure: KSM's time includes freeing the merged pages.
 */
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Memvisor.Testing;

namespace Memvisor.Benchmarks.Ksm;

/// <summary>Everything one side-by-side run measured.</summary>
internal sealed record SideBySideReport(
    string Machine,
    string LoadAverageAtStart,
    string LoadAverageAtEnd,
    int Megabytes,
    int Pages,
    long ZeroPages,
    long DuplicatePages,
    int DistinctDuplicates,
    long UniquePages,
    SharingExpectation Expected,
    double ReadPagesPerSecond,
    double HashPagesPerSecond,
    IReadOnlyList<SharingFigures> Memvisor,
    KsmFigures? Ksm,
    string? KsmUnavailableReason)
{
    // Relaxed escaping: the JSON goes to a terminal or a file, never into HTML, so "+" may stay "+".
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The memory manager's scan throughput over plain read throughput.</summary>
    public double ScanToReadRatio => Memvisor[0].ScanPagesPerSecond / ReadPagesPerSecond;

    /// <summary>KSM wall / Memvisor wall and KSM CPU / Memvisor CPU, for each Memvisor engine.</summary>
    public IReadOnlyList<KsmRatio> KsmRatios => Ksm is null
        ? []
        : [.. Memvisor.Select(m => new KsmRatio(m.Engine, Ksm.WallSecondsToSteady / m.MedianWallSeconds, Ksm.KsmdCpuSecondsToSteady / m.MedianCpuSeconds))];

    /// <summary>The report as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>The report as a table.</summary>
    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine("Memvisor page sharing vs Linux KSM: the same buffer, one run");
        s.AppendLine(c, $"machine: {Machine}; load average (1, 5, 15 min) at start {LoadAverageAtStart}, at end {LoadAverageAtEnd}");
        s.AppendLine(c, $"buffer: {Megabytes} MiB = {Pages:N0} pages: {ZeroPages:N0} zero, {DuplicatePages:N0} copies of {DistinctDuplicates} contents, {UniquePages:N0} unique");
        s.AppendLine(c, $"ideal sharing: {Expected.SharedPages:N0} backing pages, {Expected.PagesSaved:N0} pages saved");
        s.AppendLine();
        s.AppendLine("references on the same buffer (median of 5 passes):");
        s.AppendLine(c, $"  plain read   {ReadPagesPerSecond,12:N0} pages/s  ({ReadPagesPerSecond * 4096 / 1e9:F1} GB/s)");
        s.AppendLine(c, $"  XxHash3      {HashPagesPerSecond,12:N0} pages/s  ({HashPagesPerSecond / ReadPagesPerSecond:F2} of plain read)");
        s.AppendLine();
        s.AppendLine("time to full sharing (Memvisor: median of the measured passes; KSM: until pages_sharing was steady):");
        s.AppendLine(c, $"  {"engine",-70}{"wall s",8}{"CPU s",8}{"pages/s",12}{"backing",9}{"saved",10}{"passes",7}");
        foreach (var m in Memvisor)
        {
            s.AppendLine(c, $"  {"Memvisor " + m.Engine,-70}{m.MedianWallSeconds,8:F3}{m.MedianCpuSeconds,8:F3}{m.ScanPagesPerSecond,12:N0}{m.SharedPages,9:N0}{m.PagesSaved,10:N0}{1,7}");
        }

        if (Ksm is not null)
        {
            var cpu = Ksm.KsmdCpuSecondsToSteady?.ToString("F3", c) ?? "n/a";
            s.AppendLine(c, $"  {"Linux KSM (ksmd CPU)",-70}{Ksm.WallSecondsToSteady,8:F3}{cpu,8}{Pages / Ksm.WallSecondsToSteady,12:N0}{Ksm.PagesShared,9:N0}{Ksm.PagesSaved,10:N0}{Ksm.FullScansToSteady,7}");
            s.AppendLine();
            foreach (var r in KsmRatios)
            {
                s.AppendLine(c, $"  KSM / Memvisor {r.Engine}: wall {r.Wall:F1}x, CPU {(r.Cpu is { } x ? x.ToString("F1", c) + "x" : "n/a")}");
            }
        }

        s.AppendLine();
        s.AppendLine(c, $"Memvisor scan (MemoryManager.TryShare): {Memvisor[0].ScanPagesPerSecond:N0} pages/s = {ScanToReadRatio:F2} of plain read");
        s.AppendLine(c, $"sharing metadata (PageShareTable): {Memvisor[0].MetadataBytes:N0} bytes = {Memvisor[0].MetadataBytesPerMachinePage:F2} bytes per machine page ({Memvisor[0].MetadataBytesPerMachinePage / 4096:P2} of memory)");
        foreach (var m in Memvisor)
        {
            s.AppendLine(c, $"  passes of {m.Engine} (wall/CPU s): warm-up {m.WarmUp.WallSeconds:F3}/{m.WarmUp.CpuSeconds:F3}; {string.Join("; ", m.Passes.Select(p => $"{p.WallSeconds:F3}/{p.CpuSeconds:F3}"))}");
        }

        s.AppendLine();
        if (Ksm is null)
        {
            s.AppendLine(c, $"Linux KSM not measured: {KsmUnavailableReason}");
            return s.ToString();
        }

        s.AppendLine(c, $"KSM: outcome {Ksm.Outcome}; pages_to_scan {Ksm.PagesToScan}, sleep_millisecs 0, max_page_sharing {Ksm.MaxPageSharing} (ideal for KSM: {Ksm.Expected.SharedPages:N0} backing, {Ksm.Expected.PagesSaved:N0} saved)");
        s.AppendLine(c, $"KSM: pages_shared {Ksm.PagesShared:N0}, pages_sharing {Ksm.PagesSharing:N0}, ksm_zero_pages {Ksm.KsmZeroPages?.ToString(c) ?? "n/a"}; a write to a merged page (COW break) {Ksm.CowBreakMicroseconds?.ToString("F2", c) ?? "n/a"} us");
        s.AppendLine("KSM knobs before -> after:");
        foreach (var (knob, value) in Ksm.KnobsBefore)
        {
            var after = Ksm.KnobsAfter.TryGetValue(knob, out var v) ? v : "(missing)";
            s.AppendLine(c, $"  {knob,-36} {value,-20} -> {after}{(after == value ? "" : "   CHANGED")}");
        }

        s.AppendLine(Ksm.KnobsRestored ? "all KSM knobs are back to their values before the run" : "WARNING: some KSM knobs differ from before the run");
        return s.ToString();
    }
}

/// <summary>KSM's time over one Memvisor engine's.</summary>
internal sealed record KsmRatio(string Engine, double Wall, double? Cpu);
