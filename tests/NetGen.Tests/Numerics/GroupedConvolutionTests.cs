using System;
using System.Collections.Generic;
using System.Linq;
using NetGen.Tests.Networks;
using NetGen.Tests.Training;
using NetGen.Weights;
using Xunit;
using static NetGen.Tests.Numerics.Reference;

namespace NetGen.Tests.Numerics;

/// <summary>
/// Convolutions in groups, depthwise and without bias against the double-precision reference (PyTorch's Conv2d(groups,
/// bias) written from its formula): the forward pass, TrainSample's dL/dθ and dL/dinput against central differences of the
/// reference and of the generated forward pass, TrainBatch on 1, 2 and 3 threads, no allocation after warm-up, and the
/// parameter layout.
/// </summary>
public class GroupedConvolutionTests
{
    /// <summary>Each network and its reference graph (node −1 is the input; nodes in declaration order).</summary>
    public static IEnumerable<object[]> Networks()
    {
        yield return [new GroupedStridedNet(), Chain(new Conv(6, 3, 2, 2, 1, Groups: 2), new Relu(), new Dense(4), new Softmax())];
        yield return [new GroupedThreeNet(), Chain(new Conv(9, 2, 3, 1, 1, Groups: 3), new Dense(3), new Softmax())];
        yield return [new GroupedDirectNet(), Chain(new Conv(6, 3, 3, 1, 1, Groups: 2, Bias: false), new Dense(3), new Softmax())];
        yield return [new GroupedWideNet(), Chain(new Conv(32, 3, 3, 1, 1, Groups: 2), new Dense(3), new Softmax())];
        yield return [new DepthwiseNet(), Chain(new Conv(3, 3, 3, 1, 1, Groups: 3), new Relu(), new Dense(4), new Softmax())];
        yield return [new DepthwiseStridedNet(), Chain(new Conv(4, 3, 2, 2, 1, Groups: 2, Bias: false), new Dense(3), new Softmax())];
        yield return [new DepthwiseWideNet(), Chain(new Conv(4, 2, 3, Groups: 2), new Dense(3), new Softmax())];
        yield return [new DepthwiseStride3Net(), Chain(new Conv(3, 3, 3, 3, 1, Groups: 3), new Dense(3), new Softmax())];
        yield return [new NoBiasNet(), Chain(new Conv(3, 3, 3, 1, 1, Bias: false), new Relu(), new Conv(4, 3, 3, 2, 0, Bias: false), new Dense(3), new Softmax())];
        yield return [new InvertedResidualNet(), new Node[]
        {
            new(new Conv(8, 1, 1, Bias: false), -1), new(new Relu(), 0),
            new(new Conv(8, 3, 3, 1, 1, Groups: 8, Bias: false), 1), new(new Relu(), 2),
            new(new Conv(4, 1, 1, Groups: 2), 3), new(new Add(), 4, -1), new(new Dense(3), 5), new(new Softmax(), 6),
        }];
    }

    private static Node[] Chain(params Op[] ops) => ops.Select((op, i) => new Node(op, i - 1)).ToArray();

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

    private static double[] ReferenceForward(INetwork network, Node[] graph, float[] input) =>
        Reference.Forward(graph, network.Parameters.Select(v => (double)v).ToArray(), input.Select(v => (double)v).ToArray(),
            network.InputChannels, network.InputHeight, network.InputWidth);

    [Theory]
    [MemberData(nameof(Networks))]
    public void Forward_matches_the_reference(INetwork network, Node[] graph)
    {
        for (int seed = 1; seed <= 3; seed++)
        {
            Initialize(network, seed);
            float[] input = TestData.Uniform(network.InputLength, seed + 200);
            double[] expected = ReferenceForward(network, graph, input);
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

            Assert.Equal(-Math.Log(ReferenceForward(network, graph, input)[label]), loss, 1e-5);
            AssertClose(parameters, network.Gradients, "dL/dθ");
            AssertClose(inputs, network.InputGradient.ToArray(), "dL/dinput");
        }
    }

    /// <summary>Float32 sums of a few hundred products against double differences: 2e-5 absolute plus 1e-3 relative.</summary>
    private static void AssertClose(double[] expected, ReadOnlySpan<float> actual, string what)
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
        GradientTests.CheckGradients(network, input, 1, Enumerable.Range(0, network.ParameterCount), allowKinks: true);
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

