using System;

namespace NetGen;

/// <summary>
/// 2-D max pooling over <paramref name="size"/> × <paramref name="size"/> windows, per channel:
/// <c>y(c,i,j) = max_{m,n} x(c, i·s + m, j·s + n)</c>. Output size per axis: <c>floor((H − k) / s) + 1</c>.
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
}
