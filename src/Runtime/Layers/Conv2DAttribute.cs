using System;

namespace NetGen;

/// <summary>
/// A 2-D convolution (cross-correlation, as PyTorch's <c>Conv2d</c>) with zero padding:
/// <c>y(k,i,j) = b(k) + Σ_t Σ_m Σ_n w(k,t,m,n) · x(t, i·s + m − p, j·s + n − p)</c>.
/// Output size per axis: <c>floor((H + 2p − k) / s) + 1</c>. Weight layout [filters, in channels / groups, kh, kw].
/// </summary>
/// <remarks>
/// With <see cref="Groups"/> = g, as PyTorch's <c>Conv2d(groups=g)</c>, the input channels and the filters are cut into g
/// groups and each filter reads only its group's channels: filter k reads channels ⌊k / (filters/g)⌋ · (in/g) … + in/g − 1.
/// g equal to the input channels is a depthwise convolution (each filter reads one channel). Without <see cref="Bias"/>,
/// as <c>Conv2d(bias=False)</c>, the layer has no bias tensor and its sums start at zero.
/// </remarks>
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

    /// <summary>
    /// Groups of input channels and filters, each filter reading only its group's channels (PyTorch's <c>groups</c>); both
    /// counts must divide by it. Default 1: every filter reads every channel. The input channels: depthwise.
    /// </summary>
    public int Groups { get; set; } = 1;

    /// <summary>Whether the layer adds a trainable bias per filter (PyTorch's <c>bias</c>). Default true.</summary>
    public bool Bias { get; set; } = true;
}
