/*
 * What the sharing-scaling experiment measures (Figure 4): per VM count, the steady state with sharing on
 * (and off at some counts, for throughput); aggregated, one VM's and the largest count's, the throughput
 * changes and whether reclaimed memory grows from count to count.
 */
namespace Memvisor.Experiments;

/// <summary>The sharing-scaling experiment's setup at its scale.</summary>
/// <param name="Counts">VM counts run with sharing on, ascending.</param>
/// <param name="OffCounts">VM counts also run with sharing off.</param>
/// <param name="Seconds">Simulated seconds per run.</param>
/// <param name="ScanSpeedup">Factor by which the paper's scan rates are raised (its 30 min over our run).</param>
public sealed record SharingScalingSetup(IReadOnlyList<int> Counts, IReadOnlyList<int> OffCounts, double Seconds, double ScanSpeedup);

/// <summary>One VM count's measurements.</summary>
/// <param name="Vms">VMs on the host.</param>
/// <param name="On">Steady state with sharing on.</param>
/// <param name="Off">Steady state with sharing off (null: not run at this count).</param>
public sealed record SharingScalingPoint(int Vms, SharingSteadyState On, SharingSteadyState? Off)
{
    /// <summary>The VMs' configured memory, MB.</summary>
    public double ConfiguredMB => Vms * SharingScalingExperiment.VmMB;

    /// <summary>Aggregate throughput change with sharing on, % of off (NaN when off was not run).</summary>
    public double ThroughputChangePercent => Off is null ? double.NaN : 100 * ((On.Throughput / Off.Throughput) - 1);
}

/// <summary>Everything the sharing-scaling experiment measured.</summary>
/// <param name="Setup">The setup it ran.</param>
/// <param name="Points">One point per VM count, ascending.</param>
public sealed record SharingScalingMeasurements(SharingScalingSetup Setup, IReadOnlyList<SharingScalingPoint> Points)
{
    /// <summary>The smallest count (one VM).</summary>
    public SharingScalingPoint One => Points[0];

    /// <summary>The largest count.</summary>
    public SharingScalingPoint Last => Points[^1];

    /// <summary>The counts run with sharing off too.</summary>
    public IReadOnlyList<SharingScalingPoint> Compared => [.. Points.Where(p => p.Off is not null)];

    /// <summary>Throughput change with sharing on at each compared count, %.</summary>
    public IReadOnlyList<double> ThroughputChanges => [.. Compared.Select(p => p.ThroughputChangePercent)];

    /// <summary>Whether reclaimed memory never falls by more than 2% from one count to the next.</summary>
    public bool Growing => Points.Zip(Points.Skip(1), (a, b) => b.On.SavedMB >= a.On.SavedMB * 0.98).All(ok => ok);
}
