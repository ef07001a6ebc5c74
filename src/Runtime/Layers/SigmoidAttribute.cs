using System;

namespace NetGen;

/// <summary>
/// The logistic sigmoid, elementwise, as PyTorch's <c>Sigmoid</c>: <c>y = 1 / (1 + exp(−x))</c>, in (0, 1). The backward
/// pass uses the output: <c>dL/dx = dL/dy · y · (1 − y)</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SigmoidAttribute : LayerAttribute
{
}
