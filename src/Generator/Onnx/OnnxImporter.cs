using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;
using NetGen.Generator.Weights;
using NetGen.Onnx;

namespace NetGen.Generator.Onnx;

/// <summary>What the import step hands on: the network as layer declarations (or none, with the reasons) and its initializers.</summary>
/// <param name="Parsed">The spec built from the model's graph, and every diagnostic about the model.</param>
/// <param name="Tensors">The initializers as NetGen's tensors: names (<c>conv1.weight</c>), shapes and layouts of its layers.</param>
internal sealed record OnnxImportResult(ParseResult Parsed, EquatableArray<NamedTensor> Tensors)
{
    /// <summary>The model's path as the attribute gives it (the baked weights' origin), and whether to bake its initializers.</summary>
    public string Path { get; init; } = "";

    /// <summary>Whether the network starts from the model's initializers, baked into the assembly (<c>BakeWeights</c>, true by default).</summary>
    public bool BakeWeights { get; init; } = true;

    /// <summary>The ONNX node each of <see cref="Tensors"/> comes from, in the same order, for diagnostics.</summary>
    public EquatableArray<OnnxNodeLabel> Origins { get; init; } = EquatableArray<OnnxNodeLabel>.Empty;
}

/// <summary>An imported network after shape inference, with its initializers checked against it.</summary>
internal sealed record OnnxNetwork(InferenceResult Inferred, EquatableArray<NamedTensor> Tensors)
{
    /// <summary>The model's path, as <see cref="OnnxImportResult.Path"/>.</summary>
    public string Path { get; init; } = "";

    /// <summary>As <see cref="OnnxImportResult.BakeWeights"/>.</summary>
    public bool BakeWeights { get; init; } = true;

    /// <summary>The [OnnxModel] attribute, for diagnostics.</summary>
    public LocationInfo? Location { get; init; }
}

/// <summary>An ONNX node as diagnostics name it: its name (or <c>#index</c>) and op type.</summary>
internal sealed record OnnxNodeLabel(string Node, string OpType);

/// <summary>
/// Maps an ONNX graph to NetGen's layer declarations, node by node in the graph's (topological) order: each Conv,
/// BatchNormalization, Gemm (or MatMul with the Add of its bias), pooling, activation, Add, Concat and Softmax becomes the
/// layer a hand-written declaration would have, reading the layers its inputs come from; Flatten and Reshape before a dense
/// layer, Identity and Dropout become nothing. The result goes through the same shape inference and emitters as any
/// declared network. Every node it cannot map is a diagnostic naming the node, its op type and why; it never throws.
/// </summary>
internal sealed partial class OnnxImporter
{
    private readonly OnnxGraphProto _graph;
    private readonly string _network, _path;
    private readonly LocationInfo? _location;
    private readonly List<DiagnosticInfo> _diagnostics = [];

    /// <summary>Constant tensors by value name: the initializers and Constant nodes' outputs.</summary>
    private readonly Dictionary<string, OnnxTensorProto> _constants = [];

    /// <summary>Computed values by name: the layer that writes each, and its form.</summary>
    private readonly Dictionary<string, Value> _values = [];

    /// <summary>How many nodes (and graph outputs) read each value.</summary>
    private readonly Dictionary<string, int> _readers = [];

    /// <summary>The layers so far; the first is the input.</summary>
    private readonly List<Pending> _layers = [];

    private OnnxImporter(OnnxGraphProto graph, string network, string path, LocationInfo? location)
    {
        _graph = graph;
        _network = network;
        _path = path;
        _location = location;
    }

