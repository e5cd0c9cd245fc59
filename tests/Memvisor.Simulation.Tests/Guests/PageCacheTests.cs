/*
 * Page cache like real guests': idle memory fills with the image's files over time (identical across VMs
 * of the image, so the host shares them), a miss reads ahead in its file, Windows keeps clean file pages
 * on a standby list, and the file server does whole-file operations at dbench-like rates.
 */
using Memvisor.Core.Memory;
using Memvisor.Scenarios;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Workloads;
using static Memvisor.Simulation.Tests.Guests.GuestTestSupport;

namespace Memvisor.Simulation.Tests.Guests;

public sealed class PageCacheTests
{
    [Theory]
    [InlineData(GuestFlavour.Linux)]
    [InlineData(GuestFlavour.Windows)]
    public void Idle_memory_fills_with_the_images_files_over_time_and_identical_vms_can_share_them(GuestFlavour flavour)
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var first = Guest(host.PowerOn("a", 1024), flavour, new IdleWorkload(), seed: 1, systemFileReadsPerSecond: 20);
        var second = Guest(host.PowerOn("b", 1024), flavour, new IdleWorkload(), seed: 2, systemFileReadsPerSecond: 20);
        first.RunUntil(1 * Second);
        var cachedAfterBoot = first.PageCachePages;
        first.RunUntil(30 * Second);
        second.RunUntil(30 * Second);

        // 20 pages/s for 30 s (read ahead in clusters of 16): about 600 pages of the image's files, out of free memory.
        Assert.InRange(cachedAfterBoot, 0, 40);
        Assert.InRange(first.PageCachePages, 580, 640);
        Assert.Equal(0, first.Counters.DataMismatches);

        // The same blocks in the same order in both VMs: the host finds every cached page of one in the other.
        var cached = PagesUsedFor(first, GuestPageUse.PageCache);
        var others = PagesUsedFor(second, GuestPageUse.PageCache).Select(second.RecordedContentOf).ToHashSet();
        Assert.All(cached, p => Assert.Contains(first.RecordedContentOf(p), others));
        foreach (var p in PagesUsedFor(second, GuestPageUse.PageCache))
        {
            host.Manager.TryShare(second.Id, p);
        }

