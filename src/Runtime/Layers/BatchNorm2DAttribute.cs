using System;

namespace NetGen;

/// <summary>
/// Batch normalization over the channels, as PyTorch's <c>BatchNorm2d(C, eps, momentum)</c>:
/// <c>y = γ · (x − μ) / √(σ² + ε) + β</c> per channel. Training passes normalize with the mean and (biased) variance of
/// the whole batch passed in, over its samples, height and width, and update the running statistics with PyTorch's rule
/// (momentum, unbiased variance); inference passes use the running statistics.
/// </summary>
/// <remarks>
/// Parameters <c>weight</c> (γ, starting at 1) and <c>bias</c> (β, 0) are in <c>Parameters</c>. The running statistics are
/// not parameters: they are the network's <c>Buffers</c> (<c>running_mean</c> 0, <c>running_var</c> 1) and
/// <c>Counters</c> (<c>num_batches_tracked</c>, saved as I64), saved and loaded with the parameters under PyTorch's names.
/// A training batch needs more than one value per channel (PyTorch's rule too).
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BatchNorm2DAttribute : LayerAttribute
{
    /// <summary>ε, added to the variance before its square root. Default 1e-5; positive.</summary>
    public float Epsilon { get; set; } = 1e-5f;

    /// <summary>The weight of a batch's statistics in the running statistics: running = (1 − m) · running + m · batch. Default 0.1.</summary>
    public float Momentum { get; set; } = 0.1f;
}
