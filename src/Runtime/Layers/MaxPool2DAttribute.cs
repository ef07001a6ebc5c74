using System;

namespace NetGen;

/// <summary>
/// 2-D max pooling over <paramref name="size"/> × <paramref name="size"/> windows, per channel, as PyTorch's
/// <c>MaxPool2d(size, stride, padding)</c>: <c>y(c,i,j) = max_{m,n} x(c, i·s + m − p, j·s + n − p)</c>, the padding
/// being −∞ (it never wins a window). Output size per axis: <c>floor((H + 2p − k) / s) + 1</c>.
/// Ties go to the first maximum in row-major window order (PyTorch's rule); the gradient flows to that element only.
/// </summary>
/// <param name="size">Window height and width.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MaxPool2DAttribute(int size) : LayerAttribute
{
    /// <summary>Window height and width.</summary>
    public int Size { get; } = size;

    /// <summary>Step between windows, on both axes. Defaults to <see cref="Size"/>.</summary>
    public int Stride { get; set; }

    /// <summary>Rows and columns of −∞ added on every side of the input; at most <see cref="Size"/> / 2 (PyTorch's rule). Default 0.</summary>
    public int Padding { get; set; }
}
