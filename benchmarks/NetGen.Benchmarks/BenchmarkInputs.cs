using System;
using System.IO;
using System.Linq;

namespace NetGen.Benchmarks;

/// <summary>What the benchmarks, their checks and the per-layer profile (which links this file) share: their data and the CPU's name.</summary>
public static class BenchmarkInputs
{
    /// <summary>Deterministic inputs in [−1, 1) and labels below <paramref name="classes"/>, <paramref name="count"/> samples.</summary>
    public static (float[] Inputs, int[] Labels) Random(int count, int inputLength, int classes, int seed)
    {
        var random = new SeededRandom(seed);
        var inputs = new float[count * inputLength];
        var labels = new int[count];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = random.NextSingle() * 2f - 1f;
        }

        for (int i = 0; i < count; i++)
        {
            labels[i] = random.NextInt32(classes);
        }

        return (inputs, labels);
    }

    /// <summary>The CPU's model name from /proc/cpuinfo, or "?" where there is none.</summary>
    public static string CpuName()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "?" : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
