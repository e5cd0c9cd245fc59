/*
 * What a run of real guests under the policy is given and what it gives back: the guests (QEMU
 * options, the policy's VM configuration, a balloon floor), the budget and policy options, and one
 * row per tick with the policy's decision and the substrate's figures for every guest.
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Host;
using Memvisor.Qemu.Launch;

namespace Memvisor.Qemu.Substrate;

/// <summary>One guest of a run.</summary>
/// <param name="Options">How QEMU runs it.</param>
/// <param name="Config">What the policy knows of it (max = configured memory, min, shares, overhead).</param>
/// <param name="BalloonFloorMiB">The smallest memory its balloon may leave it.</param>
public sealed record QemuRunGuest(QemuGuestOptions Options, VmConfig Config, int BalloonFloorMiB);

/// <summary>The run's settings.</summary>
public sealed record QemuRunOptions
{
    /// <summary>Host memory Memvisor may give the guests (QEMU's own memory included), in pages.</summary>
    public required long BudgetPages { get; init; }

    /// <summary>Backing for reclaimed memory, for admission (host swap plus the guests' swap disks), in pages.</summary>
    public long SwapCapacityPages { get; init; }

    /// <summary>The policy's options (idle tax and its changes over time, periods, thresholds).</summary>
    public HostPolicyOptions Policy { get; init; } = new();

    /// <summary>How often the policy runs.</summary>
    public TimeSpan Tick { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long the policy runs once the guests have booted.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>Let the policy set KSM's scan rate (every knob saved first and restored after the run).</summary>
    public bool DriveKsm { get; init; }

    /// <summary>How long a balloon may stand off target before it counts as stalled.</summary>
    public TimeSpan BalloonStallTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait for a guest's agent to report before the policy starts.</summary>
    public TimeSpan BootTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The problem with these settings in one line, or null.</summary>
    public string? Validate()
    {
        if (BudgetPages <= 0 || SwapCapacityPages < 0)
        {
            return "the budget must be positive and the swap capacity not negative";
        }

        if (Tick <= TimeSpan.Zero || Duration <= TimeSpan.Zero || BalloonStallTime <= TimeSpan.Zero || BootTimeout <= TimeSpan.Zero)
        {
            return "tick, duration, balloon stall time and boot timeout must be positive";
        }

        try
        {
            Policy.Validate();
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }

        return null;
    }
}

/// <summary>One guest in one row.</summary>
/// <param name="Name">The guest.</param>
/// <param name="Policy">What the policy decided.</param>
/// <param name="Figures">What the substrate measured.</param>
/// <param name="Agent">The agent's latest report (the truth), if any.</param>
public sealed record QemuRunVmRow(string Name, VmPolicyState Policy, QemuGuestFigures Figures, AgentReport? Agent)
{
    /// <summary>The policy's active-memory estimate: the working-set estimate times configured pages.</summary>
    public double ActivePages { get; init; }

    /// <summary>What the policy knows of the guest (min, max, shares, overhead); null when not given.</summary>
    public VmConfig? Config { get; init; }

    /// <summary>The guest's shares, resolved to a number.</summary>
    public double Shares { get; init; }
}

/// <summary>A guest admission control refused (it was never started).</summary>
/// <param name="Name">The guest.</param>
/// <param name="Reason">What did not fit.</param>
public sealed record QemuRunRefusal(string Name, string Reason);

/// <summary>A guest that stopped during the run, or never came up.</summary>
/// <param name="Name">The guest.</param>
/// <param name="Time">Policy time at which it was found gone (0: before the policy started).</param>
/// <param name="Detail">What was seen.</param>
public sealed record QemuRunDeath(string Name, TimeSpan Time, string Detail);

/// <summary>The state of the run after one tick.</summary>
/// <param name="Time">Policy time since the guests were handed to the policy.</param>
/// <param name="Tau">The idle tax in force.</param>
/// <param name="State">The free-memory state.</param>
/// <param name="FreePages">Free pages of the budget.</param>
/// <param name="Vms">Every managed guest.</param>
public sealed record QemuRunRow(TimeSpan Time, double Tau, FreeMemoryState State, long FreePages, IReadOnlyList<QemuRunVmRow> Vms);

/// <summary>What a run produced.</summary>
/// <param name="Rows">One row per tick.</param>
/// <param name="Refused">Guests admission control refused, with the reason (none of them was started).</param>
/// <param name="Faults">Everything that went wrong with guests, one line each.</param>
public sealed record QemuRunResult(IReadOnlyList<QemuRunRow> Rows, IReadOnlyList<string> Refused, IReadOnlyList<string> Faults)
{
    /// <summary>The guests admission control refused, with the reason.</summary>
    public IReadOnlyList<QemuRunRefusal> Refusals { get; init; } = [];

    /// <summary>The guests that died or never came up.</summary>
    public IReadOnlyList<QemuRunDeath> Deaths { get; init; } = [];

    /// <summary>Why host paging was off (no host swap), or null.</summary>
    public string? PagingUnavailableReason { get; init; }
}
