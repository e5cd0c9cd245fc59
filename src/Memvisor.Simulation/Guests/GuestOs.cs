/*
 * A simulated guest operating system: the party that, in the paper, knows which of its pages are least
 * valuable (§3.1, §3.2). Ballooning works because the guest's own allocator and replacement policy
 * decide what to give up; host paging bypasses them, which is what causes double paging.
 *
 * Data structures (all arrays, nothing allocated per access):
 *   - per guest physical page (PPN): its use (free, kernel, anonymous, page cache, balloon), the logical
 *     page it holds, the token of what the guest last wrote there (its record of the page's contents),
 *     a referenced bit for clock replacement, and the simulated time it was last touched (the true
 *     working set);
 *   - free lists: pages with stale contents, and (Windows) pages the zero-page thread has zeroed;
 *   - logical pages (what workloads address): anonymous memory and file blocks, each with the PPN it is
 *     in (or none), the token the workload last wrote, the token its virtual disk holds (guest swap slot
 *     or file block), and flags (file, dirty, in swap).
 * Every access goes through GuestPhysicalMemory, so it faults into Core on a miss exactly as the fault
 * contract says; the guest charges what the fault cost (LatencyModel) to its simulated clock, and checks
 * the bytes it reads against its record: DataMismatches counts every difference. A read compares all
 * 4 KiB unless the machine page holds the recorded contents for certain (the guest wrote or fully
 * compared them and no writable span of the page was handed out since: NativeMachineMemory).
 *
 * Time: the guest has its own simulated clock. RunUntil runs background work (kernel activity, the
 * zero-page thread, balloon polls) once per slice and the workload in between; workload computation,
 * host fault stalls and virtual disk I/O advance the clock, so throughput falls when memory is short.
 */
using Memvisor.Core.Balloon;
using Memvisor.Core.Memory;
using Memvisor.Core.Util;
using Memvisor.Scenarios;
using Memvisor.Simulation.Images;
using Memvisor.Simulation.Memory;
using Memvisor.Simulation.Workloads;

namespace Memvisor.Simulation.Guests;

/// <summary>What a guest physical page is used for.</summary>
public enum GuestPageUse : byte
{
    /// <summary>On a free list.</summary>
    Free = 0,

    /// <summary>Kernel text, data and structures: never reclaimed.</summary>
    Kernel = 1,

    /// <summary>Anonymous memory of the workload (swappable to the guest's swap).</summary>
    Anonymous = 2,

    /// <summary>A file block in the page cache (dropped, or written back when dirty).</summary>
    PageCache = 3,

    /// <summary>Held by the balloon driver: handed to the host.</summary>
    Balloon = 4,
}

/// <summary>A range of logical pages a workload addresses: anonymous memory or a file.</summary>
/// <param name="First">The first logical page.</param>
/// <param name="Pages">How many pages.</param>
public readonly record struct GuestSegment(int First, int Pages)
{
    /// <summary>The logical page <paramref name="index"/> of the segment.</summary>
    public int Page(int index) => (uint)index < (uint)Pages ? First + index : throw new ArgumentOutOfRangeException(nameof(index), $"Page {index} of a {Pages}-page segment.");
}

/// <summary>A simulated guest operating system on a simulated VM's physical memory.</summary>
public abstract partial class GuestOs
{
    private const int NoPage = -1;
    private const long NeverTouched = long.MinValue;

    private readonly GuestPhysicalMemory _memory;
    private readonly LatencyModel _latency;
    private readonly DeterministicRandom _random;
    private readonly int _bootPages;
    private readonly ulong _contentSalt;
    private ulong _tokenCounter;
    private readonly long _start;
    private long _now;
    private long _nextBackground;
    private long _lastBackground;
    private double _kernelTouchCredit;
    private bool _inBackground;
    private bool _evicting;

