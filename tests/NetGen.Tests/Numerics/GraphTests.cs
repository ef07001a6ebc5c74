using System;
using System.Collections.Generic;
using System.Linq;
using NetGen.Tests.Networks;
using NetGen.Tests.Training;
using Xunit;
using static NetGen.Tests.Numerics.Reference;

namespace NetGen.Tests.Numerics;

/// <summary>
/// Branched networks (Input =, [Add], [Concat]) against the double-precision reference run as a graph: the forward pass,
/// the gradients of TrainSample (parameters and input) against central differences of the reference, and TrainBatch.
/// </summary>
public class GraphTests
{
    /// <summary>Each graph network and its reference graph (node −1 is the input; nodes in declaration order).</summary>
    public static IEnumerable<object[]> Networks()
    {
        yield return [new ProjectionResidualNet(), new Node[]
        {
            new(new Conv(3, 3, 3, 1, 1), -1), new(new Relu(), 0), // stem
            new(new Conv(4, 3, 3, 2, 1), 1), new(new Relu(), 2), new(new Conv(4, 3, 3, 1, 1), 3), // main
            new(new Conv(4, 1, 1, 2, 0), 1), // shortcut, from stem
            new(new Add(), 5, 4), new(new Relu(), 6), new(new Dense(5), 7), new(new Softmax(), 8),
        }];
        yield return [new InputResidualNet(), new Node[]
        {
            new(new Conv(3, 3, 3, 1, 1), -1), new(new Relu(), 0), new(new Add(), 1, -1), new(new Dense(4), 2), new(new Softmax(), 3),
        }];
        yield return [new ChainedResidualNet(), new Node[]
        {
            new(new Conv(3, 3, 3, 1, 1), -1), new(new Relu(), 0), // a
            new(new Conv(3, 3, 3, 1, 1), 1), new(new Relu(), 2), new(new Add(), 3, 1), // b
            new(new Conv(3, 3, 3, 1, 1), 4), new(new Relu(), 5), new(new Add(), 6, 4),
            new(new Dense(3), 7), new(new Softmax(), 8),
        }];
        yield return [new ThreeBranchConcatNet(), new Node[]
        {
            new(new Conv(2, 3, 3, 1, 1), -1), new(new Conv(3, 1, 1), -1), new(new Conv(1, 3, 3, 1, 1), -1),
            new(new Concat(), 2, 1), new(new Concat(), 3, 0), new(new Relu(), 4), new(new Dense(4), 5), new(new Softmax(), 6),
        }];
        yield return [new WinogradResidualNet(), new Node[]
        {
            new(new Conv(32, 3, 3, 1, 1), -1), new(new Relu(), 0), new(new Conv(32, 3, 3, 1, 1), 1), new(new Add(), 2, 1), new(new Relu(), 3),
            new(new Dense(4), 4), new(new Softmax(), 5),
        }];
        yield return [new WinogradGradientNet(), new Node[]
        {
            new(new Conv(32, 3, 3, 1, 1), -1), new(new Relu(), 0), new(new Conv(32, 3, 3, 1, 0), 1), new(new Dense(3), 2), new(new Softmax(), 3),
        }];
        yield return [new SideInputNet(), new Node[]
        {
            new(new Conv(3, 3, 3, 1, 1), -1), new(new Relu(), 0), new(new Pool(2, 2), 1), new(new Pool(2, 2), 0),
            new(new Add(), 3, 2), new(new Dense(4), 4), new(new Dense(4), 4), new(new Add(), 6, 5), new(new Softmax(), 7),
        }];
    }

