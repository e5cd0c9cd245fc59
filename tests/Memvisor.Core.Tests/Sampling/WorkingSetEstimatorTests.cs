using Memvisor.Core.Sampling;

namespace Memvisor.Core.Tests.Sampling;

public class WorkingSetEstimatorTests
{
    // Gains 1/4 and 1/2 and fractions of 100 pages keep every value below exact in binary floating point
    // up to rounding, so the hand-computed values are compared to 12 digits.
    private static readonly SamplingOptions Quarters = new() { SlowGain = 0.25, FastGain = 0.5, InitialActiveFraction = 0 };

    [Fact]
    public void The_moving_averages_follow_the_hand_computed_values()
    {
        var e = new WorkingSetEstimator(Quarters);

        // Period 1: 40 of 100 touched, f = 0.4.
        // slow = 0 + 0.25 * (0.4 - 0) = 0.1;  fast = 0 + 0.5 * (0.4 - 0) = 0.2.
        e.CompletePeriod(40, 100);
        Assert.Equal(0.1, e.Slow, 12);
        Assert.Equal(0.2, e.Fast, 12);
        Assert.Equal(0.2, e.Estimate, 12);

        // Period 2: 80 of 100, f = 0.8.
        // slow = 0.1 + 0.25 * (0.8 - 0.1) = 0.275;  fast = 0.2 + 0.5 * (0.8 - 0.2) = 0.5.
        e.CompletePeriod(80, 100);
        Assert.Equal(0.275, e.Slow, 12);
        Assert.Equal(0.5, e.Fast, 12);
        Assert.Equal(0.5, e.Estimate, 12);

        // Periods 3 and 4: nothing touched. The fast average halves, the slow one keeps 3/4:
        // slow = 0.275 * 0.75 = 0.20625, fast = 0.25  -> estimate = fast 0.25;
        // slow = 0.20625 * 0.75 = 0.1546875, fast = 0.125 -> estimate = slow 0.1546875 (it falls slowly).
        e.CompletePeriod(0, 100);
        Assert.Equal(0.20625, e.Slow, 12);
        Assert.Equal(0.25, e.Estimate, 12);
        e.CompletePeriod(0, 100);
        Assert.Equal(0.1546875, e.Slow, 12);
        Assert.Equal(0.125, e.Fast, 12);
        Assert.Equal(0.1546875, e.Estimate, 12);
        Assert.Equal(4, e.PeriodsCompleted);
    }

    [Fact]
    public void The_partial_count_raises_the_estimate_within_the_period_but_never_lowers_it()
    {
        var e = new WorkingSetEstimator(Quarters);
        e.CompletePeriod(40, 100); // slow 0.1, fast 0.2 (as above)

        // 10 of 100 touched so far: 0.1 < fast 0.2 is no evidence yet (the count can only grow).
        e.ObservePartial(10, 100);
        Assert.Equal(0.2, e.FastWithPartial, 12);
        Assert.Equal(0.2, e.Estimate, 12);

        // 80 of 100 so far: fast with partial = 0.2 + 0.5 * (0.8 - 0.2) = 0.5, before the period ends.
        e.ObservePartial(80, 100);
        Assert.Equal(0.5, e.FastWithPartial, 12);
        Assert.Equal(0.5, e.Estimate, 12);
        Assert.Equal(0.2, e.Fast, 12);

        // The period ends with the same count: the fast average lands where the partial variant was,
        // and the partial count starts again from nothing.
        e.CompletePeriod(80, 100);
        Assert.Equal(0.5, e.Fast, 12);
        Assert.Equal(0.5, e.FastWithPartial, 12);
    }

    [Fact]
    public void A_vm_is_taken_as_fully_active_until_it_has_been_measured()
    {
        var e = new WorkingSetEstimator(new SamplingOptions());
        Assert.Equal(1.0, e.Estimate);

        // One idle period with the default gains: slow = 1 + 0.1 * (0 - 1) = 0.9, fast = 1 + 0.5 * (0 - 1) = 0.5.
        e.CompletePeriod(0, 100);
        Assert.Equal(0.9, e.Slow, 12);
        Assert.Equal(0.5, e.Fast, 12);
        Assert.Equal(0.9, e.Estimate, 12);
    }

    [Theory]
    [InlineData(101, 100)]
    [InlineData(-1, 100)]
    [InlineData(0, 0)]
    public void Impossible_counts_are_refused(int touched, int sampled)
    {
        var e = new WorkingSetEstimator(new SamplingOptions());
        Assert.Throws<ArgumentOutOfRangeException>(() => e.CompletePeriod(touched, sampled));
        Assert.Throws<ArgumentOutOfRangeException>(() => e.ObservePartial(touched, sampled));
        Assert.Equal(0, e.PeriodsCompleted);
    }

    [Theory]
    [InlineData(nameof(SamplingOptions.PeriodSeconds), 0.0, "PeriodSeconds: 0 s", "positive")]
    [InlineData(nameof(SamplingOptions.PeriodSeconds), double.NaN, "PeriodSeconds: NaN", "positive")]
    [InlineData(nameof(SamplingOptions.PeriodSeconds), 1e7, "PeriodSeconds: 10000000 s", "at most 86400 s")]
    [InlineData(nameof(SamplingOptions.SamplePages), 0.0, "SamplePages: 0 pages", "at least 1")]
    [InlineData(nameof(SamplingOptions.FastGain), 1.5, "FastGain: 1.5", "(0, 1]")]
    [InlineData(nameof(SamplingOptions.SlowGain), 0.0, "SlowGain: 0", "(0, FastGain = 0.5]")]
    [InlineData(nameof(SamplingOptions.SlowGain), 0.8, "SlowGain: 0.8", "may not react faster")]
    [InlineData(nameof(SamplingOptions.InitialActiveFraction), 1.1, "InitialActiveFraction: 1.1", "[0, 1]")]
    public void Bad_options_are_refused_naming_the_field_the_value_and_the_rule(string field, double value, string fieldAndValue, string rule)
    {
        var options = field switch
        {
            nameof(SamplingOptions.PeriodSeconds) => new SamplingOptions { PeriodSeconds = value },
            nameof(SamplingOptions.SamplePages) => new SamplingOptions { SamplePages = (int)value },
            nameof(SamplingOptions.FastGain) => new SamplingOptions { FastGain = value },
            nameof(SamplingOptions.SlowGain) => new SamplingOptions { SlowGain = value },
            _ => new SamplingOptions { InitialActiveFraction = value },
        };
        var ex = Assert.Throws<ArgumentException>(() => new WorkingSetEstimator(options));
        Assert.Contains(fieldAndValue, ex.Message, StringComparison.Ordinal);
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
        Assert.Equal(field, ex.ParamName);
    }
}
