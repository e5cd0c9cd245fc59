/*
 * `qemu`: what managing real guests under QEMU costs, beside the same guest with no manager. One-shot
 * (guests boot under TCG; BenchmarkDotNet's repetitions would take hours), on whatever load the
 * machine has (printed with the figures):
 *   1. unmanaged: one 256 MiB guest touching 64 MiB, no Memvisor policy: QEMU's CPU (utime + stime
 *      from /proc/PID/stat) and RSS over the measuring window;
 *   2. managed: the same guest, and then three of them, under the policy (QemuHostRun, 1 s ticks,
 *      5 s sampling and balance periods, a budget that overcommits them): Memvisor's own CPU per
 *      policy tick per VM over the window, and each QEMU's CPU and RSS, to set beside (1);
 *   3. one working-set measurement (WorkingSetMeter.CompletePeriod: smaps read + clear_refs) on a
 *      running guest: wall and CPU time, N times;
 *   4. balloon convergence: inflate by 100 MiB and deflate by 100 MiB, N times each: from the QMP
 *      command to query-balloon within 1 MiB of the target, polled every 10 ms.
 * Every QEMU is started and stopped by Memvisor.Qemu (by its PID on every exit path).
 */
using System.Diagnostics;
using System.Globalization;
using Memvisor.Core.Host;
using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Substrate;

namespace Memvisor.Benchmarks.Qemu;

/// <summary>The QEMU benchmark command.</summary>
internal static class QemuBenchmarkCommand
{
    private const int PagesPerMiB = 256;
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux

    public static int Run(string[] args)
    {
        var seconds = 60;
        var repeats = 10;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--seconds" && i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s > 0)
            {
                seconds = s;
            }
            else if (args[i] == "--repeats" && i + 1 < args.Length && int.TryParse(args[++i], NumberStyles.None, CultureInfo.InvariantCulture, out var r) && r > 0)
            {
                repeats = r;
            }
            else
            {
                Console.Error.WriteLine($"qemu: unknown or bad argument '{args[i]}' (options: --seconds N, the measuring window; --repeats N, measurements and balloon moves)");
                return 1;
            }
        }

