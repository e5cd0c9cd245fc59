/*
 * Finding the guest-RAM mapping among a QEMU process's mappings, and reading its smaps block.
 */
using Memvisor.Linux.Procfs;
using Memvisor.Qemu.GuestRam;

namespace Memvisor.Qemu.Tests.GuestRam;

public sealed class GuestRamTests
{
    private const string Smaps = """
        55d0c0000000-55d0c0100000 rw-p 00000000 00:00 0                          [heap]
        Size:               1024 kB
        Rss:                 512 kB
        Referenced:          512 kB
        7f0000000000-7f0010000000 rw-p 00000000 00:00 0 
        Size:             262144 kB
        KernelPageSize:        4 kB
        Rss:              146732 kB
        Referenced:        33996 kB
        Anonymous:        146732 kB
        KSM:                1024 kB
        AnonHugePages:         0 kB
        Swap:                 64 kB
        VmFlags: rd wr mr mw me ac sd mg
        7f0010000000-7f0010200000 rw-p 00000000 00:00 0 
        Size:               2048 kB
        Rss:                2048 kB
        Referenced:         2048 kB
        """;

    [Fact]
    public void Smaps_figures_are_read_from_the_guest_mappings_block_only()
    {
        var usage = GuestRamUsage.ParseSmaps(Smaps.Split('\n'), 0x7f0000000000, 0x7f0010000000);

        Assert.Equal(new GuestRamUsage(146732L * 1024, 33996L * 1024, 64 * 1024, 1024 * 1024, 0, Mergeable: true), usage);
        Assert.Null(GuestRamUsage.ParseSmaps(Smaps.Split('\n'), 0x1000, 0x2000));
    }

    [Fact]
    public void The_anonymous_mapping_of_exactly_the_guest_size_is_chosen_over_larger_and_file_backed_ones()
    {
        const long size = 256L << 20;
        var mappings = new[]
        {
            Map(0x1000_0000, 0x1000_0000 + (ulong)size, inode: 42, path: "/dev/shm/x"),
            Map(0x2000_0000, 0x2000_0000 + (2 * (ulong)size)),
            Map(0x8000_0000, 0x8000_0000 + (ulong)size),
            Map(0x9000_0000, 0x9000_1000),
        };

        var found = GuestRamMapping.FindIn(7, mappings, size);

        Assert.Equal(new GuestRamMapping(7, 0x8000_0000, 0x8000_0000 + (ulong)size), found);
        Assert.Equal(new GuestRamMapping(7, 0x2000_0000, 0x2000_0000 + (2 * (ulong)size)), GuestRamMapping.FindIn(7, mappings[..2], size));
        Assert.Null(GuestRamMapping.FindIn(7, mappings[3..], size));
    }

    [Fact]
    public void File_backed_guest_RAM_is_the_shared_mapping_of_its_file_from_offset_0()
    {
        const long size = 256L << 20;
        const string file = "/tmp/memvisor-vm1-x/ram.img";
        var shared = MappingAccess.Read | MappingAccess.Write | MappingAccess.Shared;
        var mappings = new[]
        {
            Map(0x1000_0000, 0x1000_0000 + (ulong)size),
            Map(0x3000_0000, 0x3000_0000 + (ulong)size, inode: 9, path: file),
            new ProcMapping(0x5000_0000, 0x5000_0000 + (ulong)size, shared, 0x1000, "fe:00", 9, file),
            new ProcMapping(0x7000_0000, 0x7000_0000 + (ulong)size, shared, 0, "fe:00", 8, "/tmp/other/ram.img"),
            new ProcMapping(0x9000_0000, 0x9000_0000 + (ulong)size, shared, 0, "fe:00", 9, file),
        };

        var found = GuestRamMapping.FindFileIn(7, mappings, size, file);

        Assert.Equal(new GuestRamMapping(7, 0x9000_0000, 0x9000_0000 + (ulong)size) { BackingFile = file }, found);
        Assert.Null(GuestRamMapping.FindFileIn(7, mappings[..4], size, file));
        Assert.Null(GuestRamMapping.FindFileIn(7, mappings, 2 * size, file));
    }

    private static ProcMapping Map(ulong start, ulong end, ulong inode = 0, string path = "") =>
        new(start, end, MappingAccess.Read | MappingAccess.Write, 0, "00:00", inode, path);
}
