/*
 * The no-data-loss property: random sequences of guest reads and writes, sharing scans, swap-outs,
 * swap-ins, balloon inflations and deflations over several VMs on an overcommitted host with a swap
 * disk that sometimes fails, with working-set sampling traps armed and disarmed among them, checked against an oracle that records every page's expected bytes.
 * After every step: the memory manager's own consistency check, every resident page's machine bytes
 * equal the oracle's, and every guest mapping agrees with the pmap (writable only when private).
 */
using CsCheck;
using Memvisor.Core.Memory;

namespace Memvisor.Core.Tests;

public class OraclePropertyTests
{
    private const int Vms = 3;
    private const int PagesPerVm = 24;
    private const int MachinePages = 40;

    private static readonly Gen<OracleOp> GenOp = OracleWorld.Ops(
        Vms,
        PagesPerVm,
        (6, OracleOpKind.WriteTemplate),
        (4, OracleOpKind.WriteBytes),
        (2, OracleOpKind.WriteZero),
        (8, OracleOpKind.Read),
        (8, OracleOpKind.Share),
        (2, OracleOpKind.SwapOut),
        (1, OracleOpKind.Inflate),
        (1, OracleOpKind.Deflate),
        (1, OracleOpKind.ToggleDiskFailure),
        (3, OracleOpKind.ArmSample),
        (1, OracleOpKind.DisarmSample));

    [Fact]
    public void Every_page_reads_back_what_was_last_written_through_sharing_cow_swap_and_ballooning()
    {
        // 24 runs of 5,000 operations: 120,000 random operations per test run.
        var totalOps = 0;
        GenOp.Array[5000].Sample(ops =>
        {
            Run(ops);
            Interlocked.Add(ref totalOps, ops.Length);
        }, iter: 24, threads: 1);
        Assert.True(totalOps >= 100_000, $"only {totalOps} operations ran");
    }

    private static void Run(OracleOp[] ops)
    {
        using var world = new OracleWorld(Vms, PagesPerVm, MachinePages, seed: (ulong)ops.Length);
        var step = 0;
        foreach (var op in ops)
        {
            step++;
            try
            {
                world.Apply(op, new Ppn(op.Ppn), step);
            }
            catch (MachineMemoryExhaustedException)
            {
                // A failing disk can leave a fault with nothing to reclaim: the access does not happen
                // (the oracle was not updated), and nothing may be lost.
                Assert.True(world.Device.FailWrites, $"step {step}: memory ran out although the disk works");
            }

            world.Check(step);
        }

        world.CheckEnd();
    }
}
