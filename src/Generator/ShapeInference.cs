using System.Collections.Generic;
using System.Linq;
using System.Text;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator;

/// <summary>
/// The middle of the pipeline: checks the network's structure (Input first and unique, Softmax last), names
/// every layer, runs each layer's shape rule in order, and lays the parameters out in one flat vector.
/// Pure data in, pure data out.
/// </summary>
internal static class ShapeInference
{
    /// <summary>Names that would collide with the network's own generated members.</summary>
    private static readonly HashSet<string> ReservedPrefixes = ["Output", "Parameter", "Parameters", "Gradients", "Summary", "Workspace"];

    public static InferenceResult Infer(ParseResult parsed)
    {
        var diagnostics = new List<DiagnosticInfo>(parsed.Diagnostics);
        if (parsed.Spec is not { } spec)
        {
            return new InferenceResult(null, diagnostics.ToEquatableArray());
        }

        IReadOnlyList<Layer> layers = spec.Layers;
        string network = spec.Hierarchy.TypeName;

        string[] names = ResolveNames(layers, diagnostics);

        // Structure: exactly one Input, first; Softmax last and only last.
        var inputs = layers.Select((layer, index) => (layer, index)).Where(static p => p.layer is InputLayer).ToList();
        if (inputs[0].index != 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InputNotFirst, inputs[0].layer.Location, network, inputs[0].index + 1));
        }

        foreach (var (layer, _) in inputs.Skip(1))
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DuplicateInput, layer.Location, network));
        }

        for (int i = 0; i < layers.Count - 1; i++)
        {
            if (layers[i] is SoftmaxLayer)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.SoftmaxNotLast, layers[i].Location, names[i], layers.Count - 1 - i));
            }
        }

        if (layers[layers.Count - 1] is not SoftmaxLayer)
        {
            Layer last = layers[layers.Count - 1];
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.MissingSoftmax, last.Location, network, names[layers.Count - 1]));
        }

        if (layers.Count > Check.MaxLayers)
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.SourceTooLarge, layers[Check.MaxLayers].Location, names[Check.MaxLayers],
                $"the network has {layers.Count} layers", "each layer", Check.MaxLayers));
            return new InferenceResult(null, diagnostics.ToEquatableArray());
        }

        for (int i = 0; i < layers.Count; i++)
        {
            layers[i].ValidateArguments(names[i], diagnostics);
        }

        if (diagnostics.Any(static d => d.IsError))
        {
            return new InferenceResult(null, diagnostics.ToEquatableArray());
        }

        // Shapes and the parameter layout, layer by layer.
        var input = (InputLayer)layers[0];
        Shape? current = input.InferOutputShape(default, names[0], diagnostics);
        var plans = new List<LayerPlan>();
        long offset = 0;
        for (int i = 1; i < layers.Count && current is { } shape; i++)
        {
            Layer layer = layers[i];
            Shape? output = layer.InferOutputShape(shape, names[i], diagnostics);
            if (output is not { } outputShape)
            {
                current = null;
                break;
            }

            var slots = new List<ParameterSlot>();
            foreach (ParameterTensor tensor in layer.GetParameters(shape, outputShape))
            {
                slots.Add(new ParameterSlot(tensor, (int)System.Math.Min(offset, int.MaxValue)));
                offset += tensor.LongLength;
            }

            if (!Check.Fits(layer, names[i], "the network's parameter count", offset, diagnostics))
            {
                current = null;
                break;
            }

            plans.Add(new LayerPlan(layer, names[i], Pascal(names[i]), i - 1, shape, outputShape,
                slots.ToEquatableArray(), layer.GetScratchBuffers(shape, outputShape).ToEquatableArray()));
            current = outputShape;
        }

        if (current is null || diagnostics.Any(static d => d.IsError))
        {
            return new InferenceResult(null, diagnostics.ToEquatableArray());
        }

        Fuse(plans);
        var model = new NetworkModel(spec.Hierarchy, new Shape(input.Channels, input.Height, input.Width), plans.ToEquatableArray(), (int)offset);
        return new InferenceResult(model, diagnostics.ToEquatableArray());
    }

    /// <summary>
    /// Each layer that can do the work of the one before it (<see cref="Layer.Absorb"/>: a max pooling after a ReLU) takes
    /// it over; the absorbed layer stays in the model, for its name and shape, but has no methods and no buffers.
    /// </summary>
    private static void Fuse(List<LayerPlan> plans)
    {
        for (int i = 0; i + 1 < plans.Count; i++)
        {
            if (plans[i + 1].Layer.Absorb(plans[i].Layer) is { } fused)
            {
                plans[i] = plans[i] with { FusedIntoNext = true };
                plans[i + 1] = plans[i + 1] with { Layer = fused };
            }
        }
    }

    /// <summary>Explicit names, or the kind's prefix and its ordinal among layers of that kind; each checked and unique.</summary>
    private static string[] ResolveNames(IReadOnlyList<Layer> layers, List<DiagnosticInfo> diagnostics)
    {
        var names = new string[layers.Count];
        var ordinals = new Dictionary<string, int>();
        var taken = new Dictionary<string, int>();
        bool seenInput = false;
        for (int i = 0; i < layers.Count; i++)
        {
            Layer layer = layers[i];
            if (layer is InputLayer && seenInput)
            {
                names[i] = "input";
                continue; // a second [Input] is already NG0003
            }

            seenInput |= layer is InputLayer;
            ordinals.TryGetValue(layer.DefaultNamePrefix, out int ordinal);
            ordinals[layer.DefaultNamePrefix] = ++ordinal;
            string name = layer.ExplicitName ?? (layer is InputLayer ? "input" : layer.DefaultNamePrefix + ordinal);
            names[i] = name;

            if (NameProblem(name) is { } problem)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InvalidLayerName, layer.Location, name, problem));
                continue;
            }

            // The input's members are always Input…, whatever its name.
            string prefix = layer is InputLayer ? "Input" : Pascal(name);
            if (taken.TryGetValue(prefix, out int other))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DuplicateLayerName, layer.Location, name, other + 1, prefix));
            }
            else
            {
                taken[prefix] = i;
            }
        }

        return names;
    }

    private static string? NameProblem(string name)
    {
        if (name.Length == 0)
        {
            return "it is empty";
        }

        if (name.Length > 64)
        {
            return "it is longer than 64 characters";
        }

        if (!IsAsciiLetter(name[0]))
        {
            return "it must start with a letter (A–Z, a–z)";
        }

        if (name.Any(static c => !IsAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '_'))
        {
            return "it may contain only letters, digits and '_' (it names generated members and the tensors in a weights file)";
        }

        if (ReservedPrefixes.Contains(Pascal(name)))
        {
            return $"'{Pascal(name)}' would collide with the network's own generated members";
        }

        return null;
    }

    private static bool IsAsciiLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

    /// <summary>The member prefix for a layer name: <c>conv1</c> → <c>Conv1</c>, <c>my_conv</c> → <c>MyConv</c>.</summary>
    public static string Pascal(string name)
    {
        var sb = new StringBuilder(name.Length);
        bool upper = true;
        foreach (char c in name)
        {
            if (c == '_')
            {
                upper = true;
                continue;
            }

            sb.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }

        return sb.ToString();
    }
}
