using System;

namespace NetGen;

/// <summary>
/// Softmax over the flattened input: <c>p_i = exp(y_i) / Σ_j exp(y_j)</c>. Must be the last layer; training
/// minimizes the cross-entropy <c>L = −log p_label</c>, whose gradient with respect to the logits is
/// <c>p_i − [i = label]</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SoftmaxAttribute : LayerAttribute
{
}
