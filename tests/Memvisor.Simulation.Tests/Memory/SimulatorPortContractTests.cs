using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Simulation.Images;
using Memvisor.Simulation.Memory;
using Memvisor.Testing.Contracts;
using Memvisor.Testing.Fakes;

namespace Memvisor.Simulation.Tests.Memory;

/// <summary>The simulator's machine memory keeps the machine memory contract.</summary>
public sealed class NativeMachineMemoryContractTests : MachineMemoryContract
{
    protected override IMachineMemory Create(int pageCount) => new NativeMachineMemory(pageCount);
}

/// <summary>What the simulator's machine memory adds to the contract: pages nothing wrote cost nothing to zero.</summary>
public sealed class NativeMachineMemoryTests
{
    [Fact]
    public void Zeroing_a_page_nothing_wrote_leaves_it_unbacked_and_a_written_one_is_cleared()
    {
        using var memory = new NativeMachineMemory(1024);
        for (var p = 0u; p < 1024; p++)
        {
            memory.Zero(new Mpn(p));
        }

        Assert.Equal(0, memory.ResidentPages);
        memory.GetPage(new Mpn(7)).Fill(0xA5);
        memory.Discard(new Mpn(7));
        memory.Zero(new Mpn(7));
        Assert.False(memory.GetPage(new Mpn(7)).ContainsAnyExcept((byte)0));
        Assert.False(memory.GetPage(new Mpn(8)).ContainsAnyExcept((byte)0));
    }

    [Fact]
    public void What_a_page_holds_for_certain_is_forgotten_when_a_writable_span_of_it_is_handed_out()
    {
        using var memory = new NativeMachineMemory(1024);
        var mpn = new Mpn(5);
        Assert.Equal(PageContent.Zero, memory.KnownContents(mpn));

        var token = PageContent.Mix(42);
        PageContent.Fill(memory.GetPage(mpn), token);
        Assert.Equal(PageContent.Unknown, memory.KnownContents(mpn));
        memory.RecordContents(mpn, token);
        Assert.True(PageContent.Matches(memory.ReadPage(mpn), token));
        Assert.Equal(token, memory.KnownContents(mpn));

        // Anyone with a writable span may change any byte; so may the pool's zeroing, which records the zero page.
        _ = memory.GetPage(mpn);
        Assert.Equal(PageContent.Unknown, memory.KnownContents(mpn));
        memory.RecordContents(mpn, token);
        memory.Zero(mpn);
        Assert.Equal(PageContent.Zero, memory.KnownContents(mpn));
        Assert.False(memory.ReadPage(mpn).ContainsAnyExcept((byte)0));
        Assert.Equal(PageContent.Zero, memory.KnownContents(new Mpn(6)));
    }

    [Fact]
    public void A_guest_zeroing_a_page_nothing_wrote_leaves_it_unwritten_but_touched()
    {
        using var memory = new NativeMachineMemory(1024);
        memory.ZeroTouched(new Mpn(3));
        Assert.Equal(1, memory.ResidentPages);
        Assert.Equal(PageContent.Zero, memory.KnownContents(new Mpn(3)));

        memory.GetPage(new Mpn(4)).Fill(0x5A);
        memory.ZeroTouched(new Mpn(4));
        Assert.Equal(2, memory.ResidentPages);
        Assert.False(memory.ReadPage(new Mpn(4)).ContainsAnyExcept((byte)0));
        Assert.Equal(PageContent.Zero, memory.KnownContents(new Mpn(4)));
    }
}

/// <summary>The swap file keeps the swap device contract; /dev/full is a full disk.</summary>
public sealed class SwapFileContractTests : SwapDeviceContract
{
    protected override ISwapDevice Create() => SwapFile.CreateTemporary();

    protected override ISwapDevice? CreateFull() => File.Exists("/dev/full") ? SwapFile.OpenExisting("/dev/full") : null;
}

/// <summary>The simulator's guest physical memory keeps the guest mapping contract, on the simulator's machine memory.</summary>
public sealed class GuestPhysicalMemoryContractTests : GuestMappingContract
{
    protected override IGuestUnderTest PowerOn(MemoryManager manager, IMachineMemory memory, VmMemoryConfig config) =>
        new SimulatedGuest(GuestPhysicalMemory.PowerOn(manager, memory, config));

    protected override IMachineMemory CreateMemory(int pageCount) => new NativeMachineMemory(pageCount);

    private sealed class SimulatedGuest(GuestPhysicalMemory guest) : IGuestUnderTest
    {
        public VmId Id => guest.Id;

        public IGuestMapping Mapping => guest;

        public long Faults => guest.Faults;

        public (GuestPageAccess Access, Mpn Mpn) MappingOf(Ppn ppn) => guest.MappingOf(ppn);

        public ReadOnlySpan<byte> PageForRead(Ppn ppn) => guest.PageForRead(ppn);

        public Span<byte> PageForWrite(Ppn ppn) => guest.PageForWrite(ppn);
    }
}
