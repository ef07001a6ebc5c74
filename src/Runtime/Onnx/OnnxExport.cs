using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Reflection;
using NetGen.Weights;

namespace NetGen.Onnx;

/// <summary>
/// Writes an <see cref="OnnxGraph"/> and a network's tensors as an ONNX model (a <c>ModelProto</c>): IR version 8, the
/// default operator set at version 17, producer <c>NetGen</c>; the graph's input and output as float tensors whose first
/// dimension is the dynamic batch size <c>N</c>; one float initializer per tensor of the layouts, under its name
/// (the safetensors name, <c>conv1.weight</c>), its data little-endian in <c>raw_data</c>.
/// </summary>
/// <remarks>
/// A generated network's <c>ExportOnnx</c> calls it with its graph, <c>Parameters</c> and <c>ParameterLayout</c> (and, with
/// BatchNorm, <c>Buffers</c> and <c>BufferLayout</c>, the running statistics; the batch counters are not part of an
/// inference graph). The graph is checked first: every value a node reads is the input, an initializer or an earlier
/// node's output, and no value is defined twice.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class OnnxExport
{
    /// <summary>The producer name written into every model.</summary>
    public const string ProducerName = "NetGen";

    /// <summary>
    /// Writes the model to <paramref name="path"/>: under a temporary name in the same directory, then moved over
    /// <paramref name="path"/>, so that a crash never leaves a half-written file behind.
    /// </summary>
    /// <param name="path">The file to create or replace (<c>.onnx</c>).</param>
    /// <param name="graph">The nodes, input and output.</param>
    /// <param name="parameters">The flat parameter vector.</param>
    /// <param name="layout">The parameter tensors, each an initializer.</param>
    /// <param name="buffers">The flat vector of float state that is not a parameter (running statistics), or empty.</param>
    /// <param name="bufferLayout">Its tensors, each an initializer.</param>
    /// <exception cref="ArgumentException">A slot outside its vector, a name twice, or a graph that reads a value nothing defines.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(string path, OnnxGraph graph, ReadOnlyMemory<float> parameters, ReadOnlySpan<TensorSlot> layout,
        ReadOnlyMemory<float> buffers, ReadOnlySpan<TensorSlot> bufferLayout)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ProtoMessage model = Build(graph, parameters, layout, buffers, bufferLayout);
        using var target = AtomicFile.Create(path);
        model.WriteTo(target.Stream);
        target.Commit();
    }

    /// <summary>Writes the model to <paramref name="stream"/>, from its current position; the stream is left open.</summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="graph">The nodes, input and output.</param>
    /// <param name="parameters">The flat parameter vector.</param>
    /// <param name="layout">The parameter tensors, each an initializer.</param>
    /// <param name="buffers">The flat vector of float state that is not a parameter (running statistics), or empty.</param>
    /// <param name="bufferLayout">Its tensors, each an initializer.</param>
    /// <exception cref="ArgumentException">A slot outside its vector, a name twice, or a graph that reads a value nothing defines.</exception>
    public static void Write(Stream stream, OnnxGraph graph, ReadOnlyMemory<float> parameters, ReadOnlySpan<TensorSlot> layout,
        ReadOnlyMemory<float> buffers, ReadOnlySpan<TensorSlot> bufferLayout)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Build(graph, parameters, layout, buffers, bufferLayout).WriteTo(stream);
    }

    /// <summary>The version written as <c>producer_version</c>: NetGen.dll's, without build metadata.</summary>
    internal static string ProducerVersion { get; } = ReadProducerVersion();

    private static string ReadProducerVersion()
    {
        Assembly assembly = typeof(OnnxExport).Assembly;
        string? version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString();
        return version is null ? "" : version.Split('+')[0];
    }

    internal static ProtoMessage Build(OnnxGraph graph, ReadOnlyMemory<float> parameters, ReadOnlySpan<TensorSlot> layout,
        ReadOnlyMemory<float> buffers, ReadOnlySpan<TensorSlot> bufferLayout)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var defined = new HashSet<string>(StringComparer.Ordinal) { graph.Input };
        CheckLayout(layout, parameters.Length, nameof(layout), defined);
        CheckLayout(bufferLayout, buffers.Length, nameof(bufferLayout), defined);
        CheckNodes(graph, defined);

        var g = new ProtoMessage();
        foreach (OnnxNode node in graph.Nodes)
        {
            g.Message(OnnxSchema.Graph.Node, Node(node));
        }

        g.String(OnnxSchema.Graph.Name, graph.Name);
        foreach (TensorSlot slot in layout)
        {
            g.Message(OnnxSchema.Graph.Initializer, Initializer(slot, parameters));
        }

        foreach (TensorSlot slot in bufferLayout)
        {
            g.Message(OnnxSchema.Graph.Initializer, Initializer(slot, buffers));
        }

        g.Message(OnnxSchema.Graph.Input, FloatValue(graph.Input, graph.InputShape));
        g.Message(OnnxSchema.Graph.Output, FloatValue(graph.Output, graph.OutputShape));

        return new ProtoMessage()
            .Varint(OnnxSchema.Model.IrVersion, OnnxSchema.IrVersion)
            .String(OnnxSchema.Model.ProducerName, ProducerName)
            .String(OnnxSchema.Model.ProducerVersion, ProducerVersion)
            .String(OnnxSchema.Model.DocString, graph.DocString)
            .Message(OnnxSchema.Model.Graph, g)
            .Message(OnnxSchema.Model.OpsetImport, new ProtoMessage()
                .String(OnnxSchema.OperatorSetId.Domain, "")
                .Varint(OnnxSchema.OperatorSetId.Version, OnnxSchema.OpsetVersion));
    }

    private static void CheckLayout(ReadOnlySpan<TensorSlot> layout, int length, string name, HashSet<string> defined)
    {
        foreach (TensorSlot slot in layout)
        {
            ArgumentNullException.ThrowIfNull(slot, name);
            if (slot.End > length)
            {
                throw new ArgumentException($"{slot} reaches past the end of its vector of {length}.", name);
            }

            if (!defined.Add(slot.Name))
            {
                throw new ArgumentException($"{slot.Name} is defined twice (a tensor, or the graph's input).", name);
            }
        }
    }

    private static void CheckNodes(OnnxGraph graph, HashSet<string> defined)
    {
        foreach (OnnxNode node in graph.Nodes)
        {
            foreach (string input in node.Inputs)
            {
                if (!defined.Contains(input))
                {
                    throw new ArgumentException($"Node {node.Name} ({node.OpType}) reads {input}, which is not defined before it.", nameof(graph));
                }
            }

            foreach (string output in node.Outputs)
            {
                if (!defined.Add(output))
                {
                    throw new ArgumentException($"Node {node.Name} ({node.OpType}) defines {output}, which is defined already.", nameof(graph));
                }
            }
        }

        if (!defined.Contains(graph.Output))
        {
            throw new ArgumentException($"No node defines the output {graph.Output}.", nameof(graph));
        }
    }

    private static ProtoMessage Node(OnnxNode node)
    {
        var message = new ProtoMessage();
        foreach (string input in node.Inputs)
        {
            message.String(OnnxSchema.Node.Input, input);
        }

        foreach (string output in node.Outputs)
        {
            message.String(OnnxSchema.Node.Output, output);
        }

        message.String(OnnxSchema.Node.Name, node.Name).String(OnnxSchema.Node.OpType, node.OpType);
        foreach (OnnxAttribute attribute in node.Attributes)
        {
            message.Message(OnnxSchema.Node.Attribute, Attribute(attribute));
        }

        return message;
    }

    /// <summary>An <c>AttributeProto</c>: its name, value and type, fields in the order of onnx.proto's serializer (by number).</summary>
    private static ProtoMessage Attribute(OnnxAttribute attribute)
    {
        var message = new ProtoMessage().String(OnnxSchema.Attribute.Name, attribute.Name);
        switch (attribute.Type)
        {
            case OnnxSchema.Attribute.TypeFloat:
                message.Float(OnnxSchema.Attribute.F, attribute.Single);
                break;
            case OnnxSchema.Attribute.TypeInt:
                message.Varint(OnnxSchema.Attribute.I, attribute.Integer);
                break;
            case OnnxSchema.Attribute.TypeInts:
                // repeated int64 ints = 8, not packed in onnx.proto (proto2): one tag per value, as protobuf writes it.
                foreach (long value in attribute.Integers)
                {
                    message.Varint(OnnxSchema.Attribute.Ints, value);
                }

                break;
        }

        return message.Varint(OnnxSchema.Attribute.Type, attribute.Type);
    }

    /// <summary>A float <c>TensorProto</c> initializer: dims, data type, name, raw little-endian data.</summary>
    private static ProtoMessage Initializer(TensorSlot slot, ReadOnlyMemory<float> vector)
    {
        var message = new ProtoMessage();
        foreach (int d in slot.Shape)
        {
            message.Varint(OnnxSchema.Tensor.Dims, d);
        }

        return message
            .Varint(OnnxSchema.Tensor.DataType, OnnxSchema.Tensor.DataTypeFloat)
            .String(OnnxSchema.Tensor.Name, slot.Name)
            .PackedFloats(OnnxSchema.Tensor.RawData, vector.Slice(slot.Offset, slot.Length));
    }

    /// <summary>A <c>ValueInfoProto</c> of a float tensor [N, dimensions…], N the dynamic batch size.</summary>
    private static ProtoMessage FloatValue(string name, IReadOnlyList<int> dimensions)
    {
        var shape = new ProtoMessage().Message(OnnxSchema.Shape.Dim, new ProtoMessage().String(OnnxSchema.Shape.DimParam, "N"));
        foreach (int d in dimensions)
        {
            shape.Message(OnnxSchema.Shape.Dim, new ProtoMessage().Varint(OnnxSchema.Shape.DimValue, d));
        }

        var tensor = new ProtoMessage()
            .Varint(OnnxSchema.Type.TensorElemType, OnnxSchema.Tensor.DataTypeFloat)
            .Message(OnnxSchema.Type.TensorShape, shape);
        return new ProtoMessage()
            .String(OnnxSchema.ValueInfo.Name, name)
            .Message(OnnxSchema.ValueInfo.Type, new ProtoMessage().Message(OnnxSchema.Type.TensorType, tensor));
    }
}