    /// <summary>Imports the model in <paramref name="bytes"/> as the network <paramref name="hierarchy"/>.</summary>
    public static OnnxImportResult Import(byte[] bytes, string path, HierarchyInfo hierarchy, string network, LocationInfo? location)
    {
        OnnxModelProto model;
        try
        {
            model = OnnxModelProto.Parse(bytes);
        }
        catch (OnnxFormatException e)
        {
            return Failed(DiagnosticInfo.Create(Diagnostics.OnnxModelMalformed, location, network, path, e.Message));
        }

        var importer = new OnnxImporter(model.Graph, network, path, location);
        if (model.Opset < 7)
        {
            importer.ReportModel(model.Opset == 0
                ? "imports no opset of the default ONNX domain (opset_import), which a model must"
                : $"uses opset {model.Opset}; NetGen imports opset 7 and later (re-export it with a newer opset)");
        }

        List<NamedTensor>? tensors = importer._diagnostics.Count == 0 ? importer.Run() : null;
        var diagnostics = importer._diagnostics.ToEquatableArray();
        if (tensors is null || diagnostics.Any(static d => d.IsError))
        {
            return new OnnxImportResult(new ParseResult(null, diagnostics), EquatableArray<NamedTensor>.Empty);
        }

        var layers = importer.Declarations();
        return new OnnxImportResult(new ParseResult(new NetworkSpec(hierarchy, layers), diagnostics), tensors.ToEquatableArray())
        {
            Path = path,
            Origins = importer._layers.SelectMany(static p => p.Tensors.Select(_ => p.Origin!)).ToEquatableArray(),
        };
    }

    /// <summary>
    /// The imported network through the same shape inference as a declared one, then each initializer checked against the
    /// shape its layer takes there (a convolution's weight against the channels it reads, a dense layer's against the
    /// features): a mismatch is NG0055 naming the tensor and its node. The tensors go on with the model, for baking.
    /// </summary>
    public static OnnxNetwork Infer(OnnxImportResult imported)
    {
        InferenceResult inferred = ShapeInference.Infer(imported.Parsed);
        if (inferred.Model is { } declared)
        {
            inferred = inferred with { Model = declared with { ImportedFrom = imported.Path } };
        }

        if (inferred.Model is not { } model)
        {
            return new OnnxNetwork(inferred, EquatableArray<NamedTensor>.Empty);
        }

        var expected = new Dictionary<string, (EquatableArray<int> Shape, LayerPlan Plan)>();
        foreach (LayerPlan plan in model.Layers)
        {
            foreach (ExpectedTensor tensor in WeightsBinder.ExpectedTensors(plan))
            {
                expected[tensor.Name] = (tensor.Shape, plan);
            }
        }

        var problems = new List<DiagnosticInfo>();
        for (int i = 0; i < imported.Tensors.Count; i++)
        {
            NamedTensor tensor = imported.Tensors[i];
            OnnxNodeLabel origin = imported.Origins[i];
            if (!expected.TryGetValue(tensor.Name, out var want))
            {
                problems.Add(DiagnosticInfo.Create(Diagnostics.OnnxTensorNotSupported, imported.Parsed.Spec?.Layers[0].Location, origin.Node, origin.OpType, tensor.Name,
                    "has no place in the network NetGen built from the model"));
            }
            else if (!want.Shape.SequenceEqual(tensor.Shape))
            {
                problems.Add(DiagnosticInfo.Create(Diagnostics.OnnxTensorNotSupported, imported.Parsed.Spec?.Layers[0].Location, origin.Node, origin.OpType, tensor.Name,
                    $"has dims [{string.Join(", ", tensor.Shape)}], but its layer '{want.Plan.Name}' ({want.Plan.Layer.Kind}) over its input {want.Plan.Input.ToFullString()} takes [{string.Join(", ", want.Shape)}]"));
            }
        }

        return problems.Count == 0
            ? new OnnxNetwork(inferred, imported.Tensors)
            {
                Path = imported.Path,
                BakeWeights = imported.BakeWeights,
                Location = imported.Parsed.Spec?.Layers[0].Location,
            }
            : new OnnxNetwork(new InferenceResult(null, inferred.Diagnostics.Concat(problems).ToEquatableArray()), EquatableArray<NamedTensor>.Empty);
    }

    /// <summary>
    /// Bakes the initializers into the network through the same binder as <c>[Weights]</c>, so that a new instance starts
    /// from them (unless <c>BakeWeights = false</c>). Every diagnostic of the import and inference comes along.
    /// </summary>
    public static BakeResult Bake(OnnxNetwork network)
    {
        InferenceResult inferred = network.Inferred;
        if (inferred.Model is not { } model || !network.BakeWeights)
        {
            return new BakeResult(inferred.Model, null, inferred.Diagnostics);
        }

        WeightsBinding binding = WeightsBinder.Bind(model, network.Tensors);
        if (binding.Weights is null)
        {
            // Infer checked every tensor's name and shape against the model, so this is a bug: said as NG0015, not hidden.
            string problems = string.Join(", ", binding.Problems.Select(static p => $"{p.Kind} {p.Tensor}"));
            return new BakeResult(null, null, inferred.Diagnostics.Concat([DiagnosticInfo.Create(Diagnostics.UnsupportedDeclaration,
                network.Location, model.Hierarchy.TypeName, "internal error: the initializers do not bind: " + problems)]).ToEquatableArray());
        }

        return new BakeResult(model with { BakedFrom = network.Path }, binding.Weights, inferred.Diagnostics);
    }

