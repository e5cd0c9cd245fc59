namespace Memvisor.Core.Tests;

/// <summary>
/// Measuring what Core's hot paths allocate in steady state. The tests that do it run alone, after the
/// parallel tests ([Collection(Name)]), and each measures its loop up to three times and takes the
/// least: a loop that really allocates (per call, per period) allocates in every measurement, while a
/// one-off the runtime charges to the thread (seen in CI: 1,272 bytes once, in a loop that measured 0
/// before and after) does not recur. The test asserts that the least is 0.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasurement
{
    /// <summary>The collection's name.</summary>
    public const string Name = "allocation measurements";

    /// <summary>
    /// Runs <paramref name="loop"/> until one run allocates nothing on this thread, three runs at most
    /// (<paramref name="prepare"/>, not measured, before each); returns the least bytes allocated and how
    /// many runs were made.
    /// </summary>
    public static (long LeastBytes, int Runs) Least(Action loop, Action? prepare = null)
    {
        ArgumentNullException.ThrowIfNull(loop);
        var least = long.MaxValue;
        var runs = 0;
        while (runs < 3 && least != 0)
        {
            prepare?.Invoke();
            var before = GC.GetAllocatedBytesForCurrentThread();
            loop();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
            runs++;
        }

        return (least, runs);
    }
}
