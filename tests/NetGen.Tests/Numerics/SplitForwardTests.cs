using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using NetGen.Tests.Networks;
using Xunit;
using static NetGen.Tests.Numerics.Reference;

namespace NetGen.Tests.Numerics;

/// <summary>
/// A one-sample forward pass splits its large layers across <c>DegreeOfParallelism</c> threads: the same bits as on one
/// thread and as the batch pass (which never splits), and the reference's values.
/// </summary>
public class SplitForwardTests
{
    public static IEnumerable<object[]> Networks()
    {
        yield return [new SplitCompactedNet(), new Op[] { new Conv(40, 5, 5, 1, 2), new Relu(), new Dense(10), new Softmax() }];
        yield return [new SplitDirectNet(), new Op[] { new Conv(45, 5, 5, 1, 2), new Dense(5), new Softmax() }];
        yield return [new SplitUnfoldDenseNet(), new Op[] { new Conv(128, 5, 5, 2, 2), new Relu(), new Dense(700), new Relu(), new Dense(6), new Softmax() }];
        yield return [new SplitNoBiasNet(), new Op[] { new Conv(128, 5, 5, 2, 2, Bias: false), new Relu(), new Conv(100, 5, 5, 1, 2, Bias: false), new Dense(5), new Softmax() }];
    }

