using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace NetGen.Tests.Onnx;

/// <summary>
/// Reads back the parts of an ONNX <c>ModelProto</c> the export tests check, straight from the protobuf wire format
/// (field numbers from onnx/onnx.proto, written out here rather than shared with the exporter, so the test reads the
/// bytes independently of the code that wrote them).
/// </summary>
internal sealed record OnnxModelInfo(long IrVersion, long Opset, string GraphName, IReadOnlyList<OnnxNodeInfo> Nodes,
    IReadOnlyList<OnnxTensorInfo> Initializers, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs)
{
    public static OnnxModelInfo Read(byte[] model)
    {
        long ir = 0, opset = 0;
        string name = "";
        var nodes = new List<OnnxNodeInfo>();
        var initializers = new List<OnnxTensorInfo>();
        var inputs = new List<string>();
        var outputs = new List<string>();
        foreach (Field f in Fields(model))
        {
            switch (f.Number)
            {
                case 1: ir = (long)f.Varint; break;                                          // ir_version
                case 8: opset = (long)Fields(f.Bytes).Single(o => o.Number == 2).Varint; break; // opset_import.version
                case 7:                                                                       // graph
                    foreach (Field g in Fields(f.Bytes))
                    {
                        switch (g.Number)
                        {
                            case 1: nodes.Add(Node(g.Bytes)); break;
                            case 2: name = g.Text; break;
                            case 5: initializers.Add(Tensor(g.Bytes)); break;
                            case 11: inputs.Add(Fields(g.Bytes).Single(v => v.Number == 1).Text); break;
                            case 12: outputs.Add(Fields(g.Bytes).Single(v => v.Number == 1).Text); break;
                        }
                    }

                    break;
            }
        }

        return new OnnxModelInfo(ir, opset, name, nodes, initializers, inputs, outputs);
    }

    private static OnnxNodeInfo Node(byte[] bytes)
    {
        List<Field> fields = Fields(bytes).ToList();
        return new OnnxNodeInfo(
            fields.Single(f => f.Number == 3).Text, fields.Single(f => f.Number == 4).Text,
            fields.Where(f => f.Number == 1).Select(f => f.Text).ToArray(), fields.Where(f => f.Number == 2).Select(f => f.Text).ToArray());
    }

    private static OnnxTensorInfo Tensor(byte[] bytes)
    {
        List<Field> fields = Fields(bytes).ToList();
        byte[] raw = fields.Single(f => f.Number == 9).Bytes;
        var data = new float[raw.Length / 4];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(4 * i));
        }

        return new OnnxTensorInfo(fields.Single(f => f.Number == 8).Text, fields.Where(f => f.Number == 1).Select(f => (int)f.Varint).ToArray(),
            (int)fields.Single(f => f.Number == 2).Varint, data);
    }

    /// <summary>One field: its number, and its value as a varint (wire type 0) or bytes (wire type 2); fixed32 is kept as bytes.</summary>
    private readonly record struct Field(int Number, ulong Varint, byte[] Bytes)
    {
        public string Text => Encoding.UTF8.GetString(Bytes);
    }

    private static IEnumerable<Field> Fields(byte[] message)
    {
        int position = 0;
        while (position < message.Length)
        {
            ulong tag = ReadVarint(message, ref position);
            int number = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    yield return new Field(number, ReadVarint(message, ref position), []);
                    break;
                case 2:
                    int length = checked((int)ReadVarint(message, ref position));
                    yield return new Field(number, 0, message.AsSpan(position, length).ToArray());
                    position += length;
                    break;
                case 5:
                    yield return new Field(number, 0, message.AsSpan(position, 4).ToArray());
                    position += 4;
                    break;
                default:
                    throw new FormatException($"Wire type {tag & 7} at byte {position}: not written by the exporter.");
            }
        }
    }

    private static ulong ReadVarint(byte[] bytes, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}

internal sealed record OnnxNodeInfo(string Name, string OpType, string[] Inputs, string[] Outputs);

internal sealed record OnnxTensorInfo(string Name, int[] Dims, int DataType, float[] Data);
