namespace NetGen.Onnx;

/// <summary>
/// The field numbers and enum values of onnx/onnx.proto that NetGen uses, by message. Constants only and no
/// dependencies, so that a reader of ONNX files elsewhere can link this file and use the same numbers: the generator's
/// ONNX importer (<c>[OnnxModel]</c>) compiles it in.
/// </summary>
internal static class OnnxSchema
{
    /// <summary>The IR version written: 8 (ONNX 1.10), which ONNX Runtime 1.10 and later read.</summary>
    public const long IrVersion = 8;

    /// <summary>The version of the default operator set (domain "") the graph uses.</summary>
    public const long OpsetVersion = 17;

    /// <summary><c>ModelProto</c>.</summary>
    public static class Model
    {
        public const int IrVersion = 1;
        public const int ProducerName = 2;
        public const int ProducerVersion = 3;
        public const int DocString = 6;
        public const int Graph = 7;
        public const int OpsetImport = 8;
    }

    /// <summary><c>OperatorSetIdProto</c>.</summary>
    public static class OperatorSetId
    {
        public const int Domain = 1;
        public const int Version = 2;
    }

    /// <summary><c>GraphProto</c>.</summary>
    public static class Graph
    {
        public const int Node = 1;
        public const int Name = 2;
        public const int Initializer = 5;
        public const int DocString = 10;
        public const int Input = 11;
        public const int Output = 12;
        public const int ValueInfo = 13;
    }

    /// <summary><c>NodeProto</c>.</summary>
    public static class Node
    {
        public const int Input = 1;
        public const int Output = 2;
        public const int Name = 3;
        public const int OpType = 4;
        public const int Attribute = 5;
        public const int DocString = 6;
        public const int Domain = 7;
    }

    /// <summary><c>AttributeProto</c> and its <c>AttributeType</c> values.</summary>
    public static class Attribute
    {
        public const int Name = 1;
        public const int F = 2;
        public const int I = 3;
        public const int S = 4;
        public const int T = 5;
        public const int Floats = 7;
        public const int Ints = 8;
        public const int Type = 20;

        public const int TypeFloat = 1;
        public const int TypeInt = 2;
        public const int TypeString = 3;
        public const int TypeTensor = 4;
        public const int TypeFloats = 6;
        public const int TypeInts = 7;
    }

    /// <summary><c>TensorProto</c> and its <c>DataType</c> values.</summary>
    public static class Tensor
    {
        public const int Dims = 1;
        public const int DataType = 2;
        public const int FloatData = 4;
        public const int Int64Data = 7;
        public const int Name = 8;
        public const int RawData = 9;
        public const int DataLocation = 14;

        public const int DataTypeFloat = 1;
        public const int DataTypeInt64 = 7;

        /// <summary><c>DataLocation.EXTERNAL</c>: the values are in a file beside the model.</summary>
        public const int DataLocationExternal = 1;
    }

    /// <summary><c>ValueInfoProto</c>.</summary>
    public static class ValueInfo
    {
        public const int Name = 1;
        public const int Type = 2;
    }

    /// <summary><c>TypeProto</c> (its <c>tensor_type</c>) and <c>TypeProto.Tensor</c>.</summary>
    public static class Type
    {
        public const int TensorType = 1;
        public const int TensorElemType = 1;
        public const int TensorShape = 2;
    }

    /// <summary><c>TensorShapeProto</c> and <c>TensorShapeProto.Dimension</c>.</summary>
    public static class Shape
    {
        public const int Dim = 1;
        public const int DimValue = 1;
        public const int DimParam = 2;
    }
}
