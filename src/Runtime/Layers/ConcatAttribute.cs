using System;

namespace NetGen;

/// <summary>
/// Joins this layer's input and the output of the earlier layer named <paramref name="layer"/> along the channels, the
/// input's first, as <c>torch.cat([x, named], dim=1)</c>. Heights and widths must be equal.
/// </summary>
/// <param name="layer">The name of an earlier layer (or of the input layer).</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ConcatAttribute(string layer) : LayerAttribute
{
    /// <summary>The name of the earlier layer whose output is joined.</summary>
    public string Layer { get; } = layer;
}
