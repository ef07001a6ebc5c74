using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;

namespace NetGen.Generator.Layers;

/// <summary>
/// One ONNX operator (default domain, opset 17) of a layer's mapping (<see cref="Layer.OnnxOperators"/>), as plain data:
/// its op type, the operands it reads, its attributes, and the rank at which it reads its data.
/// </summary>
/// <param name="OpType">The operator: <c>Conv</c>, <c>Gemm</c>, <c>Relu</c>, …</param>
/// <param name="Rank">How it reads its data inputs: as [N, C, H, W], as [N, C·H·W], or as they come.</param>
/// <param name="Inputs">
/// What it reads, in ONNX's input order: <see cref="Operand.X"/> (the layer's main input), <see cref="Operand.Joined"/>
/// (the named layer's output, for Add and Concat), a parameter (<see cref="Operand.Weight"/>, <see cref="Operand.Bias"/>)
/// or a state tensor (<see cref="Operand.State"/>) by role, which the exporter names as in a weights file
/// (<c>conv1.weight</c>); or <see cref="Operand.Y"/>, the output of the operator before it in the layer's list.
/// </param>
/// <param name="Attributes">Its attributes, in the order written.</param>
internal sealed record OnnxOperator(string OpType, OnnxRank Rank, EquatableArray<Operand> Inputs, EquatableArray<OnnxAttribute> Attributes)
{
    public OnnxOperator(string opType, OnnxRank rank, IEnumerable<Operand> inputs, params OnnxAttribute[] attributes)
        : this(opType, rank, inputs.ToEquatableArray(), attributes.ToEquatableArray())
    {
    }

    /// <summary>Whether an operand is data flowing through the graph (an activation), rather than an initializer.</summary>
    public static bool IsData(Operand operand) => operand.Kind is OperandKind.Input or OperandKind.Output;
}

/// <summary>
/// The rank at which an ONNX operator reads its data. NetGen's activations are C×H×W, a dense layer's C×1×1; in ONNX, a
/// <c>Gemm</c> gives [N, C] and a convolution needs [N, C, H, W], so the exporter tracks each value's rank and inserts a
/// <c>Flatten</c> (axis 1) or an <c>Unsqueeze</c> (axes 2, 3) where an operator needs the other one.
/// </summary>
internal enum OnnxRank
{
    /// <summary>As they come (elementwise operators, BatchNormalization); inputs of different ranks are all flattened (Add, Concat of a C×1×1 and a flat value).</summary>
    Any,

    /// <summary>[N, C, H, W]: Conv, the poolings.</summary>
    Spatial,

    /// <summary>[N, C·H·W], the sample flattened in CHW order: Gemm, Softmax over the flattened input.</summary>
    Flat,
}

/// <summary>What an ONNX attribute holds (<c>AttributeProto.AttributeType</c>).</summary>
internal enum OnnxAttributeKind
{
    Int,
    Ints,
    Float,
}

/// <summary>An attribute of an <see cref="OnnxOperator"/>: an integer, a list of integers or a float.</summary>
internal sealed record OnnxAttribute(string Name, OnnxAttributeKind Kind, EquatableArray<long> Integers, float Single)
{
    public static OnnxAttribute Int(string name, long value) => new(name, OnnxAttributeKind.Int, new[] { value }.ToEquatableArray(), 0f);

    public static OnnxAttribute Ints(string name, params long[] values) => new(name, OnnxAttributeKind.Ints, values.ToEquatableArray(), 0f);

    public static OnnxAttribute Float(string name, float value) => new(name, OnnxAttributeKind.Float, EquatableArray<long>.Empty, value);

    /// <summary>The C# expression that builds it with the runtime's <c>NetGen.Onnx.OnnxAttribute</c>.</summary>
    public string ToCSharp() => Kind switch
    {
        OnnxAttributeKind.Int => $"global::NetGen.Onnx.OnnxAttribute.Int({Literal.String(Name)}, {Integers[0].ToString(CultureInfo.InvariantCulture)})",
        OnnxAttributeKind.Ints => $"global::NetGen.Onnx.OnnxAttribute.Ints({Literal.String(Name)}, [{string.Join(", ", Integers.Select(v => v.ToString(CultureInfo.InvariantCulture)))}])",
        _ => $"global::NetGen.Onnx.OnnxAttribute.Float({Literal.String(Name)}, {Literal.Float(Single)})",
    };

    /// <summary>As in a comment: <c>kernel_shape=[5, 5]</c>, <c>alpha=0.01</c>.</summary>
    public override string ToString() => Kind switch
    {
        OnnxAttributeKind.Int => $"{Name}={Integers[0].ToString(CultureInfo.InvariantCulture)}",
        OnnxAttributeKind.Ints => $"{Name}=[{string.Join(", ", Integers.Select(v => v.ToString(CultureInfo.InvariantCulture)))}]",
        _ => $"{Name}={Literal.Float(Single).TrimEnd('f')}",
    };
}
