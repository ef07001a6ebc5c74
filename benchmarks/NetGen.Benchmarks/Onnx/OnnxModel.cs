using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.ML.OnnxRuntime;

namespace NetGen.Benchmarks.Onnx;

/// <summary>
/// The same network as an ONNX graph (Conv / Relu / MaxPool / Add / Flatten / Gemm / Softmax, opset 17; ResNet's
/// branches are values read by two nodes, its joins Add nodes; ResNetBN adds BatchNormalization in inference form, with
/// NetGen's running statistics, and GlobalAveragePool) with its
/// parameters from a NetGen parameter vector, built in memory (a minimal protobuf writer; no .onnx file, no
/// exporter) and run by ONNX Runtime's CPU provider with preallocated input and output buffers.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames = ["input"];
    private readonly string[] _outputNames = ["probabilities"];

    /// <param name="buffers">The network's BatchNorm running statistics (NetGen's <c>Buffers</c>), empty without BatchNorm.</param>
    public OnnxModel(NetworkKind network, ReadOnlySpan<float> parameters, ReadOnlySpan<float> buffers, int threads)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(Build(network, parameters, buffers), options);
    }

    /// <summary>A bound pair of OrtValues over managed arrays: <paramref name="count"/> inputs in, probabilities out.</summary>
    public sealed class Binding(float[] inputs, float[] probabilities, int count) : IDisposable
    {
        public OrtValue Input { get; } = OrtValue.CreateTensorValueFromMemory(
            OrtMemoryInfo.DefaultInstance, inputs.AsMemory(0, count * Workload.InputLength), [count, 1, 28, 28]);
        public OrtValue Output { get; } = OrtValue.CreateTensorValueFromMemory(
            OrtMemoryInfo.DefaultInstance, probabilities.AsMemory(0, count * Workload.Classes), [count, Workload.Classes]);

        public void Dispose()
        {
            Input.Dispose();
            Output.Dispose();
        }
    }

    /// <summary>Runs the graph; the probabilities land in the array bound to <see cref="Binding.Output"/>.</summary>
    public void Run(Binding binding) =>
        _session.Run(_runOptions, _inputNames, [binding.Input], _outputNames, [binding.Output]);

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    /// <summary>The ONNX ModelProto bytes of the network.</summary>
    public static byte[] Build(NetworkKind network, ReadOnlySpan<float> parameters, ReadOnlySpan<float> buffers)
    {
        var graph = new GraphBuilder(parameters, buffers);
        string x = "input";
        switch (network)
        {
            case NetworkKind.LeNet5:
                x = graph.Conv(x, "conv1", 1, 6, 5, 2);
                x = graph.Pool(graph.Relu(x));
                x = graph.Conv(x, "conv2", 6, 16, 5, 0);
                x = graph.Pool(graph.Relu(x));
                x = graph.Flatten(x);
                x = graph.Relu(graph.Gemm(x, "dense1", 400, 120));
                x = graph.Relu(graph.Gemm(x, "dense2", 120, 84));
                x = graph.Gemm(x, "dense3", 84, 10);
                break;
            case NetworkKind.WideNet:
                x = graph.Conv(x, "conv1", 1, 32, 5, 2);
                x = graph.Pool(graph.Relu(x));
                x = graph.Conv(x, "conv2", 32, 64, 5, 2);
                x = graph.Pool(graph.Relu(x));
                x = graph.Flatten(x);
                x = graph.Relu(graph.Gemm(x, "dense1", 3136, 1024));
                x = graph.Gemm(x, "dense2", 1024, 10);
                break;
            case NetworkKind.ResNet:
            {
                // As the attributes read: each block's main path, its shortcut (the block's input itself, or a 1×1
                // stride-2 projection of it), shortcut + main, ReLU. Initializers in NetGen's parameter order.
                string stem = graph.Relu(graph.Conv(x, "stem", 1, 16, 3, 1));
                string main = graph.Conv(graph.Relu(graph.Conv(stem, "block1_conv1", 16, 16, 3, 1)), "block1_conv2", 16, 16, 3, 1);
                string block1 = graph.Relu(graph.Add(main, stem));
                main = graph.Conv(graph.Relu(graph.Conv(block1, "block2_conv1", 16, 32, 3, 1, stride: 2)), "block2_conv2", 32, 32, 3, 1);
                string block2 = graph.Relu(graph.Add(graph.Conv(block1, "block2_shortcut", 16, 32, 1, 0, stride: 2), main));
                main = graph.Conv(graph.Relu(graph.Conv(block2, "block3_conv1", 32, 64, 3, 1, stride: 2)), "block3_conv2", 64, 64, 3, 1);
                string block3 = graph.Relu(graph.Add(graph.Conv(block2, "block3_shortcut", 32, 64, 1, 0, stride: 2), main));
                x = graph.Gemm(graph.Flatten(block3), "head", 64 * 7 * 7, 10);
                break;
            }

            case NetworkKind.ResNetBN:
            {
                // As the attributes read, in their order (the initializers consume the parameters and the running
                // statistics in that order): conv without bias, BatchNormalization, ReLU; shortcut + main; global
                // average pooling, Gemm.
                string ConvBn(string input, string conv, string bn, int inChannels, int filters, int kernel, int padding, int stride = 1) =>
                    graph.BatchNorm(graph.Conv(input, conv, inChannels, filters, kernel, padding, stride, bias: false), bn, filters);

                string stem = graph.Relu(ConvBn(x, "stem", "stem_bn", 1, 16, 3, 1));
                string main = graph.Relu(ConvBn(stem, "block1_conv1", "block1_bn1", 16, 16, 3, 1));
                main = ConvBn(main, "block1_conv2", "block1_bn2", 16, 16, 3, 1);
                string block1 = graph.Relu(graph.Add(main, stem));
                main = graph.Relu(ConvBn(block1, "block2_conv1", "block2_bn1", 16, 64, 3, 1, stride: 2));
                main = ConvBn(main, "block2_conv2", "block2_bn2", 64, 64, 3, 1);
                string block2 = graph.Relu(graph.Add(ConvBn(block1, "block2_shortcut", "block2_shortcut_bn", 16, 64, 1, 0, stride: 2), main));
                main = graph.Relu(ConvBn(block2, "block3_conv1", "block3_bn1", 64, 128, 3, 1, stride: 2));
                main = ConvBn(main, "block3_conv2", "block3_bn2", 128, 128, 3, 1);
                string block3 = graph.Relu(graph.Add(ConvBn(block2, "block3_shortcut", "block3_shortcut_bn", 64, 128, 1, 0, stride: 2), main));
                x = graph.Gemm(graph.Flatten(graph.GlobalAveragePool(block3)), "head", 128, 10);
                break;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(network));
        }

        graph.Softmax(x, "probabilities");
        return graph.Model(network.ToString());
    }

    /// <summary>Appends nodes and initializers in PyTorch's parameter order, reading the flat vector as it goes.</summary>
    private sealed class GraphBuilder(ReadOnlySpan<float> parameters, ReadOnlySpan<float> buffers)
    {
        private readonly float[] _parameters = parameters.ToArray();
        private readonly float[] _buffers = buffers.ToArray();
        private readonly List<byte[]> _nodes = [];
        private readonly List<byte[]> _initializers = [];
        private int _offset, _bufferOffset, _next;

        public string Conv(string x, string name, int inChannels, int filters, int kernel, int padding, int stride = 1, bool bias = true)
        {
            string w = Initializer($"{name}.weight", [filters, inChannels, kernel, kernel]);
            string[] inputs = bias ? [x, w, Initializer($"{name}.bias", [filters])] : [x, w];
            return Node("Conv", inputs, p => p
                .Attribute("kernel_shape", [kernel, kernel])
                .Attribute("pads", [padding, padding, padding, padding])
                .Attribute("strides", [stride, stride]));
        }

        public string Relu(string x) => Node("Relu", [x], null);

        /// <summary>
        /// BatchNormalization in inference form (training_mode 0, the default): γ, β from the parameters, the running mean
        /// and variance from the buffers (NetGen's layout: each layer's running_mean, then its running_var); ε the default
        /// 1e-5, as the layers' [BatchNorm2D].
        /// </summary>
        public string BatchNorm(string x, string name, int channels)
        {
            string scale = Initializer($"{name}.weight", [channels]);
            string bias = Initializer($"{name}.bias", [channels]);
            string mean = BufferInitializer($"{name}.running_mean", channels);
            string variance = BufferInitializer($"{name}.running_var", channels);
            return Node("BatchNormalization", [x, scale, bias, mean, variance], null);
        }

        /// <summary>The mean of each channel: [N, C, H, W] → [N, C, 1, 1].</summary>
        public string GlobalAveragePool(string x) => Node("GlobalAveragePool", [x], null);

        /// <summary>Elementwise a + b (same shapes): a residual join.</summary>
        public string Add(string a, string b) => Node("Add", [a, b], null);

        public string Pool(string x) => Node("MaxPool", [x], p => p.Attribute("kernel_shape", [2, 2]).Attribute("strides", [2, 2]));

        public string Flatten(string x) => Node("Flatten", [x], p => p.Attribute("axis", 1));

        public string Gemm(string x, string name, int inputs, int units)
        {
            string w = Initializer($"{name}.weight", [units, inputs]);
            string b = Initializer($"{name}.bias", [units]);
            return Node("Gemm", [x, w, b], p => p.Attribute("transB", 1));
        }

        public void Softmax(string x, string output) => Node("Softmax", [x], p => p.Attribute("axis", 1), output);

        public byte[] Model(string name)
        {
            if (_offset != _parameters.Length)
            {
                throw new InvalidOperationException($"The graph used {_offset} of {_parameters.Length} parameters.");
            }

            if (_bufferOffset != _buffers.Length)
            {
                throw new InvalidOperationException($"The graph used {_bufferOffset} of {_buffers.Length} running statistics.");
            }

            var graph = new Proto();
            foreach (byte[] node in _nodes)
            {
                graph.Bytes(1, node);
            }

            graph.String(2, name);
            foreach (byte[] tensor in _initializers)
            {
                graph.Bytes(5, tensor);
            }

            graph.Message(11, ValueInfo("input", "N", 1, 28, 28));
            graph.Message(12, ValueInfo("probabilities", "N", Workload.Classes));
            return new Proto()
                .Int(1, 8)                                                  // ir_version
                .String(2, "NetGen.Benchmarks")                             // producer_name
                .Message(7, graph)                                          // graph
                .Message(8, new Proto().String(1, "").Int(2, 17))           // opset_import: ai.onnx 17
                .ToArray();
        }

        /// <summary>A float initializer from the next <paramref name="count"/> buffer elements.</summary>
        private string BufferInitializer(string name, int count)
        {
            var tensor = new Proto().Int(1, count).Int(2, 1).String(8, name)   // dims, data_type FLOAT, name
                .Bytes(9, MemoryMarshal.AsBytes(_buffers.AsSpan(_bufferOffset, count)).ToArray());
            _initializers.Add(tensor.ToArray());
            _bufferOffset += count;
            return name;
        }

        private string Initializer(string name, long[] dims)
        {
            int count = 1;
            foreach (long d in dims)
            {
                count *= (int)d;
            }

            var tensor = new Proto();
            foreach (long d in dims)
            {
                tensor.Int(1, d);                                           // dims
            }

            tensor.Int(2, 1);                                               // data_type FLOAT
            tensor.String(8, name);                                         // name
            tensor.Bytes(9, MemoryMarshal.AsBytes(_parameters.AsSpan(_offset, count)).ToArray()); // raw_data (little endian)
            _initializers.Add(tensor.ToArray());
            _offset += count;
            return name;
        }

        private string Node(string op, string[] inputs, Func<NodeAttributes, NodeAttributes>? attributes, string? output = null)
        {
            output ??= $"t{_next++}";
            var node = new Proto();
            foreach (string input in inputs)
            {
                node.String(1, input);
            }

            node.String(2, output).String(3, $"{op.ToLowerInvariant()}{_nodes.Count}").String(4, op);
            if (attributes is not null)
            {
                foreach (Proto attribute in attributes(new NodeAttributes()).Items)
                {
                    node.Message(5, attribute);
                }
            }

            _nodes.Add(node.ToArray());
            return output;
        }

        private static Proto ValueInfo(string name, string batch, params int[] dims)
        {
            var shape = new Proto().Message(1, new Proto().String(2, batch));   // dim { dim_param }
            foreach (int d in dims)
            {
                shape.Message(1, new Proto().Int(1, d));                    // dim { dim_value }
            }

            var tensorType = new Proto().Int(1, 1).Message(2, shape);       // elem_type FLOAT, shape
            return new Proto().String(1, name).Message(2, new Proto().Message(1, tensorType));
        }
    }

    private sealed class NodeAttributes
    {
        public List<Proto> Items { get; } = [];

        public NodeAttributes Attribute(string name, long value)
        {
            Items.Add(new Proto().String(1, name).Int(3, value).Int(20, 2)); // i, type INT
            return this;
        }

        public NodeAttributes Attribute(string name, long[] values)
        {
            var p = new Proto().String(1, name);
            foreach (long v in values)
            {
                p.Int(8, v);                                                // ints
            }

            Items.Add(p.Int(20, 7));                                        // type INTS
            return this;
        }
    }

    /// <summary>A minimal protobuf writer: varints and length-delimited fields, enough for ONNX's messages.</summary>
    private sealed class Proto
    {
        private readonly MemoryStream _stream = new();

        public Proto Int(int field, long value)
        {
            Varint((ulong)(field << 3));
            Varint(unchecked((ulong)value));
            return this;
        }

        public Proto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Proto Message(int field, Proto message) => Bytes(field, message.ToArray());

        public Proto Bytes(int field, byte[] value)
        {
            Varint((ulong)((field << 3) | 2));
            Varint((ulong)value.Length);
            _stream.Write(value);
            return this;
        }

        public byte[] ToArray() => _stream.ToArray();

        private void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            _stream.WriteByte((byte)value);
        }
    }
}
