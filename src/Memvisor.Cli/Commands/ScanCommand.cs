/*
 * `memvisor scan`: what content-based page sharing (paper §4) would save on real memory: processes
 * (--pid, or every readable process when nothing is named) and files (memory dumps, core files).
 * Wiring and printing only: the sources come from Memvisor.Linux (ScanSourceSet), the estimate from
 * Memvisor.Core (SharingEstimator), which runs the host's sharing table and matching walk, the notes
 * under the table from Memvisor.Linux (ScanNotes).
 */
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Scenarios;
using Memvisor.Linux.Procfs;
using Memvisor.Linux.Scanning;
using Spectre.Console;

namespace Memvisor.Cli.Commands;

/// <summary>The <c>scan</c> command.</summary>
internal static class ScanCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var files = new Argument<string[]>("FILE")
        {
            Description = "Files to read as 4 KiB pages (memory dumps, core files); a short last page is zero-padded.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var pids = new Option<int[]>("--pid")
        {
            Description = "A process to scan (its resident pages, read through /proc/N/mem); repeat for more.",
            HelpName = "N",
            CustomParser = ParsePids,
        };
        var json = new Option<bool>("--json") { Description = "Print all figures as JSON instead of a table." };
        var saltPerSource = new Option<bool>("--salt-per-source")
        {
            Description = "Share pages only within a source (a salt per source, ESXi's default since 2014), not across sources.",
        };
        var uniformAcross = new Option<bool>("--uniform-across-sources")
        {
            Description = "A salt per source, except for pages that are all 0x00 or all 0xFF: only those are shared across sources (Windows' rule across security domains).",
        };
        var salting = new Option<ShareSaltMode?>("--salting")
        {
            Description = "Salting, named as in scenario files and summary.json: single (any two sources may share), per-vm (--salt-per-source), zero-only (--uniform-across-sources).",
            HelpName = string.Join("|", ScenarioNames.Salting.Names),
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (ScenarioNames.Salting.TryParse(text, out var mode))
                {
                    return mode;
                }

                result.AddError($"--salting '{text}': expected one of {string.Join(", ", ScenarioNames.Salting.Names)}.");
                return null;
            },
        };
        var zeroOnly = new Option<bool>("--zero-only") { Description = "Share only pages that are all zero." };
        var top = Arguments.WholeNumber("--top", "Show the K sources that save most (the total covers all).", "K", 1, 1_000_000, 20);
        Arguments.RejectUnknownOptions(files);

        var command = new Command(
            "scan",
            "Report what content-based page sharing would save on real memory: the given files and --pid processes, or every process the caller may read.")
        {
            files, pids, json, salting, saltPerSource, uniformAcross, zeroOnly, top,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Run(
            new Settings(
                parse.GetValue(files) ?? [],
                parse.GetValue(pids) ?? [],
                parse.GetValue(json),
                parse.GetValue(salting) is { } named ? named
                    : parse.GetValue(uniformAcross) ? ShareSaltMode.UniformPagesAcrossVms
                    : parse.GetValue(saltPerSource) ? ShareSaltMode.PerVm
                    : ShareSaltMode.SingleSalt,
                parse.GetValue(zeroOnly),
                parse.GetValue(top)),
            cancellationToken)));
        return command;
    }

    private static int[] ParsePids(ArgumentResult result)
    {
        var pids = new int[result.Tokens.Count];
        for (var i = 0; i < pids.Length; i++)
        {
            var text = result.Tokens[i].Value;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out pids[i]) || pids[i] <= 0)
            {
                result.AddError($"--pid expects a process id (a positive whole number), not '{text}'.");
                return [];
            }
        }

        return pids;
    }

    /// <summary>Bytes of share table per page scanned: a 16-byte frame and up to two 4-byte buckets (PageShareTable).</summary>
    private const long TableBytesPerPage = 24;

    private static int Run(Settings settings, CancellationToken cancellationToken)
    {
        // Regular files only: opening a named pipe blocks until a writer comes (no signal ends it), and a
        // device or folder has no pages to read.
        if (settings.Files.Select(f => InputFile.Problem(f) ?? InputFile.PagesProblem(f)).FirstOrDefault(p => p is not null) is { } problem)
        {
            Console.Error.WriteLine($"memvisor scan: {problem}; nothing scanned.");
            return 1;
        }

        ScanSourceSet sources;
        try
        {
            sources = ScanSourceSet.Open(settings.Files, settings.Pids, Environment.ProcessId);
        }
        catch (ScanSourceException e)
        {
            Console.Error.WriteLine($"memvisor scan: {e.Message}");
            return 1;
        }

        using (sources)
        {
            // The share table holds a frame for every page fed (zero-only mode: a few): refuse sources whose table
            // would not fit in memory before allocating it (a sparse 1 TB file asked for 6 GB before reading a byte).
            var tableBytes = settings.ZeroOnly ? 0 : sources.PageCount * TableBytesPerPage;
            var memoryBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            if (tableBytes > memoryBytes / 4)
            {
                Console.Error.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"memvisor scan: the sources hold {sources.PageCount} pages ({ScanNotes.Size(sources.PageCount)}); their share table would take {tableBytes / (1024.0 * 1024 * 1024):0.#} GiB, more than a quarter of the {memoryBytes / (1024.0 * 1024 * 1024):0.#} GiB of memory here; scan fewer or smaller sources (or --zero-only); nothing scanned."));
                return 1;
            }

            var options = new SharingEstimatorOptions
            {
                SaltMode = settings.SaltMode,
                ZeroPagesOnly = settings.ZeroOnly,
            };
            var clock = Stopwatch.StartNew();
            SharingEstimate estimate;
            try
            {
                estimate = settings.Json || Console.IsOutputRedirected || Console.IsErrorRedirected
                    ? SharingEstimator.Run(sources.Sources, options, null, cancellationToken)
                    : RunWithProgress(sources, options, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("memvisor scan: interrupted; nothing reported.");
                return 130;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"memvisor scan: {e.Message}");
                return 1;
            }

            clock.Stop();
            if (settings.Json)
            {
                PrintJson(estimate, sources, clock.Elapsed);
            }
            else
            {
                PrintTable(estimate, sources, clock.Elapsed, settings.Top);
            }
        }

        return 0;
    }

    private static SharingEstimate RunWithProgress(ScanSourceSet sources, SharingEstimatorOptions options, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask("opening", maxValue: Math.Max(1, sources.PageCount));
                return SharingEstimator.Run(sources.Sources, options, new ProgressDisplay(task, sources.Sources), cancellationToken);
            });
    }

    private static void PrintTable(SharingEstimate estimate, ScanSourceSet sources, TimeSpan elapsed, int top)
    {
        var total = estimate.Total;
        var showUnreadable = total.UnreadablePages > 0;
        var table = new Table().Border(TableBorder.Simple).ShowFooters();
        table.AddColumn(new TableColumn("Source").PadLeft(0).Footer("[bold]total[/]"));
        AddNumberColumn(table, "Pages", ScanNotes.Count(total.PagesScanned));
        AddNumberColumn(table, "Zero", ScanNotes.Count(total.ZeroPages));
        AddNumberColumn(table, "Sharing", ScanNotes.Count(total.SharingPages));
        AddNumberColumn(table, "Frames", ScanNotes.Count(total.SharedFrames));
        AddNumberColumn(table, "Saved", ScanNotes.Size(total.PagesSaved));
        AddNumberColumn(table, "Saved%", ScanNotes.Percent(total.PagesSaved, total.PagesScanned));
        if (showUnreadable)
        {
            AddNumberColumn(table, "Unread", ScanNotes.Count(total.UnreadablePages));
        }

        void AddRow(string name, long scanned, long zero, long sharing, string frames, long saved, long unreadable)
        {
            string[] cells = [name, ScanNotes.Count(scanned), ScanNotes.Count(zero), ScanNotes.Count(sharing), frames, ScanNotes.Size(saved), ScanNotes.Percent(saved, scanned), ScanNotes.Count(unreadable)];
            table.AddRow(showUnreadable ? cells : cells[..^1]);
        }

        var ranked = estimate.Sources
            .OrderByDescending(s => s.PagesSaved)
            .ThenByDescending(s => s.SharingPages)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
        foreach (var row in ranked.Take(top))
        {
            AddRow(Markup.Escape(row.Name), row.PagesScanned, row.ZeroPages, row.SharingPages, ScanNotes.Count(row.SharedFrames), row.PagesSaved, row.UnreadablePages);
        }

        if (ranked.Count > top)
        {
            var rest = ranked.Skip(top).ToList();
            AddRow(
                string.Create(CultureInfo.InvariantCulture, $"[dim]{rest.Count} more (--top)[/]"),
                rest.Sum(s => s.PagesScanned),
                rest.Sum(s => s.ZeroPages),
                rest.Sum(s => s.SharingPages),
                string.Empty,
                rest.Sum(s => s.PagesSaved),
                rest.Sum(s => s.UnreadablePages));
        }

        if (Console.IsOutputRedirected)
        {
            // No terminal to fit: do not squeeze the table into the default 80 columns.
            AnsiConsole.Profile.Width = 160;
        }

        AnsiConsole.Write(table);
        foreach (var line in ScanNotes.Describe(estimate, sources, elapsed))
        {
            AnsiConsole.WriteLine(line);
        }
    }

    private static void PrintJson(SharingEstimate estimate, ScanSourceSet sources, TimeSpan elapsed)
    {
        var allProcesses = sources.AllProcesses;
        var report = new ScanJson(
            PageGeometry.PageSizeBytes,
            ScenarioNames.Of(estimate.SaltMode),
            estimate.ZeroPagesOnly,
            Math.Round(elapsed.TotalSeconds, 3),
            estimate.Total,
            estimate.Sources,
            allProcesses is null
                ? null
                : new NotScannedJson(allProcesses.ExcludedPid, allProcesses.AccessDenied, allProcesses.Vanished, allProcesses.WithoutMemory, allProcesses.Failed, allProcesses.FirstFailure),
            estimate.FullCompares,
            estimate.HintPages,
            estimate.TableBytes,
            sources.FramesHidden,
            ScanNotes.Attribution);
        Console.Out.WriteLine(JsonSerializer.Serialize(report, ScanJsonContext.Default.ScanJson));
    }

    private static void AddNumberColumn(Table table, string header, string footer) =>
        table.AddColumn(new TableColumn(header).RightAligned().NoWrap().PadLeft(1).PadRight(0).Footer($"[bold]{footer}[/]"));

    private sealed record Settings(string[] Files, int[] Pids, bool Json, ShareSaltMode SaltMode, bool ZeroOnly, int Top);

    private sealed class ProgressDisplay(ProgressTask task, IReadOnlyList<IScanPageSource> sources) : IProgress<ScanProgress>
    {
        private int _source = -1;

        public void Report(ScanProgress value)
        {
            if (value.SourceIndex != _source)
            {
                _source = value.SourceIndex;
                task.Description = Markup.Escape($"{value.SourceIndex + 1}/{sources.Count} {sources[value.SourceIndex].Name}");
            }

            task.Value = value.PagesDone;
        }
    }
}

/// <summary>The JSON form of a scan's result.</summary>
internal sealed record ScanJson(
    int PageSizeBytes,
    string SaltMode,
    bool ZeroPagesOnly,
    double ElapsedSeconds,
    SourceSharing Total,
    IReadOnlyList<SourceSharing> Sources,
    NotScannedJson? NotScanned,
    long FullCompares,
    long HintPages,
    long TableBytes,
    bool PhysicalFramesHidden,
    string SavedAttribution);

/// <summary>Processes left out of a scan of every process.</summary>
internal sealed record NotScannedJson(int? SelfPid, int AccessDenied, int Vanished, int WithoutMemory, int Failed, string? FirstFailure);

/// <summary>Serialisation of <see cref="ScanJson"/> without reflection.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ScanJson))]
internal sealed partial class ScanJsonContext : JsonSerializerContext;
