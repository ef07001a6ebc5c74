using NetGen.Generator.Model;

namespace NetGen.Generator.Weights;

/// <summary>
/// A tensor read at compile time from a weights file (safetensors) or an ONNX model's initializers, already converted to
/// float32 in row-major order: its name (the safetensors name NetGen gives it, <c>conv1.weight</c>), shape and values.
/// An integer tensor (a BatchNorm's <c>num_batches_tracked</c>, I64) also keeps its exact values in <see cref="Integers"/>:
/// a count above 2^24 does not survive a float.
/// </summary>
internal sealed record NamedTensor(string Name, EquatableArray<int> Shape, EquatableArray<float> Values)
{
    /// <summary>The exact values of an integer tensor; empty for a float one.</summary>
    public EquatableArray<long> Integers { get; init; } = EquatableArray<long>.Empty;
}
