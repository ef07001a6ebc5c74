using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator.Emit;

/// <summary>
/// A network as an ONNX graph, and the <c>ExportOnnx</c> methods that write it. <see cref="Lower"/> turns each layer's
/// <see cref="Layer.OnnxOperators"/> into named nodes (every decision in that data); <see cref="EmitExportApi"/> prints it
/// as a static description that the runtime's <c>NetGen.Onnx.OnnxExport</c> serializes with the parameters.
/// </summary>
internal static class OnnxEmitter
{
    /// <summary>The graph's input: the samples, [N, C, H, W].</summary>
    public const string InputName = "input";

    /// <summary>The graph's output: the probabilities, or a regression's output.</summary>
    public const string OutputName = "output";

    /// <summary>
    /// Each layer's operators in declaration order, their values named: a layer's output after the layer (the network's
    /// last, <c>output</c>), its tensors as in a weights file (<c>conv1.weight</c>), what the exporter adds after the layer
    /// and the operator (<c>dense1/Flatten</c>: layer names cannot hold a '/'). Each value's rank is tracked: where an
    /// operator reads another rank than its input has (<see cref="OnnxRank"/>), a Flatten (axis 1: [N, C, H, W] → [N, C·H·W])
    /// or an Unsqueeze (axes 2, 3: [N, C] → [N, C, 1, 1]) goes before it. A ReLU fused into a max pooling is still a layer of
    /// the model, so it exports its own Relu; a layer without operators (Dropout) passes its input on.
    /// </summary>
    public static OnnxGraphModel Lower(NetworkModel model)
    {
        var nodes = new List<OnnxNodeModel>();
        var taken = new HashSet<string>(StringComparer.Ordinal) { InputName, OutputName };
        var values = new Dictionary<int, GraphValue> { [LayerPlan.NetworkInput] = new(InputName, 4) };
        foreach (LayerPlan plan in model.Layers)
        {
            taken.Add(plan.Name);
        }

        foreach (LayerPlan plan in model.Layers)
        {
            IReadOnlyList<OnnxOperator> operators = plan.Layer.OnnxOperators(plan);
            bool last = plan.Index == model.Last.Index;
            GraphValue? previous = null;
            for (int k = 0; k < operators.Count; k++)
            {
                OnnxOperator op = operators[k];
                GraphValue Data(Operand o) => o.Kind == OperandKind.Output ? previous!.Value : values[plan.Inputs[o.Slot]];
                int rank = op.Rank switch
                {
                    OnnxRank.Spatial => 4,
                    OnnxRank.Flat => 2,
                    _ => op.Inputs.Where(OnnxOperator.IsData).Min(o => Data(o).Rank),
                };

                var inputs = new List<string>();
                foreach (Operand operand in op.Inputs)
                {
                    inputs.Add(OnnxOperator.IsData(operand)
                        ? Adapt(Data(operand), rank, plan, nodes, taken)
                        : plan.TensorName(operand.Role));
                }

                bool final = k == operators.Count - 1;
                string name = final ? plan.Name : Unique($"{plan.Name}/{op.OpType}", taken);
                // No layer is named input or output (NG0011, NG0012: they collide with generated members).
                string output = final ? (last ? OutputName : plan.Name) : name;
                nodes.Add(new OnnxNodeModel(name, op.OpType, inputs.ToEquatableArray(), output, op.Attributes,
                    k == 0 ? $"{plan.Name} ({plan.Layer.Kind}){Described(plan)}" : ""));
                previous = new GraphValue(output, rank);
            }

            values[plan.Index] = previous ?? values[plan.Inputs[0]];
        }

        GraphValue result = values[model.Last.Index];
        if (result.Name != OutputName)
        {
            // The last layer has no operator of its own (not a loss layer's case): its input becomes the output.
            nodes.Add(new OnnxNodeModel(model.Last.Name, "Identity", new[] { result.Name }.ToEquatableArray(), OutputName,
                EquatableArray<OnnxAttribute>.Empty, $"{model.Last.Name} ({model.Last.Layer.Kind}): the network's output"));
        }

        Shape shape = model.Last.Output;
        int[] outputShape = result.Rank == 2 ? [shape.Length] : [shape.Channels, shape.Height, shape.Width];
        return new OnnxGraphModel(
            new[] { model.Input.Channels, model.Input.Height, model.Input.Width }.ToEquatableArray(),
            outputShape.ToEquatableArray(),
            nodes.ToEquatableArray());
    }