        var shared = cached.Count(p => host.Manager.TryShare(first.Id, p));
        Assert.Equal(cached.Count, shared);
    }

    [Fact]
    public void The_idle_system_fills_only_free_memory_and_never_pushes_out_the_workloads()
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var toucher = new ToucherWorkload(new ToucherOptions { WorkingSetPages = 900, WriteFraction = 1 });
        var guest = Guest(host.PowerOn("vm", 1024), GuestFlavour.Linux, toucher, systemFileReadsPerSecond: 200);
        guest.RunUntil(60 * Second);

        // 1024 - 75 boot pages - 900 anonymous: 49 pages are free, below the reserve the file reads leave
        // (64 pages): the working set stays whole, nothing was swapped.
        Assert.Equal(900, guest.AnonymousPages);
        Assert.Equal(0, guest.Counters.GuestSwapOuts);
        Assert.InRange(guest.PageCachePages, 0, 49);
        Assert.Equal(0, guest.Counters.DataMismatches);
    }

    [Fact]
    public void A_miss_reads_ahead_to_the_end_of_its_file_in_one_io()
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var files = default(GuestSegment);
        var guest = Guest(host.PowerOn("vm", 1024), GuestFlavour.Linux, new ScriptedWorkload(g => files = g.CreateFile(40, pagesPerFile: 10)));
        guest.Boot();
        guest.Read(files.Page(3));

        // Pages 4..9 came with it (the file ends at 10): one seek, six transfers; the next file was not read.
        Assert.Equal(1, guest.Counters.PageCacheMisses);
        Assert.Equal(6, guest.Counters.ReadaheadPages);
        Assert.Equal(LatencyModel.Default.GuestDiskReadNanoseconds + (6 * LatencyModel.Default.GuestDiskTransferNanoseconds), guest.Counters.GuestStallNanoseconds);
        for (var i = 4; i < 10; i++)
        {
            guest.Read(files.Page(i));
        }

        Assert.Equal(1, guest.Counters.PageCacheMisses);
        guest.Read(files.Page(10));
        Assert.Equal(2, guest.Counters.PageCacheMisses);
        Assert.Equal(0, guest.Counters.DataMismatches);
    }

    [Fact]
    public void Windows_keeps_clean_file_pages_on_a_standby_list_and_takes_them_back_without_io()
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var file = default(GuestSegment);
        var guest = Guest(host.PowerOn("vm", 512), GuestFlavour.Windows, new ScriptedWorkload(g => file = g.CreateFile(600)));
        guest.RunUntil(1 * Second);
        // 512 - 70 boot pages = 442 free pages, all zeroed by now: the file's first 442 pages fill them.
        var free = guest.FreePages;
        Assert.Equal(442, free);
        for (var i = 0; i < free; i++)
        {
            guest.Read(file.Page(i));
        }

        Assert.Equal(0, guest.FreePages);
        Assert.Equal(0, guest.StandbyPages);

        // Ten more pages: the clock takes a batch of 32 clean pages from the cache onto the standby list
        // (contents kept), and each miss repurposes the oldest.
        for (var i = free; i < free + 10; i++)
        {
            guest.Read(file.Page(i));
        }

        Assert.Equal(32 - 10, guest.StandbyPages);
        Assert.Equal(10, guest.Counters.StandbyRepurposed);
        Assert.Equal(0, guest.Counters.GuestSwapOuts);

        // Reading the whole file again takes every page still on the standby list back with a soft fault, not a disk read.
        var standby = guest.StandbyPages;
        for (var i = 0; i < free + 10; i++)
        {
            guest.Read(file.Page(i));
        }

        Assert.True(guest.Counters.StandbySoftFaults >= standby / 2, $"{guest.Counters.StandbySoftFaults} soft faults, {standby} pages were on the standby list");
        Assert.Equal(0, guest.Counters.DataMismatches);
    }

    [Fact]
    public void Linux_has_no_standby_list()
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        GuestSegment file = default, anonymous = default;
        var guest = Guest(host.PowerOn("vm", 512), GuestFlavour.Linux, new ScriptedWorkload(g =>
        {
            file = g.CreateFile(200);
            anonymous = g.CreateAnonymous(400);
        }));
        guest.Boot();
        for (var i = 0; i < file.Pages; i++)
        {
            guest.Read(file.Page(i));
        }

        for (var i = 0; i < 400; i++)
        {
            guest.Write(anonymous.Page(i), guest.NewToken());
        }

        Assert.Equal(0, guest.StandbyPages);
        Assert.Equal(0, guest.Counters.StandbyRepurposed);
        Assert.Equal(0, guest.Counters.DataMismatches);
    }

    [Fact]
    public void The_file_server_reads_and_writes_whole_files_at_dbench_like_rates_when_its_files_are_cached()
    {
        using var host = new SimulatedTestHost(machinePages: 16384, swapPages: 8192);
        var server = new FileServerWorkload(new FileServerOptions { FileSetPages = 2048, Clients = 4, ProcessPagesPerClient = 16 });
        var guest = Guest(host.PowerOn("vm", 8192), GuestFlavour.Linux, server);
        guest.RunUntil(30 * Second);
        var (ops, accesses) = (guest.Counters.WorkUnits, guest.Counters.Accesses);
        guest.RunUntil(31 * Second);
        var opsPerSecond = guest.Counters.WorkUnits - ops;

        // All 8 MB cached: each operation is 50 us of CPU over a 16-page file (64 KiB) plus its client's process page:
        // close to 20,000 operations and over 1 GB/s of cache touched per simulated second.
        Assert.InRange(opsPerSecond, 15_000, 20_000);
        Assert.Equal(17 * opsPerSecond, guest.Counters.Accesses - accesses, tolerance: 17);
        Assert.Equal(0, guest.Counters.DataMismatches);
    }
}
