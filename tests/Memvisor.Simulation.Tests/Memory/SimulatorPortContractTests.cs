using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
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
