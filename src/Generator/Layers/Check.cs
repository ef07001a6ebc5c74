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
