using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator.Onnx;

/// <summary>The mapping of each ONNX operator the importer accepts to a NetGen layer.</summary>
internal sealed partial class OnnxImporter
{
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
}
