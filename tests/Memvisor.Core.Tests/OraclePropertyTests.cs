/*
 * The no-data-loss property: random sequences of guest reads and writes, sharing scans, swap-outs,
 * swap-ins, balloon inflations and deflations over several VMs on an overcommitted host with a swap
 * disk that sometimes fails, with working-set sampling traps armed and disarmed among them, checked against an oracle that records every page's expected bytes.
 * After every step: the memory manager's own consistency check, every resident page's machine bytes
 * equal the oracle's, and every guest mapping agrees with the pmap (writable only when private).
 */
using CsCheck;
using Memvisor.Core.Memory;
using Memvisor.Core.Swap;
using Memvisor.Simulation.Memory;

namespace Memvisor.Core.Tests;

public class OraclePropertyTests
{
    private const int Vms = 3;
    private const int PagesPerVm = 24;
    private const int MachinePages = 40;
    private const int Templates = 4;

    private enum OpKind
    {
        WriteTemplate,
        WriteBytes,
        WriteZero,
        Read,
        Share,
        SwapOut,
        Inflate,
        Deflate,
        ToggleDiskFailure,
        ArmSample,
        DisarmSample,
    }

    private readonly record struct Op(OpKind Kind, int Vm, uint Ppn, int Arg);

    private static readonly Gen<Op> GenOp = Gen.Select(
        Gen.Frequency(
            (6, Gen.Const(OpKind.WriteTemplate)),
            (4, Gen.Const(OpKind.WriteBytes)),
            (2, Gen.Const(OpKind.WriteZero)),
            (8, Gen.Const(OpKind.Read)),
            (8, Gen.Const(OpKind.Share)),
            (2, Gen.Const(OpKind.SwapOut)),
            (1, Gen.Const(OpKind.Inflate)),
            (1, Gen.Const(OpKind.Deflate)),
            (1, Gen.Const(OpKind.ToggleDiskFailure)),
            (3, Gen.Const(OpKind.ArmSample)),
            (1, Gen.Const(OpKind.DisarmSample))),
        Gen.Int[0, Vms - 1],
        Gen.UInt[0, PagesPerVm - 1],
        Gen.Int[0, 4095],
        (kind, vm, ppn, arg) => new Op(kind, vm, ppn, arg));

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

    private static void Run(Op[] ops)
    {
        var device = new FaultySwapDevice(SwapFile.CreateTemporary());
        using var host = new TestHost(MachinePages, swapPages: Vms * PagesPerVm, swapDevice: device, seed: (ulong)ops.Length);
        var guests = Enumerable.Range(0, Vms).Select(i => host.PowerOn($"vm{i}", PagesPerVm, minPages: 2)).ToArray();
        var oracle = new byte[Vms, PagesPerVm][];
        for (var v = 0; v < Vms; v++)
        {
            for (var p = 0; p < PagesPerVm; p++)
            {
                oracle[v, p] = new byte[PageGeometry.PageSizeBytes];
            }
        }

        var templates = Enumerable.Range(0, Templates).Select(TestHost.Pattern).ToArray();
        var step = 0;
        foreach (var op in ops)
        {
            step++;
            var guest = guests[op.Vm];
            var ppn = new Ppn(op.Ppn);
            var expected = oracle[op.Vm, op.Ppn];
            try
            {
                switch (op.Kind)
                {
                    case OpKind.WriteTemplate:
                        guest.Write(ppn, 0, templates[op.Arg % Templates]);
                        templates[op.Arg % Templates].CopyTo(expected, 0);
                        break;
                    case OpKind.WriteBytes:
                    {
                        var offset = op.Arg & ~7;
                        var value = BitConverter.GetBytes((ulong)op.Arg * 0x9E3779B97F4A7C15UL + (ulong)step);
                        guest.Write(ppn, offset, value);
                        value.CopyTo(expected, offset);
                        break;
                    }

                    case OpKind.WriteZero:
                        guest.Write(ppn, 0, new byte[PageGeometry.PageSizeBytes]);
                        Array.Clear(expected);
                        break;
                    case OpKind.Read:
                        Assert.True(guest.PageForRead(ppn).SequenceEqual(expected), $"step {step}: {op.Vm}/{ppn} read back wrong bytes");
                        break;
                    case OpKind.Share:
                        host.Manager.TryShare(guest.Id, ppn);
                        break;
                    case OpKind.SwapOut:
                        host.Manager.SwapOut(guest.Id, 1 + (op.Arg % 12));
                        break;
                    case OpKind.Inflate:
                        // The guest gives the page up: its contents are the guest's to lose.
                        host.Manager.InflateBalloonPage(guest.Id, ppn);
                        Array.Clear(expected);
                        break;
                    case OpKind.Deflate:
                        host.Manager.DeflateBalloonPage(guest.Id, ppn);
                        break;
                    case OpKind.ToggleDiskFailure:
                        device.FailWrites = !device.FailWrites;
                        break;
                    case OpKind.ArmSample:
                        host.Manager.ArmSampleTrap(guest.Id, ppn);
                        break;
                    case OpKind.DisarmSample:
                        host.Manager.DisarmSampleTrap(guest.Id, ppn);
                        break;
                }
            }
            catch (MachineMemoryExhaustedException)
            {
                // A failing disk can leave a fault with nothing to reclaim: the access does not happen
                // (the oracle was not updated), and nothing may be lost.
                Assert.True(device.FailWrites, $"step {step}: memory ran out although the disk works");
            }

            GuestOracle.Check(host, guests, oracle, step);
        }

        device.FailWrites = false;
        for (var v = 0; v < Vms; v++)
        {
            for (var p = 0u; p < PagesPerVm; p++)
            {
                Assert.True(guests[v].PageForRead(new Ppn(p)).SequenceEqual(oracle[v, p]), $"end: {v}/{p} read back wrong bytes");
            }
        }

        host.Manager.CheckConsistency();
    }
}
