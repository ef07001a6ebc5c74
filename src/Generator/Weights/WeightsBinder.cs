using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator.Weights;

/// <summary>
/// Matches tensors read at compile time (a safetensors file, an ONNX model's initializers) against a network's declared
/// tensors by their <c>state_dict()</c> names and shapes, and lays them out as the network keeps them: parameters, float
/// state (running statistics) and counters, each in its flat vector at the offsets of <see cref="LayerPlan.Parameters"/>
/// and <see cref="LayerPlan.State"/>. Problems come back as data; the caller turns them into diagnostics at its location.
/// </summary>
internal static class WeightsBinder
{
    /// <summary>
    /// Binds <paramref name="tensors"/> to <paramref name="model"/>: every declared tensor must be present once with its
    /// shape, and no other tensor may be. Returns the baked vectors, or (null and) every problem found, in declaration
    /// order for missing tensors and shape mismatches, then the extra tensors in their order.
    /// </summary>
    public static WeightsBinding Bind(NetworkModel model, IReadOnlyList<NamedTensor> tensors)
    {
        var byName = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        var problems = new List<WeightsProblem>();
        foreach (NamedTensor tensor in tensors)
        {
            if (!byName.ContainsKey(tensor.Name))
            {
                byName.Add(tensor.Name, tensor);
            }
            else
            {
                problems.Add(new WeightsProblem(WeightsProblemKind.Duplicate, tensor.Name, tensor.Shape, tensor.Shape));
            }
        }

        var parameters = new float[model.ParameterCount];
        var buffers = new float[model.StateCount];
        var counters = new long[model.CounterCount];
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (ExpectedTensor expected in ExpectedTensors(model))
        {
            used.Add(expected.Name);
            if (!byName.TryGetValue(expected.Name, out NamedTensor? found))
            {
                problems.Add(new WeightsProblem(WeightsProblemKind.Missing, expected.Name, expected.Shape, EquatableArray<int>.Empty));
                continue;
            }

            if (found.Shape != expected.Shape || found.Values.Count != expected.Length)
            {
                problems.Add(new WeightsProblem(WeightsProblemKind.Shape, expected.Name, expected.Shape, found.Shape));
                continue;
            }

            ReadOnlySpan<float> values = found.Values.AsSpan();
            switch (expected.Kind)
            {
                case TensorKind.Parameter:
                    values.CopyTo(parameters.AsSpan(expected.Offset, expected.Length));
                    break;
                case TensorKind.Buffer:
                    values.CopyTo(buffers.AsSpan(expected.Offset, expected.Length));
                    break;
                default:
                    for (int i = 0; i < values.Length; i++)
                    {
                        // From an I64 tensor its exact value; from a float one (an ONNX model has none: 0) the rounded float.
                        counters[expected.Offset + i] = found.Integers.Count == values.Length ? found.Integers[i]
                            : float.IsNaN(values[i]) ? 0 : (long)Math.Round(values[i]);
                    }

                    break;
            }
        }

        foreach (NamedTensor tensor in tensors)
        {
            if (!used.Contains(tensor.Name))
            {
                used.Add(tensor.Name); // report a duplicated extra tensor once
                problems.Add(new WeightsProblem(WeightsProblemKind.Extra, tensor.Name, EquatableArray<int>.Empty, tensor.Shape));
            }
        }

        return problems.Count > 0
            ? new WeightsBinding(null, problems.ToEquatableArray())
            : new WeightsBinding(new BakedWeights(parameters.ToEquatableArray(), buffers.ToEquatableArray(), counters.ToEquatableArray()),
                EquatableArray<WeightsProblem>.Empty);
    }

    /// <summary>
    /// Every tensor the network declares, in <c>state_dict()</c> order (layer by layer: parameters, then state): its name
    /// (<c>conv1.weight</c>), PyTorch shape, which vector holds it and where.
    /// </summary>
    public static IEnumerable<ExpectedTensor> ExpectedTensors(NetworkModel model) => model.Layers.SelectMany(ExpectedTensors);

