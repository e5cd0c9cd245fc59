/*
 * A host for the memory-manager benchmarks: Core's MemoryManager over MappingMachineMemory, one
 * simulated VM (GuestPhysicalMemory) as large as the mapping, and a real swap file in the temp folder.
 * The VM's pages are filled through the guest (each first write faults into Core, which allocates a
 * zeroed machine page at MPN = PPN), so after FillGuest the mapping holds the content mix at the same
 * addresses as the plain benchmark buffer.
 */
using Memvisor.Testing;
using Memvisor.Core.Memory;
using Memvisor.Core.Swap;
using Memvisor.Native;
using Memvisor.Simulation.Memory;

namespace Memvisor.Benchmarks.Engine;

/// <summary>One memory manager with one VM filling a mapping.</summary>
internal sealed class ManagerHost : IDisposable
{
    private ManagerHost(MemoryManager manager, GuestPhysicalMemory guest, MappingMachineMemory memory)
    {
        Manager = manager;
        Guest = guest;
        Memory = memory;
    }

    /// <summary>The memory manager.</summary>
    public MemoryManager Manager { get; }

    /// <summary>The VM's guest memory.</summary>
    public GuestPhysicalMemory Guest { get; }

    /// <summary>The machine memory.</summary>
    public MappingMachineMemory Memory { get; }

    /// <summary>Guest pages (= machine pages).</summary>
    public int PageCount => Guest.PageCount;

    /// <summary>
    /// A manager over <paramref name="mapping"/> with one VM of the mapping's size. With
    /// <paramref name="swappable"/> the VM's min is 0 and the swap area covers it all; otherwise min = max
    /// and there is no swap.
    /// </summary>
    public static ManagerHost Create(AnonymousMapping mapping, ReleaseMode release, bool swappable = false)
    {
        var memory = new MappingMachineMemory(mapping, release);
        var pages = memory.PageCount;
        var manager = new MemoryManager(memory, SwapFile.CreateTemporary(), new HostMemoryOptions { SwapCapacityPages = swappable ? pages : 0 });
        try
        {
            var config = new VmMemoryConfig { Name = "bench", MaxPages = pages, MinPages = swappable ? 0 : pages };
            return new ManagerHost(manager, GuestPhysicalMemory.PowerOn(manager, memory, config), memory);
        }
        catch
        {
            manager.Dispose();
            throw;
        }
    }

    /// <summary>Writes every guest page with its content from <paramref name="content"/> (faulting each in).</summary>
    public void FillGuest(MixedPageContent content)
    {
        for (var ppn = 0u; ppn < PageCount; ppn++)
        {
            content.Fill((int)ppn, Guest.PageForWrite(new Ppn(ppn)));
        }
    }

    /// <summary>
    /// Offers every guest page to sharing once, in address order or in <paramref name="order"/>, then
    /// releases the last batch of freed pages; returns the pages shared.
    /// </summary>
    public long ShareAll(int[]? order = null)
    {
        var vm = Guest.Id;
        var shared = 0L;
        for (var i = 0; i < PageCount; i++)
        {
            if (Manager.TryShare(vm, new Ppn((uint)(order is null ? i : order[i]))))
            {
                shared++;
            }
        }

        Memory.Flush();
        return shared;
    }

    /// <summary>Guest pages in state <paramref name="state"/>.</summary>
    public Ppn[] PagesIn(PageState state)
    {
        var pages = new List<Ppn>();
        for (var ppn = 0u; ppn < PageCount; ppn++)
        {
            if (Manager.PageInfoOf(Guest.Id, new Ppn(ppn)).State == state)
            {
                pages.Add(new Ppn(ppn));
            }
        }

        return [.. pages];
    }

    /// <inheritdoc/>
    public void Dispose() => Manager.Dispose();
}
