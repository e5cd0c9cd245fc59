using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;

namespace Memvisor.Core.Tests;

public class PageShareTableTests
{
    [Fact]
    public void Hint_and_shared_frames_are_found_by_their_key_and_removed()
    {
        var table = new PageShareTable(1024);
        var hint = table.AddHint(0xAAAA_BBBB_CCCC_DDDDUL, new VmId(7), new Ppn(42));
        var shared = table.AddShared(0x1111_2222_3333_4444UL, new Mpn(9), 3);

        Assert.Equal(hint, table.FindFirst(0xAAAA_BBBB_CCCC_DDDDUL));
        Assert.Equal(FrameKind.Hint, table.KindOf(hint));
        Assert.Equal(new VmId(7), table.HintVm(hint));
        Assert.Equal(new Ppn(42), table.HintPpn(hint));
        Assert.Equal(shared, table.FindFirst(0x1111_2222_3333_4444UL));
        Assert.Equal(new Mpn(9), table.SharedMpn(shared));
        Assert.Equal(3, table.RefCount(shared));
        Assert.Equal(PageShareTable.NoFrame, table.FindFirst(0x5555_5555_5555_5555UL));

        table.Remove(hint);
        Assert.Equal(PageShareTable.NoFrame, table.FindFirst(0xAAAA_BBBB_CCCC_DDDDUL));
        Assert.Equal(shared, table.FindFirst(0x1111_2222_3333_4444UL));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Frames_with_the_same_key_are_all_reachable_through_the_chain()
    {
        var table = new PageShareTable(64);
        const ulong key = 0xFEED_FACE_0000_0001UL;
        var frames = Enumerable.Range(0, 5).Select(i => table.AddHint(key, new VmId((ushort)i), new Ppn((uint)i))).ToHashSet();
        var found = new HashSet<int>();
        for (var f = table.FindFirst(key); f != PageShareTable.NoFrame; f = table.FindNext(f, key))
        {
            found.Add(f);
        }

        Assert.Equal(frames, found);
        table.Remove(frames.ElementAt(2));
        found.Clear();
        for (var f = table.FindFirst(key); f != PageShareTable.NoFrame; f = table.FindNext(f, key))
        {
            found.Add(f);
        }

        Assert.Equal(4, found.Count);
    }

    [Fact]
    public void Reference_counts_beyond_16_bits_go_to_the_overflow_table_and_come_back()
    {
        var table = new PageShareTable(16);
        var frame = table.AddShared(0x0123_4567_89AB_CDEFUL, new Mpn(1), 2);
        table.SetRefCount(frame, 1_000_000);
        Assert.Equal(1_000_000, table.RefCount(frame));
        Assert.Equal(1, table.OverflowCount);
        Assert.Equal(frame, table.FindFirst(0x0123_4567_89AB_CDEFUL));
        table.SetRefCount(frame, 5);
        Assert.Equal(5, table.RefCount(frame));
        Assert.Equal(0, table.OverflowCount);
    }

    [Fact]
    public void A_full_table_refuses_another_frame_and_reuses_removed_ones()
    {
        var table = new PageShareTable(3);
        var a = table.AddHint(1UL << 40, new VmId(1), new Ppn(1));
        table.AddHint(2UL << 40, new VmId(1), new Ppn(2));
        table.AddHint(3UL << 40, new VmId(1), new Ppn(3));
        Assert.Throws<InvalidOperationException>(() => table.AddHint(4UL << 40, new VmId(1), new Ppn(4)));
        table.Remove(a);
        var d = table.AddHint(4UL << 40, new VmId(1), new Ppn(4));
        Assert.Equal(a, d);
    }

    [Fact]
    public void Metadata_costs_at_most_20_bytes_per_machine_page_under_half_a_percent()
    {
        const int machinePages = 262_144; // 1 GiB
        var table = new PageShareTable(machinePages);
        var perPage = table.MetadataBytes / (double)machinePages;
        Assert.Equal(20.0, perPage);
        Assert.True(perPage / PageGeometry.PageSizeBytes < 0.005);
    }

    [Fact]
    public void Salted_keys_of_equal_pages_differ_for_different_salts()
    {
        Assert.NotEqual(ShareMatcher.SaltedKey(42, 0), ShareMatcher.SaltedKey(42, 1));
        Assert.Equal(ShareMatcher.SaltedKey(42, 7), ShareMatcher.SaltedKey(42, 7));
    }
}
