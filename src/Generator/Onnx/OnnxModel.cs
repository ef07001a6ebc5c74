using System.Collections.Generic;
using NetGen.Onnx;

namespace NetGen.Generator.Onnx;

/// <summary>
/// The parts of an ONNX <c>ModelProto</c> the importer reads, parsed from the protobuf wire format with the field numbers
/// of onnx/onnx.proto (<see cref="OnnxSchema"/>). Fields it does not use are skipped. Plain mutable classes: they live only
/// inside the import step, which turns them into the pipeline's equatable records.
/// </summary>
internal sealed class OnnxModelProto
{
    public long IrVersion { get; private set; }

    /// <summary>The default domain's ("" or "ai.onnx") opset version; 0 when the model imports none.</summary>
    public long Opset { get; private set; }

    public OnnxGraphProto Graph { get; private set; } = new();

    /// <summary>Reads a model; throws <see cref="OnnxFormatException"/> on a truncated or malformed file.</summary>
    public static OnnxModelProto Parse(byte[] bytes)
    {
        var model = new OnnxModelProto();
        var reader = new ProtoReader(bytes);
        bool hasGraph = false;
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case OnnxSchema.Model.IrVersion:
                    model.IrVersion = reader.ReadInt64();
                    break;
                case OnnxSchema.Model.Graph:
                    model.Graph = OnnxGraphProto.Parse(reader.ReadMessage());
                    hasGraph = true;
                    break;
                case OnnxSchema.Model.OpsetImport:
                    (string domain, long version) = ReadOpset(reader.ReadMessage());
                    if (domain is "" or "ai.onnx")
                    {
                        model.Opset = version;
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (!hasGraph || model.IrVersion <= 0)
        {
            throw new OnnxFormatException(hasGraph ? "it has no ir_version" : "it has no graph");
        }

        return model;
    }

    private static (string Domain, long Version) ReadOpset(ProtoReader reader)
    {
        string domain = "";
        long version = 0;
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case OnnxSchema.OperatorSetId.Domain:
                    domain = reader.ReadString();
                    break;
                case OnnxSchema.OperatorSetId.Version:
                    version = reader.ReadInt64();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return (domain, version);
    }
}

/// <summary><c>GraphProto</c>: nodes in topological order, initializers, inputs and outputs.</summary>
internal sealed class OnnxGraphProto
{
    public List<OnnxNodeProto> Nodes { get; } = [];

    public List<OnnxTensorProto> Initializers { get; } = [];

    public List<OnnxValueInfoProto> Inputs { get; } = [];

    public List<OnnxValueInfoProto> Outputs { get; } = [];

    public List<OnnxValueInfoProto> ValueInfo { get; } = [];

    public static OnnxGraphProto Parse(ProtoReader reader)
    {
        var graph = new OnnxGraphProto();
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case OnnxSchema.Graph.Node:
                    graph.Nodes.Add(OnnxNodeProto.Parse(reader.ReadMessage()));
                    break;
                case OnnxSchema.Graph.Initializer:
                    graph.Initializers.Add(OnnxTensorProto.Parse(reader.ReadMessage()));
                    break;
                case OnnxSchema.Graph.Input:
                    graph.Inputs.Add(OnnxValueInfoProto.Parse(reader.ReadMessage()));
                    break;
                case OnnxSchema.Graph.Output:
                    graph.Outputs.Add(OnnxValueInfoProto.Parse(reader.ReadMessage()));
                    break;
                case OnnxSchema.Graph.ValueInfo:
                    graph.ValueInfo.Add(OnnxValueInfoProto.Parse(reader.ReadMessage()));
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return graph;
    }
}

/// <summary><c>NodeProto</c>: one operator, its inputs and outputs by value name, and its attributes.</summary>
internal sealed class OnnxNodeProto
{
    public List<string> Inputs { get; } = [];

    public List<string> Outputs { get; } = [];

    public string Name { get; private set; } = "";

    public string OpType { get; private set; } = "";

    public string Domain { get; private set; } = "";

    public List<OnnxAttributeProto> Attributes { get; } = [];

    public static OnnxNodeProto Parse(ProtoReader reader)
    {
        var node = new OnnxNodeProto();
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case OnnxSchema.Node.Input:
                    node.Inputs.Add(reader.ReadString());
                    break;
                case OnnxSchema.Node.Output:
                    node.Outputs.Add(reader.ReadString());
                    break;
                case OnnxSchema.Node.Name:
                    node.Name = reader.ReadString();
                    break;
                case OnnxSchema.Node.OpType:
                    node.OpType = reader.ReadString();
                    break;
                case OnnxSchema.Node.Domain:
                    node.Domain = reader.ReadString();
                    break;
                case OnnxSchema.Node.Attribute:
                    node.Attributes.Add(OnnxAttributeProto.Parse(reader.ReadMessage()));
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return node;
    }

