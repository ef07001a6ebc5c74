using System;
using System.Globalization;

namespace NetGen.Optimizers;

/// <summary>Argument checks of <see cref="IStatefulOptimizer.SaveState"/> and <see cref="IStatefulOptimizer.RestoreState"/>.</summary>
internal static class OptimizerState
{
    /// <summary>Checks a state span: <paramref name="vectors"/> vectors of the fixed length (−1: none yet, any length that is a multiple).</summary>
    public static void CheckLength(int length, int vectors, int fixedLength, string name)
    {
        bool fits = fixedLength >= 0 ? length == vectors * fixedLength : vectors == 0 ? length == 0 : length % vectors == 0;
        if (!fits)
        {
            string expected = fixedLength >= 0
                ? string.Create(CultureInfo.InvariantCulture, $"{vectors} × {fixedLength} = {vectors * fixedLength}")
                : string.Create(CultureInfo.InvariantCulture, $"a multiple of {vectors}");
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{name} has {length} floats, expected {expected} (the state vectors × the parameter count)."), name);
        }
    }

    /// <summary>Checks the arguments of <see cref="IStatefulOptimizer.RestoreState"/> before anything changes.</summary>
    public static void CheckRestore(int parameterCount, ReadOnlySpan<float> state, int vectors, long stepCount, WeightDecayMask? mask)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(parameterCount);
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        if (state.Length != (long)vectors * parameterCount)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"state has {state.Length} floats, expected {vectors} × {parameterCount} = {(long)vectors * parameterCount} (the state vectors × the parameter count)."),
                nameof(state));
        }

        WeightDecayMask.CheckLength(mask, parameterCount, nameof(parameterCount));
    }
}
