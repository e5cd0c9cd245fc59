/*
 * `ksm`: in one run, on one 1 GiB anonymous buffer of mixed content, measure the plain read and hash
 * references, Memvisor's sharing pass (wall and process CPU time), then Linux KSM merging the same
 * pages (wall time and ksmd CPU time to steady sharing), and print them side by side. Progress goes
 * to stderr, the report to stdout. SIGINT and SIGTERM cancel the KSM wait; KSM is restored anyway.
 */
using System.Runtime.InteropServices;
using Memvisor.Benchmarks.Buffer;

namespace Memvisor.Benchmarks.Ksm;

/// <summary>The side-by-side command.</summary>
internal static class KsmSideBySideCommand
{
    private const int ReferenceRepeats = 5;

    public static int Run(string[] args)
    {
        var options = SideBySideOptions.Parse(args, out var error);
        if (options is null)
        {
            Console.Error.WriteLine(error);
            Console.Error.WriteLine(SideBySideOptions.Usage);
            return 2;
        }

        using var cancellation = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        var log = Console.Error;
        try
        {
            log.WriteLine($"filling {options.Megabytes} MiB of mixed content ...");
            using var buffer = MixedContentMapping.Create(options.Megabytes);
            log.WriteLine("measuring plain read and XxHash3 ...");
            var read = MemvisorSharingRun.ReadPagesPerSecond(buffer, ReferenceRepeats);
            var hash = MemvisorSharingRun.HashPagesPerSecond(buffer, ReferenceRepeats);
            log.WriteLine($"measuring Memvisor's sharing pass (1 warm-up + {options.Passes}) ...");
            var memvisor = MemvisorSharingRun.Measure(buffer, options.Passes);
            KsmFigures? ksm = null;
            string? reason = "skipped (--skip-ksm)";
            if (!options.SkipKsm)
            {
                log.WriteLine($"measuring Linux KSM (pages_to_scan {options.PagesToScan}, sleep 0, timeout {options.TimeoutSeconds} s) ...");
                ksm = KsmSharingRun.Measure(buffer, options, log, cancellation.Token, out reason);
            }

            var content = buffer.Content;
            var report = new SideBySideReport(
                $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}",
                options.Megabytes,
                content.PageCount,
                content.ZeroPages,
                content.DuplicatePages,
                content.DistinctDuplicates,
                content.UniquePages,
                content.Expected(),
                read,
                hash,
                memvisor,
                ksm,
                reason);
            Console.Out.Write(options.Json ? report.ToJson() + "\n" : report.ToText());
            return ksm is { KnobsRestored: false } ? 1 : 0;
        }
        catch (OperationCanceledException)
        {
            log.WriteLine("cancelled; KSM knobs were restored");
            return 130;
        }

        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            cancellation.Cancel();
        }
    }
}