    /// <summary>A result with one diagnostic and no network.</summary>
    public static OnnxImportResult Failed(DiagnosticInfo diagnostic) =>
        new(new ParseResult(null, new[] { diagnostic }.ToEquatableArray()), EquatableArray<NamedTensor>.Empty);

    /// <summary>A computed value: the layer (index into the layers) that writes it, and its form.</summary>
    private readonly record struct Value(int Layer, Form Form, bool AwaitsBias = false);

    /// <summary>
    /// The forms of a value: [N, C, H, W] (a convolution's or pooling's output); that flattened to [N, C·H·W] for a dense layer
    /// (NetGen's dense layers flatten their input, so the flatten itself is no layer); [N, units] (a dense layer's output).
    /// </summary>
    private enum Form
    {
        Spatial,
        Flattened,
        Flat,
    }

    /// <summary>
    /// A layer being built: its kind and arguments, the layer it reads, the one it joins (Add, Concat), the name it would like
    /// (from its tensors or its node), and its tensors by role.
    /// </summary>
    private sealed class Pending(Layer layer, int input, string? nameHint, string? tensorPrefix)
    {
        public Layer Layer { get; set; } = layer;

        public int Input { get; } = input;

        public int Joined { get; init; } = -1;

        public string? NameHint { get; } = nameHint;

        /// <summary>The PyTorch module path its tensors are named under (<c>features.0</c>), when they all are.</summary>
        public string? TensorPrefix { get; set; } = tensorPrefix;

        public List<(TensorRole Role, int[] Shape, float[] Values)> Tensors { get; } = [];

        public string Name { get; set; } = "";

        /// <summary>The node the layer comes from.</summary>
        public OnnxNodeLabel? Origin { get; init; }
    }

    /// <summary>Maps every node; returns the tensors, or null after reporting why the graph cannot be a network.</summary>
    private List<NamedTensor>? Run()
    {
        foreach (OnnxTensorProto initializer in _graph.Initializers)
        {
            _constants[initializer.Name] = initializer;
        }

        foreach (OnnxNodeProto node in _graph.Nodes)
        {
            foreach (string input in node.Inputs)
            {
                _readers[input] = _readers.TryGetValue(input, out int n) ? n + 1 : 1;
            }
        }

        foreach (OnnxValueInfoProto output in _graph.Outputs)
        {
            _readers[output.Name] = _readers.TryGetValue(output.Name, out int n) ? n + 1 : 1;
        }

        if (!MapInput())
        {
            return null;
        }

        for (int i = 0; i < _graph.Nodes.Count; i++)
        {
            MapNode(_graph.Nodes[i], i);
        }

        if (_diagnostics.Any(static d => d.IsError))
        {
            return null;
        }

        if (!MapOutput())
        {
            return null;
        }

        Name();
        var tensors = new List<NamedTensor>();
        foreach (Pending layer in _layers)
        {
            foreach (var (role, shape, values) in layer.Tensors)
            {
                tensors.Add(new NamedTensor(role.TensorName(layer.TensorPrefix ?? layer.Name), shape.ToEquatableArray(), values.ToEquatableArray()));
            }
        }

        return tensors;
    }

