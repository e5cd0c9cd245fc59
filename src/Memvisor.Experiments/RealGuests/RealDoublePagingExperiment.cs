/*
 * §3.1 on real guests: a guest that pages to its own swap disk (its agent touches random pages of more
 * memory than it has), squeezed to the same size two ways: by its balloon (the guest chooses what to
 * give up) and by the host paging random 64 KiB ranges of its RAM out with MADV_PAGEOUT (GuestPager,
 * once a second, back down to the size as the guest faults pages in). The paper's double paging is the
 * second arm's: the host swaps a page out, then the guest picks it for its own swap and the host must
 * read it back only for the guest to write it to its disk.
 *
 * The host-paging arm needs host swap: MADV_PAGEOUT does nothing to anonymous memory without it, and
 * Memvisor never creates host swap on its own. Where /proc/swaps lists no device the arm does not run,
 * the report says why, and the claims that compare the arms are not judged.
 */
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Qmp;
using Memvisor.Reporting.Charts;
using static Memvisor.Experiments.RealGuests.RealGuestLab;

namespace Memvisor.Experiments.RealGuests;

/// <summary>The double-paging experiment (§3.1) on real guests.</summary>
public sealed class RealDoublePagingExperiment : RealGuestExperiment<RealDoublePagingMeasurements>
{
    private const double MiB = 1 << 20;

    internal RealDoublePagingExperiment()
        : base(new DoublePagingExperiment())
    {
    }

    /// <inheritdoc/>
    private protected override async Task<RealDoublePagingMeasurements> MeasureRealAsync(ExperimentContext context, ExperimentResult simulated)
    {
        var setup = new RealDoublePagingSetup(MemoryMiB: 256, GuestSwapMiB: 512, TouchedMiB: 320, SqueezedMiB: 192, SettleSeconds: context.Pick(20.0, 8.0), WindowSeconds: context.Pick(40.0, 12.0));
        var image = await ImageAsync(context).ConfigureAwait(false);
        var ballooning = await ArmAsync(context, image, setup, byHost: false).ConfigureAwait(false);
        var why = GuestPager.WhyUnavailable();
        RealDoublePagingArm? host = null;
        if (why is null)
        {
            host = await ArmAsync(context, image, setup, byHost: true).ConfigureAwait(false);
        }
        else
        {
            context.Report($"host-paging arm not run: {why}");
        }

        return new RealDoublePagingMeasurements(setup, ballooning, host, why is null ? null : $"{why}; Memvisor creates host swap only when the user asks", simulated);
    }

