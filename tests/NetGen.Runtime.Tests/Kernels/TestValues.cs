using System;

namespace NetGen.Runtime.Tests.Kernels;

/// <summary>Inputs for the kernel tests.</summary>
internal static class TestValues
{
    /// <summary><paramref name="length"/> floats uniform in [−1, 1) from <paramref name="random"/>.</summary>
    public static float[] Uniform(Random random, int length)
    {
        float[] values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }
}
