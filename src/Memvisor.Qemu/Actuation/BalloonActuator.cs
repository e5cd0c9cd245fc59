/*
 * A guest's balloon target (paper §3.2) set over QMP, and whether the guest is following it.
 *
 * The target is clamped to [floor, configured memory] (the floor keeps a guest alive: a Linux guest
 * below ~64 MiB OOMs its own workload) and sent only when it changes. QMP answers at once; the guest
 * inflates or deflates on its own (0.05-0.4 s per 100 MiB here). A guest that cannot give more
 * (nothing left to free and no guest swap: the driver logs "Out of puff") stops moving short of
 * the target: Observe() calls the balloon stalled when the actual size has been off target by more
 * than 1 MiB and has not moved by more than 1 MiB for the stall time. The policy then reclaims by
 * other means (host paging, where host swap exists). A QMP failure is returned, not thrown: one
 * guest's fault must not stop the others' balancing.
 */
using Memvisor.Qemu.Qmp;

namespace Memvisor.Qemu.Actuation;

/// <summary>How a balloon is doing.</summary>
public enum BalloonProgress
{
    /// <summary>No target set yet.</summary>
    NoTarget,

    /// <summary>The actual size is within 1 MiB of the target.</summary>
    AtTarget,

    /// <summary>Moving toward the target.</summary>
    Moving,

    /// <summary>Off target and not moving for the stall time.</summary>
    Stalled,
}

/// <summary>What setting a target did.</summary>
/// <param name="Sent">The target went to QEMU (false when unchanged or on failure).</param>
/// <param name="TargetBytes">The target after clamping.</param>
/// <param name="Fault">The QMP failure, or null.</param>
public sealed record BalloonSetResult(bool Sent, long TargetBytes, string? Fault);

/// <summary>Drives one guest's balloon.</summary>
public sealed class BalloonActuator
{
    private const long ToleranceBytes = 1L << 20;
    private readonly QmpClient _qmp;
    private readonly TimeProvider _time;
    private readonly TimeSpan _stallTime;
    private long _lastMovedActual = -1;
    private DateTimeOffset _lastMoved;

    /// <summary>Drives the balloon of the guest behind <paramref name="qmp"/>.</summary>
    public BalloonActuator(QmpClient qmp, long configuredBytes, long floorBytes, TimeSpan stallTime, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(qmp);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(floorBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(configuredBytes, floorBytes);
        _qmp = qmp;
        ConfiguredBytes = configuredBytes;
        FloorBytes = floorBytes;
        _stallTime = stallTime;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The guest's configured memory.</summary>
    public long ConfiguredBytes { get; }

    /// <summary>The lowest target ever sent.</summary>
    public long FloorBytes { get; }

    /// <summary>The target last sent, or null.</summary>
    public long? TargetBytes { get; private set; }

    /// <summary>Sets the guest's target (clamped); sends it only when it changes.</summary>
    public async Task<BalloonSetResult> SetTargetAsync(long targetBytes, CancellationToken cancellationToken = default)
    {
        var clamped = Math.Clamp(targetBytes, FloorBytes, ConfiguredBytes);
        if (clamped == TargetBytes)
        {
            return new BalloonSetResult(false, clamped, null);
        }

        try
        {
            await _qmp.SetBalloonTargetAsync(clamped, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpException e)
        {
            return new BalloonSetResult(false, clamped, e.Message);
        }

        TargetBytes = clamped;
        _lastMovedActual = -1;
        return new BalloonSetResult(true, clamped, null);
    }

    /// <summary>Judges the balloon from the guest's actual size now (query-balloon or BALLOON_CHANGE).</summary>
    public BalloonProgress Observe(long actualBytes)
    {
        if (TargetBytes is not { } target)
        {
            return BalloonProgress.NoTarget;
        }

        var now = _time.GetUtcNow();
        if (Math.Abs(actualBytes - target) <= ToleranceBytes)
        {
            _lastMovedActual = actualBytes;
            _lastMoved = now;
            return BalloonProgress.AtTarget;
        }

        if (_lastMovedActual < 0 || Math.Abs(actualBytes - _lastMovedActual) > ToleranceBytes)
        {
            _lastMovedActual = actualBytes;
            _lastMoved = now;
            return BalloonProgress.Moving;
        }

        return now - _lastMoved >= _stallTime ? BalloonProgress.Stalled : BalloonProgress.Moving;
    }
}
