using System;

namespace NetGen;

/// <summary>
/// The network's input: one sample of <paramref name="channels"/> × <paramref name="height"/> ×
/// <paramref name="width"/> floats in CHW order, row-major (PyTorch's NCHW without the batch dimension).
/// Required, and the first layer attribute of the class.
/// </summary>
/// <param name="channels">Number of channels (1 for grey images, 3 for RGB).</param>
/// <param name="height">Height in pixels.</param>
/// <param name="width">Width in pixels.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class InputAttribute(int channels, int height, int width) : LayerAttribute
{
    /// <summary>Number of channels.</summary>
    public int Channels { get; } = channels;

    /// <summary>Height in pixels.</summary>
    public int Height { get; } = height;

    /// <summary>Width in pixels.</summary>
    public int Width { get; } = width;
}