        try
        {
            return RunAsync(TimeSpan.FromSeconds(seconds), repeats).GetAwaiter().GetResult();
        }
        catch (MissingHostPackageException e)
        {
            Console.Error.WriteLine($"qemu: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(TimeSpan window, int repeats)
    {
        HostTools.RequireQemu();
        var image = await GuestImageBuilder.BuildAsync(null).ConfigureAwait(false);
        Say($"machine: {Memvisor.Linux.Procfs.HostDescription.Line()}; load {MachineLoad.LoadAverage()}; TCG; window {window.TotalSeconds:0} s");

        // 1. The same guest with no manager.
        await using (var guest = await QemuGuest.StartAsync(Options(image, "unmanaged")).ConfigureAwait(false))
        {
            await guest.WaitForReportAsync(r => r.State == AgentState.Running, TimeSpan.FromMinutes(3)).ConfigureAwait(false);
            var (cpu, rss) = await WatchAsync([guest.Pid], window).ConfigureAwait(false);
            Say($"unmanaged guest: QEMU CPU {cpu[0]:P1} of a core, RSS {rss[0]:0} MiB");
        }

        // 2. Under the policy: one guest, then three.
        foreach (var count in (int[])[1, 3])
        {
            await PolicyCostAsync(image, count, window).ConfigureAwait(false);
        }

        // 3 and 4 on one running guest.
        await using (var guest = await QemuGuest.StartAsync(Options(image, "measured")).ConfigureAwait(false))
        {
            await guest.WaitForReportAsync(r => r.State == AgentState.Running, TimeSpan.FromMinutes(3)).ConfigureAwait(false);
            var meter = new WorkingSetMeter(guest.RamMapping!, new SamplingOptions());
            meter.StartPeriod();
            var wall = new List<double>();
            var cpu = new List<double>();
            for (var i = 0; i < repeats; i++)
            {
                await Task.Delay(1000).ConfigureAwait(false);
                var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                _ = meter.CompletePeriod();
                wall.Add(clock.Elapsed.TotalMilliseconds);
                cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds);
            }

            Say($"one working-set measurement (smaps read + clear_refs, 256 MiB guest, {repeats}x): wall median {Median(wall):0.0} ms (min {wall.Min():0.0}, max {wall.Max():0.0}); CPU median {Median(cpu):0.0} ms");

            var inflate = new List<double>();
            var deflate = new List<double>();
            const long full = 256L << 20;
            for (var i = 0; i < repeats; i++)
            {
                inflate.Add(await BalloonAsync(guest, full - (100L << 20)).ConfigureAwait(false));
                deflate.Add(await BalloonAsync(guest, full).ConfigureAwait(false));
            }

            Say($"balloon by 100 MiB ({repeats}x each): inflate median {Median(inflate):0.00} s (min {inflate.Min():0.00}, max {inflate.Max():0.00}); deflate median {Median(deflate):0.00} s (min {deflate.Min():0.00}, max {deflate.Max():0.00})");
        }

        Say($"load at the end {MachineLoad.LoadAverage()}");
        return 0;
    }

    private static async Task PolicyCostAsync(GuestImage image, int count, TimeSpan window)
    {
        var guests = Enumerable.Range(1, count).Select(i => new QemuRunGuest(
            Options(image, $"managed{i}"),
            new VmConfig { Name = $"managed{i}", MaxPages = 256 * PagesPerMiB, MinPages = 64 * PagesPerMiB, OverheadPages = ScenarioGuests.QemuOverheadMiB * PagesPerMiB },
            BalloonFloorMiB: 64)).ToList();
        var options = new QemuRunOptions
        {
            BudgetPages = count * (ScenarioGuests.QemuOverheadMiB + 180) * PagesPerMiB,
            SwapCapacityPages = count * 256 * PagesPerMiB,
            Duration = window + TimeSpan.FromSeconds(10),
            Policy = new HostPolicyOptions
            {
                Allocation = new Core.Allocation.AllocationOptions { Tau = 0.75, BalancePeriodSeconds = 5 },
                Sampling = new SamplingOptions { PeriodSeconds = 5 },
            },
        };
        int ticks = 0;
        TimeSpan cpuAtStart = default, cpuAtEnd = default;
        double[] qemuCpuStart = [], qemuCpuEnd = [];
        var qemuRss = new List<double>();
        int[] pids = [];
        var stopwatch = new Stopwatch();
        var progress = new Reporter(row =>
        {
            // The first 10 s settle (balloons, estimates); the window is measured after.
            if (row.Time == TimeSpan.FromSeconds(10))
            {
                pids = [.. GuestProcesses.Pids];
                cpuAtStart = Process.GetCurrentProcess().TotalProcessorTime;
                qemuCpuStart = [.. pids.Select(CpuTicks)];
                stopwatch.Start();
            }
            else if (row.Time > TimeSpan.FromSeconds(10))
            {
                ticks++;
                cpuAtEnd = Process.GetCurrentProcess().TotalProcessorTime;
                qemuCpuEnd = [.. pids.Select(CpuTicks)];
                qemuRss.Add(pids.Average(RssMiB));
            }
        });
        await QemuHostRun.RunAsync(options, guests, progress).ConfigureAwait(false);
        var elapsed = stopwatch.Elapsed.TotalSeconds;
        var perTickPerVm = (cpuAtEnd - cpuAtStart).TotalMilliseconds / ticks / count;
        var qemuCpu = qemuCpuStart.Zip(qemuCpuEnd, (a, b) => (b - a) / TicksPerSecond / elapsed).Average();
        Say($"policy over {count} guest(s), {ticks} ticks of 1 s: Memvisor CPU {perTickPerVm:0.0} ms per tick per VM ({(cpuAtEnd - cpuAtStart).TotalSeconds / elapsed:P1} of a core); each QEMU CPU {qemuCpu:P1} of a core, RSS {qemuRss.Average():0} MiB");
    }

    private static void Say(FormattableString line) => Console.WriteLine(FormattableString.Invariant(line));

    private static QemuGuestOptions Options(GuestImage image, string name) => new()
    {
        Name = name,
        MemoryMiB = 256,
        Image = image,
        GuestSwapMiB = 192,
        Agent = new Dictionary<string, string> { ["mode"] = "toucher", ["alloc_mib"] = "64", ["phases"] = "64:0", ["fill"] = "unique" },
    };

    private static async Task<(double[] Cpu, double[] Rss)> WatchAsync(int[] pids, TimeSpan window)
    {
        var start = pids.Select(CpuTicks).ToArray();
        var rss = new List<double[]>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < window)
        {
            await Task.Delay(1000).ConfigureAwait(false);
            rss.Add([.. pids.Select(RssMiB)]);
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        var end = pids.Select(CpuTicks).ToArray();
        return ([.. start.Zip(end, (a, b) => (b - a) / TicksPerSecond / elapsed)], [.. Enumerable.Range(0, pids.Length).Select(i => rss.Average(r => r[i]))]);
    }

    private static async Task<double> BalloonAsync(QemuGuest guest, long targetBytes)
    {
        var clock = Stopwatch.StartNew();
        await guest.Qmp.SetBalloonTargetAsync(targetBytes).ConfigureAwait(false);
        while (Math.Abs(await guest.Qmp.QueryBalloonActualBytesAsync().ConfigureAwait(false) - targetBytes) > (1L << 20))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                return double.NaN;
            }

            await Task.Delay(10).ConfigureAwait(false);
        }

        return clock.Elapsed.TotalSeconds;
    }

    private static double CpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    private static double RssMiB(int pid) =>
        long.Parse(File.ReadAllText($"/proc/{pid}/statm").Split(' ')[1], CultureInfo.InvariantCulture) * 4096.0 / (1 << 20);

    private static double Median(List<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed class Reporter(Action<QemuRunRow> report) : IProgress<QemuRunRow>
    {
        public void Report(QemuRunRow value) => report(value);
    }
}
