using Memvisor.Core.Memory;
using Memvisor.Scenarios;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Images;
using Memvisor.Simulation.Memory;
using Memvisor.Simulation.Workloads;

namespace Memvisor.Simulation.Tests.Guests;

/// <summary>Small guests for tests: a tiny image, short runs.</summary>
internal static class GuestTestSupport
{
    public const long Second = 1_000_000_000;

    /// <summary>64 kernel pages (a quarter zero), 1% kernel structures, 512 library pages, 1024 pages of system files.</summary>
    public static readonly GuestImage Tiny = new() { Name = "tiny", KernelPages = 64, KernelZeroPercent = 25, KernelReservedPercent = 1, LibraryPages = 512, SystemPages = 1024 };

    /// <summary>A guest with no background activity unless asked (kernel touches, system file reads), so that tests can count pages exactly.</summary>
    public static GuestOs Guest(GuestPhysicalMemory memory, GuestFlavour flavour, IWorkload? workload, ulong seed = 1, double kernelTouchesPerSecond = 0, int? swapPages = null, GuestImage? image = null, double systemFileReadsPerSecond = 0) =>
        GuestOs.Create(memory, new GuestOsOptions { Flavour = flavour, Image = image ?? Tiny, Seed = seed, KernelTouchesPerSecond = kernelTouchesPerSecond, SwapPages = swapPages, BackgroundFileReadPagesPerSecond = systemFileReadsPerSecond }, workload);

    /// <summary>The guest physical pages currently used for <paramref name="use"/>.</summary>
    public static List<Ppn> PagesUsedFor(GuestOs guest, GuestPageUse use)
    {
        var pages = new List<Ppn>();
        for (var p = 0u; p < guest.PageCount; p++)
        {
            if (guest.UseOf(new Ppn(p)) == use)
            {
                pages.Add(new Ppn(p));
            }
        }

        return pages;
    }
}

/// <summary>A workload driven by the test: each step runs <see cref="Step"/> and computes for a while; with no step it idles.</summary>
internal sealed class ScriptedWorkload(Action<GuestOs> attach) : IWorkload
{
    public string Name => "scripted";

    public string WorkUnit => "steps";

    public Action<GuestOs>? Step { get; set; }

    public long StepNanoseconds { get; set; } = 1_000_000;

    public void Attach(GuestOs guest) => attach(guest);

    public void Run(GuestOs guest, long untilNanoseconds)
    {
        while (guest.NowNanoseconds < untilNanoseconds)
        {
            if (Step is null)
            {
                guest.Idle(untilNanoseconds - guest.NowNanoseconds);
                return;
            }

            Step(guest);
            guest.Compute(StepNanoseconds);
            guest.CompleteWork(1);
        }
    }
}