    /// <summary>
    /// Every network here has layers to split; none of the small networks has, nor one whose large convolution compacts rows
    /// too narrow for the direct kernel its parts would run.
    /// </summary>
    [Fact]
    public void Only_networks_with_large_layers_get_a_splitter()
    {
        static bool HasSplitter(Type network) => network.GetNestedType("Splitter", BindingFlags.NonPublic) is not null;

        Assert.All(new[] { typeof(SplitCompactedNet), typeof(SplitDirectNet), typeof(SplitUnfoldDenseNet), typeof(SplitNoBiasNet), typeof(SplitFoldedNet), typeof(SplitResidualNet),
                typeof(SplitWinogradNet) },
            network => Assert.True(HasSplitter(network), network.Name));
        Assert.All(new[] { typeof(LeNet5), typeof(MixedNet), typeof(ConvStridedNet), typeof(LargeDenseNet), typeof(NarrowRowsNet) },
            network => Assert.False(HasSplitter(network), network.Name));
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Split_forward_matches_the_reference_and_one_thread_bit_for_bit(INetwork network, Op[] ops)
    {
        (int c, int h, int w) = (network.InputChannels, network.InputHeight, network.InputWidth);
        network.InitializeParameters(3);
        float[] noise = TestData.Uniform(network.ParameterCount, 103, 0.05f);
        for (int i = 0; i < noise.Length; i++)
        {
            network.Parameters[i] += noise[i];
        }

        for (int seed = 1; seed <= 3; seed++)
        {
            float[] input = TestData.Uniform(network.InputLength, seed + 200);
            double[] expected = Reference.Forward(ops, network.Parameters, input, c, h, w);
            float[] split = Outputs(network, input, threads: 3);
            float[] oneThread = Outputs(network, input, threads: 1);
            float[] batch = new float[network.OutputLength];
            network.ForwardBatch(input, batch);

            Assert.Equal(oneThread, split);
            Assert.Equal(batch, split);
            Assert.Equal(Outputs(network, input, threads: 2), split);
            for (int i = 0; i < split.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - split[i]) <= 1e-5, $"seed {seed}, output {i}: expected {expected[i]}, got {split[i]}");
            }

            Assert.Equal(System.Numerics.Tensors.TensorPrimitives.IndexOfMax(split), network.Predict(input));
        }
    }

    /// <summary>Networks whose inference pass splits a convolution with a BatchNorm folded into it.</summary>
    public static TheoryData<INetwork> FoldedSplits => new() { new SplitFoldedNet(), new SplitPixelRowsNet() };

    /// <summary>
    /// The inference pass of a network with BatchNorm runs the folded convolution in parts: the same bits as unsplit (for
    /// <see cref="SplitPixelRowsNet"/>, as its product with pixels as rows on one thread).
    /// </summary>
    [Theory]
    [MemberData(nameof(FoldedSplits))]
    public void Split_folded_convolution_matches_one_thread_bit_for_bit(INetwork network)
    {
        network.InitializeParameters(5);
        float[] noise = TestData.Uniform(network.ParameterCount, 105, 0.2f);
        for (int i = 0; i < noise.Length; i++)
        {
            network.Parameters[i] += noise[i];
        }

        // Running statistics away from their initial 0 and 1, so that the fold changes every weight.
        float[] statistics = TestData.Uniform(network.Buffers.Length, 106, 0.3f);
        for (int i = 0; i < statistics.Length; i++)
        {
            network.Buffers[i] += i < statistics.Length / 2 ? statistics[i] : Math.Abs(statistics[i]);
        }

        float[] input = TestData.Uniform(network.InputLength, 107);
        float[] split = Outputs(network, input, threads: 2);
        Assert.Equal(Outputs(network, input, threads: 1), split);
        var batch = new float[network.OutputLength];
        network.ForwardBatch(input, batch);
        Assert.Equal(batch, split);
    }

    /// <summary>
    /// A split convolution with the Add and ReLU after it in its stores: the same bits on 1, 2 and 3 threads and in the
    /// batch pass, and the values of the layers run one by one in double precision.
    /// </summary>
    [Fact]
    public void Split_convolution_with_a_residual_in_its_stores_matches_one_thread_bit_for_bit()
    {
        var network = new SplitResidualNet();
        network.InitializeParameters(13);
        float[] input = TestData.Uniform(SplitResidualNet.InputLength, 14);
        float[] split = Outputs(network, input, threads: 2);
        Assert.Equal(Outputs(network, input, threads: 1), split);
        Assert.Equal(Outputs(network, input, threads: 3), split);
        var batch = new float[SplitResidualNet.OutputLength];
        network.ForwardBatch(input, batch);
        Assert.Equal(batch, split);

        // a, b, b + a, ReLU, dense, softmax in double, from the network's own parameters.
        Node[] graph =
        [
            new(new Conv(56, 3, 3, 1, 1), -1), new(new Conv(56, 5, 5, 1, 2), 0), new(new Reference.Add(), 1, 0), new(new Relu(), 2),
            new(new Dense(5), 3), new(new Softmax(), 4),
        ];
        double[] expected = Reference.Forward(graph, Array.ConvertAll(network.Parameters, v => (double)v), Array.ConvertAll(input, v => (double)v), 32, 14, 14);
        for (int o = 0; o < split.Length; o++)
        {
            Assert.True(Math.Abs(expected[o] - split[o]) <= 1e-5, $"output {o}: expected {expected[o]}, got {split[o]}");
        }
    }

    /// <summary>
    /// Winograd convolutions split by tile rows, one with a residual and ReLU in its stores: the same bits on 1, 2 and 3
    /// threads and in the batch pass, within float rounding of the layers run one by one in double precision.
    /// </summary>
    [Fact]
    public void Winograd_convolutions_give_the_same_bits_on_any_thread_count()
    {
        var network = new SplitWinogradNet();
        network.InitializeParameters(17);
        float[] input = TestData.Uniform(SplitWinogradNet.InputLength, 18);
        float[] split = Outputs(network, input, threads: 2);
        Assert.Equal(Outputs(network, input, threads: 1), split);
        Assert.Equal(Outputs(network, input, threads: 3), split);
        var batch = new float[SplitWinogradNet.OutputLength];
        network.ForwardBatch(input, batch);
        Assert.Equal(batch, split);

        Node[] graph =
        [
            new(new Conv(128, 3, 3, 1, 1), -1), new(new Conv(128, 3, 3, 1, 1), 0), new(new Reference.Add(), 1, 0), new(new Relu(), 2),
            new(new Dense(5), 3), new(new Softmax(), 4),
        ];
        double[] expected = Reference.Forward(graph, Array.ConvertAll(network.Parameters, v => (double)v), Array.ConvertAll(input, v => (double)v), 128, 7, 7);
        for (int o = 0; o < split.Length; o++)
        {
            Assert.True(Math.Abs(expected[o] - split[o]) <= 1e-5, $"output {o}: expected {expected[o]}, got {split[o]}");
        }
    }

    /// <summary>A clone gets a splitter of its own, with the same thread count: same outputs, and both usable at once.</summary>
    [Fact]
    public void A_clone_splits_with_its_own_threads()
    {
        var network = new SplitUnfoldDenseNet { DegreeOfParallelism = 2 };
        network.InitializeParameters(8);
        float[] input = TestData.Uniform(SplitUnfoldDenseNet.InputLength, 9);
        float[] expected = Outputs(network, input, threads: 2);
        SplitUnfoldDenseNet clone = network.Clone();
        Assert.Equal(2, clone.DegreeOfParallelism);

        var fromClone = new float[SplitUnfoldDenseNet.OutputLength];
        var fromNetwork = new float[SplitUnfoldDenseNet.OutputLength];
        System.Threading.Tasks.Parallel.Invoke(() => clone.Forward(input, fromClone), () => network.Forward(input, fromNetwork));
        Assert.Equal(expected, fromClone);
        Assert.Equal(expected, fromNetwork);
    }

    /// <summary>TrainSample's forward pass splits too: the same loss and gradients as on one thread.</summary>
    [Fact]
    public void TrainSample_with_a_split_forward_pass_gives_the_same_gradients()
    {
        var network = new SplitCompactedNet();
        network.InitializeParameters(11);
        float[] input = TestData.Uniform(SplitCompactedNet.InputLength, 12);

        network.DegreeOfParallelism = 1;
        network.ZeroGradients();
        float loss = network.TrainSample(input, 4);
        float[] gradients = (float[])network.Gradients.Clone();

        network.DegreeOfParallelism = 2;
        network.ZeroGradients();
        Assert.Equal(loss, network.TrainSample(input, 4));
        Assert.Equal(gradients, network.Gradients);
    }

    private static float[] Outputs(INetwork network, float[] input, int threads)
    {
        network.DegreeOfParallelism = threads;
        var outputs = new float[network.OutputLength];
        network.Forward(input, outputs);
        return outputs;
    }
}