    /// <summary>The attribute of that name, or null.</summary>
    public OnnxAttributeProto? Attribute(string name) => Attributes.Find(a => a.Name == name);
}

/// <summary><c>AttributeProto</c>: a named int, float, string, tensor, or list of ints or floats.</summary>
internal sealed class OnnxAttributeProto
{
    public string Name { get; private set; } = "";

    /// <summary>The <c>AttributeType</c> (0 when the writer left it out, as IR versions before 2 did).</summary>
    public int Type { get; private set; }

    public float F { get; private set; }

    public long I { get; private set; }

    public string S { get; private set; } = "";

    public OnnxTensorProto? T { get; private set; }

    public List<float> Floats { get; } = [];

    public List<long> Ints { get; } = [];

    public static OnnxAttributeProto Parse(ProtoReader reader)
    {
        var attribute = new OnnxAttributeProto();
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case OnnxSchema.Attribute.Name:
                    attribute.Name = reader.ReadString();
                    break;
                case OnnxSchema.Attribute.Type:
                    attribute.Type = (int)reader.ReadInt64();
                    break;
                case OnnxSchema.Attribute.F:
                    attribute.F = reader.ReadFloat();
                    break;
                case OnnxSchema.Attribute.I:
                    attribute.I = reader.ReadInt64();
                    break;
                case OnnxSchema.Attribute.S:
                    attribute.S = reader.ReadString();
                    break;
                case OnnxSchema.Attribute.T:
                    attribute.T = OnnxTensorProto.Parse(reader.ReadMessage());
                    break;
                case OnnxSchema.Attribute.Floats:
                    reader.ReadFloats(attribute.Floats);
                    break;
                case OnnxSchema.Attribute.Ints:
                    reader.ReadInt64s(attribute.Ints);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return attribute;
    }
}

/// <summary>
/// <c>TensorProto</c>: a constant's name, dims, data type and values, as <c>float_data</c>, <c>int64_data</c> or
/// little-endian <c>raw_data</c> (kept as a range of the file's bytes until converted).
/// </summary>
internal sealed class OnnxTensorProto
{
    public string Name { get; private set; } = "";

    public List<long> Dims { get; } = [];

    public int DataType { get; private set; }

    public List<float> FloatData { get; } = [];

    public List<long> Int64Data { get; } = [];

    /// <summary>Whether the values live in a file beside the model (<c>data_location</c> EXTERNAL).</summary>
    public bool IsExternal { get; private set; }

    private byte[]? _raw;
    private int _rawOffset, _rawLength = -1;

    /// <summary>Whether the tensor has <c>raw_data</c>.</summary>
    public bool HasRawData => _rawLength >= 0;

    /// <summary>The number of elements its dims give (1 for a scalar); −1 when a dim is negative or the product overflows.</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long d in Dims)
            {
                if (d < 0 || (d > 0 && count > long.MaxValue / d))
                {
                    return -1;
                }

                count *= d;
            }

