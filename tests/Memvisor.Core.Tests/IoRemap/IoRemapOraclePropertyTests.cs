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
using Memvisor.Core.Swap;
using Memvisor.Simulation.Memory;

namespace Memvisor.Core.Tests.IoRemap;

public class IoRemapOraclePropertyTests
{
    private const int Vms = 3;
    private const int PagesPerVm = 16;
    private const int MachinePages = 40;
    private const int LowPages = 16;
    private const int Templates = 4;
    private const int HotPages = 4;

    private enum OpKind
    {
        WriteTemplate,
        WriteBytes,
        Read,
        Transmit,
        Receive,
        Share,
        SwapOut,
        Inflate,
        Deflate,
        ToggleDiskFailure,
        ArmSample,
        DisarmSample,
        Decay,
        Balance,
    }

    private readonly record struct Op(OpKind Kind, int Vm, uint Ppn, int Arg);

    private static readonly Gen<Op> GenOp = Gen.Select(
        Gen.Frequency(
            (6, Gen.Const(OpKind.WriteTemplate)),
            (4, Gen.Const(OpKind.WriteBytes)),
            (6, Gen.Const(OpKind.Read)),
            (12, Gen.Const(OpKind.Transmit)),
            (6, Gen.Const(OpKind.Receive)),
            (6, Gen.Const(OpKind.Share)),
            (2, Gen.Const(OpKind.SwapOut)),
            (1, Gen.Const(OpKind.Inflate)),
            (1, Gen.Const(OpKind.Deflate)),
            (1, Gen.Const(OpKind.ToggleDiskFailure)),
            (2, Gen.Const(OpKind.ArmSample)),
            (1, Gen.Const(OpKind.DisarmSample)),
            (1, Gen.Const(OpKind.Decay)),
            (1, Gen.Const(OpKind.Balance))),
        Gen.Int[0, Vms - 1],
        Gen.UInt[0, PagesPerVm - 1],
        Gen.Int[0, 4095],
        (kind, vm, ppn, arg) => new Op(kind, vm, ppn, arg));

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

    private static IoRemapStats Run(Op[] ops)
    {
        var device = new FaultySwapDevice(SwapFile.CreateTemporary());
        using var host = new TestHost(MachinePages, swapPages: Vms * PagesPerVm, swapDevice: device, seed: (ulong)ops.Length);
        host.Manager.ConfigureIoRemap(new IoRemapOptions { DmaBoundaryPages = LowPages, RemapThresholdCopies = 3, LowReservePages = 2, DemotionBatchPages = 2 });
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

            // DMA goes mostly to a few hot pages per VM.
            var dmaPpn = (op.Arg & 1) == 0 ? op.Ppn % HotPages : op.Ppn;
            var ppn = new Ppn(op.Kind is OpKind.Transmit or OpKind.Receive ? dmaPpn : op.Ppn);
            var expected = oracle[op.Vm, ppn.Value];
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
                        var value = BitConverter.GetBytes(((ulong)op.Arg * 0x9E3779B97F4A7C15UL) + (ulong)step);
                        guest.Write(ppn, offset, value);
                        value.CopyTo(expected, offset);
                        break;
                    }

                    case OpKind.Read:
                        Assert.True(guest.PageForRead(ppn).SequenceEqual(expected), $"step {step}: {op.Vm}/{ppn} read back wrong bytes");
                        break;
                    case OpKind.Transmit:
                    {
                        var (offset, length) = Extent(op.Arg);
                        var wire = new byte[length];
                        Dma(host, guest, ppn, IoDirection.Transmit, offset, wire, step);
                        Assert.True(wire.AsSpan().SequenceEqual(expected.AsSpan(offset, length)), $"step {step}: {op.Vm}/{ppn} transmitted wrong bytes");
                        break;
                    }

                    case OpKind.Receive:
                    {
                        var (offset, length) = Extent(op.Arg);
                        var wire = TestHost.Pattern(step).AsSpan(0, length).ToArray();
                        Dma(host, guest, ppn, IoDirection.Receive, offset, wire, step);
                        wire.CopyTo(expected, offset);
                        break;
                    }

                    case OpKind.Share:
                        host.Manager.TryShare(guest.Id, ppn);
                        break;
                    case OpKind.SwapOut:
                        host.Manager.SwapOut(guest.Id, 1 + (op.Arg % 12));
                        break;
                    case OpKind.Inflate:
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
                    case OpKind.Decay:
                        host.Manager.DecayIoCounts();
                        break;
                    case OpKind.Balance:
                        host.Manager.BalanceLowMemory();
                        break;
                }
            }
            catch (MachineMemoryExhaustedException e)
            {
                // Nothing could be reclaimed (the disk fails), or no low page could be found for a bounce
                // buffer because low memory holds no guest page that could move: the access or transfer
                // does not happen (the oracle was not updated), and nothing may be lost.
                Assert.True(device.FailWrites || !LowMemoryHoldsPrivatePages(host), $"step {step}: {e.Message}");
            }

            GuestOracle.Check(host, guests, oracle, step);
            Assert.Equal(host.Manager.Pool.CountFree(0, LowPages), host.Manager.Pool.FreeLowPages);
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
        return host.Manager.GetIoRemapHostStats().Totals;
    }

    /// <summary>An offset and a length that fit in a page, from one random number.</summary>
    private static (int Offset, int Length) Extent(int arg)
    {
        var offset = arg % 3 == 0 ? 0 : arg;
        var length = 1 + ((arg * 7919) % (PageGeometry.PageSizeBytes - offset));
        return (offset, length);
    }

    private static void Dma(TestHost host, GuestPhysicalMemory guest, Ppn ppn, IoDirection direction, int offset, byte[] wire, int step)
    {
        var armed = host.Manager.IsSampleTrapArmed(guest.Id, ppn);
        host.Manager.DmaTransfer(guest.Id, ppn, direction, offset, wire);
        Assert.True(armed == host.Manager.IsSampleTrapArmed(guest.Id, ppn), $"step {step}: a {direction} changed the sampling trap of {ppn}");
    }

    private static bool LowMemoryHoldsPrivatePages(TestHost host)
    {
        for (var m = 0u; m < LowPages; m++)
        {
            if (host.Manager.Pool.OwnerOf(new Mpn(m)).Use == MpnUse.Private)
            {
                return true;
            }
        }

        return false;
    }
}
