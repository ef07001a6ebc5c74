using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NetGen.Generator.Model;
using NetGen.Generator.Onnx;
using NetGen.Generator.Weights;
using NetGen.Optimizers;
using NetGen.Tests.Numerics;
using NetGen.Weights;
using Xunit;
using static NetGen.Tests.Onnx.OnnxGraphBuilder;

namespace NetGen.Tests.Onnx;

/// <summary>
/// ONNX models written by other code (OnnxSharp), with random weights, in the graph forms PyTorch and other exporters
/// write, compiled through [OnnxModel]: the generated network computes what ONNX Runtime computes from the same file,
/// keeps the model's tensor names, trains, and exports back to a model ONNX Runtime agrees with.
/// </summary>
public sealed class OnnxImportTests : IDisposable
{
    private readonly OnnxImportHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    /// <summary>
    /// LeNet-5 as PyTorch exports it (Conv, Relu, MaxPool, Flatten, Gemm with transB = 1, Softmax), with two variations an
    /// exporter may write: the second dense layer a Gemm with transB = 0 and the weight [features, units], the third a
    /// MatMul + Add; weights as raw_data and as float_data.
    /// </summary>
    internal static (byte[] Model, string Output) LeNet5(long? batch = null)
    {
        var g = new OnnxGraphBuilder(seed: 5);
        string x = g.Input("input", 1, 28, 28, batch);
        x = g.MaxPool(g.Relu(g.Conv(x, "conv1", 1, 6, 5, padding: 2)), 2);
        x = g.MaxPool(g.Relu(g.Conv(x, "conv2", 6, 16, 5)), 2);
        x = g.Relu(g.Gemm(g.Flatten(x), "fc1", 400, 120));
        x = g.Relu(g.Gemm(x, "fc2", 120, 84, transB: false));
        x = g.MatMulAdd(x, "fc3.weight_t", "fc3.bias", 84, 10);
        x = g.Node("Softmax", "/Softmax", [x], Int("axis", 1));
        return (g.Build(x, 10), x);
    }

    /// <summary>
    /// TensorFlow's tutorial network as an nn.Sequential export: tensors under module paths (<c>features.0.weight</c>), a
    /// Reshape to [0, −1] before the dense layers, a Dropout, and logits at the end (no Softmax).
    /// </summary>
    internal static byte[] WideNet()
    {
        var g = new OnnxGraphBuilder(seed: 7);
        string x = g.Input("input", 1, 28, 28);
        x = g.MaxPool(g.Relu(g.Conv(x, "features.0", 1, 32, 5, padding: 2, node: "/features/features.0/Conv")), 2);
        x = g.MaxPool(g.Relu(g.Conv(x, "features.3", 32, 64, 5, padding: 2, node: "/features/features.3/Conv")), 2);
        x = g.Node("Reshape", "/Reshape", [x, g.Longs("shape", 0, -1)]);
        x = g.Relu(g.Gemm(x, "classifier.0", 3136, 1024, node: "/classifier/classifier.0/Gemm"));
        x = g.Node("Dropout", "/classifier/classifier.2/Dropout", [x]);
        x = g.Gemm(x, "classifier.3", 1024, 10, node: "/classifier/classifier.3/Gemm");
        return g.Build(x, 10);
    }

