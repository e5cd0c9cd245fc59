using System.Runtime.InteropServices;
using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Kvm.Procfs;
using Memvisor.Core.Tests.Sharing;
using Memvisor.Kvm.Scanning;

namespace Memvisor.Core.Tests.Procfs;

/// <summary>A fact that needs Linux's /proc; skipped, with the reason, anywhere else.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "Reads /proc/PID/maps, pagemap and mem, which only Linux has.";
        }
    }
}

public sealed class ProcessPageSourceTests
{
    private const int PageSize = PageGeometry.PageSizeBytes;

    [LinuxFact]
    public void Scanning_this_test_process_reads_its_resident_pages()
    {
        using var self = ProcessPageSource.Open(Environment.ProcessId);

        var estimate = SharingEstimator.Run([self]);

        Assert.Equal(Environment.ProcessId, self.Pid);
        Assert.True(self.PageCount > 0);
        Assert.True(estimate.Total.PagesScanned > 0);
        Assert.True(estimate.Total.PagesScanned > estimate.Total.ZeroPages, "a live process holds more than zero pages");
        Assert.StartsWith($"{Environment.ProcessId} ", self.Name, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void Pages_this_process_wrote_are_read_back_and_found_shared()
    {
        // 64 whole pages of one content this test made up, in memory the process has written (resident).
        const int pages = 64;
        var pattern = TestPages.Filled(Random.Shared.Next());
        var block = GC.AllocateArray<byte>((pages + 1) * PageSize, pinned: true);
        var handle = GCHandle.Alloc(block, GCHandleType.Pinned);
        try
        {
            var address = handle.AddrOfPinnedObject();
            var skip = (int)((PageSize - (address % PageSize)) % PageSize); // to the first page boundary
            for (var p = 0; p < pages; p++)
            {
                pattern.CopyTo(block.AsSpan(skip + (p * PageSize), PageSize));
            }

            using var self = ProcessPageSource.Open(Environment.ProcessId);
            var buffer = new byte[PageSize];
            var found = 0;
            for (var i = 0L; i < self.PageCount; i++)
            {
                if (self.ReadPages(i, buffer).Readable && buffer.AsSpan().SequenceEqual(pattern))
                {
                    found++;
                }
            }

            var estimate = SharingEstimator.Run([self]);

            Assert.True(found >= pages, $"found {found} copies of the pattern page, expected at least {pages}");
            Assert.True(estimate.Total.SharingPages >= pages, $"{estimate.Total.SharingPages} sharing pages");
            Assert.True(estimate.Total.PagesSaved >= pages - 1);
        }
        finally
        {
            handle.Free();
            GC.KeepAlive(block);
        }
    }

    [LinuxFact]
    public void A_physical_page_is_offered_once_across_sources()
    {
        var frames = new HashSet<ulong>();
        using var first = ProcessPageSource.Open(Environment.ProcessId, frames);
        using var second = ProcessPageSource.Open(Environment.ProcessId, frames);

        // As root pagemap shows frame numbers: the second look finds every page already offered.
        // Without them (not root), each look offers every page.
        if (first.FramesVisible)
        {
            Assert.True(second.PageCount < first.PageCount / 10, $"{second.PageCount} of {first.PageCount} pages offered again");
            Assert.True(second.Facts.AlreadySharedPages > 0);
        }
        else
        {
            Assert.Equal(0, second.Facts.AlreadySharedPages);
        }
    }

    [LinuxFact]
    public void A_process_that_does_not_exist_is_reported_as_not_found()
    {
        var error = Assert.Throws<ScanSourceException>(() => ProcessPageSource.Open(int.MaxValue));

        Assert.Equal(ScanSourceProblem.NotFound, error.Problem);
        Assert.Contains(int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void A_kernel_thread_has_no_pages()
    {
        // kthreadd is pid 2 on Linux hosts; containers with their own pid namespace may not show it.
        if (!File.Exists("/proc/2/comm") || File.ReadAllText("/proc/2/comm").Trim() != "kthreadd")
        {
            return;
        }

        using var kthreadd = ProcessPageSource.Open(2);

        Assert.Equal(0, kthreadd.PageCount);
    }

    [LinuxFact]
    public void The_process_list_holds_this_process()
    {
        Assert.Contains(Environment.ProcessId, ProcessSet.ListPids());
    }
}