    [Theory]
    [MemberData(nameof(Networks))]
    public void ForwardBatch_equals_Forward_sample_by_sample(INetwork network, Node[] graph)
    {
        Assert.NotEmpty(graph);
        network.DegreeOfParallelism = 2;
        Initialize(network, 9);
        const int count = 21;
        float[] inputs = TestData.Uniform(count * network.InputLength, 12);
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
    public void The_parameters_have_PyTorchs_names_and_shapes()
    {
        // Conv2d(4, 6, (3, 2), groups=2): weight [6, 2, 3, 2] and bias [6]; Conv2d(2, 4, (3, 2), groups=2, bias=False): weight
        // [4, 1, 3, 2] and no bias at all; the dense layer's weight follows the convolution's directly.
        Assert.Equal(
            ["conv1.weight [6, 2, 3, 2] @ 0", "conv1.bias [6] @ 72", "dense1.weight [4, 180] @ 78", "dense1.bias [4] @ 798"],
            GroupedStridedNet.ParameterLayout.Select(Describe));
        Assert.Equal(
            ["conv1.weight [4, 1, 3, 2] @ 0", "dense1.weight [3, 100] @ 24", "dense1.bias [3] @ 324"],
            DepthwiseStridedNet.ParameterLayout.Select(Describe));
        Assert.Equal(
            ["conv1.weight [8, 4, 1, 1] @ 0", "depthwise.weight [8, 1, 3, 3] @ 32", "project.weight [4, 4, 1, 1] @ 104", "project.bias [4] @ 120",
             "dense1.weight [3, 168] @ 124", "dense1.bias [3] @ 628"],
            InvertedResidualNet.ParameterLayout.Select(Describe));
        Assert.Equal(631, InvertedResidualNet.ParameterCount);
        Assert.Equal(new TensorShape(4, 5, 5), DepthwiseStridedNet.Shapes.Conv1);

        var net = new DepthwiseStridedNet();
        Assert.Equal(24, net.Conv1Weight.Length);
        Assert.Equal(24, net.Conv1WeightGradient.Length);
        Assert.DoesNotContain("conv1.bias", DepthwiseStridedNet.Summary + string.Join(" ", DepthwiseStridedNet.ParameterLayout.Select(s => s.Name)));
    }

    [Fact]
    public void A_network_without_biases_saves_and_loads_without_bias_tensors()
    {
        var net = new InvertedResidualNet();
        Initialize(net, 3);
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"netgen-groups-{Environment.ProcessId}.safetensors");
        try
        {
            net.Save(path);
            var loaded = new InvertedResidualNet();
            loaded.Load(path);
            Assert.Equal(net.Parameters, loaded.Parameters);
            string header = System.Text.Encoding.UTF8.GetString(System.IO.File.ReadAllBytes(path));
            Assert.Contains("\"depthwise.weight\"", header);
            Assert.DoesNotContain("depthwise.bias", header);
            Assert.DoesNotContain("conv1.bias", header);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    private static string Describe(TensorSlot slot) => $"{slot.Name} [{string.Join(", ", slot.Shape.ToArray())}] @ {slot.Offset}";
}

/// <summary>
/// The grouped and depthwise networks' allocation check, in the collection that runs alone: the workers' allocation count
/// is process-wide, so a test running beside it could add to it.
/// </summary>
[Collection(nameof(NetGen.Tests.Training.AllocationTests))]
public sealed class GroupedConvolutionAllocationTests
{
    [Theory]
    [MemberData(nameof(GroupedConvolutionTests.Networks), MemberType = typeof(GroupedConvolutionTests))]
    public void Steady_state_calls_allocate_nothing(INetwork network, Node[] graph)
    {
        Assert.NotEmpty(graph);
        network.DegreeOfParallelism = 2;
        GroupedConvolutionTests.Initialize(network, 4);
        const int count = 40;
        float[] inputs = TestData.Uniform(count * network.InputLength, 13);
        int[] labels = Enumerable.Range(0, count).Select(i => i % network.OutputLength).ToArray();
        var probabilities = new float[count * network.OutputLength];
        for (int i = 0; i < 3; i++)
        {
            network.TrainBatch(inputs, labels); // warm-up: buffers, workspaces, worker threads
            network.ForwardBatch(inputs, probabilities);
            network.TrainSample(inputs.AsSpan(0, network.InputLength), labels[0]);
        }

        // As BatchTests: the calling thread and the engine's workers, nothing else in the process.
        long callerBefore = GC.GetAllocatedBytesForCurrentThread(), workersBefore = NetGen.Training.WorkerThreads.AllocatedBytes;
        for (int i = 0; i < 3; i++)
        {
            network.TrainBatch(inputs, labels);
            network.ForwardBatch(inputs, probabilities);
            network.TrainSample(inputs.AsSpan(0, network.InputLength), labels[0]);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - callerBefore + (NetGen.Training.WorkerThreads.AllocatedBytes - workersBefore);
        Assert.True(allocated == 0, $"{allocated} bytes allocated in 9 steady-state calls");
    }
}
