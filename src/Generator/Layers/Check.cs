using System.Collections.Generic;
using NetGen.Generator.Model;

namespace NetGen.Generator.Layers;

/// <summary>Argument checks shared by the layers' shape rules; each adds its diagnostic and returns false on failure.</summary>
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

    /// <summary>The most layers a network may have: each is two methods and a few buffers in the generated source.</summary>
    public const int MaxLayers = 256;

    public static bool UnrolledTaps(Layer layer, string name, string what, int height, int width, List<DiagnosticInfo> diagnostics)
    {
        long taps = (long)height * width;
        if (taps <= MaxUnrolledTaps)
        {
            return true;
        }

        diagnostics.Add(DiagnosticInfo.Create(Diagnostics.SourceTooLarge, layer.Location, name, $"its {height}×{width} {what} has {taps} elements", $"each {what} element", MaxUnrolledTaps));
        return false;
    }

    public static bool Positive(Layer layer, string name, string what, int value, List<DiagnosticInfo> diagnostics)
    {
        if (value > 0)
        {
            return true;
        }

        diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InvalidArgument, layer.Location, name, what, "positive", value));
        return false;
    }

    public static bool NotNegative(Layer layer, string name, string what, int value, List<DiagnosticInfo> diagnostics)
    {
        if (value >= 0)
        {
            return true;
        }

        diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InvalidArgument, layer.Location, name, what, "zero or positive", value));
        return false;
    }

    public static bool Fits(Layer layer, string name, string what, long elements, List<DiagnosticInfo> diagnostics)
    {
        if (elements <= MaxElements)
        {
            return true;
        }

        diagnostics.Add(DiagnosticInfo.Create(Diagnostics.SizeOverflow, layer.Location, name, what, elements, MaxElements));
        return false;
    }
}
