using System;

namespace NetGen;

/// <summary>
/// A small, fast pseudo-random generator (SplitMix64) whose sequence for a given seed is fixed forever, on
/// every platform and .NET version: the same seed always gives the same initial weights and the same shuffles.
/// </summary>
/// <example>
/// <code>
/// var random = new SeededRandom(seed: 42);
/// int[] indices = [.. Enumerable.Range(0, count)];
/// random.Shuffle&lt;int&gt;(indices);          // the same order for seed 42 everywhere
/// float noise = random.NextSingle() - 0.5f;
/// </code>
/// </example>
public struct SeededRandom
{
    private ulong _state;

    /// <summary>Starts the sequence for <paramref name="seed"/>.</summary>
    public SeededRandom(long seed) => _state = unchecked((ulong)seed);

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A float uniformly drawn from [0, 1), with 24 random bits.</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>An integer uniformly drawn from [0, <paramref name="maxExclusive"/>) (Lemire's method, no modulo bias).</summary>
    public int NextInt32(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        ulong range = (ulong)maxExclusive;
        ulong threshold = (0UL - range) % range;
        while (true)
        {
            ulong r = NextUInt64();
            UInt128 m = (UInt128)r * range;
            if ((ulong)m >= threshold)
            {
                return (int)(ulong)(m >> 64);
            }
        }
    }

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt32(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
