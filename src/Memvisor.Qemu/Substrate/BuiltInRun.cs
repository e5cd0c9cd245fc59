/*
 * The built-in real-guest scenario of `memvisor host run`: three 256 MiB guests on a budget of
 * 704 MiB, QEMU's own ~90 MiB per guest under TCG included: with it, what the guests may hold (about
 * 430 MiB) is their 768 MiB overcommitted 1.8x, and guests plus QEMU (about 1,050 MiB) overcommit the
 * budget 1.5x, so the policy has to choose. "web" touches 96 MiB all the time; "batch" touches 32 MiB
 * for a minute, then 128; "idle" fills 128 MiB and touches none of it. Min 64 MiB each; every guest
 * has a swap disk of max - min, so its balloon can take memory the guest holds. Idle tax 0.75;
 * sampling and balance every 5 s (the paper's 30 s and 15 s would need a longer run to show the
 * same), estimates starting at 0. Within a minute or two the idle guest is ballooned well below the
 * others; when batch grows, its target rises. Each guest has an image of its own: no data is shared.
 */
using Memvisor.Core.Allocation;
using Memvisor.Qemu.Images;
using Memvisor.Scenarios;

namespace Memvisor.Qemu.Substrate;

/// <summary>The built-in run.</summary>
public static class BuiltInRun
{
    /// <summary>The built-in real-guest scenario (180 s of policy).</summary>
    public static Scenario Scenario { get; } = new()
    {
        Name = "real-guests",
        Description = "Three 256 MiB Linux guests under QEMU on a 704 MiB budget (QEMU's own memory included): web touches 96 MiB, batch 32 MiB then 128 MiB after a minute, idle holds 128 MiB it never touches. Idle tax 0.75.",
        DurationSeconds = 180,
        SampleIntervalSeconds = 1,
        Host = new HostSpec
        {
            MemoryMB = 704,
            SwapMB = 3 * 192,
            IdleTax = 0.75,
            BalancePeriodSeconds = 5,
            SamplingPeriodSeconds = 5,
            SamplingInitialActivePercent = 0,
            ShareScanHostPagesPerSecond = 10_000,
        },
        Vms =
        [
            Vm("web", new WorkloadSpec { Kind = WorkloadKind.Toucher, WorkingSetMB = 96 }),
            Vm("batch", new WorkloadSpec { Kind = WorkloadKind.Toucher, WorkingSetMB = 32, Phases = [new WorkloadPhase(60, 128)] }),
            Vm("idle", new WorkloadSpec { Kind = WorkloadKind.Idle, WorkingSetMB = 128 }),
        ],
    };

    /// <summary>The run's settings and guests for <paramref name="image"/>, running for <paramref name="duration"/>.</summary>
    public static (QemuRunOptions Options, IReadOnlyList<QemuRunGuest> Guests) Create(GuestImage image, TimeSpan duration)
    {
        var guests = ScenarioGuests.Of(Scenario with { DurationSeconds = duration.TotalSeconds }, image, availableMiB: null);
        return (guests.Options, guests.Guests);
    }

    private static VmSpec Vm(string name, WorkloadSpec workload) => new()
    {
        Name = name,
        MemoryMB = 256,
        MinMB = 64,
        Shares = Shares.Normal,
        Image = name,
        Workload = workload,
    };
}
