/*
 * Everything measurable about one QEMU guest at one moment: what the policy's measurement port will
 * be fed from on this substrate. Each figure is null when its source failed, and the failure is one
 * line in Faults (a QMP timeout, a closed socket, a vanished process): a fault of one guest is
 * reported and the run goes on.
 */
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Qmp;

namespace Memvisor.Qemu.Monitoring;

/// <summary>One guest's measurements.</summary>
/// <param name="Time">When the sample was taken.</param>
/// <param name="Name">The guest's name.</param>
/// <param name="Alive">QEMU is still running.</param>
/// <param name="Status">The run state (query-status).</param>
/// <param name="ConfiguredBytes">The guest's configured memory.</param>
/// <param name="BalloonActualBytes">The guest's memory now: configured minus balloon (query-balloon).</param>
/// <param name="Ram">The guest-RAM mapping's smaps figures (RSS, Referenced, Swap, KSM).</param>
/// <param name="WorkingSet">The working-set meter's reading, when a meter completed a period with this sample.</param>
/// <param name="Ksm">KSM's per-process figures (merging pages: what sharing saves for this VM).</param>
/// <param name="GuestStats">The balloon driver's guest statistics.</param>
/// <param name="Agent">The agent's latest report: the truth.</param>
/// <param name="Faults">What could not be measured, one line each.</param>
public sealed record GuestSample(
    DateTimeOffset Time,
    string Name,
    bool Alive,
    VmStatus? Status,
    long ConfiguredBytes,
    long? BalloonActualBytes,
    GuestRamUsage? Ram,
    WorkingSetReading? WorkingSet,
    GuestKsm? Ksm,
    GuestMemoryStats? GuestStats,
    AgentReport? Agent,
    IReadOnlyList<string> Faults)
{
    /// <summary>Wall time of this sample's smaps read of guest RAM (null when it was not read).</summary>
    public TimeSpan? RamReadCost { get; init; }
}
