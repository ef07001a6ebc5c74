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
internal sealed class OnnxImporter
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
        if (inferred.Model is not { } model)
        {
            return new OnnxNetwork(inferred, EquatableArray<NamedTensor>.Empty);
        }

        var expected = new Dictionary<string, (EquatableArray<int> Shape, LayerPlan Plan)>();
        foreach (LayerPlan plan in model.Layers)
        {
            foreach (ParameterSlot slot in plan.Parameters)
            {
                expected[plan.TensorName(slot.Tensor.Role)] = (slot.Tensor.Dimensions, plan);
            }

            foreach (StateSlot slot in plan.State)
            {
                expected[plan.TensorName(slot.Tensor.Role)] = (slot.Tensor.Dimensions, plan);
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
                tensors.Add(new NamedTensor((layer.TensorPrefix ?? layer.Name) + "." + role.TensorName(), shape.ToEquatableArray(), values.ToEquatableArray()));
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

    /// <summary>Maps one node; each method reports what it cannot map (and maps nothing then).</summary>
    private sealed class NodeMapper(OnnxImporter importer, OnnxNodeProto node, string label)
    {
        public void Conv()
        {
            if (!Data(0, Form.Spatial, out Value x) | !Weight(1, 4, out OnnxTensorProto w, out float[] wv) | !OptionalWeight(2, 1, out OnnxTensorProto? b, out float[]? bv)
                | !NoAutoPad() | !Ones("dilations"))
            {
                return;
            }

            int filters = (int)w.Dims[0], kh = (int)w.Dims[2], kw = (int)w.Dims[3];
            if (Ints("kernel_shape") is { } kernel && !kernel.SequenceEqual([(long)kh, kw]))
            {
                Attribute($"kernel_shape [{string.Join(", ", kernel)}] does not match its weight's [{string.Join(", ", w.Dims)}]");
                return;
            }

            if (bv is not null && bv.Length != filters)
            {
                Tensor(b!, $"has {bv.Length} values for {filters} filters");
                return;
            }

            if (Stride() is not { } stride || Padding() is not { } padding)
            {
                return;
            }

            long groups = Int("group", 1);
            if (groups < 1 || groups > filters)
            {
                Attribute($"group {groups} must be from 1 to its {filters} filters");
                return;
            }

            var layer = new Conv2DLayer(filters, kh, kw, stride, padding) { Groups = (int)groups, HasBias = b is not null };
            string? prefix = Prefix((w, TensorRole.Weight), (b, TensorRole.Bias));
            Pending p = Emit(layer, x, Form.Spatial, prefix);
            p.Tensors.Add((TensorRole.Weight, w.Dims.Select(static d => (int)d).ToArray(), wv));
            if (bv is not null)
            {
                p.Tensors.Add((TensorRole.Bias, [filters], bv));
            }
        }

        public void BatchNormalization()
        {
            if (!Data(0, Form.Spatial, out Value x) | !Weight(1, 1, out OnnxTensorProto scale, out float[] gamma) | !Weight(2, 1, out OnnxTensorProto bias, out float[] beta)
                | !Weight(3, 1, out OnnxTensorProto mean, out float[] mu) | !Weight(4, 1, out OnnxTensorProto variance, out float[] sigma2))
            {
                return;
            }

            if (Int("training_mode", 0) != 0 || Int("spatial", 1) != 1)
            {
                Attribute(Int("training_mode", 0) != 0
                    ? "training_mode 1 computes batch statistics; NetGen imports the inference form (training_mode 0)"
                    : "spatial 0 normalizes each position separately; NetGen's BatchNorm2D normalizes per channel (spatial 1)");
                return;
            }

            if (node.Outputs.Skip(1).Any(o => o.Length > 0 && importer._readers.ContainsKey(o)))
            {
                Graph("its running statistics outputs are read; NetGen imports the inference form, which has one output");
                return;
            }

            int channels = gamma.Length;
            foreach (var (tensor, values) in new[] { (bias, beta), (mean, mu), (variance, sigma2) })
            {
                if (values.Length != channels)
                {
                    Tensor(tensor, $"has {values.Length} values, but the scale has {channels}");
                    return;
                }
            }

            float epsilon = Float("epsilon", 1e-5f);
            // ONNX's momentum weighs the running value, PyTorch's (and NetGen's) the batch's: 0.9 there is 0.1 here. Rounded to
            // six decimals so that 1 − 0.9f gives 0.1f, not 0.100000024f.
            float momentum = (float)Math.Round(1.0 - Float("momentum", 0.9f), 6);
            string? prefix = Prefix((scale, TensorRole.Weight), (bias, TensorRole.Bias), (mean, TensorRole.RunningMean), (variance, TensorRole.RunningVar));
            Pending p = Emit(new BatchNorm2DLayer(epsilon, momentum), x, Form.Spatial, prefix);
            p.Tensors.Add((TensorRole.Weight, [channels], gamma));
            p.Tensors.Add((TensorRole.Bias, [channels], beta));
            p.Tensors.Add((TensorRole.RunningMean, [channels], mu));
            p.Tensors.Add((TensorRole.RunningVar, [channels], sigma2));
            p.Tensors.Add((TensorRole.BatchesTracked, [], [0f]));
        }

        public void Elementwise(Layer layer)
        {
            if (Data(0, null, out Value x))
            {
                Emit(layer, x, x.Form, null);
            }
        }

        public void Pool(bool max)
        {
            if (!Data(0, Form.Spatial, out Value x) | !NoAutoPad() | !Ones("dilations"))
            {
                return;
            }

            if (Int("ceil_mode", 0) != 0)
            {
                Attribute("ceil_mode 1 keeps partial windows at the edge; NetGen's pooling drops them (ceil_mode 0, PyTorch's default)");
                return;
            }

            if (max && node.Outputs.Count > 1 && node.Outputs[1].Length > 0)
            {
                Graph("its Indices output is used; NetGen's MaxPool2D has one output");
                return;
            }

            long[]? window = Ints("kernel_shape");
            if (window is not { Length: 2 } || window[0] != window[1] || window[0] < 1 || window[0] > int.MaxValue)
            {
                Attribute(Ints("kernel_shape") is { } k
                    ? $"kernel_shape [{string.Join(", ", k)}] is not square; NetGen's pooling windows are size × size"
                    : "it has no kernel_shape");
                return;
            }

            if (Stride() is not { } stride || Padding() is not { } padding)
            {
                return;
            }

            // PyTorch's AvgPool2d divides by k² with padding (count_include_pad=True), as NetGen does; ONNX's default (0)
            // divides by the window's part inside the input, which differs only where a window overlaps the padding.
            if (!max && padding > 0 && Int("count_include_pad", 0) == 0)
            {
                Attribute("count_include_pad 0 with padding divides each edge window by its part inside the input; NetGen's AvgPool2D divides by size² (count_include_pad 1, PyTorch's default)");
                return;
            }

            int size = (int)window[0];
            Layer layer = max ? new MaxPool2DLayer(size, stride, padding) : new AvgPool2DLayer(size, stride, padding);
            Emit(layer, x, Form.Spatial, null);
        }

        public void GlobalAveragePool()
        {
            if (Data(0, Form.Spatial, out Value x))
            {
                Emit(new GlobalAvgPool2DLayer(), x, Form.Spatial, null);
            }
        }

        public void Flatten()
        {
            if (!Data(0, null, out Value x))
            {
                return;
            }

            long axis = Int("axis", 1);
            if (axis != 1)
            {
                Attribute($"axis {axis} flattens to [{(axis == 0 ? "1, N·C·H·W" : "N·…, …")}]; NetGen imports a Flatten before a dense layer with axis 1 ([N, C·H·W])");
                return;
            }

            Alias(x with { Form = x.Form == Form.Spatial ? Form.Flattened : x.Form });
        }

        public void Reshape()
        {
            if (!Data(0, null, out Value x))
            {
                return;
            }

            if (node.Inputs.Count < 2 || !importer._constants.TryGetValue(node.Inputs[1], out OnnxTensorProto? shapeTensor) || shapeTensor.Longs() is not { } shape)
            {
                Graph("its shape is not a constant INT64 tensor; NetGen imports a Reshape to [N, C·H·W] before a dense layer, with the shape an initializer or a Constant");
                return;
            }

            // [N, C·H·W] as PyTorch writes x.view(x.size(0), -1) with a constant shape: [0 or −1 or N, −1 or C·H·W], not both −1.
            bool flattens = shape.Length == 2 && shape[0] >= -1 && shape[1] >= -1 && !(shape[0] == -1 && shape[1] == -1)
                && shape[1] != 0 && !(Int("allowzero", 0) != 0 && shape.Contains(0));
            if (!flattens)
            {
                Graph($"it reshapes to [{string.Join(", ", shape)}]; NetGen imports a Reshape to [N, C·H·W] ([0, -1], [-1, C·H·W]) before a dense layer only");
                return;
            }

            Alias(x with { Form = x.Form == Form.Spatial ? Form.Flattened : x.Form });
        }

        public void Gemm()
        {
            if (!Features(0, out Value x) | !Weight(1, 2, out OnnxTensorProto b, out float[] bv) | !OptionalWeight(2, null, out OnnxTensorProto? c, out float[]? cv))
            {
                return;
            }

            if (Int("transA", 0) != 0 || Float("alpha", 1f) != 1f || (c is not null && Float("beta", 1f) != 1f))
            {
                Attribute(Int("transA", 0) != 0
                    ? "transA 1 transposes the activations; NetGen's Dense reads [N, features] (transA 0)"
                    : $"alpha {Float("alpha", 1f).ToString("R", CultureInfo.InvariantCulture)} and beta {Float("beta", 1f).ToString("R", CultureInfo.InvariantCulture)} scale the product and bias; NetGen's Dense imports alpha = beta = 1");
                return;
            }

            bool transposed = Int("transB", 0) != 0;
            int units = (int)(transposed ? b.Dims[0] : b.Dims[1]), features = (int)(transposed ? b.Dims[1] : b.Dims[0]);
            float[] weight = transposed ? bv : Transpose(bv, features, units);
            if (!Bias(c, cv, units, out float[] bias))
            {
                return;
            }

            string? prefix = Prefix((b, TensorRole.Weight), (c, TensorRole.Bias));
            Pending p = Emit(new DenseLayer(units), x, Form.Flat, prefix);
            p.Tensors.Add((TensorRole.Weight, [units, features], weight));
            p.Tensors.Add((TensorRole.Bias, [units], bias));
        }

        /// <summary>MatMul by a constant [features, units]: a dense layer with its weight transposed, the bias the Add after it.</summary>
        public void MatMul()
        {
            if (!Features(0, out Value x) | !Weight(1, 2, out OnnxTensorProto b, out float[] bv))
            {
                return;
            }

            int features = (int)b.Dims[0], units = (int)b.Dims[1];
            Pending p = Emit(new DenseLayer(units), x, Form.Flat, Prefix((b, TensorRole.Weight)));
            p.Tensors.Add((TensorRole.Weight, [units, features], Transpose(bv, features, units)));
            p.Tensors.Add((TensorRole.Bias, [units], new float[units]));
            // The Add of a bias may follow; where no other node reads the product, it becomes this layer's bias.
            if (importer._readers.TryGetValue(node.Outputs[0], out int readers) && readers == 1)
            {
                importer._values[node.Outputs[0]] = importer._values[node.Outputs[0]] with { AwaitsBias = true };
            }
        }

        public void Add()
        {
            if (node.Inputs.Count != 2)
            {
                Graph($"it has {node.Inputs.Count} inputs; Add has two");
                return;
            }

            // MatMul + Add: a constant added to a dense layer's product is its bias.
            int constant = importer._constants.ContainsKey(node.Inputs[0]) ? 0 : importer._constants.ContainsKey(node.Inputs[1]) ? 1 : -1;
            if (constant >= 0)
            {
                if (!importer._values.TryGetValue(node.Inputs[1 - constant], out Value product) || !product.AwaitsBias)
                {
                    Graph($"it adds the constant '{node.Inputs[constant]}'; NetGen imports a constant Add only as the bias of the MatMul before it, and otherwise joins two layers' outputs (a residual connection)");
                    return;
                }

                Pending dense = importer._layers[product.Layer];
                int units = ((DenseLayer)dense.Layer).Units;
                if (!Weight(constant, null, out OnnxTensorProto c, out float[] cv) || !Bias(c, cv, units, out float[] bias))
                {
                    return;
                }

                dense.Tensors[1] = (TensorRole.Bias, [units], bias);
                OnnxTensorProto weight = importer._constants[importer.MatMulWeightOf(product.Layer)];
                dense.TensorPrefix = Prefix((weight, TensorRole.Weight), (c, TensorRole.Bias));
                Alias(product with { AwaitsBias = false });
                return;
            }

            if (!Data(0, null, out Value a) | !Data(1, null, out Value b))
            {
                return;
            }

            if (a.Form != b.Form)
            {
                Graph("it adds a [N, C, H, W] value to a flattened one (a broadcast); NetGen's Add joins two outputs of the same shape");
                return;
            }

            Emit(new AddLayer(""), a, a.Form, null, joined: b.Layer);
        }

        public void Concat()
        {
            long axis = Int("axis", 1);
            if (node.Inputs.Count < 2)
            {
                Graph($"it has {node.Inputs.Count} input; NetGen imports a Concat of two or more layers' outputs");
                return;
            }

            var values = new List<Value>();
            for (int k = 0; k < node.Inputs.Count; k++)
            {
                if (!Data(k, null, out Value v))
                {
                    return;
                }

                values.Add(v);
            }

            Form form = values[0].Form;
            if (values.Any(v => v.Form != form))
            {
                Graph("it joins [N, C, H, W] values with flattened ones; NetGen's Concat joins outputs of the same rank");
                return;
            }

            // Channels: axis 1, or −3 of [N, C, H, W] and −1 of [N, features].
            if (!(axis == 1 || (axis == -3 && form == Form.Spatial) || (axis == -1 && form != Form.Spatial)))
            {
                Attribute($"axis {axis} joins along another dimension than the channels; NetGen's Concat joins along the channels (axis 1, as torch.cat(dim=1))");
                return;
            }

            // Three or more inputs: one Concat per input after the first two, each joining the one before.
            Value joined = values[0];
            for (int k = 1; k < values.Count; k++)
            {
                Pending p = Emit(new ConcatLayer(""), joined, form, null, joined: values[k].Layer, alias: k == values.Count - 1);
                joined = new Value(importer._layers.IndexOf(p), form);
            }
        }

        public void PassThrough()
        {
            if (!Data(0, null, out Value x))
            {
                return;
            }

            if (node.OpType == "Dropout" && node.Outputs.Count > 1 && node.Outputs[1].Length > 0 && importer._readers.ContainsKey(node.Outputs[1]))
            {
                Graph("its mask output is read; NetGen drops Dropout from an imported model (inference)");
                return;
            }

            Alias(x);
        }

        public void Softmax(bool log)
        {
            if (!Features(0, out Value x))
            {
                return;
            }

            // The default axis changed in opset 13 (1, flattening, before; −1 since): over [N, classes] both mean the classes.
            long axis = Int("axis", 1);
            if (axis is not (1 or -1))
            {
                Attribute($"axis {axis}: NetGen's Softmax runs over the features of [N, classes] (axis 1 or -1)");
                return;
            }

            if (importer._graph.Nodes.Any(n => n.OpType != "Identity" && n.Inputs.Contains(node.Outputs[0])))
            {
                Graph($"other nodes read its output; NetGen imports {node.OpType} only as the network's last node, its head");
                return;
            }

            Emit(new SoftmaxLayer(), x, Form.Flat, null);
            if (log)
            {
                importer._diagnostics.Add(DiagnosticInfo.Create(Diagnostics.OnnxSoftmaxAppended, importer._location, importer._network, importer._path,
                    "LogSoftmax", ", the exponentials of the model's log-probabilities"));
            }
        }

        /// <summary>Constant nodes are constant tensors, like initializers (a Reshape's shape, a weight).</summary>
        public void Constant()
        {
            if (node.Attribute("value")?.T is not { } tensor)
            {
                Attribute($"it holds {node.Attributes.FirstOrDefault()?.Name ?? "nothing"}; NetGen imports Constant nodes holding a tensor (value)");
                return;
            }

            importer._constants[node.Outputs[0]] = tensor;
        }

        /// <summary>Adds a layer reading <paramref name="x"/> and maps the node's first output to it.</summary>
        private Pending Emit(Layer layer, Value x, Form form, string? prefix, int joined = -1, bool alias = true)
        {
            string? hint = prefix ?? (node.Name.Length > 0 ? node.Name : null);
            var p = new Pending(layer, x.Layer, hint, prefix) { Joined = joined, Origin = new OnnxNodeLabel(label, node.OpType) };
            importer._layers.Add(p);
            if (alias)
            {
                importer._values[node.Outputs[0]] = new Value(importer._layers.Count - 1, form);
            }

            if (layer is DenseLayer)
            {
                importer._matMulWeights[importer._layers.Count - 1] = node.Inputs.Count > 1 ? node.Inputs[1] : "";
            }

            return p;
        }

        private void Alias(Value value)
        {
            if (node.Outputs.Count > 0)
            {
                importer._values[node.Outputs[0]] = value;
            }
        }

        /// <summary>Input <paramref name="k"/> as a computed value of the given form (any when null).</summary>
        private bool Data(int k, Form? form, out Value value)
        {
            value = default;
            if (k >= node.Inputs.Count || node.Inputs[k].Length == 0)
            {
                Graph($"it has no input {k + 1}");
                return false;
            }

            if (!importer._values.TryGetValue(node.Inputs[k], out value))
            {
                Graph(importer._constants.ContainsKey(node.Inputs[k])
                    ? $"its input '{node.Inputs[k]}' is a constant; NetGen imports it as computed from the network's input"
                    : $"its input '{node.Inputs[k]}' is not computed from the network's input by any node before it");
                return false;
            }

            if (form == Form.Spatial && value.Form != Form.Spatial)
            {
                Graph($"its input '{node.Inputs[k]}' is flattened ([N, features]); {node.OpType} reads [N, C, H, W]");
                return false;
            }

            return true;
        }

        /// <summary>Input <paramref name="k"/> as [N, features]: flattened, or a dense layer's output.</summary>
        private bool Features(int k, out Value value)
        {
            if (!Data(k, null, out value))
            {
                return false;
            }

            if (value.Form == Form.Spatial)
            {
                Graph($"its input '{node.Inputs[k]}' is [N, C, H, W]; NetGen imports {node.OpType} over [N, features], after a Flatten or Reshape");
                return false;
            }

            return true;
        }

        /// <summary>Input <paramref name="k"/> as a constant FLOAT tensor of the given rank (any when null).</summary>
        private bool Weight(int k, int? rank, out OnnxTensorProto tensor, out float[] values)
        {
            tensor = null!;
            values = null!;
            if (k >= node.Inputs.Count || node.Inputs[k].Length == 0)
            {
                Graph($"it has no input {k + 1}");
                return false;
            }

            if (!importer._constants.TryGetValue(node.Inputs[k], out tensor!))
            {
                Graph($"its input '{node.Inputs[k]}' is computed; NetGen imports {node.OpType}'s weights as initializers (constants)");
                return false;
            }

            if (tensor.Floats(out string? problem) is not { } floats)
            {
                Tensor(tensor, problem!);
                return false;
            }

            if (rank is { } r && tensor.Dims.Count != r)
            {
                Tensor(tensor, $"has dims [{string.Join(", ", tensor.Dims)}]; {node.OpType} takes a rank-{r} tensor there");
                return false;
            }

            if (tensor.Dims.Any(static d => d < 1 || d > int.MaxValue))
            {
                Tensor(tensor, $"has dims [{string.Join(", ", tensor.Dims)}]; NetGen imports tensors with every dimension from 1 to 2³¹ − 1");
                return false;
            }

            values = floats;
            return true;
        }

        private bool OptionalWeight(int k, int? rank, out OnnxTensorProto? tensor, out float[]? values)
        {
            tensor = null;
            values = null;
            if (k >= node.Inputs.Count || node.Inputs[k].Length == 0)
            {
                return true;
            }

            bool ok = Weight(k, rank, out OnnxTensorProto t, out float[] v);
            (tensor, values) = ok ? (t, v) : (null, null);
            return ok;
        }

        /// <summary>A dense layer's bias: [units] or [1, units], or zeros when there is none.</summary>
        private bool Bias(OnnxTensorProto? c, float[]? values, int units, out float[] bias)
        {
            bias = values ?? new float[units];
            if (c is not null && (values!.Length != units || c.Dims.Count > 2 || (c.Dims.Count == 2 && c.Dims[0] != 1)))
            {
                Tensor(c, $"has dims [{string.Join(", ", c.Dims)}]; a bias for {units} units is [{units}] or [1, {units}]");
                return false;
            }

            return true;
        }

        /// <summary>Strides, equal in both dimensions (1 by default).</summary>
        private int? Stride()
        {
            long[] strides = Ints("strides") ?? [1, 1];
            if (strides.Length != 2 || strides[0] != strides[1] || strides[0] < 1 || strides[0] > int.MaxValue)
            {
                Attribute($"strides [{string.Join(", ", strides)}] differ (or are not positive); NetGen's {(node.OpType == "Conv" ? "Conv2D" : "pooling")} has one stride for both dimensions");
                return null;
            }

            return (int)strides[0];
        }

        /// <summary>Pads, the same on every side (0 by default).</summary>
        private int? Padding()
        {
            long[] pads = Ints("pads") ?? [0, 0, 0, 0];
            if (pads.Length != 4 || pads.Any(p => p != pads[0]) || pads[0] < 0 || pads[0] > int.MaxValue)
            {
                Attribute($"pads [{string.Join(", ", pads)}] are not the same on every side; NetGen pads all four sides alike (PyTorch's padding=p)");
                return null;
            }

            return (int)pads[0];
        }

        private bool NoAutoPad()
        {
            string autoPad = node.Attribute("auto_pad")?.S ?? "NOTSET";
            if (autoPad is not ("NOTSET" or ""))
            {
                Attribute($"auto_pad {autoPad} computes the padding from the input size; NetGen imports explicit pads (auto_pad NOTSET)");
                return false;
            }

            return true;
        }

        private bool Ones(string name)
        {
            if (Ints(name) is { } values && values.Any(static v => v != 1))
            {
                Attribute($"{name} [{string.Join(", ", values)}]: NetGen supports {name} of 1 only");
                return false;
            }

            return true;
        }

        /// <summary>
        /// The PyTorch module path the node's tensors are named under, when every one is named path + "." + its NetGen role
        /// (<c>features.0.weight</c>, <c>features.0.bias</c>) and the path is a dotted identifier; null otherwise.
        /// </summary>
        private static string? Prefix(params (OnnxTensorProto? Tensor, TensorRole Role)[] tensors)
        {
            string? prefix = null;
            foreach (var (tensor, role) in tensors)
            {
                if (tensor is null)
                {
                    continue;
                }

                string suffix = "." + role.TensorName();
                if (!tensor.Name.EndsWith(suffix, StringComparison.Ordinal))
                {
                    return null;
                }

                string path = tensor.Name.Substring(0, tensor.Name.Length - suffix.Length);
                if (prefix is not null && prefix != path)
                {
                    return null;
                }

                prefix = path;
            }

            return prefix is not null && IsModulePath(prefix) ? prefix : null;
        }

        private static bool IsModulePath(string path) =>
            path.Length is > 0 and <= 64 && path.Split('.').All(static s => s.Length > 0 && s.All(static c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_'));

        private static float[] Transpose(float[] values, int rows, int columns)
        {
            var result = new float[values.Length];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                {
                    result[c * rows + r] = values[r * columns + c];
                }
            }

            return result;
        }

        public long Int(string name, long fallback) => node.Attribute(name) is { } a ? a.I : fallback;

        public float Float(string name, float fallback) => node.Attribute(name) is { } a ? a.F : fallback;

        private long[]? Ints(string name) => node.Attribute(name)?.Ints.ToArray();

        private void Attribute(string why) => importer.Report(Diagnostics.OnnxAttributeNotSupported, node, label, why);

        private void Graph(string why) => importer.Report(Diagnostics.OnnxGraphFormNotSupported, node, label, why);

        private void Tensor(OnnxTensorProto tensor, string why) =>
            importer._diagnostics.Add(DiagnosticInfo.Create(Diagnostics.OnnxTensorNotSupported, importer._location, label, node.OpType, tensor.Name, why));
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
