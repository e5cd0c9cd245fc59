using Memvisor.Scenarios;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Memory;
using Memvisor.Simulation.Workloads;
using static Memvisor.Simulation.Tests.Guests.GuestTestSupport;

namespace Memvisor.Simulation.Tests.Memory;

/// <summary>Issue 13, item 4: the host swap device is a queue with a latency per request and a bandwidth.</summary>
public sealed class SwapDiskTests
{
    // 100 MiB/s: 4 KiB in 39,062.5 ns; 6 ms per request.
    private const long Latency = 6_000_000;
    private const double PageNanoseconds = 4096 * 1e9 / (100.0 * 1024 * 1024);

    [Fact]
    public void A_burst_of_page_outs_completes_after_the_latency_and_its_pages_at_the_bandwidth()
    {
        var disk = new SwapDisk(Latency, 100);
        var done = disk.Submit(1_000_000, 2560);
        Assert.Equal(1_000_000 + Latency + (long)Math.Round(2560 * PageNanoseconds), done);
        Assert.Equal(done, disk.BusyUntilNanoseconds);
    }

    [Fact]
    public void A_swap_in_waits_behind_what_is_queued_and_a_second_vms_behind_the_first()
    {
        var disk = new SwapDisk(Latency, 100);
        var burst = disk.Submit(0, 2560);
        var first = disk.Submit(5_000_000, 1);
        var second = disk.Submit(5_000_001, 1);
        Assert.Equal(burst + Latency + (long)Math.Round(PageNanoseconds), first);
        Assert.Equal(first + Latency + (long)Math.Round(PageNanoseconds), second);

        // An idle device serves a request at once.
        var later = disk.Submit(second + 1_000_000_000, 1);
        Assert.Equal(second + 1_000_000_000 + Latency + (long)Math.Round(PageNanoseconds), later);
    }

    [Fact]
    public void Writable_pages_are_what_a_write_submitted_now_completes_within_the_horizon()
    {
        var disk = new SwapDisk(Latency, 100);
        var tick = 100_000_000L;
        Assert.Equal((int)Math.Floor((tick - Latency) / PageNanoseconds), disk.WritablePages(0, tick));
        var busy = disk.Submit(0, 1000);
        Assert.Equal((int)Math.Floor((tick - busy - Latency) / PageNanoseconds), disk.WritablePages(0, tick));
        disk.Submit(0, disk.WritablePages(0, tick));
        Assert.Equal(0, disk.WritablePages(0, tick));
        Assert.True(disk.BusyUntilNanoseconds <= tick);
    }

    [Fact]
    public void A_host_swap_in_stalls_the_faulting_vm_until_its_request_completes_behind_the_queue()
    {
        // One page written by the guest, then swapped out by the host. A write burst of 2,560 pages is queued
        // on the device at the moment the guest reads the page back: the guest waits for the burst, then for
        // its own read (a fixed 6 ms before the device was modelled).
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var disk = new SwapDisk(Latency, 100);
        var workload = new WriteThenReadOnePage();
        var memory = host.PowerOn("vm", 1024);
        var guest = GuestOs.Create(memory, new GuestOsOptions { Flavour = GuestFlavour.Linux, Image = Tiny, KernelTouchesPerSecond = 0, HostSwapDevice = disk }, workload);
        guest.RunUntil(Second);
        host.Manager.SwapOut(guest.Id, 1024);
        workload.ReadAt = guest.NowNanoseconds;
        var burst = disk.Submit(workload.ReadAt, 2560);
        var stalledBefore = guest.Counters.HostStallNanoseconds;
        guest.RunUntil(2 * Second);

        Assert.Equal(1, workload.Reads);
        Assert.Equal(burst + Latency + (long)Math.Round(PageNanoseconds) - workload.ReadAt, guest.Counters.HostStallNanoseconds - stalledBefore);
    }

    private sealed class WriteThenReadOnePage : IWorkload
    {
        private GuestSegment _page;
        private bool _written;

        public long ReadAt { get; set; } = long.MaxValue;

        public int Reads { get; private set; }

        public string Name => "write-then-read";

        public string WorkUnit => "reads";

        public void Attach(GuestOs guest) => _page = guest.CreateAnonymous(1);

        public void Run(GuestOs guest, long untilNanoseconds)
        {
            if (!_written)
            {
                guest.Write(_page.First, guest.NewToken());
                _written = true;
            }

            if (guest.NowNanoseconds >= ReadAt && Reads == 0)
            {
                guest.Read(_page.First);
                Reads++;
            }

            if (guest.NowNanoseconds < untilNanoseconds)
            {
                guest.Idle(untilNanoseconds - guest.NowNanoseconds);
            }
        }
    }
}
