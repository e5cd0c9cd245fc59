/*
 * Host paging: victims are distinct random ranges inside guest RAM; availability follows host swap
 * for anonymous guest RAM, and file-backed guest RAM needs none;
 * and MADV_PAGEOUT through a pidfd really reclaims (shown on clean file pages of a file on disk,
 * which need no swap: this test never creates host swap).
 */
using System.IO.MemoryMappedFiles;
using Memvisor.Native;
using Memvisor.Qemu.GuestRam;

namespace Memvisor.Qemu.Tests.GuestRam;

public sealed class GuestPagerTests
{
    private const long MiB = 1L << 20;

    [Fact]
    public void Victims_are_distinct_random_64_KiB_ranges_inside_the_mapping_adding_up_to_the_request()
    {
        var mapping = new GuestRamMapping(Environment.ProcessId, 0x7f00_0000_0000, 0x7f00_0000_0000 + (256UL << 20));
        using var pager = GuestPager.Open(mapping, seed: 3);

        var victims = pager.ChooseVictims(10 * MiB);
        var again = GuestPager.Open(mapping, seed: 3);
        var same = again.ChooseVictims(10 * MiB);
        again.Dispose();

        Assert.Equal(160, victims.Count);
        Assert.Equal(victims.Count, victims.Select(v => v.Start).Distinct().Count());
        Assert.All(victims, v => Assert.InRange(v.Start, mapping.Start, mapping.End - (ulong)GuestPager.RangeBytes));
        Assert.All(victims, v => Assert.Equal(0UL, (v.Start - mapping.Start) % (ulong)GuestPager.RangeBytes));
        Assert.Equal(victims, same);
        Assert.Equal(4096, pager.ChooseVictims(1L << 40).Count);
    }

    [Fact]
    public void Host_paging_of_anonymous_RAM_is_unavailable_without_a_swap_device_and_says_why_while_file_backed_RAM_needs_none()
    {
        var swaps = Path.GetTempFileName();
        try
        {
            File.WriteAllText(swaps, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
            var none = GuestPager.WhyUnavailable(swaps);
            var anonymous = new GuestRamMapping(1, 0x1000_0000, 0x2000_0000);
            var anonymousNone = GuestPager.WhyUnavailable(anonymous, swaps);
            var fileBackedNone = GuestPager.WhyUnavailable(anonymous with { BackingFile = "/tmp/ram.img" }, swaps);
            File.AppendAllText(swaps, "/swapfile                               file\t\t1048572\t\t0\t\t-2\n");
            var one = GuestPager.WhyUnavailable(swaps);

            Assert.NotNull(none);
            Assert.Contains("no swap", none, StringComparison.Ordinal);
            Assert.Null(one);
            Assert.Equal(none, anonymousNone);
            Assert.Null(fileBackedNone);
        }
        finally
        {
            File.Delete(swaps);
        }
    }

    [Fact]
    public unsafe void Page_out_through_a_pidfd_reclaims_clean_file_pages()
    {
        var folder = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "pageout-test")).FullName;
        var path = Path.Combine(folder, $"{Guid.NewGuid():N}.bin");
        try
        {
            // Written and flushed to disk first: MADV_PAGEOUT drops clean page-cache pages at once, while
            // dirty ones (a file just written, not yet written back) only start writeback and stay resident.
            using (var writer = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                writer.Write(new byte[8 * MiB]);
                writer.Flush(flushToDisk: true);
            }

            using var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            using var view = file.CreateViewAccessor(0, 8 * MiB, MemoryMappedFileAccess.Read);
            byte* start = null;

            // SAFETY: the pointer is only turned into an address for the kernel and smaps; the view
            // stays mapped (and the pointer acquired) until the finally below.
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            try
            {
                var address = (ulong)start + (ulong)view.PointerOffset;
                long sum = 0;
                for (long offset = 0; offset < 8 * MiB; offset += 4096)
                {
                    sum += view.ReadByte(offset);
                }

                var before = ResidentBytes(address);
                using var self = RemoteProcess.Open(Environment.ProcessId);
                var advised = self.PageOut([new AddressRange(address, (ulong)(8 * MiB))]);
                var after = ResidentBytes(address);

                Assert.Equal(0, sum);
                Assert.Equal(8 * MiB, advised);
                Assert.True(before >= 7 * MiB, $"the touched file pages are resident ({before / 1024} KiB)");
                Assert.True(after <= MiB, $"paged out: {after / 1024} KiB still resident");
            }
            finally
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static long ResidentBytes(ulong start)
    {
        var header = $"{start:x}-";
        var inBlock = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            if (!inBlock)
            {
                inBlock = line.StartsWith(header, StringComparison.Ordinal);
            }
            else if (line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException("mapping not found in smaps");
    }
}