    /// <summary>The name of <paramref name="value"/> at <paramref name="rank"/>, adding a Flatten or an Unsqueeze node when it has the other rank.</summary>
    private static string Adapt(GraphValue value, int rank, LayerPlan plan, List<OnnxNodeModel> nodes, HashSet<string> taken)
    {
        if (value.Rank == rank)
        {
            return value.Name;
        }

        if (rank == 2)
        {
            string flatten = Unique($"{plan.Name}/Flatten", taken);
            nodes.Add(new OnnxNodeModel(flatten, "Flatten", new[] { value.Name }.ToEquatableArray(), flatten,
                new[] { OnnxAttribute.Int("axis", 1) }.ToEquatableArray(), $"{plan.Name} reads {value.Name} flattened, [N, C·H·W]"));
            return flatten;
        }

        // Opset 13 moved Unsqueeze's axes from an attribute to an input: a Constant node holds them.
        string axes = Unique($"{plan.Name}/Unsqueeze_axes", taken), unsqueeze = Unique($"{plan.Name}/Unsqueeze", taken);
        nodes.Add(new OnnxNodeModel(axes, "Constant", EquatableArray<string>.Empty, axes,
            new[] { OnnxAttribute.Ints("value_ints", 2, 3) }.ToEquatableArray(), $"{plan.Name} reads {value.Name} as [N, C, 1, 1]"));
        nodes.Add(new OnnxNodeModel(unsqueeze, "Unsqueeze", new[] { value.Name, axes }.ToEquatableArray(), unsqueeze,
            EquatableArray<OnnxAttribute>.Empty, ""));
        return unsqueeze;
    }

    private static string Unique(string name, HashSet<string> taken)
    {
        string unique = name;
        for (int n = 2; !taken.Add(unique); n++)
        {
            unique = name + "_" + n.ToString(CultureInfo.InvariantCulture);
        }

        return unique;
    }

    private static string Described(LayerPlan plan) => plan.Layer.Describe(plan) is { Length: > 0 } d ? ": " + d : "";

