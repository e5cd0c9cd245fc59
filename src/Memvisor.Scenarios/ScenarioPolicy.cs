/*
 * What a scenario's host and VMs mean to Core's policy, the same on every substrate: the policy
 * options a HostSpec stands for (idle tax and its changes, balance period, free-memory thresholds,
 * sampling, balloon limit, sharing scan rates, I/O remapping) and the VmConfig a VmSpec stands for
 * (max, min, shares, overhead, balloon cap, salt). The simulator and the QEMU substrate both read
 * scenarios through these two functions, so a scenario asks the same of the policy wherever it runs.
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Balloon;
using Memvisor.Core.Host;
using Memvisor.Core.IoRemap;
using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;
using Memvisor.Core.Sharing;

namespace Memvisor.Scenarios;

/// <summary>Scenario model to policy options and VM configurations.</summary>
public static class ScenarioPolicy
{
    /// <summary>The host policy options <paramref name="host"/> stands for.</summary>
    public static HostPolicyOptions Options(HostSpec host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var dmaBoundary = (int)Math.Max(1, PageGeometry.PagesFromMegabytes(host.DmaBoundaryMB));
        var defaults = new IoRemapOptions();
        return new HostPolicyOptions
        {
            Allocation = new AllocationOptions
            {
                Tau = host.IdleTax,
                BalancePeriodSeconds = host.BalancePeriodSeconds,
                HighPercent = host.HighPercent,
                SoftPercent = host.SoftPercent,
                HardPercent = host.HardPercent,
                LowPercent = host.LowPercent,
            },
            Sampling = new SamplingOptions
            {
                PeriodSeconds = host.SamplingPeriodSeconds,
                SamplePages = host.SamplingPages,
                InitialActiveFraction = host.SamplingInitialActivePercent / 100,
            },
            Balloon = new BalloonOptions { MaxPercent = host.BalloonMaxPercent },
            ShareScan = new ShareScanOptions { PerVmPagesPerSecond = host.ShareScanPerVmPagesPerSecond, HostPagesPerSecond = host.ShareScanHostPagesPerSecond },
            SharingEnabled = host.Sharing,
            IdleTaxChanges = host.IdleTaxChanges,
            IoRemap = new IoRemapOptions
            {
                DmaBoundaryPages = dmaBoundary,
                RemapHotPages = host.IoRemap,
                RemapThresholdCopies = host.IoRemapThresholdCopies,
                // The default reserve (64 MB) would not fit below a small boundary: keep a quarter of low memory at most.
                LowReservePages = Math.Min(defaults.LowReservePages, dmaBoundary / 4),
            },
        };
    }

    /// <summary>
    /// The policy's configuration of <paramref name="spec"/>; <paramref name="defaultOverheadPages"/>
    /// is charged when the scenario gives no overhead (null: Core's model of an ESX VM's overhead).
    /// </summary>
    public static VmConfig Config(VmSpec spec, int? defaultOverheadPages = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new VmConfig
        {
            Name = spec.Name,
            MaxPages = checked((int)PageGeometry.PagesFromMegabytes(spec.MemoryMB)),
            MinPages = (int)PageGeometry.PagesFromMegabytes(spec.MinMB),
            Shares = spec.Shares,
            OverheadPages = spec.OverheadMB is { } overhead ? (int)PageGeometry.PagesFromMegabytes(overhead) : defaultOverheadPages,
            BalloonMaxPages = spec.BalloonMaxMB is { } cap ? (int)PageGeometry.PagesFromMegabytes(cap) : null,
            ShareSalt = spec.ShareSalt,
        };
    }
}
