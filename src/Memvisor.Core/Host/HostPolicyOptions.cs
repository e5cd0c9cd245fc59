using Memvisor.Core.Allocation;
using Memvisor.Core.Balloon;
using Memvisor.Core.Sampling;
using Memvisor.Core.Sharing;

namespace Memvisor.Core.Host;

/// <summary>Options of the whole policy (and, for an owning substrate, of the mechanisms it builds).</summary>
public sealed record HostPolicyOptions
{
    /// <summary>Shares, idle tax, free-memory thresholds, balance period.</summary>
    public AllocationOptions Allocation { get; init; } = new();

    /// <summary>Working-set sampling.</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Balloon limits and deadline (read by the substrate's balloon host).</summary>
    public BalloonOptions Balloon { get; init; } = new();

    /// <summary>Sharing scan rates (the policy sets the rate; the draws per credit are the owning scanner's).</summary>
    public ShareScanOptions ShareScan { get; init; } = new();

    /// <summary>Hot I/O page remapping: DMA boundary, threshold, low reserve (owning substrates; null: the defaults, applied on first I/O).</summary>
    public IoRemap.IoRemapOptions? IoRemap { get; init; }

    /// <summary>Whether the sharing scanner runs.</summary>
    public bool SharingEnabled { get; init; } = true;

    /// <summary>Changes of the idle tax rate at given host times, in increasing order of time (default none: Allocation.Tau throughout).</summary>
    public IReadOnlyList<IdleTaxChange> IdleTaxChanges { get; init; } = [];

    /// <summary>Host swap write bandwidth, pages per second (default 25,600: 100 MB/s).</summary>
    public double SwapWritePagesPerSecond { get; init; } = 25_600;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when an option is invalid.</summary>
    public void Validate()
    {
        Allocation.Validate();
        Sampling.Validate();
        Balloon.Validate();
        ShareScan.Validate();
        IoRemap?.Validate();
        IdleTaxChange.Validate(IdleTaxChanges);
        if (!(SwapWritePagesPerSecond > 0))
        {
            throw new ArgumentException($"Swap write rate: {SwapWritePagesPerSecond} pages/s; must be positive.");
        }
    }
}

/// <summary>What the policy decided for one VM.</summary>
/// <param name="TargetPages">Allocation target (min-funding revocation with the idle tax).</param>
/// <param name="ConsumedPages">Allocation as the policy counts it: private pages plus its part of shared ones.</param>
/// <param name="ActiveFraction">Estimated active fraction of the allocation (the paper's f).</param>
/// <param name="SwapTargetPages">Pages the VM should have swapped out.</param>
/// <param name="Blocked">True while the VM is blocked (low state, above target).</param>
public readonly record struct VmPolicyState(int TargetPages, double ConsumedPages, double ActiveFraction, int SwapTargetPages, bool Blocked);
