using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace NetGen.Onnx;

/// <summary>
/// A network as an ONNX graph, without its weights: what a generated network's <c>ExportOnnx</c> hands to
/// <see cref="OnnxExport"/> with its parameter vector. One float input with a dynamic batch dimension, one float output,
/// and the nodes in an order where each reads only the input, initializers and outputs of nodes before it.
/// </summary>
/// <remarks>For use by code that the NetGen source generator emits; not intended to be called directly.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class OnnxGraph
{
    /// <summary>Describes a graph.</summary>
    /// <param name="name">The graph's name (the network's class).</param>
    /// <param name="docString">A description, shown by Netron.</param>
    /// <param name="input">The input's name.</param>
    /// <param name="inputShape">The input's dimensions after the batch dimension <c>N</c>.</param>
    /// <param name="output">The output's name.</param>
    /// <param name="outputShape">The output's dimensions after the batch dimension <c>N</c>.</param>
    /// <param name="nodes">The nodes, in an order where each reads only values defined before it.</param>
    public OnnxGraph(string name, string docString, string input, IReadOnlyList<int> inputShape, string output, IReadOnlyList<int> outputShape,
        IReadOnlyList<OnnxNode> nodes)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(docString);
        ArgumentException.ThrowIfNullOrEmpty(input);
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentException.ThrowIfNullOrEmpty(output);
        ArgumentNullException.ThrowIfNull(outputShape);
        ArgumentNullException.ThrowIfNull(nodes);
        Name = name;
        DocString = docString;
        Input = input;
        InputShape = inputShape;
        Output = output;
        OutputShape = outputShape;
        Nodes = nodes;
    }

    /// <summary>The graph's name.</summary>
    public string Name { get; }

    /// <summary>The graph's description.</summary>
    public string DocString { get; }

    /// <summary>The input's name.</summary>
    public string Input { get; }

    /// <summary>The input's dimensions after the batch dimension.</summary>
    public IReadOnlyList<int> InputShape { get; }

    /// <summary>The output's name.</summary>
    public string Output { get; }

    /// <summary>The output's dimensions after the batch dimension.</summary>
    public IReadOnlyList<int> OutputShape { get; }

    /// <summary>The nodes, in order.</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }
}

/// <summary>One node of an <see cref="OnnxGraph"/>: an operator of the default domain (opset 17) with its inputs, outputs and attributes.</summary>
/// <remarks>For use by code that the NetGen source generator emits; not intended to be called directly.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class OnnxNode
{
    /// <summary>Describes a node.</summary>
    /// <param name="name">The node's name (the layer's).</param>
    /// <param name="opType">The operator: <c>Conv</c>, <c>Relu</c>, …</param>
    /// <param name="inputs">The values it reads: the graph's input, initializers (by tensor name), other nodes' outputs.</param>
    /// <param name="outputs">The values it defines.</param>
    /// <param name="attributes">Its attributes.</param>
    public OnnxNode(string name, string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, IReadOnlyList<OnnxAttribute> attributes)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(attributes);
        Name = name;
        OpType = opType;
        Inputs = inputs;
        Outputs = outputs;
        Attributes = attributes;
    }

    /// <summary>The node's name.</summary>
    public string Name { get; }

    /// <summary>The operator.</summary>
    public string OpType { get; }

    /// <summary>The values it reads.</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>The values it defines.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>Its attributes.</summary>
    public IReadOnlyList<OnnxAttribute> Attributes { get; }
}

/// <summary>An attribute of an <see cref="OnnxNode"/>: an integer, a list of integers or a float.</summary>
/// <remarks>For use by code that the NetGen source generator emits; not intended to be called directly.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "ONNX's own term (AttributeProto); not a .NET attribute.")]
[SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The factories are named after ONNX's attribute types INT, INTS and FLOAT.")]
public sealed class OnnxAttribute
{
    private OnnxAttribute(string name, int type, long integer, long[] integers, float single)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Type = type;
        Integer = integer;
        Integers = integers;
        Single = single;
    }

    /// <summary>The attribute's name.</summary>
    public string Name { get; }

    /// <summary>Its <c>AttributeProto.AttributeType</c>.</summary>
    internal int Type { get; }

    internal long Integer { get; }

    internal long[] Integers { get; }

    internal float Single { get; }

    /// <summary>An INT attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">Its value.</param>
    /// <returns>The attribute.</returns>
    public static OnnxAttribute Int(string name, long value) => new(name, OnnxSchema.Attribute.TypeInt, value, [], 0f);

    /// <summary>An INTS attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="values">Its values (copied).</param>
    /// <returns>The attribute.</returns>
    public static OnnxAttribute Ints(string name, params ReadOnlySpan<long> values) => new(name, OnnxSchema.Attribute.TypeInts, 0, values.ToArray(), 0f);

    /// <summary>A FLOAT attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">Its value.</param>
    /// <returns>The attribute.</returns>
    public static OnnxAttribute Float(string name, float value) => new(name, OnnxSchema.Attribute.TypeFloat, 0, [], value);
}
