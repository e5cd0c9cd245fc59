namespace Memvisor.Experiments.Tests.FullScale;

/// <summary>
/// The experiments at full scale, as `memvisor experiment` runs them and docs/experiments.md reports them: each
/// test class asserts its experiment's claims from the typed measurements, one test per claim, with the
/// claim's threshold written out in the test rather than taken from the experiment's own judgement.
/// </summary>
internal static class FullScaleRun
{
    /// <summary>The experiment at full scale, run once for its test class.</summary>
    public static Lazy<ExperimentResult<T>> Of<T>(PaperExperiment<T> experiment)
        where T : class =>
        new(() => experiment.Run(new ExperimentContext(ExperimentScale.Full)));

    /// <summary>Claim <paramref name="id"/> reports <paramref name="measured"/> and holds exactly when <paramref name="holds"/> (the test's own reading of the figures).</summary>
    public static void Reports(ExperimentResult result, ClaimId id, bool holds, double measured)
    {
        var claim = result.Claim(id);
        Assert.Equal(measured, claim.Measured, 9);
        Assert.True(holds == claim.Holds, $"{id}: the figures say {(holds ? "holds" : "does not hold")}, the report says {(claim.Holds ? "holds" : "does not hold")}: {claim.Evidence}");
        Assert.Contains($"{(claim.Holds ? "holds" : "*does not hold*")} (`{id}`): {claim.Claim}.", ExperimentReport.Markdown(result), StringComparison.Ordinal);
    }
}