[Collection(nameof(NetGen.Tests.Training.AllocationTests))]
public sealed class SplitForwardAllocationTests
{
    /// <summary>
    /// Handing parts to the splitter's workers allocates nothing, on the caller or on the workers. Counted in 3 rounds, the
    /// least taken, as the benchmarks' allocation check does: a steady allocation shows in every round, while in a process
    /// the generator tests have loaded the calling thread is now and then charged a one-off that no call here makes (192 B
    /// or 7656 B in one call of a round, never again after it).
    /// </summary>
    [Fact]
    public void Split_forward_passes_allocate_nothing_after_warm_up()
    {
        var network = new SplitUnfoldDenseNet { DegreeOfParallelism = 2 };
        network.InitializeParameters(1);
        float[] input = TestData.Uniform(SplitUnfoldDenseNet.InputLength, 2);
        var outputs = new float[SplitUnfoldDenseNet.OutputLength];
        for (int i = 0; i < 3; i++)
        {
            network.Forward(input, outputs); // warm-up: the splitter, its worker thread, and both calls' code
            network.Predict(input);
        }

        var rounds = new long[3];
        for (int round = 0; round < rounds.Length; round++)
        {
            long callerBefore = GC.GetAllocatedBytesForCurrentThread(), workersBefore = NetGen.Training.WorkerThreads.AllocatedBytes;
            for (int i = 0; i < 20; i++)
            {
                network.Forward(input, outputs);
                network.Predict(input);
            }

            rounds[round] = GC.GetAllocatedBytesForCurrentThread() - callerBefore + (NetGen.Training.WorkerThreads.AllocatedBytes - workersBefore);
        }

        Assert.True(rounds.Min() == 0, $"{string.Join(" / ", rounds)} bytes allocated by the caller and the workers in 3 rounds of 40 split forward passes");
    }
}
