using System;
using System.Collections.Generic;
using System.Linq;
using Google.Protobuf;
using Onnx;
using static NetGen.Tests.Onnx.OnnxGraphBuilder;

namespace NetGen.Tests.Onnx;

/// <summary>
/// The ONNX models docs/diagnostics.md describes in its examples' comments, by their description there: the
/// documentation test writes each one and checks the example gives the message the page shows.
/// </summary>
internal static class OnnxDocumentationModels
{
    private const string Small = "input [N, 1, 8, 8] → Conv conv1 (4 filters 3×3, pads 1) → Relu → Flatten → Gemm fc (3 units) → Softmax";

    private static readonly Dictionary<string, Func<byte[]>> Models = new()
    {
        [Small] = () => Tail(g => g.Relu(g.Conv(g.Input("input", 1, 8, 8), "conv1", 1, 4, 3, padding: 1)), 256),
        [Small + ", cut to 100 bytes"] = () => Models![Small]()[..100],
        ["input [N, 1, 8, 8] → Resize (node /up/Resize) → Flatten → Gemm fc (3 units) → Softmax"] =
            () => Tail(g => g.Node("Resize", "/up/Resize", [g.Input("input", 1, 8, 8)]), 64),
        ["input [N, 1, 8, 8] → Conv (node /conv1/Conv, 4 filters 3×3, dilations [2, 2]) → Flatten → Gemm fc (3 units) → Softmax"] =
            () => Tail(g => g.Node("Conv", "/conv1/Conv", [g.Input("input", 1, 8, 8), g.Weight("conv1.weight", [4, 1, 3, 3]), g.Weight("conv1.bias", [4])],
                Ints("dilations", 2, 2)), 64),
        ["input [N, 1, 8, 8] → Reshape (node /r/Reshape) to [1, 2, -1] → Gemm fc (3 units) → Softmax"] =
            () => Tail(g => g.Node("Reshape", "/r/Reshape", [g.Input("input", 1, 8, 8), g.Longs("shape", 1, 2, -1)]), 64, flatten: false),
        ["input [N, 1, 8, 8] → Conv (node /conv1/Conv) with its weight conv1.weight in FLOAT16 → Flatten → Gemm fc (3 units) → Softmax"] = () => Tail(g =>
        {
            string y = g.Conv(g.Input("input", 1, 8, 8), "conv1", 1, 4, 3, padding: 1);
            TensorProto weight = g.Graph.Initializer.Single(t => t.Name == "conv1.weight");
            weight.DataType = (int)TensorProto.Types.DataType.Float16;
            weight.RawData = ByteString.CopyFrom(new byte[2 * 36]);
            return y;
        }, 256),
        ["input [N, 1, H, 8], H dynamic → Flatten → Gemm fc (3 units) → Softmax"] = () => Tail(g =>
        {
            g.Input("input", 1, 8, 8);
            g.Graph.Input[0].Type.TensorType.Shape.Dim[2] = new TensorShapeProto.Types.Dimension { DimParam = "H" };
            return "input";
        }, 64),
        ["input [N, 1, 8, 8] → Flatten → Gemm fc (3 units), no Softmax"] = () =>
        {
            var g = new OnnxGraphBuilder();
            return g.Build(g.Gemm(g.Flatten(g.Input("input", 1, 8, 8)), "fc", 64, 3), 3);
        },
    };

    /// <summary>The model the page describes as <paramref name="description"/>; throws for a description the test does not know.</summary>
    public static byte[] Build(string description) =>
        Models.TryGetValue(description, out var build)
            ? build()
            : throw new KeyNotFoundException($"docs/diagnostics.md describes a model the test does not know: '{description}'");

    /// <summary>A graph from <paramref name="body"/>, then Flatten (unless the body flattens), Gemm fc over the features, Softmax.</summary>
    private static byte[] Tail(Func<OnnxGraphBuilder, string> body, int features, bool flatten = true)
    {
        var g = new OnnxGraphBuilder();
        string x = body(g);
        x = g.Node("Softmax", "/Softmax", [g.Gemm(flatten ? g.Flatten(x) : x, "fc", features, 3)], Int("axis", 1));
        return g.Build(x, 3);
    }
}