    /// <summary>Creates a guest on <paramref name="memory"/>; it boots at <paramref name="startNanoseconds"/> on its first <see cref="RunUntil"/>.</summary>
    protected GuestOs(GuestPhysicalMemory memory, GuestOsOptions options, IWorkload? workload, long startNanoseconds)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(memory.PageCount);
        _memory = memory;
        Options = options;
        Image = options.ImageOrDefault;
        _latency = options.Latency;
        _random = new DeterministicRandom(options.Seed);
        // Private contents depend on the seed and the VM: two VMs never write the same private page by accident.
        _contentSalt = PageContent.Mix(options.Seed, memory.Id.Value);
        Workload = workload;
        var pages = memory.PageCount;
        _bootPages = Image.BootPages(pages);
        SwapPages = options.SwapPages ?? pages;
        _ppn = new PhysicalPage[pages];
        _free = new int[pages];
        _zeroed = new int[pages];
        _usesStandby = options.Flavour == GuestFlavour.Windows;
        if (_usesStandby)
        {
            _standbyNext = new int[pages];
            _standbyPrev = new int[pages];
        }
        Array.Fill(_ppn, new PhysicalPage { Owner = NoPage, Expected = PageContent.Unknown, LastTouch = NeverTouched });
        _now = startNanoseconds;
        _start = startNanoseconds;
    }

    /// <summary>Creates a guest of the flavour <paramref name="options"/> names.</summary>
    public static GuestOs Create(GuestPhysicalMemory memory, GuestOsOptions options, IWorkload? workload = null, long startNanoseconds = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Flavour switch
        {
            GuestFlavour.Linux => new LinuxGuest(memory, options, workload, startNanoseconds),
            GuestFlavour.Windows => new WindowsGuest(memory, options, workload, startNanoseconds),
            _ => throw new ArgumentException($"Guest flavour: {options.Flavour}; must be Linux or Windows.", nameof(options)),
        };
    }

    /// <summary>The operating system.</summary>
    public abstract GuestFlavour Flavour { get; }

    /// <summary>The guest's physical memory (its VM on the host).</summary>
    public GuestPhysicalMemory Memory => _memory;

    /// <summary>The VM's id on the host.</summary>
    public VmId Id => _memory.Id;

    /// <summary>How the guest was set up.</summary>
    public GuestOsOptions Options { get; }

    /// <summary>The image the guest booted from.</summary>
    public GuestImage Image { get; }

    /// <summary>The workload, or null for an idle guest.</summary>
    public IWorkload? Workload { get; }

    /// <summary>The balloon driver, or null when none is installed.</summary>
    public BalloonDriver? Balloon { get; private set; }

    /// <summary>What the guest did and what it cost.</summary>
    public GuestCounters Counters { get; } = new();

    /// <summary>The guest's simulated clock, in nanoseconds.</summary>
    public long NowNanoseconds => _now;

    /// <summary>
    /// VM execution time since power-on, in nanoseconds: the clock less what the workload waited for the host
    /// (faults, host swap-in) or for its own virtual disk and guest faults, and less time descheduled. The paper's
    /// sampling periods run on it, and the true working set is counted over it. Time in the idle loop counts: an
    /// idle guest is waiting for nothing, so its periods end and its idle memory shows.
    /// </summary>
    public long ExecutionNanoseconds => _now - _start - Counters.HostStallNanoseconds - Counters.GuestStallNanoseconds - Counters.DescheduledNanoseconds - Counters.ScannerNanoseconds;

    /// <summary>True once the guest has booted.</summary>
    public bool IsBooted { get; private set; }

    /// <summary>The first data mismatch found, described (null while there is none).</summary>
    public string? FirstMismatch { get; private set; }

    /// <summary>Guest physical pages.</summary>
    public int PageCount => _ppn.Length;

    /// <summary>Pages of the guest's own swap area.</summary>
    public int SwapPages { get; }

    /// <summary>Installs a balloon driver talking to the host through <paramref name="channel"/> (a VM without one has no balloon).</summary>
    public BalloonDriver InstallBalloonDriver(BalloonChannel channel, BalloonDriverOptions? options = null)
    {
        if (Balloon is not null)
        {
            throw new InvalidOperationException($"{Id}: a balloon driver is already installed.");
        }

        Balloon = new BalloonDriver(this, channel, options ?? new BalloonDriverOptions());
        return Balloon;
    }

    /// <summary>Boots the guest now (RunUntil boots it if needed): loads the kernel, builds the free list, attaches the workload.</summary>
    public void Boot()
    {
        if (IsBooted)
        {
            return;
        }

        IsBooted = true;
        for (var p = 0; p < _bootPages; p++)
        {
            var token = p < Image.KernelPages
                ? Image.Token(GuestImage.File.Kernel, p)
                : PageContent.Mix(_contentSalt, 0x4B52_5356_0000_0000UL | (uint)p);
            FillPhysical(p, token);
            _ppn[p].Expected = token;
            _ppn[p].Use = GuestPageUse.Kernel;
        }

        if (Flavour == GuestFlavour.Linux)
        {
            // Linux's empty_zero_page lives in the kernel image's zero-filled data: the first zero page of the image.
            for (var p = 0; p < Image.KernelPages && _zeroPage == NoPage; p++)
            {
                if (_ppn[p].Expected == PageContent.Zero)
                {
                    _zeroPage = p;
                }
            }
        }

        // Pushed from the top so that allocation takes the lowest free page first.
        for (var p = PageCount - 1; p >= _bootPages; p--)
        {
            _free[_freeCount++] = p;
        }

        OpenSystemFiles();
        _lastBackground = _now;
        _nextBackground = _now;
        Balloon?.Start(_now);
        Workload?.Attach(this);
    }

    /// <summary>Runs the guest (background work and workload) until its clock reaches <paramref name="untilNanoseconds"/>; it may overrun by one operation.</summary>
    public void RunUntil(long untilNanoseconds)
    {
        Boot();
        while (_now < untilNanoseconds)
        {
            if (_now >= _nextBackground)
            {
                RunBackground();
                _nextBackground = _now + Options.BackgroundSliceNanoseconds;
            }

            var sliceEnd = Math.Min(untilNanoseconds, _nextBackground);
            if (Workload is null)
            {
                _now = sliceEnd;
            }
            else
            {
                var before = _now;
                Workload.Run(this, sliceEnd);
                if (_now < sliceEnd && _now == before)
                {
                    throw new InvalidOperationException($"Workload '{Workload.Name}' on {Id} returned at {_now} ns without reaching {sliceEnd} ns.");
                }
            }
        }
    }

    /// <summary>
    /// The host does not run the VM (blocked in the low free-memory state) until
    /// <paramref name="untilNanoseconds"/>: its clock advances and nothing in it runs, background work included.
    /// </summary>
    public void Deschedule(long untilNanoseconds)
    {
        Boot();
        if (untilNanoseconds > _now)
        {
            Counters.DescheduledNanoseconds += untilNanoseconds - _now;
            _now = untilNanoseconds;
        }
    }

    /// <summary>What guest page <paramref name="ppn"/> is used for.</summary>
    public GuestPageUse UseOf(Ppn ppn) => _ppn[CheckPpn(ppn)].Use;

    /// <summary>The token of what the guest last wrote to <paramref name="ppn"/> (<see cref="PageContent.Unknown"/> if it cannot know).</summary>
    public ulong RecordedContentOf(Ppn ppn) => _ppn[CheckPpn(ppn)].Expected;

    /// <summary>Simulated CPU work by the workload: advances the clock.</summary>
    public void Compute(long nanoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nanoseconds);
        _now += nanoseconds;
        Counters.CpuNanoseconds += nanoseconds;
    }

    /// <summary>
    /// The host used <paramref name="nanoseconds"/> of the VM's CPU for its own work on the VM's pages (the
    /// sharing scanner's hashing and comparisons): the clock advances and the workload loses that time.
    /// </summary>
    public void ChargeHostCpu(long nanoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nanoseconds);
        _now += nanoseconds;
        Counters.ScannerNanoseconds += nanoseconds;
    }

    /// <summary>The workload waits (sleeps, or has nothing to do): advances the clock without computing.</summary>
    public void Idle(long nanoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nanoseconds);
        _now += nanoseconds;
    }

    /// <summary>The workload completed <paramref name="units"/> units of work.</summary>
    public void CompleteWork(long units) => Counters.WorkUnits += units;

    /// <summary>A token for new contents no other write of this guest has used.</summary>
    public ulong NewToken() => PageContent.Mix(_contentSalt, 0x5752_4954_0000_0000UL + ++_tokenCounter);

    /// <summary>A random generator for a component of this guest (a workload), independent of the guest's own draws.</summary>
    public DeterministicRandom ForkRandom(ulong salt) => _random.Fork(salt);

    /// <summary>Background work of the flavour (Windows: the zero-page thread), for <paramref name="seconds"/> of simulated time.</summary>
    protected virtual void RunFlavourBackground(double seconds)
    {
    }

    private void RunBackground()
    {
        var seconds = (_now - _lastBackground) / 1e9;
        _lastBackground = _now;
        _inBackground = true;
        try
        {
            _kernelTouchCredit += Options.KernelTouchesPerSecond * seconds;
            var kernelPages = Math.Min(Options.KernelActivePages, _bootPages);
            while (_kernelTouchCredit >= 1)
            {
                _kernelTouchCredit--;
                var p = _random.NextInt32(kernelPages);
                ReadAndVerify(p, NoPage);
            }

            RunFlavourBackground(seconds);
            ReadSystemFiles(seconds);
            Balloon?.PollIfDue(_now);
        }
        finally
        {
            _inBackground = false;
        }
    }

    private int CheckPpn(Ppn ppn) =>
        ppn.Value < (uint)_ppn.Length ? (int)ppn.Value : throw new ArgumentOutOfRangeException(nameof(ppn), $"{Id}: {ppn} is beyond its {_ppn.Length} pages.");
}