    /// <summary>
    /// The sample's residual network: Add joins for the identity and projection shortcuts, Identity nodes, weights named by
    /// an exporter that does not keep module paths (<c>onnx::Conv_12</c>, so the layers take their nodes' names), and a
    /// LogSoftmax head.
    /// </summary>
    internal static byte[] ResNet(int seed = 11)
    {
        var g = new OnnxGraphBuilder(seed);
        int n = 0;
        string Conv(string input, string name, int inChannels, int filters, int kernel, int stride, int padding) =>
            g.Conv(input, name, inChannels, filters, kernel, stride, padding, node: $"/{name}/Conv", weightName: $"onnx::Conv_{++n}");

        string x = g.Input("x", 1, 28, 28);
        string stem = g.Relu(Conv(x, "stem", 1, 16, 3, 1, 1), "/stem_relu/Relu");
        string main = Conv(g.Relu(Conv(stem, "block1_conv1", 16, 16, 3, 1, 1)), "block1_conv2", 16, 16, 3, 1, 1);
        string block1 = g.Relu(g.Node("Add", "/block1/Add", [main, g.Node("Identity", "/block1/Identity", [stem])]), "/block1/Relu");
        main = Conv(g.Relu(Conv(block1, "block2_conv1", 16, 32, 3, 2, 1)), "block2_conv2", 32, 32, 3, 1, 1);
        string shortcut = Conv(block1, "block2_shortcut", 16, 32, 1, 2, 0);
        string block2 = g.Relu(g.Node("Add", "/block2/Add", [shortcut, main]), "/block2/Relu");
        main = Conv(g.Relu(Conv(block2, "block3_conv1", 32, 64, 3, 2, 1)), "block3_conv2", 64, 64, 3, 1, 1);
        shortcut = Conv(block2, "block3_shortcut", 32, 64, 1, 2, 0);
        string block3 = g.Relu(g.Node("Add", "/block3/Add", [main, shortcut]), "/block3/Relu");
        x = g.Gemm(g.Flatten(block3), "head", 64 * 7 * 7, 10);
        x = g.Node("LogSoftmax", "/LogSoftmax", [x], Int("axis", 1));
        return g.Build(x, 10);
    }

    /// <summary>
    /// The other accepted forms: BatchNormalization after Conv (running statistics not 0 and 1), a convolution without
    /// bias and a grouped one, LeakyRelu, Tanh, Sigmoid, a padded AveragePool (count_include_pad = 1), a padded MaxPool, a
    /// Concat of three, GlobalAveragePool, a fixed batch of 1, opset 13.
    /// </summary>
    internal static byte[] Mixed()
    {
        var g = new OnnxGraphBuilder(seed: 13, opset: 13);
        string x = g.Input("image", 3, 12, 12, batch: 1);
        string c = g.Conv(x, "conv", 3, 8, 3, padding: 1, bias: false);
        string bn = g.Node("BatchNormalization", "/bn/BatchNormalization",
            [c, g.Weight("bn.weight", [8], 1f, values: i => 0.5f + i * 0.1f), g.Weight("bn.bias", [8], 0.2f),
             g.Weight("bn.running_mean", [8], 0.3f), g.Weight("bn.running_var", [8], 1f, values: i => 0.5f + i * 0.2f)],
            Float("epsilon", 1e-3f), Float("momentum", 0.9f));
        string a = g.Node("LeakyRelu", "/act/LeakyRelu", [bn], Float("alpha", 0.2f));
        string grouped = g.Node("Tanh", "/Tanh", [g.Conv(a, "grouped", 8, 8, 3, padding: 1, group: 4)]);
        string pooled = g.Node("AveragePool", "/avg/AveragePool", [a], Ints("kernel_shape", 3, 3), Ints("strides", 1, 1),
            Ints("pads", 1, 1, 1, 1), Int("count_include_pad", 1));
        string maxed = g.MaxPool(g.Node("Sigmoid", "/Sigmoid", [a]), 3, stride: 1, padding: 1);
        string joined = g.Node("Concat", "/Concat", [grouped, pooled, maxed], Int("axis", 1));
        x = g.Node("GlobalAveragePool", "/gap/GlobalAveragePool", [joined]);
        x = g.Gemm(g.Flatten(x), "fc", 24, 5, transB: false);
        x = g.Node("Softmax", "/Softmax", [x], Int("axis", -1));
        return g.Build(x, 5);
    }

