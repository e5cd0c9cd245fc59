/*
 * The notes of a `memvisor scan` in words: what sharing would save, under which salting, what the columns
 * mean, which processes and pages were left out and why (not readable, exited, already shared by the
 * kernel, frame numbers hidden without root), and the matching walk's counters. Shared by the scan
 * command and by the sharing-mixed experiment's real-memory row, so both explain a scan the same way.
 */
using System.Globalization;
using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;

namespace Memvisor.Linux.Scanning;

/// <summary>Describes a scan's result and sources.</summary>
public static class ScanNotes
{
    /// <summary>How saved pages are attributed to sources.</summary>
    public const string Attribution =
        "A page that finds an existing twin saves one page for its own source; the first copy is kept, so sources scanned earlier show less saved.";

    /// <summary>
    /// The notes under a scan's table: the total saved, the salting, what the columns mean, what was left
    /// out and why, and the matching walk's counters (with <paramref name="elapsed"/>, the scan's time).
    /// </summary>
    public static IReadOnlyList<string> Describe(SharingEstimate estimate, ScanSourceSet sources, TimeSpan? elapsed = null)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        ArgumentNullException.ThrowIfNull(sources);
        return [.. Lines(estimate, sources, elapsed)];
    }

    /// <summary>Which processes a scan of all processes left out, and why (empty when sources were named).</summary>
    public static IEnumerable<string> NotScanned(ScanSourceSet sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        if (sources.AllProcesses is { } all)
        {
            var self = all.ExcludedPid is { } pid ? string.Create(CultureInfo.InvariantCulture, $"memvisor itself (pid {pid}), ") : string.Empty;
            var why = all.FirstFailure is null ? string.Empty : $" ({all.FirstFailure})";
            yield return string.Create(CultureInfo.InvariantCulture,
                $"Not scanned: {self}processes not readable {all.AccessDenied}, exited first {all.Vanished}, "
                + $"without user memory (kernel threads) {all.WithoutMemory}, failed {all.Failed}{why}.");
        }
    }

    private static IEnumerable<string> Lines(SharingEstimate estimate, ScanSourceSet sources, TimeSpan? elapsed)
    {
        var total = estimate.Total;
        var facts = total.Facts;
        yield return $"Would save {Count(total.PagesSaved)} pages = {Size(total.PagesSaved)} of {Size(total.PagesScanned)} scanned "
            + $"({Percent(total.PagesSaved, total.PagesScanned)}); zero pages: {Size(total.ZeroPages)}.";
        yield return estimate.SaltMode switch
            {
                ShareSaltMode.SingleSalt => "One salt for all sources: pages are shared across sources, as in the paper",
                ShareSaltMode.UniformPagesAcrossVms => "A salt per source but for all-0x00/0xFF pages: only those are shared across sources (Windows' rule)",
                _ => "A salt per source: pages are shared only within a source (ESXi's default since 2014)",
            }
            + (estimate.ZeroPagesOnly ? "; zero pages only." : ".");
        yield return "Sharing: pages that map a shared frame; Frames: distinct shared frames; Saved: Sharing - Frames. " + Attribution;
        foreach (var line in NotScanned(sources))
        {
            yield return line;
        }

        if (facts.AlreadySharedPages > 0 || facts.NotResidentPages > 0 || facts.SkippedRanges > 0)
        {
            yield return $"Left out: {Count(facts.AlreadySharedPages)} mappings of pages the kernel shares already (libraries, fork, shared memory, "
                + $"the zero page), {Count(facts.NotResidentPages)} swapped-out pages, {Count(facts.SkippedRanges)} [vvar]/[vsyscall] mappings.";
        }

        if (sources.FramesHidden)
        {
            yield return "Not root: physical frame numbers are hidden, so pages the kernel already shares count once per mapping and savings are overstated.";
        }

        if (total.UnreadablePages > 0)
        {
            yield return $"Unreadable: {Count(total.UnreadablePages)} pages in {Count(total.UnreadableRanges)} ranges (I/O errors, memory unmapped since the snapshot).";
        }

        var vanished = estimate.Sources.Where(s => s.VanishedPages > 0).ToList();
        if (vanished.Count > 0)
        {
            yield return $"Exited during the scan: {string.Join(", ", vanished.Take(5).Select(s => s.Name))}{(vanished.Count > 5 ? ", ..." : string.Empty)} "
                + $"({Count(total.VanishedPages)} pages not read).";
        }

        foreach (var source in estimate.Sources)
        {
            if (source.Facts.PaddingBytes > 0)
            {
                yield return $"{source.Name}: short last page, padded with {Count(source.Facts.PaddingBytes)} zero bytes.";
            }

            if (source.PagesOffered == 0)
            {
                yield return $"{source.Name}: no pages (an empty file, or a process without user memory).";
            }
        }

        var pages = total.PagesScanned + total.UnreadablePages;
        yield return string.Create(CultureInfo.InvariantCulture,
            $"Stale hints {Count(total.StaleHints)}, collisions {Count(total.Collisions)}; {estimate.Sources.Count} sources, "
            + $"{Count(pages)} pages{(elapsed is { } time ? $" in {time.TotalSeconds:F1} s" : string.Empty)}.");
    }

    /// <summary>A count with thousands separators.</summary>
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A number of pages as a size (KiB, MiB, GiB, TiB).</summary>
    public static string Size(long pages)
    {
        string[] units = ["KiB", "MiB", "GiB", "TiB"];
        var size = pages * (PageGeometry.PageSizeBytes / 1024.0);
        var unit = 0;
        while (size >= 1024 && unit < units.Length - 1)
        {
            size /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{size:F1} {units[unit]}");
    }

    /// <summary>A part of a whole in percent, one decimal ("-" of nothing).</summary>
    public static string Percent(long part, long whole) =>
        whole == 0 ? "-" : (100.0 * part / whole).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
