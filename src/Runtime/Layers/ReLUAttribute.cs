using System;

namespace NetGen;

/// <summary>Rectified linear unit, elementwise: <c>y = max(x, 0)</c>; the gradient passes where <c>x &gt; 0</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ReLUAttribute : LayerAttribute
{
}
