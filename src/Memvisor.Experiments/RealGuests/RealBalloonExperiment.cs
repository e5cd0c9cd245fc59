/*
 * Figure 2 on real guests: does a guest ballooned down to N MiB run as fast as one configured with N MiB?
 *
 * Per size N and repeat, two guests boot side by side (the same host load for both): one configured with
 * N MiB, one with the larger size, ballooned to N over QMP once its agent runs. Each agent reads a sparse
 * data disk (the guest's /dev/vda) one random page at a time through the guest's page cache, as fast as
 * it can; a page not in the cache is a virtio-blk read through QEMU, so the read rate grows with the
 * memory the guest can cache (hit rate about cache / file). After the balloon is at N and both caches are warm, the rate is measured over a
 * window of the agents' own clocks. The loss is (configured - ballooned) / configured. TCG timing is
 * noisy, so each size repeats; the report gives min/median/max and says where the repeats disagree on
 * the sign (within the noise).
 */
using Memvisor.Linux.Ksm;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Launch;
using Memvisor.Reporting.Charts;
using static Memvisor.Experiments.RealGuests.RealGuestLab;

namespace Memvisor.Experiments.RealGuests;

/// <summary>The balloon experiment (Figure 2) on real guests.</summary>
public sealed class RealBalloonExperiment : RealGuestExperiment<RealBalloonMeasurements>
{
    private const double CloseWithinPercent = 5;
    private const double PaperLowestLossPercent = 1.4;
    private const double PaperHighestLossPercent = 4.4;
    private static readonly TimeSpan BalloonTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan WarmTimeout = TimeSpan.FromSeconds(60);

    internal RealBalloonExperiment()
        : base(new BalloonExperiment())
    {
    }

    /// <inheritdoc/>
    private protected override async Task<RealBalloonMeasurements> MeasureRealAsync(ExperimentContext context, ExperimentResult simulated)
    {
        var setup = new RealBalloonSetup(
            SizesMiB: context.Pick<IReadOnlyList<int>>([128, 176, 224], [128, 192]),
            ConfiguredMaxMiB: 256,
            FileMiB: 192,
            Repeats: context.Pick(3, 1),
            WarmSeconds: context.Pick(10.0, 2.0),
            WindowSeconds: context.Pick(20.0, 6.0));
        var image = await ImageAsync(context).ConfigureAwait(false);
        var pairs = new List<RealBalloonPair>();
        for (var repeat = 0; repeat < setup.Repeats; repeat++)
        {
            foreach (var size in setup.SizesMiB)
            {
                pairs.Add(await PairAsync(context, image, setup, size, repeat).ConfigureAwait(false));
            }
        }

        var sizes = setup.SizesMiB.Select(size =>
        {
            var runs = pairs.Where(p => p.SizeMiB == size).ToList();
            return new RealBalloonSize(
                size,
                Spread.Of(runs.Select(p => p.ConfiguredRate)),
                Spread.Of(runs.Select(p => p.BalloonedRate)),
                Spread.Of(runs.Select(p => p.LossPercent)),
                runs.All(p => Math.Abs(p.BalloonedActualMiB - size) <= 2));
        }).ToList();
        return new RealBalloonMeasurements(setup, pairs, sizes, simulated);
    }