    /// <summary>The one graph input that is not an initializer: a float tensor [N, C, H, W] with C, H and W fixed.</summary>
    private bool MapInput()
    {
        var inputs = _graph.Inputs.Where(i => !_constants.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1)
        {
            ReportModel(inputs.Count == 0
                ? "has no input besides its initializers; NetGen networks read one [N, C, H, W] tensor"
                : $"has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => "'" + i.Name + "'"))}); NetGen networks read one [N, C, H, W] tensor");
            return false;
        }

        OnnxValueInfoProto input = inputs[0];
        if (input.ElementType != OnnxSchema.Tensor.DataTypeFloat)
        {
            ReportModel($"has input '{input.Name}' of type {OnnxTensorProto.DataTypeName(input.ElementType)}; NetGen networks read float32 (FLOAT)");
            return false;
        }

        if (!input.HasShape || input.Dims.Count != 4)
        {
            ReportModel($"has input '{input.Name}' of {(input.HasShape ? "rank " + input.Dims.Count : "unknown shape")}; NetGen networks read [N, C, H, W] (the batch N may be dynamic)");
            return false;
        }

        var sizes = new int[3];
        for (int d = 1; d < 4; d++)
        {
            (long? value, string param) = input.Dims[d];
            if (value is not > 0 || value > int.MaxValue)
            {
                string what = value is null ? $"dynamic ({(param.Length > 0 ? "'" + param + "'" : "no value")})" : value.Value.ToString(CultureInfo.InvariantCulture);
                ReportModel($"has input '{input.Name}' whose dimension {d} ({"NCHW"[d]}) is {what}; NetGen compiles for fixed C, H and W (only N may be dynamic)");
                return false;
            }

            sizes[d - 1] = (int)value.Value;
        }

        _layers.Add(new Pending(new InputLayer(sizes[0], sizes[1], sizes[2]), -1, "input", null) { Name = "input" });
        _values[input.Name] = new Value(0, Form.Spatial);
        return true;
    }

    /// <summary>The graph's one output must be the last layer's; a graph ending in logits gets a Softmax head (NG0058).</summary>
    private bool MapOutput()
    {
        if (_graph.Outputs.Count != 1)
        {
            ReportModel($"has {_graph.Outputs.Count} outputs; NetGen networks have one");
            return false;
        }

        string output = _graph.Outputs[0].Name;
        if (!_values.TryGetValue(output, out Value value))
        {
            ReportModel($"has output '{output}', which no node computes from the input");
            return false;
        }

        int last = _layers.Count - 1;
        if (value.Layer != last)
        {
            ReportModel($"has output '{output}', which is not computed last; NetGen networks end with the layer that writes the output");
            return false;
        }

        if (_layers[last].Layer is SoftmaxLayer)
        {
            return true;
        }

        if (value.Form == Form.Spatial)
        {
            ReportModel($"ends with output '{output}' of shape [N, C, H, W]; NetGen appends a Softmax head only to [N, classes] logits (flatten them first)");
            return false;
        }

        _diagnostics.Add(DiagnosticInfo.Create(Diagnostics.OnnxSoftmaxAppended, _location, _network, _path, "logits (no Softmax)", ", not the model's logits"));
        _layers.Add(new Pending(new SoftmaxLayer(), last, null, null));
        return true;
    }

    private void MapNode(OnnxNodeProto node, int index)
    {
        string label = node.Name.Length > 0 ? node.Name : $"#{index}";
        int reported = _diagnostics.Count(static d => d.IsError);
        MapNodeBody(node, label);
        if (_diagnostics.Count(static d => d.IsError) > reported || node.Inputs.Any(_failed.Contains))
        {
            // Nodes reading what this one would have computed are not reported again: one diagnostic per cause.
            foreach (string output in node.Outputs)
            {
                _failed.Add(output);
                _values.Remove(output);
            }
        }
    }

    /// <summary>Values that nodes reported as unmappable would have computed.</summary>
    private readonly HashSet<string> _failed = [];

    private void MapNodeBody(OnnxNodeProto node, string label)
    {
        if (node.Inputs.Any(_failed.Contains))
        {
            return;
        }

        if (node.Domain is not ("" or "ai.onnx"))
        {
            Report(Diagnostics.OnnxOperatorNotSupported, node, label, $" in domain '{node.Domain}'");
            return;
        }

        if (node.Outputs.Count == 0 || node.Outputs[0].Length == 0)
        {
            Report(Diagnostics.OnnxGraphFormNotSupported, node, label, "it has no output");
            return;
        }

        var map = new NodeMapper(this, node, label);
        switch (node.OpType)
        {
            case "Conv": map.Conv(); break;
            case "BatchNormalization": map.BatchNormalization(); break;
            case "Relu": map.Elementwise(new ReLULayer()); break;
            case "Tanh": map.Elementwise(new TanhLayer()); break;
            case "Sigmoid": map.Elementwise(new SigmoidLayer()); break;
            case "LeakyRelu": map.Elementwise(new LeakyReLULayer(map.Float("alpha", 0.01f))); break;
            case "MaxPool": map.Pool(max: true); break;
            case "AveragePool": map.Pool(max: false); break;
            case "GlobalAveragePool": map.GlobalAveragePool(); break;
            case "Flatten": map.Flatten(); break;
            case "Reshape": map.Reshape(); break;
            case "Gemm": map.Gemm(); break;
            case "MatMul": map.MatMul(); break;
            case "Add": map.Add(); break;
            case "Concat": map.Concat(); break;
            case "Identity": map.PassThrough(); break;
            case "Dropout": map.PassThrough(); break;
            case "Softmax": map.Softmax(log: false); break;
            case "LogSoftmax": map.Softmax(log: true); break;
            case "Constant": map.Constant(); break;
            default: Report(Diagnostics.OnnxOperatorNotSupported, node, label, ""); break;
        }
    }

