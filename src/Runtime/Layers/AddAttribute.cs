using System;

namespace NetGen;

/// <summary>
/// A residual connection: adds the output of the earlier layer named <paramref name="layer"/> to this layer's input,
/// element by element, as <c>x + named</c> in PyTorch. The two shapes must be equal.
/// </summary>
/// <example>
/// <code>
/// [Conv2D(32, 3, Padding = 1, Name = "main")]
/// [Conv2D(32, 1, Stride = 2, Input = "stem", Name = "shortcut")]
/// [Add("main")]                     // shortcut + main
/// </code>
/// </example>
/// <param name="layer">The name of an earlier layer (or of the input layer).</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AddAttribute(string layer) : LayerAttribute
{
    /// <summary>The name of the earlier layer whose output is added.</summary>
    public string Layer { get; } = layer;
}