    /// <summary>The tensors one layer declares, as <see cref="ExpectedTensors(NetworkModel)"/> lists them: parameters, then state.</summary>
    public static IEnumerable<ExpectedTensor> ExpectedTensors(LayerPlan plan)
    {
        foreach (ParameterSlot slot in plan.Parameters)
        {
            yield return new ExpectedTensor(plan.TensorName(slot.Tensor.Role), slot.Tensor.Dimensions,
                TensorKind.Parameter, slot.Offset, slot.Tensor.Length);
        }

        foreach (StateSlot slot in plan.State)
        {
            yield return new ExpectedTensor(plan.TensorName(slot.Tensor.Role), slot.Tensor.Dimensions,
                slot.Tensor.IsCounter ? TensorKind.Counter : TensorKind.Buffer, slot.Offset, slot.Tensor.Length);
        }
    }

    /// <summary>A shape as PyTorch prints it: <c>[6, 1, 5, 5]</c>, <c>[]</c> for a scalar.</summary>
    public static string FormatShape(EquatableArray<int> shape) =>
        "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
}

/// <summary>Which of a network's vectors holds a tensor.</summary>
internal enum TensorKind
{
    /// <summary>A trainable tensor, in <c>Parameters</c> (F32).</summary>
    Parameter,

    /// <summary>Float state that is not a parameter (a running mean), in <c>Buffers</c> (F32).</summary>
    Buffer,

    /// <summary>A counter (a BatchNorm's <c>num_batches_tracked</c>), in <c>Counters</c> (I64).</summary>
    Counter,
}

/// <summary>A tensor the network declares: its name, shape, vector, offset and length in that vector.</summary>
internal sealed record ExpectedTensor(string Name, EquatableArray<int> Shape, TensorKind Kind, int Offset, int Length);

/// <summary>What <see cref="WeightsBinder.Bind"/> found wrong with one tensor.</summary>
internal enum WeightsProblemKind
{
    /// <summary>The network declares the tensor; the file lacks it.</summary>
    Missing,

    /// <summary>The file holds a tensor the network does not declare.</summary>
    Extra,

    /// <summary>The tensor has another shape than declared.</summary>
    Shape,

    /// <summary>The tensor appears more than once.</summary>
    Duplicate,
}

/// <summary>
/// One problem with one tensor: its name and the expected and found shapes (empty where they do not apply: a missing
/// tensor has no found shape, an extra one no expected shape).
/// </summary>
internal sealed record WeightsProblem(WeightsProblemKind Kind, string Tensor, EquatableArray<int> Expected, EquatableArray<int> Found);

/// <summary>The tensors laid out as the network keeps them, or null with the problems that prevented it.</summary>
internal sealed record WeightsBinding(BakedWeights? Weights, EquatableArray<WeightsProblem> Problems);

/// <summary>
/// A network's weights in its own layout: <see cref="Parameters"/> as <c>Parameters</c> holds them, <see cref="Buffers"/>
/// as <c>Buffers</c> (running statistics), <see cref="Counters"/> as <c>Counters</c>. Compared bit for bit, so that a
/// weight changing from 0 to −0 (equal as floats) still regenerates the baked data.
/// </summary>
internal sealed record BakedWeights(EquatableArray<float> Parameters, EquatableArray<float> Buffers, EquatableArray<long> Counters)
{
    public bool Equals(BakedWeights? other) =>
        other is not null
        && MemoryMarshal.AsBytes(Parameters.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(other.Parameters.AsSpan()))
        && MemoryMarshal.AsBytes(Buffers.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(other.Buffers.AsSpan()))
        && Counters.Equals(other.Counters);

    public override int GetHashCode() => Parameters.Count * 31 + Buffers.Count * 7 + Counters.Count;
}