    private static async Task<RealDoublePagingArm> ArmAsync(ExperimentContext context, GuestImage image, RealDoublePagingSetup setup, bool byHost)
    {
        var ct = context.CancellationToken;
        var started = new List<QemuGuest>();
        GuestPager? pager = null;
        try
        {
            await StartAsync(
                [new QemuGuestOptions
                {
                    Name = byHost ? "host-paged" : "ballooned",
                    MemoryMiB = setup.MemoryMiB,
                    Image = image,
                    GuestSwapMiB = setup.GuestSwapMiB,
                    Agent = Agent("mode=toucher", $"alloc_mib={setup.TouchedMiB}", $"phases={setup.TouchedMiB}:0", "fill=unique", "order=random", "period_s=0.01"),
                }],
                started,
                context).ConfigureAwait(false);
            var guest = started[0];
            var mapping = guest.RamMapping ?? throw new ExperimentException($"guest {guest.Options.Name}: its guest-RAM mapping was not found");
            await guest.Qmp.SetGuestStatsPollingIntervalAsync(1, cancellationToken: ct).ConfigureAwait(false);
            var target = (long)setup.SqueezedMiB << 20;
            if (byHost)
            {
                pager = GuestPager.Open(mapping, seed: 1);
            }
            else
            {
                await guest.Qmp.SetBalloonTargetAsync(target, ct).ConfigureAwait(false);
            }

            async Task Squeeze(double seconds)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (clock.Elapsed.TotalSeconds < seconds)
                {
                    if (pager is not null && mapping.ReadUsage() is { } usage && usage.RssBytes > target)
                    {
                        pager.PageOut(usage.RssBytes - target);
                    }

                    await WaitAsync(TimeSpan.FromSeconds(1), context).ConfigureAwait(false);
                }
            }

            await Squeeze(setup.SettleSeconds).ConfigureAwait(false);
            var (stats0, vm0, agent0) = (await guest.Qmp.GetGuestStatsAsync(cancellationToken: ct).ConfigureAwait(false), HostVmstat(), Latest(guest));
            await Squeeze(setup.WindowSeconds).ConfigureAwait(false);
            var (stats1, vm1, agent1) = (await guest.Qmp.GetGuestStatsAsync(cancellationToken: ct).ConfigureAwait(false), HostVmstat(), Latest(guest));
            var ram = mapping.ReadUsage() ?? throw new ExperimentException($"guest {guest.Options.Name}: QEMU is gone: {guest.DiagnosticTail()}");
            static double Delta(long? from, long? to) => (to ?? 0) - (from ?? 0);
            var arm = new RealDoublePagingArm(
                Delta(stats0.SwapOutBytes, stats1.SwapOutBytes) / MiB,
                Delta(stats0.SwapInBytes, stats1.SwapInBytes) / MiB,
                Delta(stats0.MajorFaults, stats1.MajorFaults),
                (vm1.SwapOutPages - vm0.SwapOutPages) / (double)PagesPerMiB,
                (vm1.SwapInPages - vm0.SwapInPages) / (double)PagesPerMiB,
                ram.SwapBytes / MiB,
                ram.RssBytes / MiB,
                WorkRate(guest, agent0, agent1));
            context.Report($"{guest.Options.Name}: guest swap-out {arm.GuestSwapOutMiB:0.0} MiB, host swap-out {arm.HostSwapOutMiB:0.0} MiB, {arm.Throughput:0} touches/s");
            return arm;
        }
        catch (QmpException e)
        {
            throw new ExperimentException($"{(byHost ? "host-paging" : "ballooning")} arm: QMP failed: {e.Message}", e);
        }
        finally
        {
            pager?.Dispose();
            await StopAllAsync(started).ConfigureAwait(false);
        }
    }

    /// <summary>Host-wide swap traffic so far (pswpin, pswpout of /proc/vmstat), in pages.</summary>
    private static (long SwapInPages, long SwapOutPages) HostVmstat()
    {
        long Field(string[] lines, string name) =>
            lines.Select(l => l.Split(' ')).Where(f => f.Length == 2 && f[0] == name).Select(f => long.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        var lines = File.ReadAllLines("/proc/vmstat");
        return (Field(lines, "pswpin"), Field(lines, "pswpout"));
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<ClaimResult> Judge(RealDoublePagingMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        if (measured.HostPaging is not { } host)
        {
            return [];
        }

        var balloon = measured.Ballooning;
        var ioShare = host.HostIoMiB > 0 ? balloon.HostIoMiB / host.HostIoMiB : double.NaN;
        var faster = balloon.Throughput / host.Throughput;
        return
        [
            new ClaimResult(
                ClaimId.DoublePagingHostIoAvoided,
                ClaimText(measured.Simulator, ClaimId.DoublePagingHostIoAvoided),
                ioShare < 0.2,
                $"host swap-outs + swap-ins over the window: {F(balloon.HostSwapOutMiB, 1)} + {F(balloon.HostSwapInMiB, 1)} MiB with ballooning, {F(host.HostSwapOutMiB, 1)} + {F(host.HostSwapInMiB, 1)} MiB with host paging (most avoided: under 20%; host-wide counters)")
            {
                Measured = ioShare,
            },
            new ClaimResult(
                ClaimId.DoublePagingBalloonedFaster,
                ClaimText(measured.Simulator, ClaimId.DoublePagingBalloonedFaster),
                faster > 1.02,
                $"{F(balloon.Throughput, 0)} touches/s with ballooning, {F(host.Throughput, 0)} with host paging (x{F(faster, 3)})")
            {
                Measured = faster,
            },
        ];
    }

    /// <inheritdoc/>
    protected override ExperimentResult Render(ExperimentContext context, ExperimentRuns runs, RealDoublePagingMeasurements measured)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(measured);
        var setup = measured.Setup;
        var arms = new List<(string Name, RealDoublePagingArm Arm)> { ("ballooning", measured.Ballooning) };
        if (measured.HostPaging is { } host)
        {
            arms.Add(("host paging", host));
        }

        var table = new ExperimentTable(
            "arms",
            "The two ways of squeezing the guest, over the window",
            ["reclamation", "guest swap-out (MiB)", "guest swap-in (MiB)", "guest major faults", "host swap-out (MiB)", "host swap-in (MiB)", "guest RAM in host swap (MiB)", "guest RAM resident (MiB)", "throughput (touches/s)"],
            [.. arms.Select(a => (IReadOnlyList<string>)[
                a.Name, F(a.Arm.GuestSwapOutMiB, 1), F(a.Arm.GuestSwapInMiB, 1), F(a.Arm.GuestMajorFaults, 0), F(a.Arm.HostSwapOutMiB, 1), F(a.Arm.HostSwapInMiB, 1),
                F(a.Arm.HostSwappedMiB, 1), F(a.Arm.ResidentMiB, 1), F(a.Arm.Throughput, 0)])]);
        var claims = Judge(measured);
        var whyNot = measured.HostPagingWhyNot is { } why ? $"the host-paging arm could not run: {why}" : "";
        var notJudged = new Dictionary<ClaimId, string>
        {
            [ClaimId.DoublePagingAvoidedAtTarget] = "a real host cannot tell which of its swap-ins are guest pages read back only to be written to guest swap (the simulator follows each page)" + (whyNot.Length > 0 ? "; and " + whyNot : ""),
            [ClaimId.DoublePagingAvoidedOverRun] = "as above",
        };
        if (whyNot.Length > 0)
        {
            notJudged[ClaimId.DoublePagingHostIoAvoided] = whyNot;
            notJudged[ClaimId.DoublePagingBalloonedFaster] = whyNot;
        }

        var b = measured.Ballooning;
        var figures = new List<ExperimentFigure>
        {
            new("io", new LineChart
            {
                Title = "Paging I/O over the window (real guest)",
                XLabel = "arm (1 ballooning, 2 host paging)",
                YLabel = "MiB",
                Series =
                [
                    new ChartSeries("guest swap-out", [.. arms.Select((_, i) => i + 1.0)], [.. arms.Select(a => a.Arm.GuestSwapOutMiB)]),
                    new ChartSeries("host swap-out + swap-in", [.. arms.Select((_, i) => i + 1.0)], [.. arms.Select(a => a.Arm.HostIoMiB)]) { Line = SeriesLine.Dashed },
                ],
            }, "Pages moved by each level of paging over the window, same guest and workload."),
        };
        return RealResult(
            context,
            measured.Simulator,
            guestsBooted: arms.Count,
            setup:
                "Paper: no experiment; §3.1 argues that a host paging a guest needs a meta-level replacement policy that cannot rank guest pages, and causes double paging. " +
                $"Real guest: one {setup.MemoryMiB} MiB Linux guest under QEMU TCG with a {setup.GuestSwapMiB} MiB swap disk whose agent touches uniformly random pages of {setup.TouchedMiB} MiB as fast as it can " +
                $"(more than its memory, so it pages to its own swap in both arms); squeezed to {setup.SqueezedMiB} MiB either by its balloon (QMP) or by the host paging random 64 KiB ranges of its RAM out " +
                $"(MADV_PAGEOUT through a pidfd, once a second back down to {setup.SqueezedMiB} MiB resident). After {F(setup.SettleSeconds, 0)} s the window counts {F(setup.WindowSeconds, 0)} s: " +
                "guest swap traffic and major faults from the balloon driver's statistics, host swap traffic from /proc/vmstat (host-wide), the guest RAM's smaps Swap and Rss, the agent's touches. " +
                (whyNot.Length > 0 ? $"Here {whyNot}. " : "") +
                "The simulator column is `memvisor experiment double-paging` at the same scale and seed.",
            shows: "Ballooning relieves memory pressure through the guest's own replacement policy, so the host need not page the guest; host paging picks pages at random, and the guest later pages out pages the host already swapped (double paging).",
            discussion:
                $"With ballooning the guest swapped {F(b.GuestSwapOutMiB, 1)} MiB out and {F(b.GuestSwapInMiB, 1)} MiB in over the window ({F(b.GuestMajorFaults, 0)} major faults) while the host swapped {F(b.HostSwapOutMiB, 1)} MiB out: " +
                "the guest chooses its own victims (its LRU) and the host pages nothing. " +
                (measured.HostPaging is { } h
                    ? $"With host paging the host swapped {F(h.HostSwapOutMiB, 1)} MiB out and {F(h.HostSwapInMiB, 1)} MiB in, while the guest, paging on its own too, swapped {F(h.GuestSwapOutMiB, 1)} MiB out. "
                    : "The host-paging arm needs host swap, which this machine does not have; Memvisor creates none on its own. With the operator's swap configured the arm runs and the comparison claims are judged. ") +
                "Double paging itself (a guest page the host read back only to write it to guest swap) is not observable from outside a real guest: the host's swap-ins and the guest's swap-outs are counted, not matched page by page, as the simulator does. " +
                "Host swap counters are host-wide, so other processes' paging during the window would count too.") with
        {
            Figures = figures,
            Tables = [SideBySide.Table(measured.Simulator, claims, notJudged), table],
        };
    }

    private static string F(double value, int decimals = 2) => ExperimentReport.Number(value, decimals);
}
