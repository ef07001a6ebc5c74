using System;

namespace NetGen;

/// <summary>
/// A fully connected layer: <c>y = W·x + b</c>, its input flattened in CHW order (PyTorch's <c>flatten</c>).
/// Weight layout [units, inputs], as PyTorch's <c>Linear</c>.
/// </summary>
/// <param name="units">Number of outputs.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DenseAttribute(int units) : LayerAttribute
{
    /// <summary>Number of outputs.</summary>
    public int Units { get; } = units;
}
