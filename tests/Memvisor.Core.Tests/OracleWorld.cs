using CsCheck;
using Memvisor.Core.IoRemap;
using Memvisor.Core.Memory;
using Memvisor.Core.Swap;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;

namespace Memvisor.Core.Tests;

/// <summary>What a no-data-loss property test can do to a host in one step.</summary>
internal enum OracleOpKind
{
    WriteTemplate,
    WriteBytes,
    WriteZero,
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

/// <summary>One step: what, on which VM and page, with a random argument.</summary>
internal readonly record struct OracleOp(OracleOpKind Kind, int Vm, uint Ppn, int Arg);

/// <summary>
/// The world of a no-data-loss property test: a host with a swap disk that can be made to fail, its VMs,
/// and the oracle of every page's expected bytes. Apply performs one operation and updates the oracle the
/// way the guest would see it; Check and CheckEnd hold the host to the oracle.
/// </summary>
internal sealed class OracleWorld : IDisposable
{
    private const int Templates = 4;
    private readonly byte[][] _templates = [.. Enumerable.Range(0, Templates).Select(TestHost.Pattern)];

    public OracleWorld(int vms, int pagesPerVm, int machinePages, ulong seed, IoRemapOptions? ioRemap = null)
    {
        Device = new InMemorySwapDevice();
        Host = new TestHost(machinePages, swapPages: vms * pagesPerVm, swapDevice: Device, seed: seed);
        if (ioRemap is not null)
        {
            Host.Manager.ConfigureIoRemap(ioRemap);
        }

        Guests = [.. Enumerable.Range(0, vms).Select(i => Host.PowerOn($"vm{i}", pagesPerVm, minPages: 2))];
        Oracle = new byte[vms, pagesPerVm][];
        for (var v = 0; v < vms; v++)
        {
            for (var p = 0; p < pagesPerVm; p++)
            {
                Oracle[v, p] = new byte[PageGeometry.PageSizeBytes];
            }
        }
    }

    public InMemorySwapDevice Device { get; }

    public TestHost Host { get; }

    public TestGuest[] Guests { get; }

    public byte[,][] Oracle { get; }

    /// <summary>Operations drawn with the given weights, on VMs and pages in range.</summary>
    public static Gen<OracleOp> Ops(int vms, int pagesPerVm, params (int Weight, OracleOpKind Kind)[] weights) => Gen.Select(
        Gen.Frequency([.. weights.Select(w => (w.Weight, Gen.Const(w.Kind)))]),
        Gen.Int[0, vms - 1],
        Gen.UInt[0, (uint)pagesPerVm - 1],
        Gen.Int[0, 4095],
        (kind, vm, ppn, arg) => new OracleOp(kind, vm, ppn, arg));

    /// <summary>Performs <paramref name="op"/> on <paramref name="ppn"/> (the test may redirect it) and updates the oracle.</summary>
    /// <exception cref="MachineMemoryExhaustedException">Nothing could be reclaimed; the oracle is unchanged.</exception>
    public void Apply(OracleOp op, Ppn ppn, int step)
    {
        var guest = Guests[op.Vm];
        var expected = Oracle[op.Vm, ppn.Value];
        var manager = Host.Manager;
        switch (op.Kind)
        {
            case OracleOpKind.WriteTemplate:
                guest.Write(ppn, 0, _templates[op.Arg % Templates]);
                _templates[op.Arg % Templates].CopyTo(expected, 0);
                break;
            case OracleOpKind.WriteBytes:
            {
                var offset = op.Arg & ~7;
                var value = BitConverter.GetBytes(((ulong)op.Arg * 0x9E3779B97F4A7C15UL) + (ulong)step);
                guest.Write(ppn, offset, value);
                value.CopyTo(expected, offset);
                break;
            }

            case OracleOpKind.WriteZero:
                guest.Write(ppn, 0, new byte[PageGeometry.PageSizeBytes]);
                Array.Clear(expected);
                break;
            case OracleOpKind.Read:
                Assert.True(guest.PageForRead(ppn).SequenceEqual(expected), $"step {step}: {op.Vm}/{ppn} read back wrong bytes");
                break;
            case OracleOpKind.Transmit:
            {
                var (offset, length) = Extent(op.Arg);
                var wire = new byte[length];
                Dma(guest, ppn, IoDirection.Transmit, offset, wire, step);
                Assert.True(wire.AsSpan().SequenceEqual(expected.AsSpan(offset, length)), $"step {step}: {op.Vm}/{ppn} transmitted wrong bytes");
                break;
            }

            case OracleOpKind.Receive:
            {
                var (offset, length) = Extent(op.Arg);
                var wire = TestHost.Pattern(step).AsSpan(0, length).ToArray();
                Dma(guest, ppn, IoDirection.Receive, offset, wire, step);
                wire.CopyTo(expected, offset);
                break;
            }

            case OracleOpKind.Share:
                manager.TryShare(guest.Id, ppn);
                break;
            case OracleOpKind.SwapOut:
                manager.SwapOut(guest.Id, 1 + (op.Arg % 12));
                break;
            case OracleOpKind.Inflate:
                // The guest gives the page up: its contents are the guest's to lose (unless the host refuses
                // it: ballooned and swapped pages may not exceed max - min).
                if (manager.InflateBalloonPage(guest.Id, ppn))
                {
                    Array.Clear(expected);
                }

                break;
            case OracleOpKind.Deflate:
                manager.DeflateBalloonPage(guest.Id, ppn);
                break;
            case OracleOpKind.ToggleDiskFailure:
                Device.FailWrites = !Device.FailWrites;
                break;
            case OracleOpKind.ArmSample:
                manager.ArmSampleTrap(guest.Id, ppn);
                break;
            case OracleOpKind.DisarmSample:
                manager.DisarmSampleTrap(guest.Id, ppn);
                break;
            case OracleOpKind.Decay:
                manager.DecayIoCounts();
                break;
            case OracleOpKind.Balance:
                manager.BalanceLowMemory();
                break;
        }
    }

    /// <summary>The checks after every step (see <see cref="GuestOracle"/>).</summary>
    public void Check(int step) => GuestOracle.Check(Host, Guests, Oracle, step);

    /// <summary>With the disk working again, every page of every VM reads back its oracle bytes.</summary>
    public void CheckEnd()
    {
        Device.FailWrites = false;
        for (var v = 0; v < Guests.Length; v++)
        {
            for (var p = 0u; p < Guests[v].PageCount; p++)
            {
                Assert.True(Guests[v].PageForRead(new Ppn(p)).SequenceEqual(Oracle[v, p]), $"end: {v}/{p} read back wrong bytes");
            }
        }

        Host.Manager.CheckConsistency();
    }

    public void Dispose() => Host.Dispose();

    /// <summary>An offset and a length that fit in a page, from one random number.</summary>
    private static (int Offset, int Length) Extent(int arg)
    {
        var offset = arg % 3 == 0 ? 0 : arg;
        var length = 1 + ((arg * 7919) % (PageGeometry.PageSizeBytes - offset));
        return (offset, length);
    }

    private void Dma(TestGuest guest, Ppn ppn, IoDirection direction, int offset, byte[] wire, int step)
    {
        var armed = Host.Manager.IsSampleTrapArmed(guest.Id, ppn);
        Host.Manager.DmaTransfer(guest.Id, ppn, direction, offset, wire);
        Assert.True(armed == Host.Manager.IsSampleTrapArmed(guest.Id, ppn), $"step {step}: a {direction} changed the sampling trap of {ppn}");
    }
}
