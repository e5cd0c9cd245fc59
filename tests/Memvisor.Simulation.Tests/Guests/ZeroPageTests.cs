using Memvisor.Scenarios;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Workloads;
using static Memvisor.Simulation.Tests.Guests.GuestTestSupport;

namespace Memvisor.Simulation.Tests.Guests;

public sealed class ZeroPageTests
{
    [Fact]
    public void A_Linux_read_of_never_written_anonymous_memory_maps_the_one_zero_page_and_a_write_gets_its_own_frame()
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var segment = default(GuestSegment);
        var guest = Guest(host.PowerOn("linux", 1024), GuestFlavour.Linux, new ScriptedWorkload(g => segment = g.CreateAnonymous(200)));
        guest.Boot();
        var freeBefore = guest.FreePages;
        var untouchedBefore = host.Manager.GetVmStats(guest.Id).UntouchedPages;
        for (var i = 0; i < 200; i++)
        {
            guest.Read(segment.Page(i));
        }

        // No frame was allocated or zeroed: the guest's free memory and the host's untouched memory are as they were.
        Assert.Equal(0, guest.AnonymousPages);
        Assert.Equal(freeBefore, guest.FreePages);
        Assert.Equal(untouchedBefore, host.Manager.GetVmStats(guest.Id).UntouchedPages);
        Assert.Equal(200, guest.Counters.ZeroPageMaps);

        // Copy-on-write: the first write takes a frame; the data is kept, and the other pages still read zero.
        var token = guest.NewToken();
        guest.Write(segment.Page(5), token);
        Assert.Equal(1, guest.AnonymousPages);
        Assert.Equal(freeBefore - 1, guest.FreePages);
        guest.Read(segment.Page(5));
        guest.Read(segment.Page(6));
        var written = PagesUsedFor(guest, GuestPageUse.Anonymous).Single();
        Assert.Equal(token, guest.RecordedContentOf(written));

        // Releasing a page that maps the zero page frees nothing (the zero page stays the kernel's).
        guest.Release(segment.Page(6));
        guest.Release(segment.Page(5));
        Assert.Equal(freeBefore, guest.FreePages);
        Assert.Equal(0, guest.Counters.DataMismatches);
        guest.Read(segment.Page(6));
        Assert.Equal(0, guest.Counters.DataMismatches);
    }

    [Fact]
    public void A_Windows_read_of_never_written_memory_takes_a_zeroed_page_as_before()
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var segment = default(GuestSegment);
        var guest = Guest(host.PowerOn("windows", 1024), GuestFlavour.Windows, new ScriptedWorkload(g => segment = g.CreateAnonymous(200)));
        guest.RunUntil(1 * Second);
        for (var i = 0; i < 200; i++)
        {
            guest.Read(segment.Page(i));
        }

        Assert.Equal(200, guest.AnonymousPages);
        Assert.Equal(0, guest.Counters.ZeroPageMaps);
        Assert.Equal(0, guest.Counters.DataMismatches);
    }

    [Fact]
    public void Network_receive_into_a_page_that_maps_the_zero_page_gets_its_own_frame()
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var segment = default(GuestSegment);
        var guest = Guest(host.PowerOn("linux", 1024), GuestFlavour.Linux, new ScriptedWorkload(g => segment = g.CreateAnonymous(4)));
        guest.Boot();
        guest.Read(segment.Page(0));
        guest.Read(segment.Page(1));
        guest.Transmit(segment.Page(1));
        guest.Receive(segment.Page(0), guest.NewToken());
        guest.Read(segment.Page(0));
        guest.Read(segment.Page(1));
        Assert.Equal(1, guest.AnonymousPages);
        Assert.Equal(0, guest.Counters.DataMismatches);
    }

    [Fact]
    public void A_toucher_that_only_reads_still_initialises_its_working_set_on_Linux()
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var toucher = new ToucherWorkload(new ToucherOptions { WorkingSetPages = 300, WriteFraction = 0 });
        var guest = Guest(host.PowerOn("linux", 1024), GuestFlavour.Linux, toucher);
        guest.RunUntil(5 * Second);

        // A program writes what it allocates before it reads it: every page of the working set has a frame.
        Assert.Equal(300, guest.AnonymousPages);
        Assert.Equal(0, guest.Counters.ZeroPageMaps);
        Assert.Equal(0, guest.Counters.DataMismatches);
    }
}