            return count;
        }
    }

    public static OnnxTensorProto Parse(ProtoReader reader)
    {
        var tensor = new OnnxTensorProto();
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case OnnxSchema.Tensor.Dims:
                    reader.ReadInt64s(tensor.Dims);
                    break;
                case OnnxSchema.Tensor.DataType:
                    tensor.DataType = (int)reader.ReadInt64();
                    break;
                case OnnxSchema.Tensor.FloatData:
                    reader.ReadFloats(tensor.FloatData);
                    break;
                case OnnxSchema.Tensor.Int64Data:
                    reader.ReadInt64s(tensor.Int64Data);
                    break;
                case OnnxSchema.Tensor.Name:
                    tensor.Name = reader.ReadString();
                    break;
                case OnnxSchema.Tensor.RawData:
                    tensor._raw = reader.Buffer;
                    (tensor._rawOffset, tensor._rawLength) = reader.ReadBytes();
                    break;
                case OnnxSchema.Tensor.DataLocation:
                    tensor.IsExternal = reader.ReadInt64() == OnnxSchema.Tensor.DataLocationExternal;
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return tensor;
    }

    /// <summary>
    /// A FLOAT tensor's values in row-major order, or null with the reason when it has no such values (another data type,
    /// external data, or a count that does not match its dims).
    /// </summary>
    public float[]? Floats(out string? problem)
    {
        problem = null;
        long count = ElementCount;
        if (DataType != OnnxSchema.Tensor.DataTypeFloat)
        {
            problem = $"has data type {DataTypeName(DataType)}; NetGen imports FLOAT (float32) weights only";
            return null;
        }

        if (IsExternal)
        {
            problem = "has its values outside the model file (external data); NetGen imports weights stored in the model";
            return null;
        }

        if (count < 0 || count > int.MaxValue / 4)
        {
            problem = $"has dims [{string.Join(", ", Dims)}], which are not a tensor NetGen can hold";
            return null;
        }

        // The counts are checked against the bytes the file holds before anything is allocated.
        if (HasRawData ? _rawLength != 4 * count : FloatData.Count != count)
        {
            problem = HasRawData
                ? $"has {_rawLength} bytes of raw_data, but its dims [{string.Join(", ", Dims)}] need {4 * count}"
                : $"it has {FloatData.Count} values, but its dims [{string.Join(", ", Dims)}] need {count}";
            return null;
        }

        var values = new float[count];
        if (HasRawData)
        {
            System.Buffer.BlockCopy(_raw!, _rawOffset, values, 0, _rawLength);
            if (!System.BitConverter.IsLittleEndian)
            {
                for (int i = 0; i < values.Length; i++)
                {
                    byte[] bytes = System.BitConverter.GetBytes(values[i]);
                    System.Array.Reverse(bytes);
                    values[i] = System.BitConverter.ToSingle(bytes, 0);
                }
            }

            return values;
        }

        FloatData.CopyTo(values);
        return values;
    }

    /// <summary>An INT64 tensor's values (a Reshape's shape), or null when it is not one or its count does not match its dims.</summary>
    public long[]? Longs()
    {
        long count = ElementCount;
        if (DataType != OnnxSchema.Tensor.DataTypeInt64 || IsExternal || count < 0 || count > 1 << 16)
        {
            return null;
        }

        if (HasRawData)
        {
            if (_rawLength != 8 * count)
            {
                return null;
            }

            var values = new long[count];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = System.BitConverter.ToInt64(_raw!, _rawOffset + 8 * i);
            }

            return values;
        }

        return Int64Data.Count == count ? Int64Data.ToArray() : null;
    }

    /// <summary>ONNX's name for a <c>DataType</c> value.</summary>
    public static string DataTypeName(int dataType) => dataType switch
    {
        0 => "UNDEFINED",
        1 => "FLOAT",
        2 => "UINT8",
        3 => "INT8",
        4 => "UINT16",
        5 => "INT16",
        6 => "INT32",
        7 => "INT64",
        8 => "STRING",
        9 => "BOOL",
        10 => "FLOAT16",
        11 => "DOUBLE",
        12 => "UINT32",
        13 => "UINT64",
        16 => "BFLOAT16",
        _ => $"data type {dataType}",
    };
}

/// <summary><c>ValueInfoProto</c>: a graph input's or output's name, element type and shape (each dim a value or a name).</summary>
internal sealed class OnnxValueInfoProto
{
    public string Name { get; private set; } = "";

    /// <summary>The tensor's element type (a <c>DataType</c>); 0 when it has no tensor type.</summary>
    public int ElementType { get; private set; }

    /// <summary>Whether a shape is given (a rank); without one the dims are unknown.</summary>
    public bool HasShape { get; private set; }

    /// <summary>Each dim: its value, or null with its symbolic name (<c>dim_param</c>, "" when neither is set).</summary>
    public List<(long? Value, string Param)> Dims { get; } = [];

    public static OnnxValueInfoProto Parse(ProtoReader reader)
    {
        var info = new OnnxValueInfoProto();
        while (reader.Next())
        {
            switch (reader.Field)
            {
                case OnnxSchema.ValueInfo.Name:
                    info.Name = reader.ReadString();
                    break;
                case OnnxSchema.ValueInfo.Type:
                    info.ReadType(reader.ReadMessage());
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return info;
    }

    private void ReadType(ProtoReader reader)
    {
        while (reader.Next())
        {
            if (reader.Field != OnnxSchema.Type.TensorType)
            {
                reader.Skip();
                continue;
            }

            ProtoReader tensor = reader.ReadMessage();
            while (tensor.Next())
            {
                switch (tensor.Field)
                {
                    case OnnxSchema.Type.TensorElemType:
                        ElementType = (int)tensor.ReadInt64();
                        break;
                    case OnnxSchema.Type.TensorShape:
                        HasShape = true;
                        ReadShape(tensor.ReadMessage());
                        break;
                    default:
                        tensor.Skip();
                        break;
                }
            }
        }
    }

    private void ReadShape(ProtoReader reader)
    {
        while (reader.Next())
        {
            if (reader.Field != OnnxSchema.Shape.Dim)
            {
                reader.Skip();
                continue;
            }

            ProtoReader dim = reader.ReadMessage();
            long? value = null;
            string param = "";
            while (dim.Next())
            {
                switch (dim.Field)
                {
                    case OnnxSchema.Shape.DimValue:
                        value = dim.ReadInt64();
                        break;
                    case OnnxSchema.Shape.DimParam:
                        param = dim.ReadString();
                        break;
                    default:
                        dim.Skip();
                        break;
                }
            }

            Dims.Add((value, param));
        }
    }
}
