using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Core.Sharing;
using Memvisor.Testing.Fakes;

namespace Memvisor.Testing;

/// <summary>
/// A small host for tests: the memory manager over in-memory fakes of its ports (array-backed machine
/// memory, an in-memory swap device unless one is given) and guests that fault through recording mappings.
/// </summary>
public sealed class TestHost : IDisposable
{
    /// <summary>
    /// A host of <paramref name="machinePages"/> machine pages and <paramref name="swapPages"/> swap slots.
    /// <paramref name="memory"/> replaces the array-backed machine memory (the host disposes it if it can).
    /// </summary>
    public TestHost(int machinePages, int swapPages, ShareSaltMode saltMode = ShareSaltMode.SingleSalt, IPageHasher? hasher = null, ISwapDevice? swapDevice = null, ulong seed = 1, IMachineMemory? memory = null)
    {
        Memory = memory ?? new ArrayMachineMemory(machinePages);
        SwapDevice = swapDevice ?? new InMemorySwapDevice();
        Manager = new MemoryManager(Memory, SwapDevice, new HostMemoryOptions
        {
            SwapCapacityPages = swapPages,
            ShareSaltMode = saltMode,
            Hasher = hasher ?? XxHash3PageHasher.Instance,
            Seed = seed,
            SwapBatchPages = 8,
        });
    }

    public MemoryManager Manager { get; }

    public IMachineMemory Memory { get; }

    /// <summary>The swap device behind the manager's swap space (an <see cref="InMemorySwapDevice"/> unless one was given).</summary>
    public ISwapDevice SwapDevice { get; }

    public TestGuest PowerOn(string name, int maxPages, int minPages = 0, ulong? salt = null, int overheadPages = 0) =>
        TestGuest.PowerOn(Manager, Memory, Config(name, maxPages, minPages, salt, overheadPages));

    /// <summary>The configuration <see cref="PowerOn"/> uses.</summary>
    public static VmMemoryConfig Config(string name, int maxPages, int minPages = 0, ulong? salt = null, int overheadPages = 0) =>
        new() { Name = name, MaxPages = maxPages, MinPages = minPages, ShareSalt = salt, OverheadPages = overheadPages };

    public void Dispose()
    {
        Manager.Dispose();
        (Memory as IDisposable)?.Dispose();
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
