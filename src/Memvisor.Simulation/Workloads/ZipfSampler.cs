/*
 * Zipf-distributed ranks for workloads. Drawing must be cheap and touch little memory, since a
 * workload draws once per access: Vose's alias method gives O(1) draws with one table lookup (a
 * binary search over a cumulative table of 60,000 ranks costs a dozen cache misses per draw). A
 * column's threshold and alias sit side by side, so a draw misses the cache once, not twice.
 */
using Memvisor.Core.Util;

namespace Memvisor.Simulation.Workloads;

/// <summary>Draws ranks 0..n-1 with probability proportional to 1 / (rank + 1)^exponent (exponent 0: uniform).</summary>
public sealed class ZipfSampler
{
    private readonly double[] _probability;
    private readonly Column[] _columns;

    /// <summary>Builds the tables for <paramref name="count"/> ranks.</summary>
    public ZipfSampler(int count, double exponent)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if (!(exponent >= 0) || !double.IsFinite(exponent))
        {
            throw new ArgumentOutOfRangeException(nameof(exponent), $"Zipf exponent: {exponent}; must be finite and not negative.");
        }

        _probability = new double[count];
        var sum = 0.0;
        for (var k = 0; k < count; k++)
        {
            _probability[k] = 1.0 / Math.Pow(k + 1, exponent);
            sum += _probability[k];
        }

        // Vose: scale each probability by n; pair every column below 1 with one above 1 that tops it up.
        var threshold = new double[count];
        var alias = new int[count];
        var small = new Stack<int>();
        var large = new Stack<int>();
        for (var k = count - 1; k >= 0; k--)
        {
            _probability[k] /= sum;
            threshold[k] = _probability[k] * count;
            (threshold[k] < 1 ? small : large).Push(k);
        }

        while (small.Count > 0 && large.Count > 0)
        {
            var s = small.Pop();
            var l = large.Pop();
            alias[s] = l;
            threshold[l] -= 1 - threshold[s];
            (threshold[l] < 1 ? small : large).Push(l);
        }

        // What is left is 1 up to rounding.
        foreach (var k in small.Concat(large))
        {
            threshold[k] = 1;
            alias[k] = k;
        }

        _columns = new Column[count];
        for (var k = 0; k < count; k++)
        {
            _columns[k] = new Column(threshold[k], alias[k]);
        }
    }

    /// <summary>The number of ranks.</summary>
    public int Count => _probability.Length;

    /// <summary>The probability of <paramref name="rank"/>.</summary>
    public double Probability(int rank) => _probability[rank];

    /// <summary>A random rank.</summary>
    public int Next(DeterministicRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var column = random.NextInt32(_columns.Length);
        ref readonly var entry = ref _columns[column];
        return random.NextDouble() < entry.Threshold ? column : entry.Alias;
    }

    /// <summary>One column of the alias table: its own rank below the threshold, the alias above it.</summary>
    private readonly record struct Column(double Threshold, int Alias);
}
