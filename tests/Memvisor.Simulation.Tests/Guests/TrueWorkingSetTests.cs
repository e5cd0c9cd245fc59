using Memvisor.Scenarios;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Workloads;
using static Memvisor.Simulation.Tests.Guests.GuestTestSupport;
using Memvisor.Testing;

namespace Memvisor.Simulation.Tests.Guests;

/// <summary>The true working set the guest keeps incrementally is the count a scan of every page gives.</summary>
public sealed class TrueWorkingSetTests
{
    [Fact]
    public void Incremental_count_equals_a_scan_of_every_page_through_phases_and_log_compactions()
    {
        // Two identical guests (same seed, same host size): A is asked the 2 s window every quarter second,
        // which it answers from its touch log; B is first asked a zero window, so that the 2 s window
        // starts before the last window asked for and B counts it by scanning its pages. A 1024-page
        // guest logs 2048 touches before it compacts its log: at 4,000 accesses/s plus kernel activity,
        // that happens about every half second, so the 120 checks cross dozens of compactions, and the
        // phases grow and shrink the working set (pages leave the window, freed ones come back).
        var options = new ToucherOptions
        {
            WorkingSetPages = 300,
            Pattern = AccessPattern.Zipf,
            ZipfExponent = 0.8,
            AccessesPerSecond = 4000,
            Phases = [new(8, 700), new(16, 100), new(24, 500)],
        };
        using var hostA = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        using var hostB = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var a = Guest(hostA.PowerOn("vm", 1024), GuestFlavour.Windows, new ToucherWorkload(options), kernelTouchesPerSecond: 50);
        var b = Guest(hostB.PowerOn("vm", 1024), GuestFlavour.Windows, new ToucherWorkload(options), kernelTouchesPerSecond: 50);
        var window = 2 * Second;
        var distinct = new HashSet<int>();
        for (var t = Second / 4; t <= 30 * Second; t += Second / 4)
        {
            a.RunUntil(t);
            b.RunUntil(t);
            Assert.Equal(a.NowNanoseconds, b.NowNanoseconds);
            var incremental = a.TouchedPages(window);
            _ = b.TouchedPages(0);
            var scanned = b.TouchedPages(window);
            Assert.Equal(scanned, incremental);
            distinct.Add(incremental);
        }

        // The check saw the working set move, not one value throughout.
        Assert.True(distinct.Count > 10, $"only {distinct.Count} distinct working-set sizes");
    }
}

/// <summary>The true working set is counted over VM execution time, the clock the sampler's periods run on.</summary>
public sealed class TrueWorkingSetOverExecutionTimeTests
{
    [Fact]
    public void A_guest_waiting_on_its_disk_counts_the_pages_touched_in_its_last_window_of_execution()
    {
        // Each operation computes 4 ms and reads a new block of a file (a page-cache miss: a 6 ms read from the
        // guest's virtual disk), so the guest executes 40% of its clock. Over a 2 s window of execution it
        // touches the blocks of about 500 operations; over 2 s of its clock only about 200. Readahead is off
        // (one page per read) so that every read is a miss: with the default 16-page window one read in 16
        // misses and brings the next 15 blocks in the same I/O (6 ms + 15 x 0.1 ms of transfer, all of it
        // counted as waiting on the disk), so the guest waits 7.5 ms per 64 ms of computing and executes
        // 64 / 71.5 = 89.5% of its clock, too little waiting for the two windows to differ clearly.
        using var host = new SimulatedTestHost(machinePages: 8192, swapPages: 4096);
        var workload = new ReadNewBlocks();
        var guest = GuestOs.Create(host.PowerOn("vm", 4096), new GuestOsOptions { Flavour = GuestFlavour.Linux, Image = Tiny, Seed = 1, KernelTouchesPerSecond = 0, BackgroundFileReadPagesPerSecond = 0, ReadaheadPages = 1 }, workload);
        guest.RunUntil(12 * Second);

        Assert.InRange(guest.ExecutionNanoseconds, (long)(0.39 * guest.NowNanoseconds), (long)(0.41 * guest.NowNanoseconds));
        var window = 2 * Second;
        var since = guest.ExecutionNanoseconds - window;
        var expected = workload.ReadAtExecution.Count(t => t >= since);
        Assert.InRange(expected, 450, 550);
        Assert.InRange(guest.TouchedPages(window), expected, expected + 2);
    }

    [Fact]
    public void Host_cpu_the_sharing_scanner_takes_from_a_guest_is_not_its_execution_time()
    {
        // The scanner's CPU is charged to the VMs: the guest's clock moves on while it does not run, so its
        // sampling periods (on execution time) must not advance by it.
        using var host = new SimulatedTestHost(machinePages: 8192, swapPages: 4096);
        var guest = GuestOs.Create(host.PowerOn("vm", 4096), new GuestOsOptions { Flavour = GuestFlavour.Linux, Image = Tiny, Seed = 1, KernelTouchesPerSecond = 0, BackgroundFileReadPagesPerSecond = 0 }, new ReadNewBlocks());
        guest.RunUntil(Second);
        var executed = guest.ExecutionNanoseconds;
        var clock = guest.NowNanoseconds;

        guest.ChargeHostCpu(250_000_000);

        Assert.Equal(clock + 250_000_000, guest.NowNanoseconds);
        Assert.Equal(executed, guest.ExecutionNanoseconds);
    }

    private sealed class ReadNewBlocks : IWorkload
    {
        private GuestSegment _file;
        private int _next;

        public List<long> ReadAtExecution { get; } = [];

        public string Name => "read-new-blocks";

        public string WorkUnit => "reads";

        public void Attach(GuestOs guest) => _file = guest.CreateFile(3000);

        public void Run(GuestOs guest, long untilNanoseconds)
        {
            while (guest.NowNanoseconds < untilNanoseconds)
            {
                guest.Compute(4_000_000);
                ReadAtExecution.Add(guest.ExecutionNanoseconds);
                guest.Read(_file.First + _next++);
                guest.CompleteWork(1);
            }
        }
    }
}
