using System;

namespace NetGen;

/// <summary>
/// Global average pooling, as PyTorch's <c>AdaptiveAvgPool2d(1)</c>: the mean of each channel,
/// <c>y(c) = (1 / (H·W)) · Σ_u Σ_v x(c, u, v)</c>. Output C × 1 × 1; the usual layer between a network's last
/// convolution and its classifier.
/// </summary>
/// <example>
/// <code>
/// [Conv2D(64, 3, Padding = 1)]
/// [ReLU]
/// [GlobalAvgPool2D]             // 64×7×7 → 64
/// [Dense(10)]
/// [Softmax]
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GlobalAvgPool2DAttribute : LayerAttribute
{
}
