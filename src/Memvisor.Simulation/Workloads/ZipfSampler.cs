using Memvisor.Core.Util;

namespace Memvisor.Simulation.Workloads;

/// <summary>Draws ranks 0..n-1 with probability proportional to 1 / (rank + 1)^exponent (exponent 0: uniform), by inverting a cumulative table.</summary>
public sealed class ZipfSampler
{
    private readonly double[] _cumulative;

    /// <summary>Builds the table for <paramref name="count"/> ranks.</summary>
    public ZipfSampler(int count, double exponent)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (!(exponent >= 0) || !double.IsFinite(exponent))
        {
            throw new ArgumentOutOfRangeException(nameof(exponent), $"Zipf exponent: {exponent}; must be finite and not negative.");
        }

        _cumulative = new double[count];
        var sum = 0.0;
        for (var k = 0; k < count; k++)
        {
            sum += 1.0 / Math.Pow(k + 1, exponent);
            _cumulative[k] = sum;
        }

        for (var k = 0; k < count; k++)
        {
            _cumulative[k] /= sum;
        }
    }

    /// <summary>The number of ranks.</summary>
    public int Count => _cumulative.Length;

    /// <summary>The probability of <paramref name="rank"/>.</summary>
    public double Probability(int rank) => rank == 0 ? _cumulative[0] : _cumulative[rank] - _cumulative[rank - 1];

    /// <summary>A random rank.</summary>
    public int Next(DeterministicRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var u = random.NextDouble();
        var index = Array.BinarySearch(_cumulative, u);
        index = index < 0 ? ~index : index + 1;
        return Math.Min(index, _cumulative.Length - 1);
    }
}
