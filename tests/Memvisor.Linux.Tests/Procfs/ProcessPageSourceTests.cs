using System.Runtime.InteropServices;
using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Linux.Procfs;
using Memvisor.Testing;
using Memvisor.Linux.Scanning;

namespace Memvisor.Linux.Tests.Procfs;

public sealed class ProcessPageSourceTests
{
    private const int PageSize = PageGeometry.PageSizeBytes;
    private const string NeedsLinux = "Reads /proc/PID/maps, pagemap and mem, which only Linux has.";

    [Fact]
    public void Scanning_this_test_process_reads_its_resident_pages()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), NeedsLinux);
        using var self = ProcessPageSource.Open(Environment.ProcessId);

        var estimate = Estimator.Run([self]);

        Assert.Equal(Environment.ProcessId, self.Pid);
        Assert.True(self.PageCount > 0);
        Assert.True(estimate.Total.PagesScanned > 0);
        Assert.True(estimate.Total.PagesScanned > estimate.Total.ZeroPages, "a live process holds more than zero pages");
        Assert.StartsWith($"{Environment.ProcessId} ", self.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void Pages_this_process_wrote_are_read_back_and_found_shared()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), NeedsLinux);
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

            var estimate = Estimator.Run([self]);

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

    [Fact]
    public void Reads_by_process_vm_readv_across_runs_give_the_bytes_proc_mem_gives()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), NeedsLinux);
        // 64 pages of distinct contents this test made up, in memory the process has written (resident).
        const int pages = 64;
        var seed = Random.Shared.Next(1 << 20);
        var patterns = Enumerable.Range(0, pages).Select(p => TestPages.Filled(seed + p)).ToArray();
        var byHash = patterns.Select((page, p) => (Hash: System.IO.Hashing.XxHash3.HashToUInt64(page), p)).ToDictionary(x => x.Hash, x => x.p);
        var block = GC.AllocateArray<byte>((pages + 1) * PageSize, pinned: true);
        var handle = GCHandle.Alloc(block, GCHandleType.Pinned);
        try
        {
            var skip = (int)((PageSize - (handle.AddrOfPinnedObject() % PageSize)) % PageSize);
            for (var p = 0; p < pages; p++)
            {
                patterns[p].CopyTo(block.AsSpan(skip + (p * PageSize), PageSize));
            }

            using var self = ProcessPageSource.Open(Environment.ProcessId);
            Assert.True(self.ReadsByVector, "process_vm_readv on this process");
            Assert.True(self.RunCount > 1);
            var batch = new byte[SharingEstimator.BatchPages * PageSize];
            var mem = new byte[PageSize];
            var found = new HashSet<int>();
            for (var index = 0L; index < self.PageCount;)
            {
                var run = self.ReadPages(index, batch);
                for (var i = 0; run.Readable && i < run.Count; i++)
                {
                    var page = batch.AsSpan(i * PageSize, PageSize);
                    if (byHash.TryGetValue(System.IO.Hashing.XxHash3.HashToUInt64(page), out var p) && page.SequenceEqual(patterns[p]))
                    {
                        Assert.True(self.ReadPagesThroughMem(index + i, mem).Readable);
                        Assert.True(mem.AsSpan().SequenceEqual(page), $"page {index + i}: /proc/PID/mem reads other bytes");
                        found.Add(p);
                    }
                }

                index += Math.Max(run.Count, 1);
            }

            Assert.Equal(pages, found.Count);
        }
        finally
        {
            handle.Free();
            GC.KeepAlive(block);
        }
    }

    [Fact]
    public void A_process_that_exits_after_it_was_opened_reads_as_gone()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), NeedsLinux);
        using var child = System.Diagnostics.Process.Start("sleep", "60");
        try
        {
            using var source = ProcessPageSource.Open(child.Id);
            Assert.True(source.PageCount > 0);
            child.Kill();
            child.WaitForExit();

            var estimate = Estimator.Run([source]);

            Assert.Equal(PageRun.Gone, source.ReadPages(0, new byte[PageSize]));
            Assert.Equal(source.PageCount, estimate.Total.VanishedPages);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
            }
        }
    }

    [Fact]
    public void A_physical_page_is_offered_once_across_sources()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), NeedsLinux);

        // A process whose memory does not change while it is looked at twice: `sleep`, whose stack holds
        // 1.4 MiB of environment (about 360 private pages the kernel wrote at exec). This test's own process
        // would not do: other tests allocate in it between the two looks (seen: 1,642 new pages of 13,990).
        var start = new System.Diagnostics.ProcessStartInfo("sleep", "60") { UseShellExecute = false };
        for (var i = 0; i < 12; i++)
        {
            start.Environment[$"MEMVISOR_TEST_FILL_{i}"] = new string((char)('a' + i), 120 * 1024); // one string may be at most 128 KiB
        }

        using var sleeper = System.Diagnostics.Process.Start(start)!;
        try
        {
            WaitUntilSleeping(sleeper.Id);
            var frames = new HashSet<ulong>();
            using var first = ProcessPageSource.Open(sleeper.Id, frames);
            using var second = ProcessPageSource.Open(sleeper.Id, frames);
            Assert.True(first.PageCount >= 340, $"first look offered {first.PageCount} pages");

            // As root pagemap shows frame numbers: the second look finds every page already offered.
            // Without them (not root), each look offers every page.
            if (first.FramesVisible)
            {
                Assert.Equal(0, second.PageCount);
                Assert.Equal(first.PageCount, second.Facts.AlreadySharedPages);
            }
            else
            {
                Assert.Equal(first.PageCount, second.PageCount);
                Assert.Equal(0, second.Facts.AlreadySharedPages);
            }
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
        }
    }

    /// <summary>Waits (at most 10 s) until the process is asleep (state S in /proc/PID/stat): past exec and its loader.</summary>
    private static void WaitUntilSleeping(int pid)
    {
        for (var i = 0; i < 1000; i++)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('S'))
            {
                return;
            }

            Thread.Sleep(10);
        }

        Assert.Fail($"process {pid} did not fall asleep within 10 s");
    }

    [Fact]
    public void A_process_that_does_not_exist_is_reported_as_not_found()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), NeedsLinux);
        var error = Assert.Throws<ScanSourceException>(() => ProcessPageSource.Open(int.MaxValue));

        Assert.Equal(ScanSourceProblem.NotFound, error.Problem);
        Assert.Contains(int.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kernel_thread_has_no_pages()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), NeedsLinux);
        Assert.SkipUnless(
            File.Exists("/proc/2/comm") && File.ReadAllText("/proc/2/comm").Trim() == "kthreadd",
            "kthreadd (pid 2) is not visible here (a container with its own pid namespace).");

        using var kthreadd = ProcessPageSource.Open(2);

        Assert.Equal(0, kthreadd.PageCount);
    }

    [Fact]
    public void Scanning_every_process_leaves_this_one_out()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), NeedsLinux);

        using var set = ScanSourceSet.Open([], [], Environment.ProcessId);

        Assert.NotNull(set.AllProcesses);
        Assert.Equal(Environment.ProcessId, set.AllProcesses.ExcludedPid);
        Assert.DoesNotContain(set.Sources.OfType<ProcessPageSource>(), p => p.Pid == Environment.ProcessId);
        Assert.All(set.Sources, s => Assert.True(s.PageCount > 0));
    }

    [Fact]
    public void A_process_named_twice_is_opened_once()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), NeedsLinux);

        using var set = ScanSourceSet.Open([], [Environment.ProcessId, Environment.ProcessId], Environment.ProcessId);

        Assert.Single(set.Sources);
        Assert.Null(set.AllProcesses);
    }

    [Fact]
    public void The_process_list_holds_this_process()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), NeedsLinux);
        Assert.Contains(Environment.ProcessId, ProcessSet.ListPids());
    }
}
