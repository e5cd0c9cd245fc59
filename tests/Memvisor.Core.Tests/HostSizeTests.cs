using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Core.Sharing;

namespace Memvisor.Core.Tests;

/// <summary>
/// The pool's and the share table's bookkeeping grows with the pages in use, not with the size of the
/// host: a terabyte of machine memory with a few VMs costs what the VMs use (issue 15).
/// </summary>
[Collection(AllocationMeasurement.Name)]
public class HostSizeTests
{
    // 1 TiB of 4 KiB pages.
    private const int TerabytePages = 1 << 28;

    [Fact]
    public void A_pool_and_share_table_for_a_terabyte_host_allocate_under_a_mebibyte()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var pool = new MachinePagePool(new OnePageMemory(TerabytePages));
        var table = new PageShareTable(TerabytePages);
        for (var i = 0; i < 1000; i++)
        {
            Assert.True(pool.TryAllocate(new VmId(1), new Ppn((uint)i), MpnUse.Private, out var mpn));
            table.AddHint((ulong)i << 40, new VmId(1), new Ppn(mpn.Value));
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated");
        Assert.Equal(TerabytePages - 1000, pool.FreePages);
        Assert.Equal(TerabytePages - 1000, pool.CountFree(0, TerabytePages));

        // What the table reports is its size when full: 16 bytes a frame and 4 a bucket head, as the paper counts it.
        Assert.Equal((16L * TerabytePages) + (4L << 28), table.MetadataBytes);
    }

    [Fact]
    public void Pages_far_above_the_ones_in_use_are_allocated_owned_counted_and_freed()
    {
        var pool = new MachinePagePool(new OnePageMemory(TerabytePages));
        const int Boundary = 1 << 20;
        pool.SetZones(Boundary, ZonePreference.HighFirst);
        Assert.True(pool.TryAllocate(new VmId(3), new Ppn(7), MpnUse.Private, out var high));
        Assert.Equal((uint)Boundary, high.Value);
        Assert.True(pool.TryAllocate(new VmId(3), new Ppn(8), MpnUse.Private, out var low, 0, Boundary));
        Assert.Equal(0u, low.Value);

        Assert.False(pool.IsFree(high));
        Assert.True(pool.IsFree(new Mpn(TerabytePages - 1)));
        Assert.Equal(new MpnOwner(MpnUse.Private, new VmId(3), 7), pool.OwnerOf(high));
        Assert.Equal(MpnUse.Free, pool.OwnerOf(new Mpn(TerabytePages - 1)).Use);
        Assert.Equal(Boundary - 1, pool.FreeLowPages);
        Assert.Equal(Boundary - 1, pool.CountFree(0, Boundary));
        Assert.Equal(TerabytePages - Boundary - 1, pool.CountFree(Boundary, TerabytePages));
        Assert.Equal(63, pool.CountFree(Boundary + 1, Boundary + 64));

        Assert.Throws<InvalidOperationException>(() => pool.SetOwner(new Mpn(TerabytePages - 1), MpnUse.Private, new VmId(3), 9));
        pool.Free(high);
        Assert.True(pool.IsFree(high));
        Assert.Equal(MpnUse.Free, pool.OwnerOf(high).Use);
        Assert.Throws<InvalidOperationException>(() => pool.Free(high));
        Assert.Equal(TerabytePages - 1, pool.FreePages);
    }

    [Fact]
    public void A_growing_share_table_finds_frames_of_a_key_in_the_same_order_as_one_built_at_full_size()
    {
        // 300,000 frames: the bucket array doubles from 65,536 heads to 524,288 on the way. Every key is one
        // of 64, spread over the hash's top bits, so chains hold several keys and each key several frames.
        var table = new PageShareTable(1 << 20);
        var random = new Random(15);
        var keys = Enumerable.Range(0, 64).Select(_ => (ulong)random.NextInt64() << 1).ToArray();
        var live = new List<(int Frame, ulong Key)>();
        for (var i = 0; i < 300_000; i++)
        {
            var key = keys[random.Next(keys.Length)];
            live.Add((table.AddHint(key, new VmId(1), new Ppn((uint)i)), key));
            if (random.Next(4) == 0)
            {
                var victim = random.Next(live.Count);
                table.Remove(live[victim].Frame);
                live.RemoveAt(victim);
            }
        }

        // A chain is in reverse order of insertion, whatever the size of the bucket array was at each insertion.
        foreach (var key in keys)
        {
            var expected = live.Where(f => f.Key == key).Select(f => f.Frame).Reverse().ToList();
            var found = new List<int>();
            for (var f = table.FindFirst(key); f != PageShareTable.NoFrame; f = table.FindNext(f, key))
            {
                found.Add(f);
            }

            Assert.Equal(expected, found);
        }

        Assert.Equal(live.Count, table.Count);
    }

    [Fact]
    public void Frames_are_handed_out_in_order_and_removed_ones_are_reused_last_removed_first()
    {
        var table = new PageShareTable(10_000);
        var frames = Enumerable.Range(0, 5000).Select(i => table.AddShared((ulong)i << 20, new Mpn((uint)i), 1)).ToList();
        Assert.Equal(Enumerable.Range(0, 5000), frames);
        table.Remove(17);
        table.Remove(4000);
        Assert.Equal(4000, table.AddShared(1, new Mpn(1), 1));
        Assert.Equal(17, table.AddShared(2, new Mpn(2), 1));
        Assert.Equal(5000, table.AddShared(3, new Mpn(3), 1));
    }

    /// <summary>Machine memory of any size whose every page is one scratch page (for bookkeeping tests only).</summary>
    private sealed class OnePageMemory(int pageCount) : IMachineMemory
    {
        private readonly byte[] _page = new byte[PageGeometry.PageSizeBytes];

        public int PageCount => pageCount;

        public long ResidentPages => 0;

        public Span<byte> GetPage(Mpn mpn) => _page;

        public void Zero(Mpn mpn) => _page.AsSpan().Clear();

        public Mpn PreferredPlacement(VmId vm, Ppn ppn) => Mpn.None;

        public void Discard(Mpn mpn)
        {
        }
    }
}
