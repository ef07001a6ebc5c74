using System;
using System.IO;
using System.Linq;
using System.Text;
using NetGen.Onnx;
using NetGen.Weights;
using Xunit;

namespace NetGen.Runtime.Tests.Onnx;

/// <summary>
/// The ONNX model writer on small graphs: the bytes of its messages worked out by hand from onnx.proto's field numbers,
/// and the checks it makes before writing. (The generated networks' exports run in ONNX Runtime in NetGen.Tests.)
/// </summary>
public sealed class OnnxExportTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>input [N, 2] → Gemm(input, w, b, transB = 1) → Relu → output [N, 2]; w [2, 2] at 0 and b [2] at 4.</summary>
    private static OnnxGraph Graph(string reads = "input") => new(
        "Tiny", "a test", "input", [2], "output", [2],
        [
            new("dense", "Gemm", [reads, "dense.weight", "dense.bias"], ["dense"], [OnnxAttribute.Int("transB", 1)]),
            new("relu", "Relu", ["dense"], ["output"], []),
        ]);

    private static readonly TensorSlot[] Layout = [new("dense.weight", [2, 2], 0), new("dense.bias", [2], 4)];

    private static readonly float[] Parameters = [1f, 2f, 3f, 4f, 0.5f, -1f];

    private static byte[] Export(OnnxGraph graph, float[]? parameters = null, TensorSlot[]? layout = null)
    {
        var stream = new MemoryStream();
        OnnxExport.Write(stream, graph, parameters ?? Parameters, layout ?? Layout, default, default);
        return stream.ToArray();
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static void AssertContains(byte[] whole, byte[] part, string what) =>
        Assert.True(whole.AsSpan().IndexOf(part) >= 0, $"{what} not found: {Convert.ToHexString(part)}");

    [Fact]
    public void The_model_starts_with_IR_version_8_and_imports_opset_17_of_the_default_domain()
    {
        byte[] model = Export(Graph());
        Assert.Equal([0x08, 0x08, 0x12, 0x06], model[..4]);                       // ir_version 8; producer_name, 6 bytes
        Assert.Equal("NetGen", Encoding.UTF8.GetString(model, 4, 6));
        // opset_import (field 8 → 0x42), 4 bytes: domain "" (0A 00), version 17 (10 11). The model's last field.
        Assert.Equal([0x42, 0x04, 0x0A, 0x00, 0x10, 0x11], model[^6..]);
    }

    [Fact]
    public void A_node_is_its_inputs_outputs_name_op_type_and_attributes()
    {
        // AttributeProto transB = 1: name (0A 06 "transB"), i (18 01), type INT (A0 01 02): 13 bytes.
        byte[] attribute = Concat([0x0A, 0x06], Utf8("transB"), [0x18, 0x01, 0xA0, 0x01, 0x02]);
        byte[] node = Concat(
            [0x0A, 0x05], Utf8("input"), [0x0A, 0x0C], Utf8("dense.weight"), [0x0A, 0x0A], Utf8("dense.bias"),   // input ×3
            [0x12, 0x05], Utf8("dense"),                                                                          // output
            [0x1A, 0x05], Utf8("dense"),                                                                          // name
            [0x22, 0x04], Utf8("Gemm"),                                                                           // op_type
            [0x2A, (byte)attribute.Length], attribute);                                                           // attribute
        // GraphProto.node is field 1: 0A, then the node's length.
        AssertContains(Export(Graph()), Concat([0x0A, (byte)node.Length], node), "the Gemm node");
    }

    [Fact]
    public void An_initializer_is_its_dims_float_type_name_and_raw_little_endian_data()
    {
        // dims 2, 2 (08 02 08 02), data_type FLOAT (10 01), name (42 0C "dense.weight"), raw_data (4A 10, 4 floats).
        byte[] tensor = Concat(
            [0x08, 0x02, 0x08, 0x02, 0x10, 0x01, 0x42, 0x0C], Utf8("dense.weight"),
            [0x4A, 0x10, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40]);
        // GraphProto.initializer is field 5: 2A.
        AssertContains(Export(Graph()), Concat([0x2A, (byte)tensor.Length], tensor), "dense.weight");

        // The bias: [0.5, −1] from offset 4.
        byte[] bias = Concat([0x08, 0x02, 0x10, 0x01, 0x42, 0x0A], Utf8("dense.bias"), [0x4A, 0x08, 0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x80, 0xBF]);
        AssertContains(Export(Graph()), Concat([0x2A, (byte)bias.Length], bias), "dense.bias");
    }

    [Fact]
    public void The_input_and_output_are_float_tensors_with_a_dynamic_batch_dimension()
    {
        // ValueInfoProto: name (0A 05 "input"), type (12 …) → TypeProto.tensor_type (0A …) → elem_type FLOAT (08 01),
        // shape (12 …) → dim { dim_param "N" } (0A 03 12 01 4E), dim { dim_value 2 } (0A 02 08 02).
        byte[] shape = [0x0A, 0x03, 0x12, 0x01, 0x4E, 0x0A, 0x02, 0x08, 0x02];
        byte[] tensorType = Concat([0x08, 0x01, 0x12, (byte)shape.Length], shape);
        byte[] type = Concat([0x0A, (byte)tensorType.Length], tensorType);
        byte[] input = Concat([0x0A, 0x05], Utf8("input"), [0x12, (byte)type.Length], type);
        AssertContains(Export(Graph()), Concat([0x5A, (byte)input.Length], input), "graph input (field 11)");
        byte[] output = Concat([0x0A, 0x06], Utf8("output"), [0x12, (byte)type.Length], type);
        AssertContains(Export(Graph()), Concat([0x62, (byte)output.Length], output), "graph output (field 12)");
    }

    [Fact]
    public void A_float_attribute_is_fixed32_and_an_ints_attribute_one_varint_per_value()
    {
        var graph = new OnnxGraph("Tiny", "", "input", [1, 3, 3], "output", [1, 2, 2],
        [
            new("pool", "MaxPool", ["input"], ["pool"], [OnnxAttribute.Ints("kernel_shape", [2, 2])]),
            new("act", "LeakyRelu", ["pool"], ["output"], [OnnxAttribute.Float("alpha", 0.5f)]),
        ]);
        byte[] model = Export(graph, [], []);
        // ints (field 8, not packed in onnx.proto): 40 02 40 02; type INTS = 7.
        AssertContains(model, Concat([0x0A, 0x0C], Utf8("kernel_shape"), [0x40, 0x02, 0x40, 0x02, 0xA0, 0x01, 0x07]), "kernel_shape");
        // f (field 2, fixed32) 0.5 = 0x3F000000; type FLOAT = 1.
        AssertContains(model, Concat([0x0A, 0x05], Utf8("alpha"), [0x15, 0x00, 0x00, 0x00, 0x3F, 0xA0, 0x01, 0x01]), "alpha");
    }

    [Fact]
    public void A_graph_that_reads_what_nothing_defines_is_refused()
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => Export(Graph(reads: "nowhere")));
        Assert.Contains("dense (Gemm) reads nowhere", e.Message);

        var noOutput = new OnnxGraph("Tiny", "", "input", [2], "output", [2], [new("relu", "Relu", ["input"], ["relu"], [])]);
        Assert.Contains("No node defines the output", Assert.Throws<ArgumentException>(() => Export(noOutput, [], [])).Message);

        var twice = new OnnxGraph("Tiny", "", "input", [2], "output", [2],
            [new("a", "Relu", ["input"], ["output"], []), new("b", "Relu", ["input"], ["output"], [])]);
        Assert.Contains("defined already", Assert.Throws<ArgumentException>(() => Export(twice, [], [])).Message);
    }

    [Fact]
    public void A_tensor_outside_its_vector_or_named_twice_is_refused()
    {
        Assert.Throws<ArgumentException>(() => Export(Graph(), [1f, 2f, 3f, 4f, 5f]));
        Assert.Throws<ArgumentException>(() => Export(Graph(), null, [new("dense.weight", [2, 2], 0), new("dense.weight", [2], 4)]));
    }

    [Fact]
    public void Save_writes_the_same_bytes_through_a_temporary_file_and_replaces_an_existing_one()
    {
        string path = _dir.File("tiny.onnx");
        File.WriteAllText(path, "old");
        OnnxExport.Save(path, Graph(), Parameters, Layout, default, default);
        Assert.Equal(Export(Graph()), File.ReadAllBytes(path));
        Assert.Equal(new[] { "tiny.onnx" }, Directory.GetFiles(_dir.Path).Select(f => Path.GetFileName(f)).ToArray());

        // A graph refused before anything is written leaves the file as it was.
        Assert.Throws<ArgumentException>(() => OnnxExport.Save(path, Graph(reads: "nowhere"), Parameters, Layout, default, default));
        Assert.Equal(Export(Graph()), File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(_dir.Path));
    }
}
