using System;

namespace NetGen;

/// <summary>
/// A 2-D convolution (cross-correlation, as PyTorch's <c>Conv2d</c>) with zero padding:
/// <c>y(k,i,j) = b(k) + Σ_t Σ_m Σ_n w(k,t,m,n) · x(t, i·s + m − p, j·s + n − p)</c>.
/// Output size per axis: <c>floor((H + 2p − k) / s) + 1</c>. Weight layout [filters, in channels, kh, kw].
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class Conv2DAttribute : LayerAttribute
{
    /// <summary>A convolution with a square <paramref name="kernelSize"/> × <paramref name="kernelSize"/> kernel.</summary>
    /// <param name="filters">Number of output channels.</param>
    /// <param name="kernelSize">Kernel height and width.</param>
    public Conv2DAttribute(int filters, int kernelSize) : this(filters, kernelSize, kernelSize) { }

    /// <summary>A convolution with a <paramref name="kernelHeight"/> × <paramref name="kernelWidth"/> kernel.</summary>
    /// <param name="filters">Number of output channels.</param>
    /// <param name="kernelHeight">Kernel height.</param>
    /// <param name="kernelWidth">Kernel width.</param>
    public Conv2DAttribute(int filters, int kernelHeight, int kernelWidth)
    {
        Filters = filters;
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
    }

    /// <summary>Number of output channels.</summary>
    public int Filters { get; }

    /// <summary>Kernel height.</summary>
    public int KernelHeight { get; }

    /// <summary>Kernel width.</summary>
    public int KernelWidth { get; }

    /// <summary>Step between kernel positions, on both axes. Default 1.</summary>
    public int Stride { get; set; } = 1;

    /// <summary>Zeros added on every side of the input, on both axes. Default 0.</summary>
    public int Padding { get; set; }
}
