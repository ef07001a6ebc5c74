using System;
using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using Onnx;

namespace NetGen.Tests.Onnx;

/// <summary>
/// Writes ONNX models for the import tests with OnnxSharp's generated protobuf classes (over Google.Protobuf), independently
/// of NetGen's exporter and importer: a graph built node by node, with seeded random initializers.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly GraphProto _graph = new() { Name = "test" };
    private readonly Random _random;
    private int _values;

    public OnnxGraphBuilder(int seed = 1, long opset = 17)
    {
        _random = new Random(seed);
        Opset = opset;
    }

    public long Opset { get; }

    public GraphProto Graph => _graph;

    /// <summary>The float input [N, C, H, W]; N named "N" (dynamic) unless <paramref name="batch"/> fixes it.</summary>
    public string Input(string name, int channels, int height, int width, long? batch = null)
    {
        _graph.Input.Add(ValueInfo(name, TensorProto.Types.DataType.Float, batch, channels, height, width));
        return name;
    }

    public static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, long? batch, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(batch is { } n ? new TensorShapeProto.Types.Dimension { DimValue = n } : new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (long d in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    /// <summary>A float initializer with seeded values uniform in ±<paramref name="scale"/> (±1/√(fan-in) by default), as raw_data or float_data.</summary>
    public string Weight(string name, int[] dims, float? scale = null, bool rawData = true, Func<int, float>? values = null)
    {
        int count = dims.Aggregate(1, (a, b) => a * b);
        float s = scale ?? 1f / MathF.Sqrt(dims.Length > 1 ? dims.Skip(1).Aggregate(1, (a, b) => a * b) : Math.Max(1, dims[0]));
        float[] data = Enumerable.Range(0, count).Select(i => values?.Invoke(i) ?? (float)(_random.NextDouble() * 2 - 1) * s).ToArray();
        return Tensor(name, dims, data, rawData);
    }

    public string Tensor(string name, int[] dims, float[] data, bool rawData = true)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims.Select(d => (long)d));
        if (rawData)
        {
            tensor.RawData = ByteString.CopyFrom(data.SelectMany(BitConverter.GetBytes).ToArray());
        }
        else
        {
            tensor.FloatData.AddRange(data);
        }

        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>An INT64 initializer (a Reshape's shape).</summary>
    public string Longs(string name, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>Adds a node; returns its (first) output's name.</summary>
    public string Node(string opType, string name, string[] inputs, params AttributeProto[] attributes) =>
        NodeWithOutputs(opType, name, inputs, 1, attributes)[0];

    public string[] NodeWithOutputs(string opType, string name, string[] inputs, int outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.AddRange(inputs);
        string[] names = Enumerable.Range(0, outputs).Select(_ => $"v{++_values}").ToArray();
        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return names;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    // Shorthands for the common nodes, PyTorch's way: a conv and its weights under the module's name.

    public string Conv(string input, string module, int inChannels, int filters, int kernel, int stride = 1, int padding = 0, bool bias = true,
        int group = 1, string? node = null, string? weightName = null)
    {
        string w = Weight(weightName ?? module + ".weight", [filters, inChannels / group, kernel, kernel]);
        var inputs = new List<string> { input, w };
        if (bias)
        {
            inputs.Add(Weight(weightName is null ? module + ".bias" : weightName + "_bias", [filters], 0.1f));
        }

        return Node("Conv", node ?? $"/{module}/Conv", [.. inputs], Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride),
            Ints("pads", padding, padding, padding, padding), Int("group", group), Ints("dilations", 1, 1));
    }

    public string Relu(string input, string? node = null) => Node("Relu", node ?? $"/Relu_{_values}", [input]);

    public string MaxPool(string input, int size, int? stride = null, int padding = 0, string? node = null) =>
        Node("MaxPool", node ?? $"/MaxPool_{_values}", [input], Ints("kernel_shape", size, size), Ints("strides", stride ?? size, stride ?? size),
            Ints("pads", padding, padding, padding, padding), Int("ceil_mode", 0));

    /// <summary>Gemm as PyTorch's Linear exports it (transB = 1, weight [units, features]), or with transB = 0 and the weight [features, units].</summary>
    public string Gemm(string input, string module, int features, int units, bool transB = true, string? node = null)
    {
        string w = Weight(module + ".weight", transB ? [units, features] : [features, units], 1f / MathF.Sqrt(features));
        string b = Weight(module + ".bias", [units], 0.1f);
        return Node("Gemm", node ?? $"/{module}/Gemm", [input, w, b], Float("alpha", 1f), Float("beta", 1f), Int("transB", transB ? 1 : 0));
    }

    /// <summary>A dense layer as MatMul by [features, units] then Add of the bias.</summary>
    public string MatMulAdd(string input, string weightName, string biasName, int features, int units)
    {
        string product = Node("MatMul", $"/MatMul_{_values}", [input, Weight(weightName, [features, units], 1f / MathF.Sqrt(features))]);
        return Node("Add", $"/Add_{_values}", [product, Weight(biasName, [units], 0.1f)]);
    }

    public string Flatten(string input) => Node("Flatten", $"/Flatten_{_values}", [input], Int("axis", 1));

    /// <summary>The model with <paramref name="output"/> as its only output ([N, <paramref name="outputDims"/>…]).</summary>
    public byte[] Build(string output, params long[] outputDims)
    {
        _graph.Output.Clear();
        _graph.Output.Add(ValueInfo(output, TensorProto.Types.DataType.Float, null, outputDims));
        var model = new ModelProto { IrVersion = 8, ProducerName = "NetGen.Tests", Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model.ToByteArray();
    }
}
