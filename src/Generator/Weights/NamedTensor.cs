using NetGen.Generator.Model;

namespace NetGen.Generator.Weights;

/// <summary>
/// A tensor read at compile time from a weights file (safetensors) or an ONNX model's initializers, already converted to
/// float32 in row-major order: its name (the safetensors name NetGen gives it, <c>conv1.weight</c>), shape and values.
/// Integer tensors (a BatchNorm's <c>num_batches_tracked</c>) carry their value as a float.
/// </summary>
internal sealed record NamedTensor(string Name, EquatableArray<int> Shape, EquatableArray<float> Values);
