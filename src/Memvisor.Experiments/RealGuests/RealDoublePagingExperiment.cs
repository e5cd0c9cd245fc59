/*
 * §3.1 on real guests: a guest that pages to its own swap disk (its agent touches random pages of more
 * memory than it has), squeezed to the same size two ways: by its balloon (the guest chooses what to
 * give up) and by the host paging random ranges of its RAM out (GuestPager, once a second, back down
 * to the size as the guest faults pages in). The paper's double paging is the second arm's: the host
 * pages a page out, then the guest picks it for its own swap and the host must read it back only for
 * the guest to write it to its disk.
 *
 * Host paging needs no host swap here: in both arms the guest's RAM is a shared mapping of a file on
 * disk (QemuGuestOptions.RamBackingFile, in effect ESX's per-VM swap file), so the arms differ only in
 * how the guest is squeezed. The pager writes random 2 MiB ranges back to that file and drops them
 * (sync_file_range, then MADV_PAGEOUT); the guest's next touch reads them back. Memvisor never creates
 * host swap on its own. Should the pager not open (an environment fault), the arm does not run, the
 * report says why, and the claims that compare the arms are not judged.
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

    /// <summary>How often the host-paging arm pages the guest back down (and both arms sample what the host holds).</summary>
    private static readonly TimeSpan SqueezeStep = TimeSpan.FromSeconds(0.25);

    internal RealDoublePagingExperiment()
        : base(new DoublePagingExperiment())
    {
    }

    /// <inheritdoc/>
    private protected override async Task<RealDoublePagingMeasurements> MeasureRealAsync(ExperimentContext context, ExperimentResult simulated)
    {
        var setup = new RealDoublePagingSetup(MemoryMiB: 256, GuestSwapMiB: 512, TouchedMiB: 320, SqueezedMiB: 192, SettleSeconds: context.Pick(20.0, 8.0), WindowSeconds: context.Pick(40.0, 12.0));
        var image = await ImageAsync(context).ConfigureAwait(false);
        var (ballooning, _) = await ArmAsync(context, image, setup, byHost: false).ConfigureAwait(false);
        var (host, why) = await ArmAsync(context, image, setup, byHost: true).ConfigureAwait(false);
        if (why is not null)
        {
            context.Report($"host-paging arm not run: {why}");
        }

        return new RealDoublePagingMeasurements(setup, ballooning!, host, why, simulated);
    }

    /// <summary>Runs one arm; the host-paging arm is null, with the reason, when its pager cannot open.</summary>
    private static async Task<(RealDoublePagingArm? Arm, string? WhyNot)> ArmAsync(ExperimentContext context, GuestImage image, RealDoublePagingSetup setup, bool byHost)
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
                    RamBackingFile = true,
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
                pager = GuestPager.TryOpen(mapping, seed: 1, out var whyNot);
                if (pager is null)
                {
                    return (null, whyNot);
                }
            }
            else
            {
                await guest.Qmp.SetBalloonTargetAsync(target, ct).ConfigureAwait(false);
            }

            // Each step: what the host holds of the guest, paged back down to the target when host-paging;
            // returns the mean hold over the steps (the midpoint of before and after each page-out).
            async Task<double> Squeeze(double seconds)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var holds = new List<double>();
                while (clock.Elapsed.TotalSeconds < seconds)
                {
                    if (mapping.ReadCachedBytes() is { } held)
                    {
                        if (pager is not null && held > target)
                        {
                            pager.PageOut(held - target);
                        }

                        holds.Add((held + (mapping.ReadCachedBytes() ?? held)) / 2.0);
                    }

                    await WaitAsync(SqueezeStep, context).ConfigureAwait(false);
                }

                return holds.Count > 0 ? holds.Average() : double.NaN;
            }

            await Squeeze(setup.SettleSeconds).ConfigureAwait(false);
            var gone = () => new ExperimentException($"guest {guest.Options.Name}: QEMU is gone: {guest.DiagnosticTail()}");
            var (stats0, io0, agent0) = (await guest.Qmp.GetGuestStatsAsync(cancellationToken: ct).ConfigureAwait(false), QemuPageIns.Read(guest.Pid) ?? throw gone(), Latest(guest));
            var (out0, written0) = (pager?.ReclaimedBytes ?? 0, pager?.WrittenBackBytes ?? 0);
            var meanHeld = await Squeeze(setup.WindowSeconds).ConfigureAwait(false);
            var (stats1, io1, agent1) = (await guest.Qmp.GetGuestStatsAsync(cancellationToken: ct).ConfigureAwait(false), QemuPageIns.Read(guest.Pid) ?? throw gone(), Latest(guest));
            var ram = mapping.ReadUsage() ?? throw gone();
            var held = mapping.ReadCachedBytes() ?? throw gone();
            var pageIns = io1.Since(io0);
            static double Delta(long? from, long? to) => (to ?? 0) - (from ?? 0);
            var arm = new RealDoublePagingArm(
                Delta(stats0.SwapOutBytes, stats1.SwapOutBytes) / MiB,
                Delta(stats0.SwapInBytes, stats1.SwapInBytes) / MiB,
                Delta(stats0.MajorFaults, stats1.MajorFaults),
                ((pager?.ReclaimedBytes ?? 0) - out0) / MiB,
                ((pager?.WrittenBackBytes ?? 0) - written0) / MiB,
                pageIns.ReadBytes / MiB,
                pageIns.MajorFaults,
                held / MiB,
                meanHeld / MiB,
                ram.RssBytes / MiB,
                WorkRate(guest, agent0, agent1));
            context.Report($"{guest.Options.Name}: guest swap-out {arm.GuestSwapOutMiB:0.0} MiB, host page-out {arm.HostPageOutMiB:0.0} MiB, page-in {arm.HostPageInMiB:0.0} MiB, held {arm.MeanHeldMiB:0.0} MiB on average, {arm.HeldMiB:0.0} at the end, {arm.Throughput:0} touches/s");
            return (arm, null);
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
                $"host page-outs + page-ins of the guest's RAM over the window: {F(balloon.HostPageOutMiB, 1)} + {F(balloon.HostPageInMiB, 1)} MiB with ballooning, {F(host.HostPageOutMiB, 1)} + {F(host.HostPageInMiB, 1)} MiB with host paging (most avoided: under 20%; page-outs: what the pager reclaimed; page-ins: QEMU's reads from disk)")
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
            ["reclamation", "guest swap-out (MiB)", "guest swap-in (MiB)", "guest major faults", "host page-out (MiB)", "of it written back by the pager (MiB)", "host page-in: QEMU read (MiB)", "QEMU major faults", "guest RAM held by the host, mean (MiB)", "at the end (MiB)", "guest RAM mapped (MiB)", "throughput (touches/s)"],
            [.. arms.Select(a => (IReadOnlyList<string>)[
                a.Name, F(a.Arm.GuestSwapOutMiB, 1), F(a.Arm.GuestSwapInMiB, 1), F(a.Arm.GuestMajorFaults, 0), F(a.Arm.HostPageOutMiB, 1), F(a.Arm.HostWrittenBackMiB, 1),
                F(a.Arm.HostPageInMiB, 1), F(a.Arm.HostMajorFaults, 0), F(a.Arm.MeanHeldMiB, 1), F(a.Arm.HeldMiB, 1), F(a.Arm.ResidentMiB, 1), F(a.Arm.Throughput, 0)])]);
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
                    new ChartSeries("host page-out + page-in", [.. arms.Select((_, i) => i + 1.0)], [.. arms.Select(a => a.Arm.HostIoMiB)]) { Line = SeriesLine.Dashed },
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
                "(more than its memory, so it pages to its own swap in both arms). In both arms its RAM is a shared mapping of a file on the host's disk (QEMU memory-backend-file, share=on), " +
                "in effect ESX's per-VM swap file, so the arms differ only in how the guest is squeezed: " +
                $"to {setup.SqueezedMiB} MiB either by its balloon (QMP) or by the host paging random 2 MiB ranges of its RAM out to that file without host swap " +
                $"(written back with sync_file_range, then dropped with MADV_PAGEOUT through a pidfd; every {F(SqueezeStep.TotalSeconds)} s back down to {setup.SqueezedMiB} MiB of the file in the host's page cache). " +
                $"After {F(setup.SettleSeconds, 0)} s the window counts {F(setup.WindowSeconds, 0)} s: guest swap traffic and major faults from the balloon driver's statistics; " +
                "host page-outs as what the pager reclaimed (the file's page cache before each call less after it) and wrote back first; host page-ins as QEMU's reads from disk (/proc/PID/io read_bytes, readahead included) and major faults; " +
                "what the host holds of the guest (cachestat of the file) and maps (smaps Rss); the agent's touches. " +
                (whyNot.Length > 0 ? $"Here {whyNot}. " : "") +
                "The simulator column is `memvisor experiment double-paging` at the same scale and seed.",
            shows: "Ballooning relieves memory pressure through the guest's own replacement policy, so the host need not page the guest; host paging picks pages at random, and the guest later pages out pages the host already swapped (double paging).",
            discussion:
                $"With ballooning the guest swapped {F(b.GuestSwapOutMiB, 1)} MiB out and {F(b.GuestSwapInMiB, 1)} MiB in over the window ({F(b.GuestMajorFaults, 0)} major faults) while the host paged {F(b.HostPageOutMiB, 1)} MiB out and QEMU read {F(b.HostPageInMiB, 1)} MiB from disk: " +
                "the guest chooses its own victims (its LRU) and the host pages nothing. " +
                $"But on file-backed RAM the balloon gives the host no memory back: the host held {F(b.MeanHeldMiB, 1)} MiB of the ballooned guest on average. " +
                "QEMU discards each ballooned 4 KiB page by punching it out of the RAM file, while the page cache holds that file in 2 MiB folios (QEMU advises its guest RAM MADV_HUGEPAGE), " +
                "and punching 4 KiB out of a folio zeroes it without freeing it (by hand: a balloon 256 -> 132 MiB took the file's page cache from 146 to 256 MiB). " +
                "So the ballooned guest is squeezed from inside (its balloon leaves it the same memory to use) while the host keeps its RAM: the arms compare the guest's paging, the host's paging I/O and throughput, not host memory freed. " +
                (measured.HostPaging is { } h
                    ? $"With host paging the host paged {F(h.HostPageOutMiB, 1)} MiB out ({F(h.HostWrittenBackMiB, 1)} MiB of it written back by the pager) and QEMU read {F(h.HostPageInMiB, 1)} MiB back in {F(h.HostMajorFaults, 0)} major faults, while the guest, paging on its own too, swapped {F(h.GuestSwapOutMiB, 1)} MiB out; " +
                      $"throughput {F(b.Throughput, 0)} touches/s ballooned against {F(h.Throughput, 0)} host-paged. " +
                      $"The host paged the guest back to {setup.SqueezedMiB} MiB every {F(SqueezeStep.TotalSeconds)} s, and it held {F(h.MeanHeldMiB, 1)} MiB on average: between steps the guest faults whole 2 MiB folios back in. "
                    : "The host-paging arm did not run, so the comparison claims are not judged. ") +
                "Double paging itself (a guest page the host read back only to write it to guest swap) is not observable from outside a real guest: the host's page-ins and the guest's swap-outs are counted, not matched page by page, as the simulator does. " +
                "The host's page-ins are QEMU's reads from disk: a fault on a dropped 2 MiB folio reads it back whole, readahead may read more, and QEMU's reads of the guest's disks would count too (they are served from the host's page cache here). " +
                "File-backed RAM costs both arms the kernel's ordinary write-back of dirty guest pages to the file, which is not paging and is not counted; anonymous guest RAM would need host swap for the host to page it.") with
        {
            Figures = figures,
            Tables = [SideBySide.Table(measured.Simulator, claims, notJudged), table],
        };
    }

    private static string F(double value, int decimals = 2) => ExperimentReport.Number(value, decimals);
}
