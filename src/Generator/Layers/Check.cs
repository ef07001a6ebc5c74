using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using NetGen.Generator.Model;

namespace NetGen.Generator.Layers;

/// <summary>
/// Where a layer's checks report: the layer's name (the first argument of most messages) and its attribute's location,
/// which lives here and in the diagnostics only, never in a layer or the model.
/// </summary>
internal sealed class LayerContext(string name, LocationInfo? location, List<DiagnosticInfo> diagnostics)
{
    public string Name => name;

    /// <summary>Reports <paramref name="descriptor"/> on the layer's attribute; the message's first argument is the layer's name.</summary>
    public void Report(DiagnosticDescriptor descriptor, params object[] arguments)
    {
        var all = new object[arguments.Length + 1];
        all[0] = name;
        arguments.CopyTo(all, 1);
        diagnostics.Add(DiagnosticInfo.Create(descriptor, location, all));
    }
}

/// <summary>Argument checks shared by the layers' shape rules; each reports its diagnostic and returns false on failure.</summary>
internal static class Check
{
    /// <summary>
    /// The largest activation, scratch buffer or parameter vector NetGen generates: .NET's largest float array
    /// is a little under 2^31 elements, and far smaller sizes would already take the generated code hours to run.
    /// </summary>
    public const long MaxElements = int.MaxValue / 2;

    /// <summary>
    /// The most kernel taps or pooling-window elements one layer may have: each is written out in the generated
    /// code (a block per tap, a comparison per window element), so this bounds the source at a few thousand lines
    /// per layer. Real networks use up to 11×11 (121).
    /// </summary>
    public const int MaxUnrolledTaps = 1024;

    /// <summary>
    /// The most layers a network may have: each is a few calls and buffers in the generated passes, and two methods unless
    /// an earlier identical layer's are shared, so a 320-layer network of repeated blocks stays under 2 MB of source.
    /// </summary>
    public const int MaxLayers = 1024;

    public static bool UnrolledTaps(LayerContext layer, string what, int height, int width)
    {
        long taps = (long)height * width;
        if (taps <= MaxUnrolledTaps)
        {
            return true;
        }

        layer.Report(Diagnostics.SourceTooLarge, $"its {height}×{width} {what} has {taps} elements", $"each {what} element", MaxUnrolledTaps);
        return false;
    }

    public static bool Positive(LayerContext layer, string what, int value)
    {
        if (value > 0)
        {
            return true;
        }

        layer.Report(Diagnostics.InvalidArgument, what, "positive", value);
        return false;
    }

    public static bool NotNegative(LayerContext layer, string what, int value)
    {
        if (value >= 0)
        {
            return true;
        }

        layer.Report(Diagnostics.InvalidArgument, what, "zero or positive", value);
        return false;
    }

    /// <summary>
    /// A pooling's padding: zero or more, and at most half the window (PyTorch's rule, which keeps every window partly
    /// inside the input: a max pooling's −∞ padding never wins, an average pooling's window is never all zeros).
    /// </summary>
    public static bool PoolingPadding(LayerContext layer, int size, int padding)
    {
        if (!NotNegative(layer, "padding", padding))
        {
            return false;
        }

        if (size <= 0 || padding <= size / 2)
        {
            return true;
        }

        layer.Report(Diagnostics.InvalidArgument, "padding", $"at most half the window size ({size} / 2 = {size / 2})", padding);
        return false;
    }

    /// <summary>
    /// The shape rule of a pooling over size × size windows, stride and padding on both axes (PyTorch's, floor mode):
    /// C × (⌊(H + 2p − k) / s⌋ + 1) × (⌊(W + 2p − k) / s⌋ + 1), or null after reporting a window larger than the padded input.
    /// </summary>
    public static Shape? PooledShape(LayerContext layer, Shape input, int size, int stride, int padding)
    {
        long paddedHeight = input.Height + 2L * padding, paddedWidth = input.Width + 2L * padding;
        if (size > paddedHeight || size > paddedWidth)
        {
            string padded = padding == 0 ? "" : $" (padded to {paddedHeight}×{paddedWidth})";
            layer.Report(Diagnostics.WindowLargerThanInput, "pooling", size, size, input.ToFullString(), padded);
            return null;
        }

        long height = (paddedHeight - size) / stride + 1, width = (paddedWidth - size) / stride + 1;
        return Fits(layer, "its output", input.Channels * height * width) ? new Shape(input.Channels, (int)height, (int)width) : null;
    }

    public static bool Fits(LayerContext layer, string what, long elements)
    {
        if (elements <= MaxElements)
        {
            return true;
        }

        layer.Report(Diagnostics.SizeOverflow, what, elements, MaxElements);
        return false;
    }
}
