using Memvisor.Core.Util;
using Memvisor.Simulation.Workloads;

namespace Memvisor.Simulation.Tests.Guests;

public sealed class ZipfSamplerTests
{
    [Fact]
    public void Ranks_are_drawn_with_zipf_probabilities()
    {
        // s = 1 over 4 ranks: weights 1, 1/2, 1/3, 1/4 sum to 25/12, so the probabilities are 12/25, 6/25, 4/25, 3/25.
        var zipf = new ZipfSampler(4, 1.0);
        double[] expected = [12 / 25.0, 6 / 25.0, 4 / 25.0, 3 / 25.0];
        for (var k = 0; k < 4; k++)
        {
            Assert.Equal(expected[k], zipf.Probability(k), 12);
        }

        var random = new DeterministicRandom(7);
        var counts = new int[4];
        const int draws = 100_000;
        for (var i = 0; i < draws; i++)
        {
            counts[zipf.Next(random)]++;
        }

        for (var k = 0; k < 4; k++)
        {
            // A binomial count's standard deviation is at most sqrt(100,000 / 4) = 158: allow 5 of them.
            Assert.InRange(counts[k], (expected[k] * draws) - 790, (expected[k] * draws) + 790);
        }
    }

    [Fact]
    public void Exponent_zero_is_uniform()
    {
        var zipf = new ZipfSampler(10, 0);
        Assert.All(Enumerable.Range(0, 10), k => Assert.Equal(0.1, zipf.Probability(k), 12));
    }
}
