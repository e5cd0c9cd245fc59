using Memvisor.Scenarios;
using Memvisor.Simulation.Images;

namespace Memvisor.Simulation.Guests;

/// <summary>How a simulated guest operating system is set up.</summary>
public sealed record GuestOsOptions
{
    /// <summary>The operating system.</summary>
    public GuestFlavour Flavour { get; init; } = GuestFlavour.Linux;

    /// <summary>The image the guest boots from; null: the flavour's default image (<see cref="GuestImage.Linux"/>, <see cref="GuestImage.Windows"/>).</summary>
    public GuestImage? Image { get; init; }

    /// <summary>The guest's own swap area on its virtual disk, in pages; null: as large as its memory.</summary>
    public int? SwapPages { get; init; }

    /// <summary>Pages the guest reclaims at a time when its free list runs empty (Linux's SWAP_CLUSTER_MAX).</summary>
    public int ReclaimBatchPages { get; init; } = 32;

    /// <summary>Kernel pages the idle kernel keeps touching (timer, daemons).</summary>
    public int KernelActivePages { get; init; } = 256;

    /// <summary>Kernel page touches per simulated second (background activity of an otherwise idle guest).</summary>
    public double KernelTouchesPerSecond { get; init; } = 100;

    /// <summary>Windows only: pages the zero-page thread zeroes per simulated second (it zeroes all free memory after boot, then freed pages).</summary>
    public double ZeroPageThreadPagesPerSecond { get; init; } = 16384;

    /// <summary>How often background work (zero-page thread, kernel activity, balloon polls) runs, in simulated nanoseconds.</summary>
    public long BackgroundSliceNanoseconds { get; init; } = 10_000_000;

    /// <summary>What simulated events cost.</summary>
    public LatencyModel Latency { get; init; } = LatencyModel.Default;

    /// <summary>The host's swap device, shared by the host's VMs: a host swap-in waits until its request completes. Null: a fixed <see cref="LatencyModel.HostSwapInNanoseconds"/>.</summary>
    public Memvisor.Simulation.Memory.SwapDisk? HostSwapDevice { get; init; }

    /// <summary>Seed of the guest's random choices and of its private page contents.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The image, defaulted by flavour.</summary>
    public GuestImage ImageOrDefault => Image ?? (Flavour == GuestFlavour.Windows ? GuestImage.Windows() : GuestImage.Linux());

    /// <summary>Throws <see cref="ArgumentException"/> naming the field, the value and the rule when an option is invalid.</summary>
    public void Validate(int guestPages)
    {
        ImageOrDefault.Validate();
        Latency.Validate();
        var boot = ImageOrDefault.BootPages(guestPages);
        if (boot >= guestPages)
        {
            throw new ArgumentException($"Guest image '{ImageOrDefault.Name}': the kernel takes {boot} pages at boot; the guest has only {guestPages}.");
        }

        if (SwapPages is < 0)
        {
            throw new ArgumentException($"Guest swap: {SwapPages} pages; must not be negative.");
        }

        if (ReclaimBatchPages < 1)
        {
            throw new ArgumentException($"Guest reclaim batch: {ReclaimBatchPages} pages; must be at least 1.");
        }

        if (KernelActivePages < 1)
        {
            throw new ArgumentException($"Guest kernel active pages: {KernelActivePages}; must be at least 1.");
        }

        if (KernelTouchesPerSecond < 0 || !double.IsFinite(KernelTouchesPerSecond))
        {
            throw new ArgumentException($"Guest kernel touches: {KernelTouchesPerSecond} per second; must be finite and not negative.");
        }

        if (ZeroPageThreadPagesPerSecond < 0 || !double.IsFinite(ZeroPageThreadPagesPerSecond))
        {
            throw new ArgumentException($"Guest zero-page thread: {ZeroPageThreadPagesPerSecond} pages per second; must be finite and not negative.");
        }

        if (BackgroundSliceNanoseconds < 1_000)
        {
            throw new ArgumentException($"Guest background slice: {BackgroundSliceNanoseconds} ns; must be at least 1000 ns.");
        }
    }
}
