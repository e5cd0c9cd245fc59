/*
 * `ksm`: in one run, on one 1 GiB anonymous buffer of mixed content, measure the plain read and hash
 * references, Memvisor's sharing (wall and process CPU time; the memory manager keeping or releasing
 * freed pages, and the table alone), then Linux KSM merging the same pages, refilled (wall time and
 * ksmd CPU time to steady sharing), and print them side by side. Progress goes
 * to stderr, the report to stdout. SIGINT and SIGTERM cancel the KSM wait; KSM is restored anyway.
 */
using System.Runtime.InteropServices;
using Memvisor.Benchmarks.Buffer;
using Memvisor.Benchmarks.Engine;

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
        var loadAtStart = MachineLoad.LoadAverage();
        try
        {
            log.WriteLine($"filling {options.Megabytes} MiB of mixed content ...");
            using var buffer = MixedContentMapping.Create(options.Megabytes);
            log.WriteLine("measuring plain read and XxHash3 ...");
            var read = MemvisorSharingRun.ReadPagesPerSecond(buffer, ReferenceRepeats);
            var hash = MemvisorSharingRun.HashPagesPerSecond(buffer, ReferenceRepeats);
            log.WriteLine($"measuring Memvisor's sharing (3 engines, 1 warm-up + {options.Passes} passes each) ...");
            // The table alone reads the buffer as filled; the manager refills it through its VM, and the
            // releasing run zeroes freed pages, so the buffer is refilled for KSM afterwards.
            var token = cancellation.Token;
            var tableOnly = MemvisorSharingRun.MeasureTableOnly(buffer, options.Passes);
            token.ThrowIfCancellationRequested();
            var manager = MemvisorSharingRun.MeasureManager(buffer, options.Passes, ReleaseMode.Keep);
            token.ThrowIfCancellationRequested();
            var managerReleasing = MemvisorSharingRun.MeasureManager(buffer, options.Passes, ReleaseMode.Batched);
            token.ThrowIfCancellationRequested();
            IReadOnlyList<SharingFigures> memvisor = [manager, managerReleasing, tableOnly];
            buffer.Refill();
            KsmFigures? ksm = null;
            string? reason = "skipped (--skip-ksm)";
            if (!options.SkipKsm)
            {
                log.WriteLine($"measuring Linux KSM (pages_to_scan {options.PagesToScan}, sleep 0, timeout {options.TimeoutSeconds} s) ...");
                ksm = KsmSharingRun.Measure(buffer, options, log, cancellation.Token, out reason);
            }

            var content = buffer.Content;
            var report = new SideBySideReport(
                Memvisor.Linux.Procfs.HostDescription.Line(),
                loadAtStart,
                MachineLoad.LoadAverage(),
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
            log.WriteLine("cancelled; any KSM knob changed was restored");
            return 130;
        }

        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            cancellation.Cancel();
        }
    }
}
