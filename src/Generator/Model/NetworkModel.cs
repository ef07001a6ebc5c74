using NetGen.Generator.Layers;

namespace NetGen.Generator.Model;

/// <summary>What the parser read off a network class: where it lives and its layers, unchecked.</summary>
internal sealed record NetworkSpec(HierarchyInfo Hierarchy, EquatableArray<Layer> Layers);

/// <summary>The parser's output: a spec (null when the class cannot be a network) and the diagnostics found so far.</summary>
internal sealed record ParseResult(NetworkSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// A network after shape inference: every layer with its name, shapes and parameter offsets resolved.
/// Everything the emitter needs, and nothing from Roslyn.
/// </summary>
internal sealed record NetworkModel(HierarchyInfo Hierarchy, Shape Input, EquatableArray<LayerPlan> Layers, int ParameterCount)
{
    public LayerPlan Last => Layers[Layers.Count - 1];
}

/// <summary>The inferred model (null on any error) and every diagnostic, as data.</summary>
internal sealed record InferenceResult(NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>A computing layer (everything after Input) placed in its network.</summary>
/// <param name="Layer">The layer kind and its arguments.</param>
/// <param name="Name">The layer's name (<c>conv1</c>), used for tensor names.</param>
/// <param name="Pascal">The member prefix derived from the name (<c>Conv1</c>).</param>
/// <param name="Index">Position among the computing layers, from 0.</param>
/// <param name="Input">Input activation shape.</param>
/// <param name="Output">Output activation shape.</param>
/// <param name="Parameters">Trainable tensors and their offsets in the flat parameter vector.</param>
/// <param name="Scratch">Per-sample buffers.</param>
internal sealed record LayerPlan(
    Layer Layer, string Name, string Pascal, int Index, Shape Input, Shape Output,
    EquatableArray<ParameterSlot> Parameters, EquatableArray<ScratchBuffer> Scratch)
{
    /// <summary>
    /// Whether the next layer does this one's work (a ReLU before a max pooling, which takes the maximum and then max(·, 0):
    /// the same values and gradients in one pass instead of two). Its methods are not emitted and it has no buffers; the next
    /// layer reads this one's input and writes its input gradient.
    /// </summary>
    public bool FusedIntoNext { get; init; }

    public int ParameterCount
    {
        get
        {
            int n = 0;
            foreach (ParameterSlot p in Parameters)
            {
                n += p.Tensor.Length;
            }

            return n;
        }
    }
}

/// <summary>A trainable tensor at its offset (in floats) in <c>Parameters</c> and <c>Gradients</c>.</summary>
internal sealed record ParameterSlot(ParameterTensor Tensor, int Offset);