    /// <summary>
    /// Writes <c>ExportOnnx(string path)</c>, <c>ExportOnnx(Stream stream)</c> and the private method that describes the graph
    /// for them, one node per line under a comment naming its layer.
    /// </summary>
    public static void EmitExportApi(SourceWriter w, NetworkModel model)
    {
        OnnxGraphModel graph = Lower(model);
        bool stateful = model.StateCount + model.CounterCount > 0;
        string state = stateful ? "Buffers, s_bufferLayout" : "default, default";
        string output = model.IsRegression ? "the network's output" : "the class probabilities";
        string shape = $"[N, {string.Join(", ", graph.InputShape.Select(Invariant))}]";
        string outputShape = $"[N, {string.Join(", ", graph.OutputShape.Select(Invariant))}]";
        string attribute = NetworkEmitter.GeneratedCodeAttribute;

        w.Summary($"Writes the network with its current parameters{(stateful ? " and running statistics" : "")} as an ONNX model (opset 17, for ONNX Runtime, Netron, PyTorch): input <c>{InputName}</c> {shape} (N, the batch size, dynamic), output <c>{OutputName}</c> {outputShape}, {output}; a node per layer under the layer's name, the tensors under their names in a weights file (<c>{FirstTensor(model)}</c>). Written to a temporary file, then renamed.");
        w.Line($"/// <param name=\"path\">The file to create or replace (<c>.onnx</c>).</param>");
        w.Line($"{attribute}");
        w.Line($"public void ExportOnnx(string path) =>");
        w.Line($"    global::NetGen.Onnx.OnnxExport.Save(path, CreateOnnxGraph(), Parameters, s_parameterLayout, {state});");
        w.Line();
        w.Summary($"Writes the network as an ONNX model (see <see cref=\"ExportOnnx(string)\"/>) to <paramref name=\"stream\"/>, which stays open.");
        w.Line($"/// <param name=\"stream\">A writable stream.</param>");
        w.Line($"{attribute}");
        w.Line($"public void ExportOnnx(global::System.IO.Stream stream) =>");
        w.Line($"    global::NetGen.Onnx.OnnxExport.Write(stream, CreateOnnxGraph(), Parameters, s_parameterLayout, {state});");
        w.Line();
        w.Summary($"The network as an ONNX graph, without its weights: each node's operator, inputs, outputs and attributes.");
        w.Line($"private static global::NetGen.Onnx.OnnxGraph CreateOnnxGraph() => new(");
        w.Line($"    name: {Literal.String(model.Hierarchy.TypeName)},");
        w.Line($"    docString: Summary,");
        w.Line($"    input: {Literal.String(InputName)}, inputShape: [{string.Join(", ", graph.InputShape.Select(Invariant))}],");
        w.Line($"    output: {Literal.String(OutputName)}, outputShape: [{string.Join(", ", graph.OutputShape.Select(Invariant))}],");
        w.Line($"    nodes:");
        w.Line($"    [");
        foreach (OnnxNodeModel node in graph.Nodes)
        {
            if (node.Comment.Length > 0)
            {
                w.Line($"        // {node.Comment}");
            }

            string inputs = string.Join(", ", node.Inputs.Select(Literal.String));
            string start = $"new({Literal.String(node.Name)}, {Literal.String(node.OpType)}, [{inputs}], [{Literal.String(node.Output)}],";
            string attributes = string.Join(", ", node.Attributes.Select(a => a.ToCSharp()));
            if (start.Length + attributes.Length + 4 <= 88) // at most 120 characters in a class nested twice
            {
                w.Line($"        {start} [{attributes}]),");
                continue;
            }

            if (start.Length <= 88)
            {
                w.Line($"        {start}");
            }
            else
            {
                // Long layer names (up to 64 characters, each tensor name longer still): one input a line.
                w.Line($"        new({Literal.String(node.Name)}, {Literal.String(node.OpType)},");
                w.Line($"        [");
                foreach (string input in node.Inputs)
                {
                    w.Line($"            {Literal.String(input)},");
                }

                w.Line($"        ],");
                w.Line($"        [{Literal.String(node.Output)}],");
            }

            // One attribute a line.
            w.Line($"        [");
            foreach (OnnxAttribute a in node.Attributes)
            {
                w.Line($"            {a.ToCSharp()},");
            }

            w.Line($"        ]),");
        }

        w.Line($"    ]);");
        w.Line();
    }

    private static string FirstTensor(NetworkModel model) =>
        model.Layers.SelectMany(p => p.Parameters.Select(s => p.TensorName(s.Tensor.Role))).FirstOrDefault() ?? "conv1.weight";

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A value of the graph: its name and its rank (4: [N, C, H, W]; 2: [N, C]).</summary>
    private readonly record struct GraphValue(string Name, int Rank);
}

/// <summary>A network's ONNX graph: the input's and output's dimensions after the batch dimension, and the nodes in order.</summary>
internal sealed record OnnxGraphModel(EquatableArray<int> InputShape, EquatableArray<int> OutputShape, EquatableArray<OnnxNodeModel> Nodes);

/// <summary>One node with its values named: one output each; <paramref name="Comment"/> goes above it in the generated code.</summary>
internal sealed record OnnxNodeModel(string Name, string OpType, EquatableArray<string> Inputs, string Output, EquatableArray<OnnxAttribute> Attributes, string Comment);
