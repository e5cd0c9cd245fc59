using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Testing.Contracts;
using Memvisor.Testing.Fakes;

namespace Memvisor.Core.Tests.Ports;

/// <summary>The in-memory fakes Core's tests run on keep the port contracts (so a test that passes on them means something).</summary>
public sealed class ArrayMachineMemoryContractTests : MachineMemoryContract
{
    protected override IMachineMemory Create(int pageCount) => new ArrayMachineMemory(pageCount);
}

/// <summary>The machine memory contract with a placement hint (the pool honours a free hinted page).</summary>
public sealed class HintedArrayMachineMemoryContractTests : MachineMemoryContract
{
    protected override IMachineMemory Create(int pageCount) =>
        new ArrayMachineMemory(pageCount, (vm, ppn) => (ppn.Value + vm.Value) % 3 == 0 ? Mpn.None : new Mpn((ppn.Value * 7 + vm.Value) % (uint)pageCount));
}

public sealed class InMemorySwapDeviceContractTests : SwapDeviceContract
{
    protected override ISwapDevice Create() => new InMemorySwapDevice();

    protected override ISwapDevice? CreateFull() => new InMemorySwapDevice("full") { FailWrites = true };
}

public sealed class TestGuestContractTests : GuestMappingContract
{
    protected override IGuestUnderTest PowerOn(MemoryManager manager, IMachineMemory memory, VmMemoryConfig config) =>
        TestGuest.PowerOn(manager, memory, config);
}
