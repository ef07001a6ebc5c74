using System;
using System.ComponentModel;

namespace NetGen;

/// <summary>
/// Weight initializers of the generated <c>InitializeParameters</c>.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ParameterInitializer
{
    /// <summary>
    /// He (Kaiming) uniform initialization for layers followed by ReLU: each weight drawn from
    /// U(−√(6 / fanIn), √(6 / fanIn)), which keeps the activations' variance roughly constant layer to layer.
    /// </summary>
    /// <param name="weights">The weights to fill.</param>
    /// <param name="fanIn">Inputs feeding one output: in channels × kernel height × kernel width for a convolution, inputs for a dense layer.</param>
    /// <param name="random">The generator to draw from; advanced by <paramref name="weights"/>.Length draws.</param>
    public static void HeUniform(Span<float> weights, int fanIn, ref SeededRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fanIn);
        float bound = MathF.Sqrt(6f / fanIn);
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = (2f * random.NextSingle() - 1f) * bound;
        }
    }
}
