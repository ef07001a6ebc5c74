using System;

namespace NetGen;

/// <summary>
/// Leaky rectified linear unit, elementwise, as PyTorch's <c>LeakyReLU(negative_slope)</c>:
/// <c>y = x</c> where <c>x &gt; 0</c>, else <c>y = slope · x</c>; the gradient is 1 where <c>x &gt; 0</c>, else the slope.
/// </summary>
/// <example>
/// <code>
/// [Conv2D(16, 3, Padding = 1)]
/// [LeakyReLU(Slope = 0.2f)]
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LeakyReLUAttribute : LayerAttribute
{
    /// <summary>The factor applied to inputs that are not positive (PyTorch's <c>negative_slope</c>); a finite number. Default 0.01.</summary>
    public float Slope { get; set; } = 0.01f;
}
