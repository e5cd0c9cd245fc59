/*
 * A QEMU VM as the managing substrate sees it, whether Memvisor started it (QemuGuest) or attached to
 * it through its QMP socket (AttachedQemu): its name and configured memory, the QEMU process, its QMP
 * connection, its guest-RAM mapping, and the balloon device's QOM path. Monitoring and the policy's
 * ports work on this, so both kinds are measured and driven the same way.
 */
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Qmp;

namespace Memvisor.Qemu.Launch;

/// <summary>A QEMU VM under management.</summary>
public interface IQemuVm
{
    /// <summary>The VM's name (in tables and fault lines).</summary>
    string Name { get; }

    /// <summary>Configured guest memory, MiB.</summary>
    int MemoryMiB { get; }

    /// <summary>The QEMU process.</summary>
    int Pid { get; }

    /// <summary>The QMP connection.</summary>
    QmpClient Qmp { get; }

    /// <summary>The guest-RAM mapping in the QEMU process (null when not found).</summary>
    GuestRamMapping? RamMapping { get; }

    /// <summary>The QOM path of the balloon device (for guest statistics).</summary>
    string BalloonPath { get; }

    /// <summary>True once QEMU has exited.</summary>
    bool HasExited { get; }

    /// <summary>The guest agent's latest report (the truth), or null: none yet, or no agent (an attached VM).</summary>
    AgentReport? LatestReport { get; }
}
