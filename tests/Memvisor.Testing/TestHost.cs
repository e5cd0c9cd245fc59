using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Core.Sharing;
using Memvisor.Core.Swap;
using Memvisor.Simulation.Memory;

namespace Memvisor.Testing;

/// <summary>A small host for tests: native machine memory, a real swap file, the memory manager and simulated guests.</summary>
public sealed class TestHost : IDisposable
{
    private readonly NativeMachineMemory _memory;

    public TestHost(int machinePages, int swapPages, ShareSaltMode saltMode = ShareSaltMode.SingleSalt, IPageHasher? hasher = null, ISwapDevice? swapDevice = null, ulong seed = 1)
    {
        _memory = new NativeMachineMemory(machinePages);
        Manager = new MemoryManager(_memory, swapDevice ?? SwapFile.CreateTemporary(), new HostMemoryOptions
        {
            SwapCapacityPages = swapPages,
            ShareSaltMode = saltMode,
            Hasher = hasher ?? XxHash3PageHasher.Instance,
            Seed = seed,
            SwapBatchPages = 8,
        });
    }

    public MemoryManager Manager { get; }

    public IMachineMemory Memory => _memory;

    public GuestPhysicalMemory PowerOn(string name, int maxPages, int minPages = 0, ulong? salt = null, int overheadPages = 0) =>
        GuestPhysicalMemory.PowerOn(Manager, _memory, new VmMemoryConfig { Name = name, MaxPages = maxPages, MinPages = minPages, ShareSalt = salt, OverheadPages = overheadPages });

    public void Dispose()
    {
        Manager.Dispose();
        _memory.Dispose();
    }

    /// <summary>A page filled with a pattern derived from <paramref name="seed"/> (distinct seeds give distinct pages).</summary>
    public static byte[] Pattern(int seed)
    {
        var page = new byte[PageGeometry.PageSizeBytes];
        var x = (uint)seed * 2654435761u + 1;
        for (var i = 0; i < page.Length; i += 4)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            BitConverter.TryWriteBytes(page.AsSpan(i), x);
        }

        return page;
    }
}

/// <summary>A hash function that sends every page to the same key: every lookup is a collision unless the bytes are equal.</summary>
public sealed class ConstantHasher : IPageHasher
{
    public ulong Hash(ReadOnlySpan<byte> page) => 0x1234_5678_9ABC_DEF0UL;
}

/// <summary>A swap device that fails writes on demand or corrupts what it reads.</summary>
public sealed class FaultySwapDevice(ISwapDevice inner) : ISwapDevice
{
    public bool FailWrites { get; set; }

    public bool CorruptReads { get; set; }

    public string Name => inner.Name;

    public void Write(long byteOffset, ReadOnlySpan<byte> pages)
    {
        if (FailWrites)
        {
            throw new IOException("No space left on device (injected)");
        }

        inner.Write(byteOffset, pages);
    }

    public void Read(long byteOffset, Span<byte> pages)
    {
        inner.Read(byteOffset, pages);
        if (CorruptReads)
        {
            pages[100] ^= 0x40;
        }
    }

    public void Dispose() => inner.Dispose();
}
