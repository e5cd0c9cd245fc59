/*
 * The built-in real-guest run of `memvisor host run`: three 256 MiB guests on a budget of 560 MiB
 * (QEMU's own ~90 MiB per guest under TCG included), so the host is overcommitted and the policy has
 * to choose. "web" touches 96 of its 128 MiB all the time; "batch" touches 32 MiB for a minute, then
 * all 128; "idle" fills 128 MiB and touches none. Each has a 256 MiB guest swap disk, so its balloon
 * can take memory the guest holds. Idle tax 0.75; sampling and balance every 5 s (the paper's 30 s
 * and 15 s would need a longer run to show the same). Within a minute or two the idle guest is
 * ballooned well below the others; when batch grows, its target rises.
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Host;
using Memvisor.Core.Sampling;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Launch;

namespace Memvisor.Qemu.Substrate;

/// <summary>The built-in run.</summary>
public static class BuiltInRun
{
    private const int PagesPerMiB = 256;

    /// <summary>The run's settings and guests for <paramref name="image"/>, running for <paramref name="duration"/>.</summary>
    public static (QemuRunOptions Options, IReadOnlyList<QemuRunGuest> Guests) Create(GuestImage image, TimeSpan duration)
    {
        var options = new QemuRunOptions
        {
            BudgetPages = 560 * PagesPerMiB,
            SwapCapacityPages = 3 * 256 * PagesPerMiB,
            Tick = TimeSpan.FromSeconds(1),
            Duration = duration,
            Policy = new HostPolicyOptions
            {
                Allocation = new AllocationOptions { Tau = 0.75, BalancePeriodSeconds = 5 },
                Sampling = new SamplingOptions { PeriodSeconds = 5, InitialActiveFraction = 0 },
            },
        };
        QemuRunGuest[] guests =
        [
            Guest(image, "web", ["mode=toucher", "alloc_mib=128", "phases=96:0", "fill=unique"]),
            Guest(image, "batch", ["mode=toucher", "alloc_mib=128", "phases=32:60,128:0", "fill=unique"]),
            Guest(image, "idle", ["mode=idle", "alloc_mib=128", "fill=unique"]),
        ];
        return (options, guests);
    }

    private static QemuRunGuest Guest(GuestImage image, string name, string[] agent) => new(
        new QemuGuestOptions
        {
            Name = name,
            MemoryMiB = 256,
            Image = image,
            GuestSwapMiB = 256,
            Agent = agent.Select(a => a.Split('=')).ToDictionary(a => a[0], a => a[1]),
        },
        new VmConfig { Name = name, MaxPages = 256 * PagesPerMiB, MinPages = 64 * PagesPerMiB },
        BalloonFloorMiB: 64);
}