    private static async Task<RealBalloonPair> PairAsync(ExperimentContext context, GuestImage image, RealBalloonSetup setup, int size, int repeat)
    {
        var ct = context.CancellationToken;
        QemuGuestOptions Guest(string name, int memoryMiB) => new()
        {
            Name = $"{name}-{size}-{repeat}",
            MemoryMiB = memoryMiB,
            Image = image,
            DataDiskMiB = setup.FileMiB,
            Agent = Agent("mode=file", "file=/dev/vda", $"file_mib={setup.FileMiB}", "order=random", "period_s=0.01"),
        };

        var started = new List<QemuGuest>();
        try
        {
            await StartAsync([Guest("configured", size), Guest("ballooned", setup.ConfiguredMaxMiB)], started, context).ConfigureAwait(false);
            var (configured, ballooned) = (started[0], started[1]);
            foreach (var guest in started)
            {
                await guest.Qmp.SetGuestStatsPollingIntervalAsync(1, cancellationToken: ct).ConfigureAwait(false);
            }

            var target = (long)size << 20;
            await ballooned.Qmp.SetBalloonTargetAsync(target, ct).ConfigureAwait(false);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (await ballooned.Qmp.QueryBalloonActualBytesAsync(ct).ConfigureAwait(false) > target + (1L << 20) && clock.Elapsed < BalloonTimeout)
            {
                await WaitAsync(TimeSpan.FromMilliseconds(250), context).ConfigureAwait(false);
            }

            // Warm: every cache has seen the whole file twice (or the timeout passed), then a fixed settle.
            var passes = 2L * setup.FileMiB * PagesPerMiB;
            var warmStart = started.Select(Latest).ToArray();
            clock.Restart();
            while (clock.Elapsed < WarmTimeout && started.Select((g, i) => Latest(g).Work - warmStart[i].Work).Any(w => w < passes))
            {
                await WaitAsync(TimeSpan.FromMilliseconds(500), context).ConfigureAwait(false);
            }

            await WaitAsync(TimeSpan.FromSeconds(setup.WarmSeconds), context).ConfigureAwait(false);
            var (c0, b0, cpuC0, cpuB0) = (Latest(configured), Latest(ballooned), CpuSeconds(configured), CpuSeconds(ballooned));
            await WaitAsync(TimeSpan.FromSeconds(setup.WindowSeconds), context).ConfigureAwait(false);
            var (c1, b1, cpuC1, cpuB1) = (Latest(configured), Latest(ballooned), CpuSeconds(configured), CpuSeconds(ballooned));
            var actual = await ballooned.Qmp.QueryBalloonActualBytesAsync(ct).ConfigureAwait(false);
            var configuredStats = await configured.Qmp.GetGuestStatsAsync(cancellationToken: ct).ConfigureAwait(false);
            var balloonedStats = await ballooned.Qmp.GetGuestStatsAsync(cancellationToken: ct).ConfigureAwait(false);
            var pair = new RealBalloonPair(
                size,
                repeat,
                (c1.Work - c0.Work) / (cpuC1 - cpuC0),
                (b1.Work - b0.Work) / (cpuB1 - cpuB0),
                WorkRate(configured, c0, c1),
                WorkRate(ballooned, b0, b1),
                actual / (double)(1 << 20),
                configuredStats.TotalBytes / (double)(1 << 20),
                balloonedStats.TotalBytes / (double)(1 << 20));
            context.Report($"{size} MiB, repeat {repeat + 1}: configured {pair.ConfiguredRate:0} pages per CPU s ({pair.ConfiguredWallRate:0}/s), ballooned {pair.BalloonedRate:0} ({pair.BalloonedWallRate:0}/s): {pair.LossPercent:0.0}% loss");
            return pair;
        }
        catch (Qemu.Qmp.QmpException e)
        {
            throw new ExperimentException($"{size} MiB pair, repeat {repeat + 1}: QMP failed: {e.Message}", e);
        }
        finally
        {
            await StopAllAsync(started).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// CPU seconds QEMU has used (utime + stime of /proc/PID/stat, all its threads). Clock ticks are
    /// USER_HZ, which the Linux ABI fixes at 100 on x86-64.
    /// </summary>
    private static double CpuSeconds(QemuGuest guest)
    {
        try
        {
            return new KernelThreadCpu(guest.Pid, 100).StatCpuNanoseconds() / 1e9;
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            throw new ExperimentException($"guest {guest.Options.Name}: QEMU's CPU time is unreadable: {e.Message}", e);
        }
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ClaimResult> Judge(RealBalloonMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        var (sizes, gap, growth) = (measured.Sizes, measured.LargestGapPercent, measured.Growth);
        var reached = sizes.All(s => s.BalloonsReached);
        var losses = string.Join(", ", sizes.Select(s => $"{s.SizeMiB} MiB: {s.LossPercent.Text(2)}%{(s.WithinNoise ? " (within the noise: the repeats disagree on the sign)" : "")}"));
        return
        [
            new(
                ClaimId.BalloonCloseToConfigured,
                ClaimText(measured.Simulator, ClaimId.BalloonCloseToConfigured),
                gap <= CloseWithinPercent && reached,
                $"Loss of the ballooned guest, median (min..max) over {measured.Setup.Repeats} pairs: {losses}; largest |median| {F(gap)}% (close: at most {F(CloseWithinPercent)}%). " +
                $"Balloons at their sizes in the window: {(reached ? "yes" : "NO")}. For scale, the configured guest's read rate grows x{F(growth)} from {sizes[0].SizeMiB} to {sizes[^1].SizeMiB} MiB.")
            {
                Measured = gap,
                Paper = PaperHighestLossPercent,
            },
            new(
                ClaimId.BalloonSlightlySlower,
                ClaimText(measured.Simulator, ClaimId.BalloonSlightlySlower),
                sizes.All(s => s.LossPercent.Median > 0),
                $"Median loss at every size: {losses}. {Reserves(measured)}")
            {
                Measured = measured.LowestLossPercent,
                Paper = PaperLowestLossPercent,
            },
            new(
                ClaimId.BalloonThroughputGrowsWithMemory,
                ClaimText(measured.Simulator, ClaimId.BalloonThroughputGrowsWithMemory),
                growth > 1.1,
                $"Configured reads {sizes[0].ConfiguredRate.Text(0)} pages per CPU second at {sizes[0].SizeMiB} MiB, {sizes[^1].ConfiguredRate.Text(0)} at {sizes[^1].SizeMiB} MiB (x{F(growth)}, medians).")
            {
                Measured = growth,
            },
        ];
    }

    /// <inheritdoc/>
    protected override ExperimentResult Render(ExperimentContext context, ExperimentRuns runs, RealBalloonMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(measured);
        var (setup, sizes) = (measured.Setup, measured.Sizes);
        var comparisons = new List<PaperComparison>
        {
            new("smallest throughput loss of the ballooned VM (median over repeats)", PaperLowestLossPercent, measured.LowestLossPercent, "%") { Note = "paper [recalled]: 1.4-4.4% over the sizes" },
            new("largest throughput loss of the ballooned VM (median over repeats)", PaperHighestLossPercent, sizes.Max(s => s.LossPercent.Median), "%") { Note = "paper [recalled]: 1.4-4.4% over the sizes" },
        };
        foreach (var s in sizes)
        {
            comparisons.Add(new PaperComparison($"throughput loss ballooned to {s.SizeMiB} MiB", (PaperLowestLossPercent + PaperHighestLossPercent) / 2, s.LossPercent.Median, "%")
            {
                Note = $"paper: range 1.4..4.4, midpoint shown; ours: median, min {F(s.LossPercent.Min)}, max {F(s.LossPercent.Max)}{(s.WithinNoise ? ", within the noise" : "")}",
            });
        }

        double[] x = [.. sizes.Select(s => (double)s.SizeMiB)];
        var figure = new ExperimentFigure("throughput", new LineChart
        {
            Title = $"Page-cache reads: configured vs ballooned from {setup.ConfiguredMaxMiB} MiB (real guests, medians)",
            XLabel = "guest memory (MiB)",
            YLabel = "reads (pages per CPU second)",
            Series =
            [
                new ChartSeries("configured", x, [.. sizes.Select(s => s.ConfiguredRate.Median)]),
                new ChartSeries($"{setup.ConfiguredMaxMiB} MiB ballooned", x, [.. sizes.Select(s => s.BalloonedRate.Median)]) { Line = SeriesLine.Dashed },
            ],
        }, $"Median over {setup.Repeats} side-by-side pairs of the agents' reads per second of their QEMU's CPU time over {F(setup.WindowSeconds, 0)} s (the paper's Figure 2 on TCG guests).");
        var pairsTable = new ExperimentTable(
            "pairs",
            "Every pair (configured and ballooned guest side by side)",
            ["memory (MiB)", "repeat", "configured (pages/CPU s)", "ballooned (pages/CPU s)", "loss (%)", "configured (pages/s)", "ballooned (pages/s)", "ballooned guest's memory (MiB)", "MemTotal configured (MiB)", "MemTotal ballooned (MiB)"],
            [.. measured.Pairs.Select(p => (IReadOnlyList<string>)[
                $"{p.SizeMiB}", $"{p.Repeat + 1}", F(p.ConfiguredRate, 0), F(p.BalloonedRate, 0), F(p.LossPercent), F(p.ConfiguredWallRate, 0), F(p.BalloonedWallRate, 0), F(p.BalloonedActualMiB, 1),
                p.ConfiguredMemTotalMiB is { } c ? F(c, 1) : "n/a", p.BalloonedMemTotalMiB is { } b ? F(b, 1) : "n/a"])]);
        var claims = Judge(measured);
        return RealResult(
            context,
            measured.Simulator,
            guestsBooted: measured.Pairs.Count * 2,
            setup:
                "Paper [recalled]: one Linux VM running dbench with 40 clients, configured with 128-256 MB, against the same VM configured with 256 MB and ballooned down to each size. " +
                $"Real guests (QEMU TCG, 1 vCPU, Debian cloud kernel, busybox initramfs): per size ({string.Join(", ", setup.SizesMiB)} MiB) and repeat ({setup.Repeats} per size), " +
                $"a guest configured with that size and a {setup.ConfiguredMaxMiB} MiB guest ballooned to it over QMP boot side by side; each agent reads a {setup.FileMiB} MiB data disk " +
                "(sparse zeros on the host, the guest's /dev/vda) one uniformly random page at a time through the guest's page cache, as fast as it can (pread, no think time). " +
                $"After the balloon is at its size and every agent has read twice the file's pages, plus {F(setup.WarmSeconds, 0)} s, the reads are counted over {F(setup.WindowSeconds, 0)} s " +
                "and divided by the CPU time each QEMU used in that window (utime + stime of all its threads): on a 2-core host shared with other work, wall-clock rates mostly measure which guest got the CPU; " +
                "per CPU second they measure how much work the guest's memory lets it do (wall-clock rates are in the table too). " +
                "The simulator column is `memvisor experiment balloon` at the same scale and seed (its simulated seconds are in the header; its run count is replaced by the real guests booted).",
            shows: "Ballooning takes memory from a guest almost as well as configuring the guest smaller: the guest's own allocator and page cache decide what to give up, so it loses only what a smaller guest would not have (the kernel structures sized for its configured memory).",
            discussion:
                "The real guests replace the simulator's model with a real balloon driver and a real page cache. " + Reserves(measured) + " " +
                "The workload reads uniformly random pages of a file larger than the smaller guests' caches, so its hit rate is about cache / file and the rate grows smoothly with memory " +
                "(a cyclic scan would miss every page under LRU once the file exceeds the cache, a cliff rather than a slope); the ballooned guest's loss is the hit rate of the " +
                "memory its kernel keeps for structures sized for its configured memory, plus whatever the balloon driver itself costs. " +
                "TCG timing is noisy (the host is shared, two vCPUs on two cores): the two guests of a pair run side by side, so host load hits both, and the spread over repeats is reported; " +
                "a loss whose repeats disagree on the sign is within the noise. Absolute rates are TCG's, not the paper's hardware's: only the ratio is comparable.") with
        {
            Comparisons = comparisons,
            Figures = [figure],
            Tables = [SideBySide.Table(measured.Simulator, claims, new Dictionary<ClaimId, string>()), pairsTable],
        };
    }

    private static string Reserves(RealBalloonMeasurements measured)
    {
        var small = measured.Pairs.Where(p => p.SizeMiB == measured.Setup.SizesMiB[0] && p.ConfiguredMemTotalMiB is not null && p.BalloonedMemTotalMiB is not null).ToList();
        if (small.Count == 0)
        {
            return "The guests did not report MemTotal, so their kernels' reserves are unknown.";
        }

        var size = measured.Setup.SizesMiB[0];
        var reserveSmall = size - small.Average(p => p.ConfiguredMemTotalMiB!.Value);
        var reserveLarge = measured.Setup.ConfiguredMaxMiB - small.Average(p => p.BalloonedMemTotalMiB!.Value);
        return $"The {size} MiB guest's kernel keeps {F(reserveSmall, 1)} MiB of its memory out of MemTotal at boot, the {measured.Setup.ConfiguredMaxMiB} MiB guest {F(reserveLarge, 1)} MiB " +
            $"(struct pages and other tables sized for configured memory): ballooned to {size} MiB, it has {F(reserveLarge - reserveSmall, 1)} MiB less for its page cache.";
    }

    private static string F(double value, int decimals = 2) => ExperimentReport.Number(value, decimals);
}
