using System;

namespace NetGen.Tests.Numerics;

internal static class TestData
{
    /// <summary>Uniform values in [−scale, scale) from a fixed seed.</summary>
    public static float[] Uniform(int length, int seed, float scale = 1f)
    {
        var random = new SeededRandom(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (2f * random.NextSingle() - 1f) * scale;
        }

        return values;
    }

    /// <summary>
    /// Distinct values at least <paramref name="gap"/> apart and at least gap/2 away from zero, in random order:
    /// no ReLU kink or pooling tie lies within a finite-difference step of them.
    /// </summary>
    public static float[] WellSeparated(int length, int seed, float gap = 0.05f)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (i - length / 2 + 0.5f) * gap;
        }

        var random = new SeededRandom(seed);
        random.Shuffle(values.AsSpan());
        return values;
    }
}
