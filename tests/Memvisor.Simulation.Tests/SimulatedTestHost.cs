using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Simulation.Memory;
using Memvisor.Testing;

namespace Memvisor.Simulation.Tests;

/// <summary>
/// <see cref="TestHost"/> on the simulator's own ports: native machine memory, a real temporary swap
/// file, and guests whose physical memory is the simulator's <see cref="GuestPhysicalMemory"/> (what
/// simulated guest operating systems run on).
/// </summary>
public sealed class SimulatedTestHost : IDisposable
{
    private readonly TestHost _host;

    public SimulatedTestHost(int machinePages, int swapPages, ShareSaltMode saltMode = ShareSaltMode.SingleSalt, ulong seed = 1) =>
        _host = new TestHost(machinePages, swapPages, saltMode, swapDevice: SwapFile.CreateTemporary(), seed: seed, memory: new NativeMachineMemory(machinePages));

    public MemoryManager Manager => _host.Manager;

    public Core.Ports.IMachineMemory Memory => _host.Memory;

    public GuestPhysicalMemory PowerOn(string name, int maxPages, int minPages = 0, ulong? salt = null, int overheadPages = 0) =>
        GuestPhysicalMemory.PowerOn(Manager, Memory, TestHost.Config(name, maxPages, minPages, salt, overheadPages));

    public void Dispose() => _host.Dispose();
}
