namespace Memvisor.Core.Util;

/// <summary>
/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64) whose sequence is fixed
/// by its seed on every platform and .NET version, so that every random choice Memvisor makes (scan
/// candidates, swap victims, sample sets) depends only on the scenario and its seed.
/// </summary>
public sealed class DeterministicRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Creates a generator whose sequence depends only on <paramref name="seed"/>.</summary>
    public DeterministicRandom(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>A child generator for a component, independent of this one's later draws.</summary>
    public DeterministicRandom Fork(ulong salt) => new(NextUInt64() ^ (salt * 0x9E3779B97F4A7C15UL));

    /// <summary>64 random bits.</summary>
    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, <paramref name="exclusiveBound"/>), without modulo bias (Lemire's method).</summary>
    public uint NextUInt32(uint exclusiveBound)
    {
        if (exclusiveBound == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(exclusiveBound), "The bound must be positive.");
        }

        var m = (ulong)(uint)(NextUInt64() >> 32) * exclusiveBound;
        var low = (uint)m;
        if (low < exclusiveBound)
        {
            var threshold = (uint)(-(int)exclusiveBound) % exclusiveBound;
            while (low < threshold)
            {
                m = (ulong)(uint)(NextUInt64() >> 32) * exclusiveBound;
                low = (uint)m;
            }
        }

        return (uint)(m >> 32);
    }

    /// <summary>Uniform in [0, <paramref name="exclusiveBound"/>).</summary>
    public int NextInt32(int exclusiveBound) => (int)NextUInt32((uint)exclusiveBound);

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix64(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
