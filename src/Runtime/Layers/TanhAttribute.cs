using System;

namespace NetGen;

/// <summary>
/// Hyperbolic tangent, elementwise, as PyTorch's <c>Tanh</c>: <c>y = tanh(x)</c>, in (−1, 1). The backward pass uses the
/// output: <c>dL/dx = dL/dy · (1 − y²)</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TanhAttribute : LayerAttribute
{
}
