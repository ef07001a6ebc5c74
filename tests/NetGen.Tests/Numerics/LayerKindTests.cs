using System;
using System.Collections.Generic;
using System.Linq;
using NetGen.Tests.Networks;
using NetGen.Tests.Training;
using Xunit;
using static NetGen.Tests.Numerics.Reference;

namespace NetGen.Tests.Numerics;

/// <summary>
/// Tanh, Sigmoid, LeakyReLU, AvgPool2D, GlobalAvgPool2D and padded MaxPool2D, alone and in a graph, against the
/// double-precision reference: the forward pass, TrainSample's gradients against central differences of the reference
/// and of the generated forward pass, and TrainBatch on 1, 2 and 3 threads.
/// </summary>
public class LayerKindTests
{
    /// <summary>Each network and its reference graph (node −1 is the input; nodes in declaration order).</summary>
    public static IEnumerable<object[]> Networks()
    {
        yield return [new TanhNet(), new Node[] { new(new Conv(3, 3, 3, 1, 1), -1), new(new Tanh(), 0), new(new Dense(4), 1), new(new Softmax(), 2) }];
        yield return [new SigmoidNet(), new Node[]
        {
            new(new Sigmoid(), -1), new(new Dense(3), 0), new(new Sigmoid(), 1), new(new Dense(3), 2), new(new Softmax(), 3),
        }];
        yield return [new LeakyReLUNet(), new Node[]
        {
            new(new LeakyRelu(0.01f), -1), new(new Conv(3, 2, 2), 0), new(new LeakyRelu(0.2f), 1), new(new Dense(3), 2), new(new Softmax(), 3),
        }];
        yield return [new NegativeSlopeNet(), new Node[] { new(new LeakyRelu(-0.5f), -1), new(new Dense(3), 0), new(new Softmax(), 1) }];
        yield return [new AvgPoolNet(), new Node[] { new(new AvgPool(2, 2), -1), new(new Dense(3), 0), new(new Softmax(), 1) }];
        yield return [new PaddedAvgPoolNet(), new Node[] { new(new AvgPool(3, 2, 1), -1), new(new Dense(3), 0), new(new Softmax(), 1) }];
        yield return [new OverlappingAvgPoolNet(), new Node[]
        {
            new(new AvgPool(3, 1, 1), -1), new(new AvgPool(4, 3, 2), 0), new(new Dense(3), 1), new(new Softmax(), 2),
        }];
        yield return [new GlobalAvgPoolNet(), new Node[] { new(new Conv(4, 3, 3), -1), new(new GlobalAvgPool(), 0), new(new Dense(3), 1), new(new Softmax(), 2) }];
        yield return [new GlobalAvgPoolLogitsNet(), new Node[] { new(new GlobalAvgPool(), -1), new(new Softmax(), 0) }];
        yield return [new PaddedPoolNet(), new Node[] { new(new Pool(3, 2, 1), -1), new(new Dense(3), 0), new(new Softmax(), 1) }];
        yield return [new PaddedPoolPathsNet(), new Node[]
        {
            new(new Pool(2, 2, 1), -1), new(new Pool(3, 1, 1), 0), new(new Pool(4, 3, 2), 1), new(new Dense(3), 2), new(new Softmax(), 3),
        }];
        yield return [new RectifiedPaddedPoolNet(), new Node[]
        {
            new(new Conv(3, 3, 3), -1), new(new Relu(), 0), new(new Pool(3, 2, 1), 1),
            new(new Conv(3, 1, 1), 2), new(new Relu(), 3), new(new Pool(3, 1, 1), 4), new(new Dense(4), 5), new(new Softmax(), 6),
        }];
        yield return [new NewLayersGraphNet(), new Node[]
        {
            new(new Conv(4, 3, 3, 1, 1), -1), new(new Relu(), 0), new(new Pool(3, 2, 1), 1), // stem
            new(new Conv(4, 3, 3, 1, 1), 2), new(new LeakyRelu(0.1f), 3), new(new Conv(4, 3, 3, 1, 1), 4), // main
            new(new AvgPool(3, 1, 1), 2), new(new Add(), 6, 5), new(new Tanh(), 7), // smooth, add1, mixed
            new(new Sigmoid(), 2), new(new Concat(), 9, 8), // gate, concat1
            new(new GlobalAvgPool(), 10), new(new Dense(5), 11), new(new Softmax(), 12),
        }];
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Forward_matches_the_reference(INetwork network, Node[] graph)
    {
        for (int seed = 1; seed <= 3; seed++)
        {
            GraphTests.Initialize(network, seed);
            float[] input = TestData.Uniform(network.InputLength, seed + 200, 2f);
            double[] expected = Reference.Forward(graph, network.Parameters.Select(v => (double)v).ToArray(), input.Select(v => (double)v).ToArray(),
                network.InputChannels, network.InputHeight, network.InputWidth);
            var actual = new float[network.OutputLength];
            network.Forward(input, actual);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < actual.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"seed {seed}, output {i}: expected {expected[i]}, got {actual[i]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void TrainSample_gradients_match_the_reference(INetwork network, Node[] graph)
    {
        for (int seed = 1; seed <= 2; seed++)
        {
            GraphTests.Initialize(network, seed);
            float[] input = TestData.Uniform(network.InputLength, seed + 300, 2f);
            int label = seed % network.OutputLength;
            network.ZeroGradients();
            float loss = network.TrainSample(input, label);
            (double[] parameters, double[] inputs) = Reference.Gradients(graph, network.Parameters, input,
                network.InputChannels, network.InputHeight, network.InputWidth, label);

            double expectedLoss = -Math.Log(Reference.Forward(graph, network.Parameters.Select(v => (double)v).ToArray(),
                input.Select(v => (double)v).ToArray(), network.InputChannels, network.InputHeight, network.InputWidth)[label]);
            Assert.Equal(expectedLoss, loss, 1e-5);
            GraphTests.AssertClose(parameters, network.Gradients, "dL/dθ");
            GraphTests.AssertClose(inputs, network.InputGradient.ToArray(), "dL/dinput");
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Gradients_match_finite_differences_of_the_generated_forward_pass(INetwork network, Node[] graph)
    {
        Assert.NotEmpty(graph);
        network.InitializeParameters(7);
        float[] input = TestData.WellSeparated(network.InputLength, 3, gap: 0.02f);
        for (int label = 0; label < network.OutputLength; label += 2)
        {
            GradientTests.CheckGradients(network, input, label, Enumerable.Range(0, network.ParameterCount), allowKinks: true);
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void TrainBatch_is_the_same_on_1_2_and_3_threads_and_the_mean_of_TrainSample(INetwork network, Node[] graph)
    {
        Assert.NotEmpty(graph);
        const int count = 37; // chunks of 16, 16 and 5, spread differently over 1, 2 and 3 threads
        float[] inputs = TestData.Uniform(count * network.InputLength, 11);
        int[] labels = Enumerable.Range(0, count).Select(i => (i * 7) % network.OutputLength).ToArray();
        float[]? first = null;
        float firstLoss = 0;
        for (int threads = 1; threads <= 3; threads++)
        {
            network.DegreeOfParallelism = threads;
            GraphTests.Initialize(network, 5);
            float loss = network.TrainBatch(inputs, labels);
            if (first is null)
            {
                first = network.Gradients.ToArray();
                firstLoss = loss;
                continue;
            }

            Assert.Equal(firstLoss, loss);
            Assert.True(first.AsSpan().SequenceEqual(network.Gradients), $"{threads} threads give other gradients than 1");
        }

        BatchTests.AssertMeanOfSamples(network, inputs, labels, firstLoss, first);
    }

    /// <summary>A sample's outputs do not depend on the batch it is in: the same bits from ForwardBatch as from Forward.</summary>
    [Theory]
    [MemberData(nameof(Networks))]
    public void ForwardBatch_equals_Forward_sample_by_sample(INetwork network, Node[] graph)
    {
        Assert.NotEmpty(graph);
        network.DegreeOfParallelism = 2;
        GraphTests.Initialize(network, 9);
        const int count = 21;
        float[] inputs = TestData.Uniform(count * network.InputLength, 12, 3f);
        var batch = new float[count * network.OutputLength];
        network.ForwardBatch(inputs, batch);
        var one = new float[network.OutputLength];
        for (int s = 0; s < count; s++)
        {
            network.Forward(inputs.AsSpan(s * network.InputLength, network.InputLength), one);
            Assert.True(one.AsSpan().SequenceEqual(batch.AsSpan(s * network.OutputLength, network.OutputLength)), $"sample {s}");
        }
    }

    [Fact]
    public void Padded_max_pooling_ties_go_to_the_first_element_inside_the_input()
    {
        // All equal: every window is a tie, which its first tap inside the input wins, never the padding. Windows (i, j) of
        // 3×3, stride 2, padding 1 start at row 2i − 1 and column 2j − 1, so the winners are rows 0, 1, 3, 5 × columns 0, 1, 3, 5, 7.
        var net = new PaddedPoolNet();
        net.InitializeParameters(3);
        var input = new float[PaddedPoolNet.InputLength];
        net.ZeroGradients();
        net.TrainSample(input, 1);
        ReadOnlySpan<float> dx = net.InputGradient;
        int[] rows = [0, 1, 3, 5], columns = [0, 1, 3, 5, 7];
        for (int c = 0; c < 2; c++)
        {
            for (int u = 0; u < 7; u++)
            {
                for (int v = 0; v < 9; v++)
                {
                    bool winner = rows.Contains(u) && columns.Contains(v);
                    float g = dx[(c * 7 + u) * 9 + v];
                    Assert.True(winner == (g != 0f), $"gradient {g} at ({c},{u},{v}), which {(winner ? "wins" : "does not win")} a window");
                }
            }
        }
    }

    [Fact]
    public void A_max_pooling_window_of_minus_infinities_outputs_minus_infinity_and_stays_inside_the_input()
    {
        // The top-left 2×2 elements are −∞: the first window of both poolings holds only those (and padding), so no tap
        // beats −∞; the gradient, zero after the ReLU, must go to an element of the input, not before it.
        var net = new MinusInfinityPoolNet();
        GraphTests.Initialize(net, 4);
        float[] input = TestData.Uniform(MinusInfinityPoolNet.InputLength, 5);
        foreach (int i in new[] { 0, 1, 5, 6 })
        {
            input[i] = float.NegativeInfinity;
        }

        Node[] graph =
        [
            new(new Pool(3, 2, 1), -1), new(new Relu(), 0), new(new Dense(3), 1),
            new(new Pool(3, 1, 1), -1), new(new Relu(), 3), new(new Dense(3), 4), new(new Add(), 5, 2), new(new Softmax(), 6),
        ];
        double[] expected = Reference.Forward(graph, net.Parameters.Select(v => (double)v).ToArray(), input.Select(v => (double)v).ToArray(), 1, 4, 5);
        var actual = new float[MinusInfinityPoolNet.OutputLength];
        net.Forward(input, actual);
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"output {i}: expected {expected[i]}, got {actual[i]}");
        }

        net.ZeroGradients();
        float loss = net.TrainSample(input, 2);
        Assert.True(float.IsFinite(loss));
        Assert.All(net.Gradients.ToArray(), g => Assert.True(float.IsFinite(g)));
        Assert.All(net.InputGradient.ToArray(), g => Assert.True(float.IsFinite(g)));
        Assert.All(new[] { 0, 1, 5, 6 }, i => Assert.Equal(0f, net.InputGradient[i]));
    }

    [Fact]
    public void Names_and_summary_use_the_new_kinds()
    {
        Assert.Contains("leaky_relu2 (LeakyReLU)", LeakyReLUNet.Summary);
        Assert.Contains("avg_pool1 (AvgPool2D)", PaddedAvgPoolNet.Summary);
        Assert.Contains("global_pool1 (GlobalAvgPool2D)", GlobalAvgPoolNet.Summary);
        Assert.Equal(new TensorShape(4, 1, 1), GlobalAvgPoolNet.Shapes.GlobalPool1);
        Assert.Equal(new TensorShape(3, 4, 5), PaddedAvgPoolNet.Shapes.AvgPool1);
        Assert.Equal(new TensorShape(2, 4, 5), PaddedPoolNet.Shapes.Pool1);
        Assert.Equal(new TensorShape(1, 4, 4), PaddedPoolPathsNet.Shapes.Pool1);
        Assert.Equal(new TensorShape(2, 6, 8), OverlappingAvgPoolNet.Shapes.AvgPool1);
        Assert.Equal(new TensorShape(2, 3, 3), OverlappingAvgPoolNet.Shapes.AvgPool2);
    }
}
