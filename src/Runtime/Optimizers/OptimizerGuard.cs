using System;
using System.Globalization;

namespace NetGen.Optimizers;

/// <summary>Argument checks shared by the optimizers.</summary>
internal static class OptimizerGuard
{
    /// <summary>Checks the spans against each other and against the length fixed by the first step (−1: none yet).</summary>
    public static void CheckLengths(int parameters, int gradients, int fixedLength)
    {
        if (parameters != gradients)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"gradients has {gradients} elements, parameters has {parameters}; they must have the same length."), nameof(gradients));
        }

        if (fixedLength >= 0 && parameters != fixedLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"parameters has {parameters} elements, expected {fixedLength} as on the first step (call Reset to start over with another length)."),
                nameof(parameters));
        }
    }

    public static float NonNegative(float value, string name)
    {
        if (!(value >= 0f) || float.IsInfinity(value))
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be finite and at least 0.");
        }

        return value;
    }

    public static float InUnitInterval(float value, string name)
    {
        if (!(value >= 0f && value < 1f))
        {
            throw new ArgumentOutOfRangeException(name, value, "Must be in [0, 1).");
        }

        return value;
    }
}
