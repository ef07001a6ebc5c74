using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using NetGen.Data;
using NetGen.Optimizers;
using NetGen.Tests.EndToEnd;
using NetGen.Tests.Networks;
using NetGen.Tests.Numerics;
using NetGen.Weights;
using Xunit;

namespace NetGen.Tests.Onnx;

/// <summary>
/// Generated networks exported with <c>ExportOnnx</c> and run in ONNX Runtime: the same outputs as the network's own
/// <c>ForwardBatch</c> at batch 1 and at an odd batch, after a few training steps (so the parameters are not the initial
/// ones and BatchNorm's running statistics are not 0 and 1); and the file read back: opset, names, shapes, data.
/// </summary>
public sealed class OnnxExportTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "netgen-onnx-" + Guid.NewGuid().ToString("N"));

    public OnnxExportTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A network to export, and its buffer layout (the running statistics) where it has one.</summary>
    private sealed record Case(Func<INeuralNetwork> Create, IReadOnlyList<TensorSlot>? BufferLayout = null);

    /// <summary>Between them every layer kind and every form of each (grouped, depthwise, no bias, padded pools, joins).</summary>
    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["LeNet5"] = new(() => new LeNet5()),
        ["ResNet"] = new(() => new ResNet()),
        ["ResNetBN"] = new(() => new ResNetBN(), ResNetBN.BufferLayout),
        ["ProjectionResidualNet"] = new(() => new ProjectionResidualNet()),
        ["InputResidualNet"] = new(() => new InputResidualNet()),
        ["ThreeBranchConcatNet"] = new(() => new ThreeBranchConcatNet()),
        ["SideInputNet"] = new(() => new SideInputNet()),
        ["GroupedStridedNet"] = new(() => new GroupedStridedNet()),
        ["GroupedDirectNet"] = new(() => new GroupedDirectNet()),
        ["DepthwiseNet"] = new(() => new DepthwiseNet()),
        ["DepthwiseStridedNet"] = new(() => new DepthwiseStridedNet()),
        ["InvertedResidualNet"] = new(() => new InvertedResidualNet()),
        ["NoBiasNet"] = new(() => new NoBiasNet()),
        ["TanhNet"] = new(() => new TanhNet()),
        ["SigmoidNet"] = new(() => new SigmoidNet()),
        ["LeakyReLUNet"] = new(() => new LeakyReLUNet()),
        ["NegativeSlopeNet"] = new(() => new NegativeSlopeNet()),
        ["PaddedAvgPoolNet"] = new(() => new PaddedAvgPoolNet()),
        ["OverlappingAvgPoolNet"] = new(() => new OverlappingAvgPoolNet()),
        ["GlobalAvgPoolNet"] = new(() => new GlobalAvgPoolNet()),
        ["GlobalAvgPoolLogitsNet"] = new(() => new GlobalAvgPoolLogitsNet()),
        ["PaddedPoolPathsNet"] = new(() => new PaddedPoolPathsNet()),
        ["RectifiedPaddedPoolNet"] = new(() => new RectifiedPaddedPoolNet()),
        ["MinusInfinityPoolNet"] = new(() => new MinusInfinityPoolNet()),
        ["NewLayersGraphNet"] = new(() => new NewLayersGraphNet()),
        ["BatchNormNet"] = new(() => new BatchNormNet(), BatchNormNet.BufferLayout),
        ["NormalizedResidualNet"] = new(() => new NormalizedResidualNet(), NormalizedResidualNet.BufferLayout),
        ["PooledLogitsNet"] = new(() => new PooledLogitsNet(), PooledLogitsNet.BufferLayout),
        ["DropoutNet"] = new(() => new DropoutNet()),
        ["RegressionNet"] = new(() => new RegressionNet()),
        ["MapRegressionNet"] = new(() => new MapRegressionNet()),
        ["SoftmaxNet"] = new(() => new SoftmaxNet()),
        ["MixedNet"] = new(() => new MixedNet()),
    };

    public static TheoryData<string> Networks() => new(Cases.Keys);

    /// <summary>A network with seeded parameters, then three Adam steps on random batches of 5.</summary>
    private static INeuralNetwork Trained(string name, int seed = 1)
    {
        INeuralNetwork net = Cases[name].Create();
        net.InitializeParameters(seed);
        var adam = new Adam(learningRate: 1e-2f);
        for (int step = 0; step < 3; step++)
        {
            float[] inputs = TestData.Uniform(5 * net.InputLength, seed: 100 + step);
            switch (net)
            {
                case INetwork classifier:
                    int[] labels = Enumerable.Range(0, 5).Select(i => (i * 7 + step) % net.OutputLength).ToArray();
                    classifier.TrainBatch(inputs, labels);
                    break;
                case IRegressionNetwork regression:
                    regression.TrainBatch(inputs, TestData.Uniform(5 * net.OutputLength, seed: 200 + step));
                    break;
            }

            adam.Step(net.Parameters, net.Gradients);
        }

        return net;
    }

    private static byte[] Export(INeuralNetwork net)
    {
        var stream = new MemoryStream();
        net.ExportOnnx(stream);
        return stream.ToArray();
    }

    /// <summary>Runs the model in ONNX Runtime (one thread) on <paramref name="count"/> samples; returns the output and its shape.</summary>
    private static (float[] Output, long[] Shape) RunOnnx(byte[] model, INeuralNetwork net, float[] inputs, int count)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        using var input = OrtValue.CreateTensorValueFromMemory(inputs, [count, net.InputChannels, net.InputHeight, net.InputWidth]);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> results = session.Run(runOptions, ["input"], [input], ["output"]);
        OrtValue output = results[0];
        return (output.GetTensorDataAsSpan<float>().ToArray(), output.GetTensorTypeAndShape().Shape);
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void ONNX_Runtime_computes_what_ForwardBatch_computes_at_batch_1_and_5(string name)
    {
        INeuralNetwork net = Trained(name);
        byte[] model = Export(net);
        foreach (int count in new[] { 1, 5 })
        {
            float[] inputs = TestData.Uniform(count * net.InputLength, seed: 7 + count, scale: 2f);
            var expected = new float[count * net.OutputLength];
            net.ForwardBatch(inputs, expected);

            (float[] actual, long[] shape) = RunOnnx(model, net, inputs, count);
            Assert.Equal(count, shape[0]);
            Assert.Equal(net.OutputLength, shape.Skip(1).Aggregate(1L, (a, b) => a * b));
            for (int i = 0; i < expected.Length; i++)
            {
                double tolerance = 1e-5 * Math.Max(1.0, Math.Abs(expected[i]));
                Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance,
                    $"{name}, batch {count}, output {i}: ONNX Runtime {actual[i]:R}, NetGen {expected[i]:R}");
            }

            if (net is INetwork classifier)
            {
                // The class ONNX Runtime ranks first is the one Predict returns.
                var predictions = new int[count];
                classifier.PredictBatch(inputs, predictions);
                for (int n = 0; n < count; n++)
                {
                    ReadOnlySpan<float> row = actual.AsSpan(n * net.OutputLength, net.OutputLength);
                    Assert.Equal(predictions[n], row.IndexOf(TensorMax(row)));
                }
            }
        }
    }

    /// <summary>
    /// The check on real data: a sample network trained for 10 batches of 32 bundled Fashion-MNIST images gives
    /// ONNX Runtime's probabilities within 1e-5 of its own on 256 test images, and the same class on every one.
    /// </summary>
    [Theory]
    [InlineData("LeNet5")]
    [InlineData("ResNet")]
    [InlineData("ResNetBN")]
    public void On_256_Fashion_MNIST_test_images_ONNX_Runtime_gives_the_same_probabilities_and_classes(string name)
    {
        string data = Path.Combine(FreshProject.RepositoryRoot(), "samples", "FashionMnist", "data");
        LabeledImages train = NetGen.Data.FashionMnist.LoadTrain(data), test = NetGen.Data.FashionMnist.LoadTest(data);
        (float mean, float std) = train.ComputeMeanAndStandardDeviation();
        train.Normalize(mean, std);
        test.Normalize(mean, std);

        var net = (INetwork)Cases[name].Create();
        net.InitializeParameters(1);
        var adam = new Adam(1e-3f);
        var order = new BatchOrder(train.Count, 32, dropLast: true);
        order.Shuffle(BatchOrder.EpochSeed(3, 0));
        var inputs = new float[32 * net.InputLength];
        var labels = new int[32];
        for (int step = 0; step < 10; step++)
        {
            train.Gather(order.Batch(step), inputs, labels);
            net.TrainBatch(inputs, labels);
            adam.Step(net.Parameters, net.Gradients);
        }

        const int count = 256;
        float[] images = test.Images.AsSpan(0, count * net.InputLength).ToArray();
        var expected = new float[count * net.OutputLength];
        net.ForwardBatch(images, expected);
        var predictions = new int[count];
        net.PredictBatch(images, predictions);

        (float[] actual, _) = RunOnnx(Export(net), net, images, count);
        double worst = expected.Select((e, i) => Math.Abs(e - actual[i])).Max();
        Assert.True(worst <= 1e-5, $"{name}: probabilities differ by up to {worst:E2}");
        for (int n = 0; n < count; n++)
        {
            ReadOnlySpan<float> row = actual.AsSpan(n * net.OutputLength, net.OutputLength);
            Assert.Equal(predictions[n], row.IndexOf(TensorMax(row)));
        }
    }

    private static float TensorMax(ReadOnlySpan<float> values)
    {
        float max = values[0];
        foreach (float v in values)
        {
            max = Math.Max(max, v);
        }

        return max;
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void The_initializers_are_the_weights_file_tensors_with_the_current_values(string name)
    {
        INeuralNetwork net = Trained(name);
        OnnxModelInfo model = OnnxModelInfo.Read(Export(net));

        Assert.Equal(8, model.IrVersion);
        Assert.Equal(17, model.Opset);
        Assert.Equal(["input"], model.Inputs);
        Assert.Equal(["output"], model.Outputs);

        TensorSlot[] parameters = [.. net.ParameterLayout];
        TensorSlot[] buffers = [.. Cases[name].BufferLayout ?? []];
        Assert.Equal(parameters.Concat(buffers).Select(s => s.Name), model.Initializers.Select(t => t.Name));
        for (int i = 0; i < parameters.Length; i++)
        {
            OnnxTensorInfo tensor = model.Initializers[i];
            Assert.Equal(parameters[i].Shape.ToArray(), tensor.Dims);
            Assert.Equal(1, tensor.DataType); // FLOAT
            Assert.Equal(net.Parameters.AsSpan(parameters[i].Offset, parameters[i].Length).ToArray(), tensor.Data);
        }

        // Every node reads only the input, an initializer or an earlier node's output, and defines a value once.
        var defined = new HashSet<string>(model.Initializers.Select(t => t.Name)) { "input" };
        foreach (OnnxNodeInfo node in model.Nodes)
        {
            Assert.All(node.Inputs, input => Assert.Contains(input, defined));
            Assert.All(node.Outputs, output => Assert.True(defined.Add(output), $"{node.Name} redefines {output}"));
        }

        Assert.Equal("output", model.Nodes[^1].Outputs.Single());
    }

    [Fact]
    public void BatchNorm_exports_its_running_statistics_after_training()
    {
        var net = (ResNetBN)Trained("ResNetBN");
        OnnxModelInfo model = OnnxModelInfo.Read(Export(net));
        OnnxTensorInfo mean = model.Initializers.Single(t => t.Name == "stem_bn.running_mean");
        OnnxTensorInfo variance = model.Initializers.Single(t => t.Name == "stem_bn.running_var");
        Assert.Equal([16], mean.Dims);
        Assert.Equal([16], variance.Dims);

        TensorSlot meanSlot = ResNetBN.BufferLayout.Single(s => s.Name == "stem_bn.running_mean");
        Assert.Equal(net.Buffers.AsSpan(meanSlot.Offset, meanSlot.Length).ToArray(), mean.Data);
        Assert.Contains(mean.Data, m => m != 0f);       // three training steps moved them off their start, 0 and 1
        Assert.Contains(variance.Data, v => v != 1f);
        Assert.DoesNotContain(model.Initializers, t => t.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal));

        OnnxNodeInfo bn = model.Nodes.Single(n => n.Name == "stem_bn");
        Assert.Equal("BatchNormalization", bn.OpType);
        Assert.Equal(["stem", "stem_bn.weight", "stem_bn.bias", "stem_bn.running_mean", "stem_bn.running_var"], bn.Inputs);
        Assert.Equal(["input", "stem.weight"], model.Nodes.Single(n => n.Name == "stem").Inputs); // Bias = false: no bias input
    }

    [Fact]
    public void The_nodes_are_named_as_the_declared_layers()
    {
        OnnxModelInfo lenet = OnnxModelInfo.Read(Export(Trained("LeNet5")));
        Assert.Equal(
            [
                ("conv1", "Conv"), ("relu1", "Relu"), ("pool1", "MaxPool"), ("conv2", "Conv"), ("relu2", "Relu"), ("pool2", "MaxPool"),
                ("dense1/Flatten", "Flatten"), ("dense1", "Gemm"), ("relu3", "Relu"), ("dense2", "Gemm"), ("relu4", "Relu"),
                ("dense3", "Gemm"), ("softmax1", "Softmax"),
            ],
            lenet.Nodes.Select(n => (n.Name, n.OpType)));
        Assert.Equal("LeNet5", lenet.GraphName);

        // Dropout is left out: the dense layer after it reads the layer before it.
        OnnxModelInfo dropout = OnnxModelInfo.Read(Export(Trained("DropoutNet")));
        Assert.DoesNotContain(dropout.Nodes, n => n.Name.StartsWith("dropout", StringComparison.Ordinal));
        Assert.Equal(["conv1"], dropout.Nodes.Single(n => n.Name == "dense1/Flatten").Inputs);
        Assert.Equal("relu1", dropout.Nodes.Single(n => n.Name == "dense2").Inputs[0]);
    }

    [Fact]
    public void The_batch_dimension_is_dynamic_and_named_N()
    {
        using var session = new InferenceSession(Export(Trained("LeNet5")));
        NodeMetadata input = session.InputMetadata["input"];
        Assert.Equal([-1, 1, 28, 28], input.Dimensions);
        Assert.Equal("N", input.SymbolicDimensions[0]);
        Assert.Equal([-1, 10], session.OutputMetadata["output"].Dimensions);
        Assert.Equal("NetGen", session.ModelMetadata.ProducerName);
    }

    [Fact]
    public void A_file_and_a_stream_get_the_same_bytes_and_the_stream_stays_open_at_its_position()
    {
        INeuralNetwork net = Trained("NormalizedResidualNet");
        string path = Path.Combine(_directory, "net.onnx");
        net.ExportOnnx(path);

        var stream = new MemoryStream();
        stream.Write([1, 2, 3]);
        net.ExportOnnx(stream);
        stream.WriteByte(4); // still open
        byte[] written = stream.ToArray();
        Assert.Equal([1, 2, 3], written[..3]);
        Assert.Equal(4, written[^1]);
        Assert.Equal(File.ReadAllBytes(path), written[3..^1]);
        Assert.Equal(["net.onnx"], Directory.GetFiles(_directory).Select(Path.GetFileName));

        // Exporting again replaces the file with the new parameters.
        net.Parameters[0] += 1f;
        net.ExportOnnx(path);
        Assert.Equal(Export(net), File.ReadAllBytes(path));
    }

    [Fact]
    public void A_write_that_fails_leaves_what_was_there_and_no_temporary_file()
    {
        INeuralNetwork net = Trained("LeNet5");

        // The directory is missing: nothing is created.
        string missing = Path.Combine(_directory, "missing", "net.onnx");
        Assert.Throws<DirectoryNotFoundException>(() => net.ExportOnnx(missing));
        Assert.False(Directory.Exists(Path.GetDirectoryName(missing)));

        // The target is a directory holding a file: the model is written in full under a temporary name, the final
        // rename fails, and the temporary file is removed; the directory and its file are as they were.
        string occupied = Path.Combine(_directory, "occupied.onnx");
        Directory.CreateDirectory(occupied);
        File.WriteAllText(Path.Combine(occupied, "keep.txt"), "kept");
        Assert.ThrowsAny<IOException>(() => net.ExportOnnx(occupied));
        Assert.Equal("kept", File.ReadAllText(Path.Combine(occupied, "keep.txt")));
        Assert.Empty(Directory.GetFiles(_directory));

        // A stream that cannot be written: the exception reaches the caller.
        Assert.Throws<NotSupportedException>(() => net.ExportOnnx(new MemoryStream([], writable: false)));
    }
}
