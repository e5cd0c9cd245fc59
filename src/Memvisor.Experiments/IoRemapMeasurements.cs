/*
 * What the io-remap experiment measures (§7): per socket-buffer pool, the network VM's bounce copies with
 * hot-page remapping on and off (steady state over the last half, the whole run, throughput, the share of
 * transfers that bounced, the series); and the demotion scenario's figures when low memory runs short.
 */
namespace Memvisor.Experiments;

/// <summary>One run of the network VM.</summary>
/// <param name="SteadyBouncesPerSecond">Bounce copies per second over the last half of the run.</param>
/// <param name="TotalBounces">Bounce copies over the run.</param>
/// <param name="Throughput">Mean packets per second.</param>
/// <param name="BouncedFraction">Bounce copies per packet (1 when every transfer bounces).</param>
/// <param name="Samples">Samples of the run.</param>
/// <param name="Bounces">Bounce copies per sample interval over time.</param>
public sealed record IoRemapRun(double SteadyBouncesPerSecond, double TotalBounces, double Throughput, double BouncedFraction, int Samples, TimeSeries Bounces);

/// <summary>A factor by which remapping cut bounce copies.</summary>
/// <param name="Value">Off over on.</param>
/// <param name="LowerBound">Whether remapping left no copy at all, so the value is a lower bound (as if one copy in the window).</param>
public sealed record IoRemapFactor(double Value, bool LowerBound);

/// <summary>One socket-buffer pool, remapping on and off.</summary>
/// <param name="PoolMB">The pool's size.</param>
/// <param name="On">With remapping.</param>
/// <param name="Off">Without.</param>
public sealed record IoRemapPool(double PoolMB, IoRemapRun On, IoRemapRun Off)
{
    /// <summary>Bounce copies before a page is remapped low, in the run with remapping on.</summary>
    public int ThresholdCopies { get; init; } = IoRemapExperiment.DefaultThreshold;

    /// <summary>Off / on over the last half; with no copies at all when on, a lower bound.</summary>
    public IoRemapFactor SteadyFactor =>
        On.SteadyBouncesPerSecond > 0
            ? new IoRemapFactor(Off.SteadyBouncesPerSecond / On.SteadyBouncesPerSecond, false)
            : new IoRemapFactor(Off.SteadyBouncesPerSecond * (On.Samples / 2.0), true);

    /// <summary>Off / on over the whole run, warm-up included (infinite when on has none).</summary>
    public double WholeRunFactor => On.TotalBounces > 0 ? Off.TotalBounces / On.TotalBounces : double.PositiveInfinity;
}

/// <summary>The demotion scenario: low memory runs short, then a VM powers off.</summary>
public sealed record IoRemapDemotion
{
    /// <summary>Simulated seconds.</summary>
    public double DurationSeconds { get; init; }

    /// <summary>The VM that powers off, MB.</summary>
    public double FillerMB { get; init; }

    /// <summary>When it powers off.</summary>
    public double FillerOffSeconds { get; init; }

    /// <summary>The network VM's bounce copies over time.</summary>
    public required TimeSeries Bounces { get; init; }

    /// <summary>The network VM's bounce copies per second while low memory is short.</summary>
    public double SqueezedBouncesPerSecond { get; init; }

    /// <summary>The network VM's bounce copies per second over the last third.</summary>
    public double AfterBouncesPerSecond { get; init; }

    /// <summary>Pages remapped low over the run.</summary>
    public long Remaps { get; init; }

    /// <summary>Cold low pages demoted to high memory.</summary>
    public long Demotions { get; init; }

    /// <summary>Remaps deferred while low memory was at its reserve.</summary>
    public long RemapsDeferred { get; init; }

    /// <summary>Free low memory at the end, MB.</summary>
    public double FreeLowMB { get; init; }

    /// <summary>The low zone, MB.</summary>
    public double LowZoneMB { get; init; }

    /// <summary>The low-memory reserve, MB.</summary>
    public double ReserveMB { get; init; }

    /// <summary>Host swap used at the end, MB.</summary>
    public double SwapUsedMB { get; init; }
}

/// <summary>Everything the io-remap experiment measured.</summary>
/// <param name="DurationSeconds">Simulated seconds per pool run.</param>
/// <param name="Pools">One point per socket-buffer pool.</param>
/// <param name="Demotion">The demotion scenario.</param>
public sealed record IoRemapMeasurements(double DurationSeconds, IReadOnlyList<IoRemapPool> Pools, IoRemapDemotion Demotion)
{
    /// <summary>The main pool at each remap threshold swept (the default's is <see cref="Main"/>), ascending.</summary>
    public IReadOnlyList<IoRemapPool> ByThreshold { get; init; } = [];

    /// <summary>The 4 MB pool (the workload's default), on which the claims are judged.</summary>
    public IoRemapPool Main => Pools.Single(p => p.PoolMB == IoRemapExperiment.MainPoolMB);
}
