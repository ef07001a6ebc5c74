using System;

namespace NetGen;

/// <summary>
/// 2-D average pooling over <paramref name="size"/> × <paramref name="size"/> windows, per channel, as PyTorch's
/// <c>AvgPool2d(size, stride, padding)</c> with its defaults <c>count_include_pad=True</c> and <c>ceil_mode=False</c>:
/// <c>y(c,i,j) = (1 / k²) · Σ_m Σ_n x(c, i·s + m − p, j·s + n − p)</c>, the padding counting as zeros, so every window
/// is divided by k². Output size per axis: <c>floor((H + 2p − k) / s) + 1</c>. Windows may overlap (stride &lt; size).
/// </summary>
/// <example>
/// <code>
/// [AvgPool2D(3, Stride = 2, Padding = 1)]   // 3×3 windows, half the height and width
/// </code>
/// </example>
/// <param name="size">Window height and width.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AvgPool2DAttribute(int size) : LayerAttribute
{
    /// <summary>Window height and width.</summary>
    public int Size { get; } = size;

    /// <summary>Step between windows, on both axes. Defaults to <see cref="Size"/>.</summary>
    public int Stride { get; set; }

    /// <summary>Zeros added on every side of the input, on both axes; at most <see cref="Size"/> / 2 (PyTorch's rule). Default 0.</summary>
    public int Padding { get; set; }
}
