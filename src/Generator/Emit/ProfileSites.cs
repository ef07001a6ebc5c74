using System.Collections.Generic;
using System.Linq;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator.Emit;

/// <summary>
/// The timed call sites of a network compiled with the <c>NETGEN_PROFILE</c> symbol: each layer method call in the passes
/// is wrapped in a timestamp and an addition to the class's <c>LayerTimings</c> (<c>NetGen.Profiling.LayerTimings</c>),
/// with the floating-point work the call does, so a profile shows each method's time, GFLOP/s and share of the peak.
/// Without the symbol the writer has none and the calls are written bare.
/// </summary>
internal sealed class ProfileSites
{
    /// <summary>The compilation symbol that turns profiling on.</summary>
    public const string Symbol = "NETGEN_PROFILE";

    private readonly List<string> _labels = [];

    /// <summary>Each site's label, by its number.</summary>
    public IReadOnlyList<string> Labels => _labels;

    /// <summary>Writes <paramref name="call"/> (a statement), timed as site <paramref name="label"/> when profiling.</summary>
    /// <param name="flops">A C# expression of the call's floating-point operations, a <c>long</c>.</param>
    public static void Call(SourceWriter w, string label, string call, string flops) => Time(w, label, flops, () => w.Line($"{call}"));

    /// <summary>Writes the statements <paramref name="body"/> writes, timed as one site as <see cref="Call"/> times a call.</summary>
    public static void Time(SourceWriter w, string label, string flops, System.Action body)
    {
        if (w.Profile is not { } sites)
        {
            body();
            return;
        }

        int site = sites._labels.Count;
        sites._labels.Add(label);
        w.Line($"long started{site} = global::System.Diagnostics.Stopwatch.GetTimestamp();");
        body();
        w.Line($"LayerTimings.Add({site}, started{site}, {flops}); // {label}");
    }

    /// <summary>The work of a forward call over <c>count</c> samples: 2 operations per multiply-add of the layer's product.</summary>
    public static string ForwardFlops(LayerPlan plan) =>
        plan.Layer.MultiplyAdds(plan) is var macs and > 0 ? $"count * {2 * macs}L" : "0L";

    /// <summary>
    /// The work of a backward call: the product for dL/dx (unless the layer reads the network's input and the call skips
    /// it) plus the one for dL/dW (unless the batch computes it apart: <see cref="Layer.HasBatchWeightGradient"/>).
    /// </summary>
    public static string BackwardFlops(LayerPlan plan)
    {
        long macs = plan.Layer.MultiplyAdds(plan);
        if (macs == 0)
        {
            return "0L";
        }

        string inputGradient = plan.Inputs.Contains(LayerPlan.NetworkInput) ? "(inputGradient ? 1L : 0L)" : "1L";
        string weightGradient = plan.Layer.HasBatchWeightGradient ? "(batchWeightGradients ? 0L : 1L)" : "1L";
        return $"count * {2 * macs}L * ({inputGradient} + {weightGradient})";
    }

    /// <summary>The class's <c>LayerTimings</c> property, written after every site is known.</summary>
    public void EmitProperty(SourceWriter w)
    {
        w.Summary($"Time and work of each call site of the passes, summed over calls and threads: this class was compiled with the <c>{Symbol}</c> symbol.");
        w.Line($"public static global::NetGen.Profiling.LayerTimings LayerTimings {{ get; }} = new(");
        for (int i = 0; i < _labels.Count; i++)
        {
            w.Line($"    {Literal.String(_labels[i])}{(i < _labels.Count - 1 ? "," : ");")}");
        }

        if (_labels.Count == 0)
        {
            w.Line($");");
        }
    }
}
