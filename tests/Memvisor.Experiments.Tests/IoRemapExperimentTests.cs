namespace Memvisor.Experiments.Tests;

/// <summary>The io-remap experiment at reduced scale: remapping removes most bounce copies of a guest in high memory; demotion when low memory runs short.</summary>
public sealed class IoRemapExperimentTests
{
    private static readonly Lazy<ExperimentResult<IoRemapMeasurements>> Reduced = new(() => new IoRemapExperiment().Run(new ExperimentContext(ExperimentScale.Reduced)));

    [Fact]
    public void Without_remapping_every_transfer_bounces_and_remapping_cuts_the_copies_many_times()
    {
        var pool = Reduced.Value.Measurements.Pools.Single(p => p.PoolMB == 4);

        Assert.Equal(1, pool.Off.BouncedFraction, 2); // the VM's pages are high: every transfer bounced
        var off = pool.Off.SteadyBouncesPerSecond;
        var on = pool.On.SteadyBouncesPerSecond;
        Assert.True(off > 0);
        // Reduced runs are short (40 s): the tail of the 4 MB pool is still warming up, so ask for 10x here; the full run shows >= 100x.
        Assert.True(off >= 10 * on, $"{off} copies/s off, {on} on");
        Assert.True(pool.On.Throughput >= pool.Off.Throughput, "remapping does not lower throughput");
        var claim = Reduced.Value.Claim(ClaimId.IoRemapCutsBounceCopies);
        Assert.Equal(pool.SteadyFactor.Value, claim.Measured);
        Assert.Equal(claim.Measured >= IoRemapExperiment.OrdersOfMagnitudeFactor, claim.Holds);
    }

    [Fact]
    public void When_low_memory_runs_short_cold_pages_are_demoted_and_hot_pages_stay_low()
    {
        var demotion = Reduced.Value.Measurements.Demotion;

        Assert.True(demotion.Demotions > 0);
        Assert.True(demotion.RemapsDeferred > 0, "low memory was at its reserve for a while");
        Assert.True(demotion.AfterBouncesPerSecond < demotion.SqueezedBouncesPerSecond);
        Assert.True(demotion.FreeLowMB >= demotion.ReserveMB);
        var claim = Reduced.Value.Claim(ClaimId.IoRemapDemotesWhenLowIsShort);
        Assert.True(claim.Holds, claim.Evidence);
        Assert.Equal(demotion.Demotions, claim.Measured);
    }

    [Fact]
    public void The_report_states_ours_with_no_paper_factor()
    {
        var result = Reduced.Value;
        var factor = result.Measurements.Main.SteadyFactor.Value;
        var md = ExperimentReport.Markdown(result);

        Assert.Null(result.Claim(ClaimId.IoRemapCutsBounceCopies).Paper); // "orders of magnitude": no number in the paper
        Assert.Contains($"| bounce copies cut by remapping (steady state, 4 MB buffers) | n/a x | {ExperimentReport.Number(factor)} x | n/a |", md, StringComparison.Ordinal);
    }
}
