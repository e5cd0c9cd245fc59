using Memvisor.Core.Memory;
using Memvisor.Scenarios;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Images;
using Memvisor.Simulation.Memory;
using Memvisor.Simulation.Workloads;
using static Memvisor.Simulation.Tests.Guests.GuestTestSupport;
using Memvisor.Testing;

namespace Memvisor.Simulation.Tests.Guests;

public sealed class GuestOsTests
{
    [Fact]
    public void Windows_zeroes_all_free_memory_after_boot_and_Linux_leaves_it_untouched()
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var linux = Guest(host.PowerOn("linux", 1024), GuestFlavour.Linux, new IdleWorkload());
        var windows = Guest(host.PowerOn("windows", 1024), GuestFlavour.Windows, new IdleWorkload());
        linux.RunUntil(1 * Second);
        windows.RunUntil(1 * Second);

        // Boot takes 64 kernel pages + ceil(1% of 1024) = 11 structure pages: 75; 1024 - 75 = 949 free pages.
        Assert.Equal(949, linux.FreePages);
        Assert.Equal(949, host.Manager.GetVmStats(linux.Id).UntouchedPages);
        Assert.Equal(949, windows.Counters.PagesZeroedByThread);
        Assert.Equal(949, windows.ZeroedFreePages);
        Assert.Equal(0, host.Manager.GetVmStats(windows.Id).UntouchedPages);
        // Every page was touched in the last second: the spike after boot of the paper's Figure 6.
        Assert.Equal(1024, windows.TouchedPages(1 * Second));
        Assert.Equal(75, linux.TouchedPages(1 * Second));
    }

    [Fact]
    public void Freed_pages_keep_stale_contents_on_Linux_and_are_zeroed_on_Windows()
    {
        foreach (var flavour in new[] { GuestFlavour.Linux, GuestFlavour.Windows })
        {
            using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
            var toucher = new ToucherWorkload(new ToucherOptions { WorkingSetPages = 200, WriteFraction = 1, Phases = [new(1, 50)] });
            var guest = Guest(host.PowerOn("vm", 1024), flavour, toucher);
            guest.RunUntil(Second - 1);
            var anonymous = PagesUsedFor(guest, GuestPageUse.Anonymous);
            Assert.Equal(200, anonymous.Count);
            guest.RunUntil(2 * Second);
            var freed = anonymous.Where(p => guest.UseOf(p) == GuestPageUse.Free).ToList();
            Assert.Equal(150, freed.Count);
            foreach (var ppn in freed)
            {
                var bytes = guest.Memory.PageForRead(ppn);
                if (flavour == GuestFlavour.Linux)
                {
                    Assert.NotEqual(PageContent.Zero, guest.RecordedContentOf(ppn));
                    Assert.True(PageContent.Matches(bytes, guest.RecordedContentOf(ppn)));
                    Assert.True(bytes.ContainsAnyExcept((byte)0));
                }
                else
                {
                    Assert.Equal(PageContent.Zero, guest.RecordedContentOf(ppn));
                    Assert.False(bytes.ContainsAnyExcept((byte)0));
                }
            }

            Assert.Equal(0, guest.Counters.DataMismatches);
        }
    }

    [Fact]
    public void A_page_changed_behind_the_guests_back_is_counted_as_a_mismatch()
    {
        using var host = new SimulatedTestHost(machinePages: 2048, swapPages: 2048);
        var segment = default(GuestSegment);
        var workload = new ScriptedWorkload(g => segment = g.CreateAnonymous(4));
        var guest = Guest(host.PowerOn("vm", 512), GuestFlavour.Linux, workload);
        guest.Boot();
        guest.Write(segment.Page(2), guest.NewToken());
        guest.Read(segment.Page(2));
        Assert.Equal(0, guest.Counters.DataMismatches);

        var ppn = PagesUsedFor(guest, GuestPageUse.Anonymous).Single();
        host.Memory.GetPage(host.Manager.PageInfoOf(guest.Id, ppn).Mpn)[1000] ^= 0x10;
        guest.Read(segment.Page(2));
        Assert.Equal(1, guest.Counters.DataMismatches);
        Assert.Contains($"PPN {ppn.Value:x}", guest.FirstMismatch, StringComparison.Ordinal);
    }

    [Fact]
    public void A_page_whose_contents_were_checked_is_checked_in_full_again_once_a_writable_span_of_it_was_handed_out()
    {
        using var host = new SimulatedTestHost(machinePages: 2048, swapPages: 2048);
        var segment = default(GuestSegment);
        var workload = new ScriptedWorkload(g => segment = g.CreateAnonymous(4));
        var guest = Guest(host.PowerOn("vm", 512), GuestFlavour.Linux, workload);
        guest.Boot();
        guest.Write(segment.Page(1), guest.NewToken());
        var ppn = PagesUsedFor(guest, GuestPageUse.Anonymous).Single();
        var mpn = host.Manager.PageInfoOf(guest.Id, ppn).Mpn;
        var memory = (NativeMachineMemory)host.Memory;
        Assert.Equal(guest.RecordedContentOf(ppn), memory.KnownContents(mpn));

        // Read through a writable span without changing a byte: the next read compares every byte and records them.
        _ = host.Memory.GetPage(mpn);
        guest.Read(segment.Page(1));
        Assert.Equal(0, guest.Counters.DataMismatches);
        Assert.Equal(guest.RecordedContentOf(ppn), memory.KnownContents(mpn));

        // A change through a span handed out after that read is found by the next read.
        host.Memory.GetPage(mpn)[4095] ^= 0x01;
        guest.Read(segment.Page(1));
        Assert.Equal(1, guest.Counters.DataMismatches);
        Assert.Equal(PageContent.Unknown, memory.KnownContents(mpn));
    }

    [Fact]
    public void Host_fault_costs_are_charged_to_the_guest_clock()
    {
        var latency = new LatencyModel { MinorFaultNanoseconds = 1_111, ZeroFillFaultNanoseconds = 2_222, CopyOnWriteFaultNanoseconds = 3_333, HostSwapInNanoseconds = 7_000_000 };
        using var host = new SimulatedTestHost(machinePages: 2048, swapPages: 2048);
        var segment = default(GuestSegment);
        var workload = new ScriptedWorkload(g => segment = g.CreateAnonymous(1));
        var guest = GuestOs.Create(host.PowerOn("vm", 512), new GuestOsOptions { Image = Tiny, KernelTouchesPerSecond = 0, Latency = latency }, workload);
        guest.RunUntil(Second);

        long Cost(Action<GuestOs> access)
        {
            var before = guest.Counters with { };
            var start = guest.NowNanoseconds;
            workload.Step = g =>
            {
                access(g);
                workload.Step = null;
            };
            guest.RunUntil(start + 1);
            Assert.Equal(guest.Counters.HostStallNanoseconds - before.HostStallNanoseconds + workload.StepNanoseconds + (guest.Counters.GuestStallNanoseconds - before.GuestStallNanoseconds), guest.NowNanoseconds - start);
            return guest.Counters.HostStallNanoseconds - before.HostStallNanoseconds;
        }

        var page = segment.Page(0);
        // First touch: the host zero-fills a machine page (the guest zeroes the frame it takes for the write).
        var token = guest.NewToken();
        Assert.Equal(2_222, Cost(g => g.Write(page, token)));
        Assert.Equal(0, Cost(g => g.Read(page)));
        var ppn = PagesUsedFor(guest, GuestPageUse.Anonymous).Single();

        host.Manager.ArmSampleTrap(guest.Id, ppn);
        Assert.Equal(1_111, Cost(g => g.Read(page)));

        // Swap out every private page of the VM (75 boot pages + this one): the read swaps this one back in.
        host.Manager.SwapOut(guest.Id, 76);
        Assert.Equal(PageState.Swapped, host.Manager.PageInfoOf(guest.Id, ppn).State);
        Assert.Equal(7_000_000, Cost(g => g.Read(page)));

        // Shared with a second VM's identical page (it writes what the guest wrote): a write breaks copy-on-write.
        var twin = host.PowerOn("twin", 16);
        PageContent.Fill(twin.PageForWrite(new Ppn(0)), token);
        host.Manager.TryShare(twin.Id, new Ppn(0));
        host.Manager.TryShare(guest.Id, ppn);
        Assert.Equal(PageState.Shared, host.Manager.PageInfoOf(guest.Id, ppn).State);
        Assert.Equal(3_333, Cost(g => g.Write(page, g.NewToken())));
        Assert.Equal(0, guest.Counters.DataMismatches);
    }

    [Fact]
    public void A_descheduled_guest_does_no_work_and_resumes_where_it_was()
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var guest = Guest(host.PowerOn("vm", 1024), GuestFlavour.Windows, new ToucherWorkload(new ToucherOptions { WorkingSetPages = 100 }));
        guest.RunUntil(Second);
        var before = guest.Counters with { };
        var start = guest.NowNanoseconds;
        guest.Deschedule(3 * Second);
        // Only the clock and the descheduled time move: no work, no accesses, no zeroing, no background.
        Assert.Equal(3 * Second, guest.NowNanoseconds);
        Assert.Equal((3 * Second) - start, guest.Counters.DescheduledNanoseconds);
        Assert.Equal(before.WorkUnits, guest.Counters.WorkUnits);
        Assert.Equal(before.Accesses, guest.Counters.Accesses);
        Assert.Equal(before.BackgroundAccesses, guest.Counters.BackgroundAccesses);
        Assert.Equal(before.PagesZeroedByThread, guest.Counters.PagesZeroedByThread);
        guest.RunUntil(4 * Second);
        Assert.True(guest.Counters.WorkUnits > before.WorkUnits);
    }

    [Fact]
    public void Toucher_true_working_set_matches_its_configuration()
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var toucher = new ToucherWorkload(new ToucherOptions { WorkingSetPages = 512, AccessesPerSecond = 2000, Phases = [new(10, 128)] });
        var guest = Guest(host.PowerOn("vm", 2048), GuestFlavour.Linux, toucher);

        // In the last 9 s before 10 s, 2,000 accesses/s made 18,000 uniform accesses over 512 pages: a page
        // is missed with probability (1 - 1/512)^18000 = e^-35, so the pages touched are the working set
        // (the kernel's boot pages were touched before that window, and kernel activity is off).
        guest.RunUntil(10 * Second);
        Assert.Equal(512, toucher.WorkingSetPages);
        Assert.Equal(512, guest.TouchedPages(9 * Second));

        // After the phase at 10 s the toucher uses 128 pages; 10 s later only they were touched in the last 10 s.
        guest.RunUntil(21 * Second);
        Assert.Equal(128, toucher.WorkingSetPages);
        Assert.Equal(128, guest.TouchedPages(10 * Second));
        Assert.Equal(128, guest.AnonymousPages);
        Assert.InRange(guest.Counters.WorkUnits, 2000 * 21 * 99 / 100, 2000 * 21);
    }

    [Fact]
    public void File_server_throughput_drops_when_memory_shrinks()
    {
        double OperationsPerSecond(int guestPages)
        {
            using var host = new SimulatedTestHost(machinePages: 8192, swapPages: 8192);
            var server = new FileServerWorkload(new FileServerOptions { FileSetPages = 4096, Clients = 2, ProcessPagesPerClient = 32 });
            var guest = Guest(host.PowerOn("vm", guestPages), GuestFlavour.Linux, server);
            guest.RunUntil(10 * Second);
            var warm = guest.Counters.WorkUnits;
            guest.RunUntil(20 * Second);
            Assert.Equal(0, guest.Counters.DataMismatches);
            return (guest.Counters.WorkUnits - warm) / 10.0;
        }

        var large = OperationsPerSecond(4096);
        var small = OperationsPerSecond(2048);
        Assert.True(small < large * 0.8, $"{small:0} ops/s with 2048 pages, {large:0} ops/s with 4096 pages");
    }
}
