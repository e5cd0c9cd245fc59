/*
 * The no-data-loss property extended to hot I/O remapping: random sequences of guest reads and
 * writes, DMA transmits and receives (concentrated on a few pages, so that pages are remapped low and
 * demoted again), sharing scans, swap-outs with a disk that sometimes fails, balloon inflations and
 * deflations, sampling traps, count decay and low-memory balancing, on an overcommitted host whose
 * memory is split into a small low zone and a high zone, checked against an oracle of every page's
 * expected bytes. After every step: the manager's consistency check (machine page ownership), every
 * resident page's bytes equal the oracle's, every mapping agrees with the pmap, the pool's count of
 * free low pages is right; every transmit sends the oracle's bytes, every receive is seen by the
 * guest, and a DMA never fires a sampling trap.
 */
using CsCheck;
using Memvisor.Core.IoRemap;
using Memvisor.Core.Memory;

namespace Memvisor.Core.Tests.IoRemap;

public class IoRemapOraclePropertyTests
{
    private const int Vms = 3;
    private const int PagesPerVm = 16;
    private const int MachinePages = 40;
    private const int LowPages = 16;
    private const int HotPages = 4;

    private static readonly Gen<OracleOp> GenOp = OracleWorld.Ops(
        Vms,
        PagesPerVm,
        (6, OracleOpKind.WriteTemplate),
        (4, OracleOpKind.WriteBytes),
        (6, OracleOpKind.Read),
        (12, OracleOpKind.Transmit),
        (6, OracleOpKind.Receive),
        (6, OracleOpKind.Share),
        (2, OracleOpKind.SwapOut),
        (1, OracleOpKind.Inflate),
        (1, OracleOpKind.Deflate),
        (1, OracleOpKind.ToggleDiskFailure),
        (2, OracleOpKind.ArmSample),
        (1, OracleOpKind.DisarmSample),
        (1, OracleOpKind.Decay),
        (1, OracleOpKind.Balance));

    [Fact]
    public void Every_page_reads_back_what_was_last_written_or_received_through_bounces_remaps_and_demotions()
    {
        // 16 runs of 3,000 operations.
        var totals = new long[3];
        GenOp.Array[3000].Sample(ops =>
        {
            var stats = Run(ops);
            Interlocked.Add(ref totals[0], stats.Remaps);
            Interlocked.Add(ref totals[1], stats.Demotions);
            Interlocked.Add(ref totals[2], stats.CopiesAvoided);
        }, iter: 16, threads: 1);

        // The runs must have exercised what they claim to test.
        Assert.True(totals[0] > 100 && totals[1] > 10 && totals[2] > 100, $"remaps {totals[0]}, demotions {totals[1]}, copies avoided {totals[2]}");
    }

    private static IoRemapStats Run(OracleOp[] ops)
    {
        using var world = new OracleWorld(Vms, PagesPerVm, MachinePages, seed: (ulong)ops.Length,
            new IoRemapOptions { DmaBoundaryPages = LowPages, RemapThresholdCopies = 3, LowReservePages = 2, DemotionBatchPages = 2 });
        var pool = world.Host.Manager.Pool;
        var step = 0;
        foreach (var op in ops)
        {
            step++;

            // DMA goes mostly to a few hot pages per VM.
            var dma = op.Kind is OracleOpKind.Transmit or OracleOpKind.Receive && (op.Arg & 1) == 0;
            try
            {
                world.Apply(op, new Ppn(dma ? op.Ppn % HotPages : op.Ppn), step);
            }
            catch (MachineMemoryExhaustedException e)
            {
                // Nothing could be reclaimed (the disk fails), or no low page could be found for a bounce
                // buffer because low memory holds no guest page that could move: the access or transfer
                // does not happen (the oracle was not updated), and nothing may be lost.
                Assert.True(world.Device.FailWrites || !LowMemoryHoldsPrivatePages(pool), $"step {step}: {e.Message}");
            }

            world.Check(step);
            Assert.Equal(pool.CountFree(0, LowPages), pool.FreeLowPages);
        }

        world.CheckEnd();
        return world.Host.Manager.GetIoRemapHostStats().Totals;
    }

    private static bool LowMemoryHoldsPrivatePages(MachinePagePool pool)
    {
        for (var m = 0u; m < LowPages; m++)
        {
            if (pool.OwnerOf(new Mpn(m)).Use == MpnUse.Private)
            {
                return true;
            }
        }

        return false;
    }
}