    /// <summary>Parameters from the network's initializer plus noise, so that no bias is zero and a bias at the wrong offset shows.</summary>
    internal static void Initialize(INetwork network, int seed)
    {
        network.InitializeParameters(seed);
        float[] noise = TestData.Uniform(network.ParameterCount, seed + 100, 0.1f);
        for (int i = 0; i < noise.Length; i++)
        {
            network.Parameters[i] += noise[i];
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Forward_matches_the_reference(INetwork network, Node[] graph)
    {
        for (int seed = 1; seed <= 3; seed++)
        {
            Initialize(network, seed);
            float[] input = TestData.Uniform(network.InputLength, seed + 200);
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
            Initialize(network, seed);
            float[] input = TestData.Uniform(network.InputLength, seed + 300);
            int label = seed % network.OutputLength;
            network.ZeroGradients();
            float loss = network.TrainSample(input, label);
            (double[] parameters, double[] inputs) = Reference.Gradients(graph, network.Parameters, input,
                network.InputChannels, network.InputHeight, network.InputWidth, label);

            double expectedLoss = -Math.Log(Reference.Forward(graph, network.Parameters.Select(v => (double)v).ToArray(),
                input.Select(v => (double)v).ToArray(), network.InputChannels, network.InputHeight, network.InputWidth)[label]);
            Assert.Equal(expectedLoss, loss, 1e-5);
            AssertClose(parameters, network.Gradients, "dL/dθ");
            AssertClose(inputs, network.InputGradient.ToArray(), "dL/dinput");
        }
    }

    /// <summary>Float32 sums of a few hundred products against double differences: 2e-5 absolute plus 1e-3 relative.</summary>
    internal static void AssertClose(double[] expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-5 + 1e-3 * Math.Abs(expected[i]),
                $"{what}[{i}]: reference {expected[i]}, generated {actual[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Gradients_match_finite_differences_of_the_generated_forward_pass(INetwork network, Node[] graph)
    {
        Assert.NotEmpty(graph);
        network.InitializeParameters(7);
        float[] input = TestData.WellSeparated(network.InputLength, 3, gap: 0.02f);
        // Every parameter of the small networks; about 1,500 spread over all layers of the larger ones.
        int every = Math.Max(1, network.ParameterCount / 1500);
        GradientTests.CheckGradients(network, input, 1, Enumerable.Range(0, network.ParameterCount).Where(i => i % every == 0 || i >= network.ParameterCount - 4), allowKinks: true);
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
            Initialize(network, 5);
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

    /// <summary>
    /// A network whose shared forward pass reads Winograd-transformed weights: each training call transforms the parameters
    /// as they are then, also after a write through a reference to <c>Parameters</c> kept from before (an optimizer's step),
    /// and the next inference call sees that write too.
    /// </summary>
    [Fact]
    public void Winograd_weights_follow_the_parameters_through_a_kept_reference()
    {
        var network = new WinogradResidualNet();
        Initialize(network, 9);
        float[] inputs = TestData.Uniform(5 * WinogradResidualNet.InputLength, 19);
        int[] labels = [0, 1, 2, 3, 0];
        float[] parameters = network.Parameters; // kept across the calls below, as an optimizer loop would
        network.TrainBatch(inputs, labels);
        var optimizer = new NetGen.Optimizers.Sgd(0.5f);
        optimizer.Step(parameters, network.Gradients);
        float[] probabilities = new float[WinogradResidualNet.OutputLength];
        network.Forward(inputs.AsSpan(0, WinogradResidualNet.InputLength), probabilities);
        float loss = network.TrainBatch(inputs, labels);

        var fresh = new WinogradResidualNet();
        parameters.CopyTo(fresh.Parameters, 0);
        Assert.Equal(fresh.TrainBatch(inputs, labels), loss);
        Assert.Equal(fresh.Gradients, network.Gradients);
        float[] expected = new float[WinogradResidualNet.OutputLength];
        fresh.Forward(inputs.AsSpan(0, WinogradResidualNet.InputLength), expected);
        Assert.Equal(expected, probabilities);
    }

    [Fact]
    public void ForwardBatch_equals_Forward_sample_by_sample_on_a_branched_network()
    {
        var network = new ProjectionResidualNet { DegreeOfParallelism = 2 };
        Initialize(network, 9);
        const int count = 21;
        float[] inputs = TestData.Uniform(count * ProjectionResidualNet.InputLength, 12);
        var batch = new float[count * ProjectionResidualNet.OutputLength];
        network.ForwardBatch(inputs, batch);
        var one = new float[ProjectionResidualNet.OutputLength];
        for (int s = 0; s < count; s++)
        {
            network.Forward(inputs.AsSpan(s * ProjectionResidualNet.InputLength, ProjectionResidualNet.InputLength), one);
            Assert.True(one.AsSpan().SequenceEqual(batch.AsSpan(s * ProjectionResidualNet.OutputLength, ProjectionResidualNet.OutputLength)), $"sample {s}");
        }
    }
}