    /// <summary>Loads the model's initializers, as the importer reads them, into <paramref name="net"/> through a weights file.</summary>
    internal static void LoadInitializers(OnnxImportHarness harness, INeuralNetwork net, byte[] model)
    {
        var hierarchy = new HierarchyInfo("", EquatableArray<string>.Empty, "Net", "Net", "Net");
        OnnxImportResult imported = OnnxImporter.Import(model, "model.onnx", hierarchy, "Net", null);
        Assert.NotNull(imported.Parsed.Spec);
        var floats = new List<float>();
        var slots = new List<TensorSlot>();
        var counterSlots = new List<TensorSlot>();
        var counters = new List<long>();
        foreach (NamedTensor tensor in imported.Tensors)
        {
            if (tensor.Name.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            {
                counterSlots.Add(new TensorSlot(tensor.Name, tensor.Shape.ToArray(), counters.Count));
                counters.Add((long)tensor.Values[0]);
            }
            else
            {
                slots.Add(new TensorSlot(tensor.Name, tensor.Shape.ToArray(), floats.Count));
                floats.AddRange(tensor.Values);
            }
        }

        string path = Path.Combine(harness.Directory, Guid.NewGuid().ToString("N") + ".safetensors");
        SafeTensors.Save(path, floats.ToArray(), slots.ToArray(), [], [], counters.ToArray(), counterSlots.ToArray());
        net.Load(path);
    }

    /// <summary>Compiles the model; a new instance starts from its initializers, baked into the assembly.</summary>
    private INeuralNetwork Import(string name, byte[] model) => _harness.Compile(name, model);

    /// <summary>NetGen's probabilities against ONNX Runtime's output (made probabilities where the model ends in logits).</summary>
    private static void AssertSameOutputs(INeuralNetwork net, byte[] model, int count, string inputName, Func<float[], float[]> toProbabilities, int seed = 3)
    {
        float[] inputs = TestData.Uniform(count * net.InputLength, seed, scale: 2f);
        var actual = new float[count * net.OutputLength];
        net.ForwardBatch(inputs, actual);
        float[] expected = toProbabilities(OnnxImportHarness.RunOnnxRuntime(model, inputs, count, net.InputChannels, net.InputHeight, net.InputWidth, inputName));
        Assert.Equal(expected.Length, actual.Length);
        double worst = expected.Select((e, i) => Math.Abs(e - actual[i])).Max();
        Assert.True(worst <= 1e-5, $"NetGen's outputs differ from ONNX Runtime's by up to {worst:E2}");
    }

    [Fact]
    public void LeNet5_from_ONNX_computes_what_ONNX_Runtime_computes()
    {
        (byte[] model, _) = LeNet5();
        INeuralNetwork net = Import("LeNet5", model);
        Assert.Equal(61_706, net.ParameterCount);
        AssertSameOutputs(net, model, 7, "input", p => p);

        // The baked parameters are the initializers, bit for bit: loading them through a weights file changes nothing.
        float[] baked = net.Parameters.ToArray();
        Assert.Contains(baked, p => p != 0f);
        LoadInitializers(_harness, net, model);
        Assert.Equal(baked, net.Parameters);
        // The dense layers keep the module paths for names; the MatMul's weight is not PyTorch-style, so fc3 takes its node's.
        Assert.Equal(["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"],
            net.ParameterLayout.Take(8).Select(s => s.Name));
    }

    [Fact]
    public void LeNet5_with_a_fixed_batch_of_1_compiles_and_runs()
    {
        (byte[] model, _) = LeNet5(batch: 1);
        INeuralNetwork net = Import("LeNet5Fixed", model);
        AssertSameOutputs(net, model, 1, "input", p => p);
    }

    [Fact]
    public void WideNet_from_a_Sequential_export_keeps_its_module_paths_and_gets_a_Softmax_head()
    {
        byte[] model = WideNet();
        INeuralNetwork net = Import("WideNet", model);
        Assert.Equal(3_274_634, net.ParameterCount);
        AssertSameOutputs(net, model, 3, "input", p => OnnxImportHarness.Softmax(p, 10));
        Assert.Equal(["features.0.weight", "features.0.bias", "features.3.weight", "features.3.bias", "classifier.0.weight", "classifier.0.bias",
            "classifier.3.weight", "classifier.3.bias"], net.ParameterLayout.Select(s => s.Name));

        // Save writes those names, and Load reads them back.
        string path = Path.Combine(_harness.Directory, "widenet.safetensors");
        net.Save(path);
        INeuralNetwork copy = _harness.Compile("WideNetCopy", model);
        copy.Load(path);
        Assert.Equal(net.Parameters, copy.Parameters);
    }

    [Fact]
    public void The_residual_network_from_ONNX_computes_what_ONNX_Runtime_computes()
    {
        byte[] model = ResNet();
        INeuralNetwork net = Import("ResNet", model);
        Assert.Equal(108_138, net.ParameterCount);
        // LogSoftmax gives log-probabilities; NetGen's Softmax head gives their exponentials.
        AssertSameOutputs(net, model, 5, "x", p => p.Select(MathF.Exp).ToArray());
        // No PyTorch names in the file: each layer is named after its node (/block2_shortcut/Conv → block2_shortcut_Conv).
        Assert.Contains("block2_shortcut_Conv.weight", net.ParameterLayout.Select(s => s.Name));
    }

    [Fact]
    public void BatchNorm_pools_activations_and_concat_from_ONNX_compute_what_ONNX_Runtime_computes()
    {
        byte[] model = Mixed();
        INeuralNetwork net = Import("Mixed", model);
        AssertSameOutputs(net, model, 1, "image", p => p);
        Assert.Equal(["conv.weight", "bn.weight", "bn.bias", "grouped.weight", "grouped.bias", "fc.weight", "fc.bias"], net.ParameterLayout.Select(s => s.Name));
    }

    /// <summary>
    /// The round trip: import, train one step, export; ONNX Runtime runs the exported model as NetGen's forward pass
    /// does, and the export keeps the model's tensor names.
    /// </summary>
    [Theory]
    [InlineData("LeNet5")]
    [InlineData("ResNet")]
    [InlineData("Mixed")]
    public void An_imported_network_trains_one_step_and_exports_a_model_ONNX_Runtime_agrees_with(string name)
    {
        byte[] model = name switch { "LeNet5" => LeNet5().Model, "ResNet" => ResNet(), _ => Mixed() };
        var net = (INetwork)Import(name + "Trained", model);
        float[] before = net.Parameters.ToArray();
        const int batch = 4;
        float[] inputs = TestData.Uniform(batch * net.InputLength, seed: 21);
        int[] labels = Enumerable.Range(0, batch).Select(i => i % net.OutputLength).ToArray();
        net.TrainBatch(inputs, labels);
        new Sgd(0.05f).Step(net.Parameters, net.Gradients);
        Assert.NotEqual(before, net.Parameters);

        var stream = new MemoryStream();
        net.ExportOnnx(stream);
        byte[] exported = stream.ToArray();
        AssertSameOutputs(net, exported, 3, "input", p => p, seed: 9);
        OnnxModelInfo info = OnnxModelInfo.Read(exported);
        string firstWeight = name switch { "LeNet5" => "conv1.weight", "ResNet" => "stem_Conv.weight", _ => "conv.weight" };
        Assert.Contains(firstWeight, info.Initializers.Select(i => i.Name));
    }

    [Fact]
    public void With_BakeWeights_false_a_new_instance_starts_from_zeros_and_loads_the_initializers()
    {
        (byte[] model, _) = LeNet5();
        string path = _harness.Write("unbaked.onnx", model);
        OnnxImportHarness.Result result = _harness.Run("""
            [NetGen.OnnxModel("models/unbaked.onnx", BakeWeights = false)]
            public partial class Unbaked { }
            """, path);
        Assert.Empty(result.Diagnostics);
        Assert.Single(result.Sources); // the network, and no weights file
        Assert.DoesNotContain(result.Sources, s => s.Contains("base64", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void The_initializers_become_NetGen_tensors_in_NetGen_layouts()
    {
        // Gemm with transB = 0 and MatMul hold [features, units]; NetGen's dense weight is [units, features].
        var g = new OnnxGraphBuilder();
        string x = g.Flatten(g.Input("input", 1, 2, 2));
        x = g.Gemm(x, "fc", 4, 3, transB: false);
        x = g.Node("Softmax", "/Softmax", [x]);
        byte[] model = g.Build(x, 3);
        float[] stored = [.. g.Graph.Initializer.Single(i => i.Name == "fc.weight").RawData.ToByteArray().Chunk(4).Select(b => BitConverter.ToSingle(b))];
        OnnxImportResult imported = OnnxImporter.Import(model, "m.onnx", new HierarchyInfo("", EquatableArray<string>.Empty, "N", "N", "N"), "N", null);
        NamedTensor weight = imported.Tensors.Single(t => t.Name == "fc.weight");
        Assert.Equal([3, 4], weight.Shape);
        for (int unit = 0; unit < 3; unit++)
        {
            for (int feature = 0; feature < 4; feature++)
            {
                Assert.Equal(stored[feature * 3 + unit], weight.Values[unit * 4 + feature]);
            }
        }
    }
}
