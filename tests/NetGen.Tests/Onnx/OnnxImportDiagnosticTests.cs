using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Google.Protobuf;
using Microsoft.CodeAnalysis;
using NetGen.Generator.Model;
using NetGen.Generator.Onnx;
using Onnx;
using Xunit;
using static NetGen.Tests.Onnx.OnnxGraphBuilder;

namespace NetGen.Tests.Onnx;

/// <summary>
/// Every construct [OnnxModel] does not import is a diagnostic on the attribute naming the node, its op type and why, and
/// the class gets no code; a missing, truncated or corrupt file is a diagnostic too; the generator never throws.
/// </summary>
public sealed class OnnxImportDiagnosticTests : IDisposable
{
    private readonly OnnxImportHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    /// <summary>Compiles a model; returns the generator's diagnostics (the class must then have no generated code on error).</summary>
    private List<Diagnostic> Diagnose(byte[] model)
    {
        string path = _harness.Write("net.onnx", model);
        OnnxImportHarness.Result result = _harness.Run(OnnxImportHarness.Source("Net", "net.onnx"), path);
        Assert.Null(result.Exception);
        Assert.DoesNotContain(result.Diagnostics, d => d.Id == "NG0015");
        if (result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
        {
            Assert.Empty(result.Sources);
        }

        return result.Diagnostics.ToList();
    }

    /// <summary>The one error; it is on the [OnnxModel] attribute and its message contains each of <paramref name="parts"/>.</summary>
    private Diagnostic Error(byte[] model, string id, params string[] parts)
    {
        List<Diagnostic> diagnostics = Diagnose(model);
        Diagnostic error = Assert.Single(diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        string message = error.GetMessage(CultureInfo.InvariantCulture);
        Assert.True(error.Id == id, $"{error.Id} instead of {id}: {message}");
        foreach (string part in parts)
        {
            Assert.Contains(part, message, StringComparison.Ordinal);
        }

        string attribute = OnnxImportHarness.Source("Net", "net.onnx").Substring(error.Location.SourceSpan.Start, error.Location.SourceSpan.Length);
        Assert.StartsWith("OnnxModel(", attribute, StringComparison.Ordinal);
        return error;
    }

    /// <summary>A small valid network: input 1×8×8 → the node under test (given the builder and its input) → flatten, Gemm, Softmax.</summary>
    private static byte[] With(Func<OnnxGraphBuilder, string, string> node, int features = 4 * 8 * 8, int channels = 1, int size = 8)
    {
        var g = new OnnxGraphBuilder();
        string x = node(g, g.Input("input", channels, size, size));
        x = g.Node("Softmax", "/Softmax", [g.Gemm(g.Flatten(x), "fc", features, 3)], Int("axis", 1));
        return g.Build(x, 3);
    }

    private static string Conv(OnnxGraphBuilder g, string x, params AttributeProto[] attributes) =>
        g.Node("Conv", "/conv1/Conv", [x, g.Weight("conv1.weight", [4, 1, 3, 3]), g.Weight("conv1.bias", [4])], attributes);

    [Fact]
    public void The_small_valid_network_compiles()
    {
        List<Diagnostic> diagnostics = Diagnose(With((g, x) => Conv(g, x, Ints("pads", 1, 1, 1, 1))));
        Assert.Empty(diagnostics);
    }

    [Fact]
    public void An_operator_NetGen_has_no_layer_for_is_NG0052_naming_the_node()
    {
        Error(With((g, x) => g.Node("Resize", "/up/Resize", [x])), "NG0052", "ONNX node '/up/Resize' (Resize)", "NetGen has no layer for Resize");
    }

    [Fact]
    public void An_operator_of_another_domain_is_NG0052()
    {
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", 1, 8, 8);
        string y = g.Node("Relu", "/custom/Relu", [x]);
        g.Graph.Node[^1].Domain = "com.example";
        y = g.Node("Softmax", "/Softmax", [g.Gemm(g.Flatten(y), "fc", 64, 3)]);
        Error(g.Build(y, 3), "NG0052", "'/custom/Relu' (Relu)", "domain 'com.example'");
    }

    public static TheoryData<string, string, string> Attributes() => new()
    {
        { "dilations", "Conv", "dilations [2, 2]" },
        { "auto_pad", "Conv", "auto_pad SAME_UPPER" },
        { "asymmetric pads", "Conv", "pads [0, 0, 1, 1]" },
        { "unequal strides", "Conv", "strides [1, 2]" },
        { "ceil_mode", "MaxPool", "ceil_mode 1" },
        { "count_include_pad", "AveragePool", "count_include_pad 0" },
        { "non-square window", "MaxPool", "kernel_shape [2, 3]" },
        { "Gemm alpha", "Gemm", "alpha 0.5" },
        { "Gemm transA", "Gemm", "transA 1" },
        { "Flatten axis", "Flatten", "axis 2" },
        { "Concat axis", "Concat", "axis 2" },
        { "training BatchNormalization", "BatchNormalization", "training_mode 1" },
    };

    [Theory]
    [MemberData(nameof(Attributes))]
    public void An_attribute_value_NetGen_does_not_support_is_NG0053_naming_the_node_and_the_value(string construct, string opType, string why)
    {
        byte[] model = construct switch
        {
            "dilations" => With((g, x) => Conv(g, x, Ints("dilations", 2, 2), Ints("pads", 2, 2, 2, 2))),
            "auto_pad" => With((g, x) => Conv(g, x, String("auto_pad", "SAME_UPPER"))),
            "asymmetric pads" => With((g, x) => Conv(g, x, Ints("pads", 0, 0, 1, 1))),
            "unequal strides" => With((g, x) => Conv(g, x, Ints("strides", 1, 2))),
            "ceil_mode" => With((g, x) => g.Node("MaxPool", "/pool/MaxPool", [x], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Int("ceil_mode", 1)), 16),
            "count_include_pad" => With((g, x) => g.Node("AveragePool", "/pool/AveragePool", [x], Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1), Int("count_include_pad", 0)), 64),
            "non-square window" => With((g, x) => g.Node("MaxPool", "/pool/MaxPool", [x], Ints("kernel_shape", 2, 3)), 42),
            "Gemm alpha" => Dense(Float("alpha", 0.5f)),
            "Gemm transA" => Dense(Int("transA", 1)),
            "Flatten axis" => FlattenAxis2(),
            "Concat axis" => With((g, x) => g.Node("Concat", "/cat/Concat", [g.Relu(x), g.Node("Tanh", "/t/Tanh", [x])], Int("axis", 2)), 128),
            _ => With((g, x) => g.Node("BatchNormalization", "/bn/BatchNormalization",
                [x, g.Weight("bn.weight", [1]), g.Weight("bn.bias", [1]), g.Weight("bn.running_mean", [1]), g.Weight("bn.running_var", [1], 0.5f, values: _ => 1f)],
                Int("training_mode", 1)), 64),
        };

        Diagnostic error = Error(model, "NG0053", $"({opType}): ", why);
        Assert.Contains("NetGen", error.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);

        static byte[] Dense(AttributeProto attribute)
        {
            var g = new OnnxGraphBuilder();
            string x = g.Flatten(g.Input("input", 1, 2, 2));
            x = g.Node("Gemm", "/fc/Gemm", [x, g.Weight("fc.weight", [3, 4]), g.Weight("fc.bias", [3])], Int("transB", 1), attribute);
            return g.Build(g.Node("Softmax", "/Softmax", [x]), 3);
        }

        static byte[] FlattenAxis2()
        {
            var g = new OnnxGraphBuilder();
            string x = g.Node("Flatten", "/flat/Flatten", [g.Input("input", 1, 2, 2)], Int("axis", 2));
            return g.Build(g.Node("Softmax", "/Softmax", [g.Gemm(x, "fc", 4, 3)]), 3);
        }
    }

    [Fact]
    public void A_Reshape_to_anything_but_N_by_features_is_NG0054()
    {
        Error(With((g, x) => g.Node("Reshape", "/r/Reshape", [x, g.Longs("shape", 1, 2, -1)]), 64), "NG0054", "'/r/Reshape' (Reshape)", "[1, 2, -1]");
    }

    [Fact]
    public void A_Reshape_to_a_computed_shape_is_NG0054()
    {
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", 1, 2, 2);
        string shape = g.Node("Shape", "/Shape", [x]);
        g.Graph.Node.RemoveAt(g.Graph.Node.Count - 1); // only the Reshape is under test: its shape comes from no constant
        x = g.Node("Reshape", "/r/Reshape", [x, shape]);
        Error(g.Build(g.Node("Softmax", "/Softmax", [g.Gemm(x, "fc", 4, 3)]), 3), "NG0054", "'/r/Reshape' (Reshape)", "not a constant INT64 tensor");
    }

    [Fact]
    public void Softmax_before_the_last_node_is_NG0054()
    {
        var g = new OnnxGraphBuilder();
        string x = g.Gemm(g.Flatten(g.Input("input", 1, 2, 2)), "fc", 4, 3);
        x = g.Relu(g.Node("Softmax", "/mid/Softmax", [x]));
        Error(g.Build(x, 3), "NG0054", "'/mid/Softmax' (Softmax)", "last node");
    }

    [Fact]
    public void A_dense_layer_over_a_4D_value_without_a_Flatten_is_NG0054()
    {
        var g = new OnnxGraphBuilder();
        string x = g.Input("input", 1, 2, 2);
        x = g.Node("Gemm", "/fc/Gemm", [x, g.Weight("fc.weight", [3, 4]), g.Weight("fc.bias", [3])], Int("transB", 1));
        Error(g.Build(g.Node("Softmax", "/Softmax", [x]), 3), "NG0054", "'/fc/Gemm' (Gemm)", "after a Flatten or Reshape");
    }

    [Fact]
    public void Adding_a_constant_that_is_not_a_MatMul_bias_is_NG0054()
    {
        Error(With((g, x) => g.Node("Add", "/shift/Add", [x, g.Weight("shift", [1, 1, 8, 8])]), 64), "NG0054", "'/shift/Add' (Add)", "constant 'shift'");
    }

    [Fact]
    public void A_weight_of_another_data_type_is_NG0055_naming_the_tensor()
    {
        byte[] model = With((g, x) =>
        {
            string y = Conv(g, x, Ints("pads", 1, 1, 1, 1));
            TensorProto weight = g.Graph.Initializer.Single(t => t.Name == "conv1.weight");
            weight.DataType = (int)TensorProto.Types.DataType.Float16;
            weight.RawData = ByteString.CopyFrom(new byte[2 * 36]);
            return y;
        });
        Error(model, "NG0055", "'/conv1/Conv' (Conv)", "tensor 'conv1.weight'", "FLOAT16");
    }

    [Fact]
    public void A_weight_stored_outside_the_model_is_NG0055()
    {
        byte[] model = With((g, x) =>
        {
            string y = Conv(g, x, Ints("pads", 1, 1, 1, 1));
            TensorProto weight = g.Graph.Initializer.Single(t => t.Name == "conv1.weight");
            weight.RawData = ByteString.Empty;
            weight.DataLocation = TensorProto.Types.DataLocation.External;
            return y;
        });
        Error(model, "NG0055", "tensor 'conv1.weight' has its values outside the model file (external data)");
    }

    [Fact]
    public void A_weight_whose_shape_does_not_fit_its_input_is_NG0055_after_shape_inference()
    {
        // The Gemm reads 4×8×8 = 256 features; its weight says 100.
        Error(With((g, x) => Conv(g, x, Ints("pads", 1, 1, 1, 1)), features: 100), "NG0055", "'/fc/Gemm' (Gemm)", "tensor 'fc.weight'", "[3, 100]", "[3, 256]");
    }

    [Fact]
    public void A_dynamic_height_is_NG0056()
    {
        var g = new OnnxGraphBuilder();
        g.Graph.Input.Add(ValueInfo("input", TensorProto.Types.DataType.Float, null, 1, 8, 8));
        g.Graph.Input[0].Type.TensorType.Shape.Dim[2] = new TensorShapeProto.Types.Dimension { DimParam = "H" };
        string x = g.Node("Softmax", "/Softmax", [g.Gemm(g.Flatten("input"), "fc", 64, 3)]);
        Error(g.Build(x, 3), "NG0056", "dimension 2 (H) is dynamic ('H')");
    }

    [Fact]
    public void An_integer_input_two_inputs_and_two_outputs_are_NG0056()
    {
        var g = new OnnxGraphBuilder();
        g.Graph.Input.Add(ValueInfo("input", TensorProto.Types.DataType.Int64, null, 1, 2, 2));
        Error(g.Build(g.Node("Softmax", "/Softmax", [g.Gemm(g.Flatten("input"), "fc", 4, 3)]), 3), "NG0056", "of type INT64");

        g = new OnnxGraphBuilder();
        string a = g.Input("a", 1, 2, 2), b = g.Input("b", 1, 2, 2);
        Error(g.Build(g.Node("Softmax", "/Softmax", [g.Gemm(g.Flatten(g.Node("Add", "/Add", [a, b])), "fc", 4, 3)]), 3), "NG0056", "2 inputs ('a', 'b')");

        g = new OnnxGraphBuilder();
        string y = g.Node("Softmax", "/Softmax", [g.Gemm(g.Flatten(g.Input("input", 1, 2, 2)), "fc", 4, 3)]);
        byte[] model = g.Build(y, 3);
        var parsed = ModelProto.Parser.ParseFrom(model);
        parsed.Graph.Output.Add(ValueInfo("extra", TensorProto.Types.DataType.Float, null, 3));
        Error(parsed.ToByteArray(), "NG0056", "has 2 outputs");
    }

    [Fact]
    public void A_graph_ending_in_logits_gets_a_Softmax_head_and_NG0058_says_so()
    {
        var g = new OnnxGraphBuilder();
        byte[] model = g.Build(g.Gemm(g.Flatten(g.Input("input", 1, 2, 2)), "fc", 4, 3), 3);
        Diagnostic info = Assert.Single(Diagnose(model));
        Assert.Equal("NG0058", info.Id);
        Assert.Equal(DiagnosticSeverity.Info, info.Severity);
        Assert.Equal("[OnnxModel] on 'Net': 'models/net.onnx' ends with logits (no Softmax), so NetGen appends a Softmax head: Forward returns probabilities, not the model's logits",
            info.GetMessage(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_file_not_among_the_AdditionalFiles_is_NG0050_and_an_ambiguous_path_NG0059()
    {
        OnnxImportHarness.Result result = _harness.Run(OnnxImportHarness.Source("Net", "missing.onnx"));
        Diagnostic error = Assert.Single(result.Diagnostics);
        Assert.Equal("NG0050", error.Id);
        Assert.Equal("[OnnxModel] on 'Net': 'models/missing.onnx' is not among the project's AdditionalFiles; add <AdditionalFiles Include=\"models/missing.onnx\" /> to the project",
            error.GetMessage(CultureInfo.InvariantCulture));

        byte[] model = With((g, x) => x, features: 64);
        string first = _harness.Write("net.onnx", model), second = Path.Combine(_harness.Directory, "other", "models", "net.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(second)!);
        File.WriteAllBytes(second, model);
        result = _harness.Run(OnnxImportHarness.Source("Net", "net.onnx"), first, second);
        Assert.Equal("NG0059", Assert.Single(result.Diagnostics).Id);
        Assert.Empty(result.Sources);
    }

    [Fact]
    public void OnnxModel_with_layer_attributes_is_NG0057()
    {
        string path = _harness.Write("net.onnx", With((g, x) => x, features: 64));
        OnnxImportHarness.Result result = _harness.Run("""
            using NetGen;
            [OnnxModel("models/net.onnx")]
            [Input(1, 8, 8)] [Dense(3)] [Softmax]
            public partial class Net { }
            """, path);
        Diagnostic error = Assert.Single(result.Diagnostics);
        Assert.Equal("NG0057", error.Id);
        Assert.Contains("([Input], [Dense], [Softmax])", error.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Empty(result.Sources);

        // [Weights] would give the network other initial weights than the model's: an error too, not ignored.
        result = _harness.Run("""
            using NetGen;
            [OnnxModel("models/net.onnx")]
            [Weights("net.safetensors")]
            public partial class Net { }
            """, path);
        error = Assert.Single(result.Diagnostics);
        Assert.Equal("Class 'Net' has [OnnxModel] and [Weights]; the model file declares the layers and their initial weights, so remove it or the [OnnxModel]",
            error.GetMessage(CultureInfo.InvariantCulture));
        Assert.Empty(result.Sources);
    }

    [Fact]
    public void A_text_file_and_random_bytes_are_NG0051()
    {
        Assert.Equal("NG0051", Assert.Single(Diagnose("not a model\n"u8.ToArray())).Id);
        Assert.Equal("NG0051", Assert.Single(Diagnose(Enumerable.Range(0, 64).Select(i => (byte)(i * 37 + 11)).ToArray())).Id);
        Assert.Equal("NG0051", Assert.Single(Diagnose([])).Id);
    }

    /// <summary>
    /// A model cut short at every length is a diagnostic, never an exception or a network: the reader checks every length
    /// and varint against the bytes left, and a model needs its graph and its opset.
    /// </summary>
    [Fact]
    public void A_model_truncated_at_every_length_is_a_diagnostic()
    {
        byte[] model = With((g, x) => g.MaxPool(g.Relu(Conv(g, x, Ints("pads", 1, 1, 1, 1))), 2), features: 64);
        var hierarchy = new HierarchyInfo("", EquatableArray<string>.Empty, "Net", "Net", "Net");
        for (int length = 0; length < model.Length; length++)
        {
            OnnxImportResult result = OnnxImporter.Import(model.AsSpan(0, length).ToArray(), "m.onnx", hierarchy, "Net", null);
            Assert.True(result.Parsed.Spec is null && result.Parsed.Diagnostics.Any(d => d.IsError && d.Descriptor.Id.StartsWith("NG005", StringComparison.Ordinal)),
                $"length {length} of {model.Length}: {string.Join("; ", result.Parsed.Diagnostics.Select(d => d.Descriptor.Id))}");
        }

        // Through the generator too, at a few lengths.
        foreach (int length in new[] { 1, model.Length / 3, model.Length - 1 })
        {
            Assert.Contains(Diagnose(model.AsSpan(0, length).ToArray()), d => d.Id.StartsWith("NG005", StringComparison.Ordinal));
        }
    }

    /// <summary>Bytes changed at random: a diagnostic or a network, never an exception, through the reader, the importer and shape inference.</summary>
    [Fact]
    public void A_model_with_random_bytes_changed_never_throws()
    {
        byte[] model = With((g, x) => g.MaxPool(g.Relu(Conv(g, x, Ints("pads", 1, 1, 1, 1))), 2), features: 64);
        var hierarchy = new HierarchyInfo("", EquatableArray<string>.Empty, "Net", "Net", "Net");
        var random = new Random(17);
        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] corrupt = model.ToArray();
            for (int k = random.Next(1, 4); k > 0; k--)
            {
                corrupt[random.Next(corrupt.Length)] = (byte)random.Next(256);
            }

            OnnxImportResult result = OnnxImporter.Import(corrupt, "m.onnx", hierarchy, "Net", null);
            OnnxNetwork network = OnnxImporter.Infer(result);
            Assert.True(network.Inferred.Model is not null || network.Inferred.Diagnostics.Any(d => d.IsError));
        }
    }
}
