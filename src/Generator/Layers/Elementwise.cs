using System.Collections.Generic;
using NetGen.Generator.Emit;

namespace NetGen.Generator.Layers;

/// <summary>The loops the elementwise activations (Tanh, Sigmoid, LeakyReLU) share; each layer supplies its formula.</summary>
internal static class Elementwise
{
    /// <summary>
    /// <c>TensorPrimitives.{operation}(x, y)</c> sample by sample: TensorPrimitives picks its vector width (or a scalar
    /// loop) from the span's length, so one call per sample keeps a sample's values the same in any batch.
    /// </summary>
    public static void EmitPerSample(SourceWriter w, int length, string operation)
    {
        w.Line($"// Sample by sample: TensorPrimitives picks its vector width from the length, so a sample's values do not depend on its batch.");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"TensorPrimitives.{operation}(x.Slice(s * {length}, {length}), y.Slice(s * {length}, {length}));");
        w.Close();
    }

    /// <summary>
    /// A loop over the count · <paramref name="length"/> floats, TVector.Count at a time: loads vector <c>name</c> from
    /// span <c>span</c> for each of <paramref name="inputs"/>, runs <paramref name="body"/> (lines ending in
    /// <c>TVector result = …;</c>) and stores the result into <paramref name="output"/>. The last vector reads up to
    /// Count − 1 floats past the end, into the buffers' slack, and stores only the lanes before the end; so every element
    /// goes through the same vector instructions, wherever it lies in the batch.
    /// </summary>
    public static void EmitVectorLoop(
        SourceWriter w, int length, IReadOnlyList<(string Name, string Span)> inputs, string output,
        IReadOnlyList<(string Name, string Value)> constants, IReadOnlyList<string> body)
    {
        w.Line($"int length = count * {length};");
        w.Line($"// The last vector reads up to Count − 1 floats past the end, into the buffers' slack, and stores only the lanes before it.");
        foreach ((_, string span) in inputs)
        {
            w.Line($"ref float {span}0 = ref MemoryMarshal.GetReference({span}.Slice(0, length + TVector.Count - 1));");
        }

        w.Line($"ref float {output}0 = ref MemoryMarshal.GetReference({output}.Slice(0, length + TVector.Count - 1));");
        foreach ((string name, string value) in constants)
        {
            w.Line($"TVector {name} = {value};");
        }

        w.Line($"for (int i = 0; i < length; i += TVector.Count)");
        w.Open();
        foreach ((string name, string span) in inputs)
        {
            w.Line($"TVector {name} = TVector.Load(ref Unsafe.Add(ref {span}0, i));");
        }

        foreach (string line in body)
        {
            w.Line($"{line}");
        }

        w.Line($"if (i <= length - TVector.Count)");
        w.Open();
        w.Line($"TVector.Store(result, ref Unsafe.Add(ref {output}0, i));");
        w.Close();
        w.Line($"else");
        w.Open();
        w.Line($"TVector.StoreLanes(result, ref Unsafe.Add(ref {output}0, i), 0, length - i);");
        w.Close();
        w.Close();
    }
}
