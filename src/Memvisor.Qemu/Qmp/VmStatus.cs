/*
 * A VM's run state as QMP's query-status reports it. QEMU has about twenty states; the ones that
 * matter to a memory manager are mapped (a guest halted by a KVM emulation failure is
 * InternalError: alive as a process, dead as a guest), the rest are Other with their name kept.
 */
namespace Memvisor.Qemu.Qmp;

/// <summary>The run states Memvisor distinguishes.</summary>
public enum VmRunState
{
    /// <summary>A state not listed here (see <see cref="VmStatus.StateName"/>).</summary>
    Other,

    /// <summary>The guest runs.</summary>
    Running,

    /// <summary>Paused by a stop command or -S.</summary>
    Paused,

    /// <summary>Not yet started (-S before the first cont).</summary>
    Prelaunch,

    /// <summary>Halted by an internal error (e.g. a KVM emulation failure).</summary>
    InternalError,

    /// <summary>The guest panicked.</summary>
    GuestPanicked,

    /// <summary>The guest shut down (QEMU started with -no-shutdown).</summary>
    Shutdown,

    /// <summary>Halted by an I/O error.</summary>
    IoError,
}

/// <summary>The answer of query-status.</summary>
/// <param name="Running">The guest's vCPUs run.</param>
/// <param name="State">The state, mapped.</param>
/// <param name="StateName">The state as QEMU named it.</param>
public sealed record VmStatus(bool Running, VmRunState State, string StateName)
{
    /// <summary>Maps QEMU's state name to <see cref="VmRunState"/>.</summary>
    public static VmRunState StateOf(string name) => name switch
    {
        "running" => VmRunState.Running,
        "paused" => VmRunState.Paused,
        "prelaunch" => VmRunState.Prelaunch,
        "internal-error" => VmRunState.InternalError,
        "guest-panicked" => VmRunState.GuestPanicked,
        "shutdown" => VmRunState.Shutdown,
        "io-error" => VmRunState.IoError,
        _ => VmRunState.Other,
    };
}