    /// <summary>The weight's value name of each dense layer, by layer index: for a MatMul's bias Add, to check the names.</summary>
    private readonly Dictionary<int, string> _matMulWeights = [];

    private string MatMulWeightOf(int layer) => _matMulWeights[layer];

    /// <summary>
    /// Names every layer: its tensors' PyTorch module path made a valid name (<c>features.0</c> → <c>features_0</c>, the
    /// tensors keeping the path), else its node's name (<c>/layer1/Relu</c> → <c>layer1_Relu</c>), else its kind and ordinal
    /// (<c>conv3</c>); a name already taken (or whose member prefix is) falls back to the kind and ordinal.
    /// </summary>
    private void Name()
    {
        var taken = new HashSet<string> { "input" };
        var prefixes = new HashSet<string> { "Input" };
        var ordinals = new Dictionary<string, int>();
        for (int i = 1; i < _layers.Count; i++)
        {
            Pending p = _layers[i];
            string? name = p.NameHint is { } hint ? Identifier(hint) : null;
            if (name is null || ShapeInference.NameProblem(name) is not null || taken.Contains(name) || prefixes.Contains(ShapeInference.Pascal(name)))
            {
                string kind = p.Layer.DefaultNamePrefix;
                do
                {
                    ordinals[kind] = ordinals.TryGetValue(kind, out int n) ? n + 1 : 1;
                    name = kind + ordinals[kind];
                }
                while (taken.Contains(name) || prefixes.Contains(ShapeInference.Pascal(name)));
            }

            taken.Add(name);
            prefixes.Add(ShapeInference.Pascal(name));
            p.Name = name;
            if (p.TensorPrefix == name)
            {
                p.TensorPrefix = null;
            }
        }

        foreach (Pending p in _layers)
        {
            if (p.Joined >= 0)
            {
                p.Layer = p.Layer switch
                {
                    AddLayer => new AddLayer(_layers[p.Joined].Name),
                    ConcatLayer => new ConcatLayer(_layers[p.Joined].Name),
                    _ => p.Layer,
                };
            }
        }
    }

    /// <summary>A name made of letters, digits and '_': <c>/layer1/conv/Conv</c> → <c>layer1_conv_Conv</c>; null when nothing is left.</summary>
    private static string? Identifier(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            bool keep = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9');
            if (keep)
            {
                sb.Append(c);
            }
            else if (sb.Length > 0 && sb[sb.Length - 1] != '_')
            {
                sb.Append('_');
            }
        }

        string name = sb.ToString().TrimEnd('_');
        return name.Length == 0 ? null : name;
    }

    /// <summary>The layers as declarations, each reading the layer before it unless it names another.</summary>
    private EquatableArray<LayerDeclaration> Declarations()
    {
        var result = new List<LayerDeclaration>(_layers.Count);
        for (int i = 0; i < _layers.Count; i++)
        {
            Pending p = _layers[i];
            string? input = i == 0 || p.Input == i - 1 ? null : _layers[p.Input].Name;
            result.Add(new LayerDeclaration(p.Layer, i == 0 ? null : p.Name, input, _location) { TensorPrefix = p.TensorPrefix });
        }

        return result.ToEquatableArray();
    }

    private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, OnnxNodeProto node, string label, string why) =>
        _diagnostics.Add(DiagnosticInfo.Create(descriptor, _location, label, node.OpType, why));

    private void ReportModel(string why) =>
        _diagnostics.Add(DiagnosticInfo.Create(Diagnostics.OnnxInputNotSupported, _location, _network, _path, why));
}
