/*
 * A paper experiment re-run on real Linux guests under QEMU (`memvisor experiment NAME --substrate qemu`),
 * beside the same experiment in the simulator. Measure runs the simulator's experiment first (same scale
 * and seed: the simulator column), then the real guests (MeasureReal); the record holds both, so the
 * report sets the paper, the simulator and the real guests side by side (SideBySide) and judges the
 * claims on the real runs, with the simulator's claim ids where the claim is the same.
 *
 * These experiments have internal constructors and are listed in RealGuestCatalog, never in the
 * simulator's ExperimentCatalog.
 *
 * Real guests are not deterministic: TCG timing, the host's load and the guests' kernels vary between
 * runs, so a real report is not byte-identical from run to run (the simulator's stay so). Where a figure
 * is noisy the experiment repeats and reports the spread, and a claim decided inside the noise says so.
 */
namespace Memvisor.Experiments.RealGuests;

/// <summary>An experiment on real guests, with the simulator's run of the same experiment beside it.</summary>
/// <typeparam name="TMeasurements">The real-guest measurement record (which keeps the simulator's result).</typeparam>
public abstract class RealGuestExperiment<TMeasurements> : PaperExperiment<TMeasurements>
    where TMeasurements : class
{
    private protected RealGuestExperiment(IExperiment simulator)
        : base(simulator.Name, simulator.Title + ", on real guests", simulator.PaperReference)
    {
        Simulator = simulator;
    }

    /// <summary>The simulator's experiment this one re-runs on real guests.</summary>
    public IExperiment Simulator { get; }

    /// <inheritdoc/>
    protected sealed override TMeasurements Measure(ExperimentContext context, ExperimentRuns runs)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (RealGuestLab.WhyUnavailable() is { } why)
        {
            throw new ExperimentException(why);
        }

        context.Report($"the simulator's {Name} ({context.Scale.ToString().ToLowerInvariant()} scale, seed {context.Seed}), for the side-by-side");
        var simulated = Simulator.Run(context);
        return RealGuestLab.RunSync(() => MeasureRealAsync(context, simulated));
    }

    /// <summary>Boots the real guests, measures them and returns the record (with <paramref name="simulated"/> in it).</summary>
    private protected abstract Task<TMeasurements> MeasureRealAsync(ExperimentContext context, ExperimentResult simulated);

    /// <summary>The simulator's wording of claim <paramref name="id"/>: the same claim, judged here on real guests.</summary>
    private protected static string ClaimText(ExperimentResult simulated, ClaimId id) =>
        simulated.Claims.FirstOrDefault(c => c.Id == id)?.Claim ?? id.ToString();

    /// <summary>The common report fields for a real-guest result: <paramref name="guestsBooted"/> runs, the simulator's simulated seconds.</summary>
    private protected ExperimentResult RealResult(ExperimentContext context, ExperimentResult simulated, int guestsBooted, string setup, string shows, string discussion) =>
        Result(context, new ExperimentRuns(context), setup, shows, discussion) with
        {
            Runs = guestsBooted,
            SimulatedSeconds = simulated.SimulatedSeconds,
        };
}
