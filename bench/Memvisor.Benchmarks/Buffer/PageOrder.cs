using Memvisor.Core.Util;

namespace Memvisor.Benchmarks.Buffer;

/// <summary>Orders in which a scan visits pages.</summary>
internal static class PageOrder
{
    /// <summary>0 .. <paramref name="pages"/>-1 in a random order fixed by <paramref name="seed"/> (the paper scans at random).</summary>
    public static int[] Random(int pages, ulong seed)
    {
        var order = new int[pages];
        for (var i = 0; i < pages; i++)
        {
            order[i] = i;
        }

        var random = new DeterministicRandom(seed);
        for (var i = pages - 1; i > 0; i--)
        {
            var j = random.NextInt32(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }

        return order;
    }
}
