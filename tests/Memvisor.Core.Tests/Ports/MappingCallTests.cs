using Memvisor.Core.Memory;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;

namespace Memvisor.Core.Tests.Ports;

/// <summary>What Core tells a guest mapping, call by call (a substrate acts on exactly these calls).</summary>
public class MappingCallTests
{
    [Fact]
    public void A_swap_out_invalidates_exactly_the_pages_it_took_and_a_fault_maps_one_back()
    {
        using var host = new TestHost(machinePages: 32, swapPages: 32);
        var a = host.PowerOn("a", 8);
        for (var p = 0u; p < 8; p++)
        {
            a.Write(new Ppn(p), 0, TestHost.Pattern((int)p));
        }

        a.Mapping.ClearCalls();
        Assert.Equal(3, host.Manager.SwapOut(a.Id, 3).SwappedOut);

        var swapped = Enumerable.Range(0, 8).Select(p => new Ppn((uint)p)).Where(p => host.Manager.PageInfoOf(a.Id, p).State == PageState.Swapped).ToArray();
        Assert.Equal(3, swapped.Length);
        Assert.Equal(swapped.Select(p => new MappingCall(MappingCallKind.Invalidate, p, Mpn.None)), a.Mapping.Calls.OrderBy(c => c.Ppn.Value));

        a.Mapping.ClearCalls();
        _ = a.PageForRead(swapped[0]);
        Assert.Equal([new MappingCall(MappingCallKind.MapWritable, swapped[0], host.Manager.PageInfoOf(a.Id, swapped[0]).Mpn)], a.Mapping.Calls);
    }

    [Fact]
    public void A_copy_on_write_break_remaps_only_the_writer()
    {
        using var host = new TestHost(machinePages: 32, swapPages: 32);
        var a = host.PowerOn("a", 2);
        var b = host.PowerOn("b", 2);
        a.Write(new Ppn(1), 0, TestHost.Pattern(5));
        b.Write(new Ppn(1), 0, TestHost.Pattern(5));
        host.Manager.TryShare(a.Id, new Ppn(1));
        Assert.True(host.Manager.TryShare(b.Id, new Ppn(1)));
        _ = a.PageForRead(new Ppn(1));
        _ = b.PageForRead(new Ppn(1));
        a.Mapping.ClearCalls();
        b.Mapping.ClearCalls();

        a.Write(new Ppn(1), 0, [1]);

        var copy = host.Manager.PageInfoOf(a.Id, new Ppn(1)).Mpn;
        Assert.NotEqual(host.Manager.PageInfoOf(b.Id, new Ppn(1)).Mpn, copy);
        Assert.Equal([new MappingCall(MappingCallKind.MapWritable, new Ppn(1), copy)], a.Mapping.Calls);
        Assert.Empty(b.Mapping.Calls);
    }
}
