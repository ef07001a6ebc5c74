using System;
using System.IO;
using System.Linq;
using NetGen.Optimizers;
using NetGen.Tests.Networks;
using Xunit;
using static NetGen.Tests.Numerics.Reference;

namespace NetGen.Tests.Numerics;

/// <summary>
/// Inference with each BatchNorm after a convolution folded into that convolution's weights and bias: the same outputs as
/// the double-precision reference, which runs every BatchNorm unfolded with the running statistics, after training; folded
/// weights recomputed after everything that may change the parameters or running statistics, and only then; BatchNorms
/// that cannot be folded still right; the same bits on 1, 2 and 3 threads.
/// </summary>
public class BatchNormFoldTests
{
    /// <summary><see cref="FoldedConvNet"/> for the reference.</summary>
    private static readonly Node[] FoldedConvGraph =
    [
        new(new Conv(6, 3, 3, 1, 1), -1), new(new BatchNorm(1e-3), 0), new(new Relu(), 1), // conv1, bn1, relu1
        new(new Conv(6, 3, 3, 1, 1, Bias: false), 2), new(new BatchNorm(), 3), new(new Relu(), 4), // conv2, bn2, b
        new(new Conv(6, 3, 3, 1, 1, Groups: 6, Bias: false), 5), new(new BatchNorm(), 6), new(new Relu(), 7), // depthwise, bn3, relu3
        new(new Conv(6, 1, 1, 1, 0, Groups: 2), 8), new(new BatchNorm(), 9), new(new Add(), 10, 5), new(new Relu(), 11), // grouped, bn4, add1, relu4
        new(new Pool(2, 2), 12), new(new BatchNorm(), 13), // pool1, after_pool
        new(new Conv(8, 3, 3, 2, 1), 14), new(new BatchNorm(), 15), new(new Add(), 16, 15), new(new BatchNorm(), 17), // shared, shared_bn, add2, after_add
        new(new GlobalAvgPool(), 18), new(new Dense(5), 19), new(new Softmax(), 20),
    ];

    /// <summary><see cref="ResNetBN"/> for the reference: every BatchNorm follows a convolution it alone reads.</summary>
    private static readonly Node[] ResNetBNGraph =
    [
        new(new Conv(16, 3, 3, 1, 1, Bias: false), -1), new(new BatchNorm(), 0), new(new Relu(), 1), // stem
        new(new Conv(16, 3, 3, 1, 1, Bias: false), 2), new(new BatchNorm(), 3), new(new Relu(), 4),
        new(new Conv(16, 3, 3, 1, 1, Bias: false), 5), new(new BatchNorm(), 6), new(new Add(), 7, 2), new(new Relu(), 8), // block1
        new(new Conv(64, 3, 3, 2, 1, Bias: false), 9), new(new BatchNorm(), 10), new(new Relu(), 11),
        new(new Conv(64, 3, 3, 1, 1, Bias: false), 12), new(new BatchNorm(), 13),
        new(new Conv(64, 1, 1, 2, 0, Bias: false), 9), new(new BatchNorm(), 15), new(new Add(), 16, 14), new(new Relu(), 17), // block2
        new(new Conv(128, 3, 3, 2, 1, Bias: false), 18), new(new BatchNorm(), 19), new(new Relu(), 20),
        new(new Conv(128, 3, 3, 1, 1, Bias: false), 21), new(new BatchNorm(), 22),
        new(new Conv(128, 1, 1, 2, 0, Bias: false), 18), new(new BatchNorm(), 24), new(new Add(), 25, 23), new(new Relu(), 26), // block3
        new(new GlobalAvgPool(), 27), new(new Dense(10), 28), new(new Softmax(), 29),
    ];

    /// <summary><see cref="WinogradNet"/> for the reference.</summary>
    private static readonly Node[] WinogradGraph =
    [
        new(new Conv(48, 3, 3, 1, 1, Bias: false), -1), new(new BatchNorm(), 0), new(new Relu(), 1), // conv1, bn, a
        new(new Conv(48, 3, 3, 1, 1), 2), new(new BatchNorm(), 3), new(new Add(), 4, 2), new(new Relu(), 5), // conv2, bn, add, relu
        new(new Conv(32, 3, 3, 1, 0), 6), new(new BatchNorm(), 7), new(new Relu(), 8), // valid, bn, relu
        new(new Conv(16, 3, 3, 1, 1), 9), new(new BatchNorm(), 10), // narrow, bn
        new(new GlobalAvgPool(), 11), new(new Dense(5), 12), new(new Softmax(), 13),
    ];

    /// <summary><see cref="PixelRowsNet"/> for the reference.</summary>
    private static readonly Node[] PixelRowsGraph =
    [
        new(new Conv(48, 3, 3, 2, 1, Bias: false), -1), new(new Relu(), 0), // down, a
        new(new Conv(48, 1, 1, 2, 0), 1), new(new BatchNorm(), 2), // shortcut, shortcut_bn
        new(new Conv(48, 3, 3, 2, 1), 1), new(new BatchNorm(), 4), new(new Add(), 5, 3), new(new Relu(), 6), // second, second_bn, add, out
        new(new GlobalAvgPool(), 7), new(new Dense(5), 8), new(new Softmax(), 9),
    ];

    private static double[] Doubles(ReadOnlySpan<float> values) => values.ToArray().Select(v => (double)v).ToArray();

    /// <summary>Samples of the network's input, and labels.</summary>
    private static (float[] Flat, int[] Labels) Batch(INetwork network, int count, int seed) =>
        (TestData.Uniform(count * network.InputLength, seed), Enumerable.Range(0, count).Select(s => (s * 3 + seed) % network.OutputLength).ToArray());

    /// <summary>
    /// Initialized parameters with γ and β away from 1 and 0, <paramref name="steps"/> training steps with momentum, then 10
    /// training calls without an optimizer, which bring the running statistics near the batch's (so that inference keeps
    /// activations of the order of 1, where float rounding stays small against the tolerance).
    /// </summary>
    private static void Train(INetwork network, int seed, int steps)
    {
        network.InitializeParameters(seed);
        float[] noise = TestData.Uniform(network.ParameterCount, seed + 100, 0.2f);
        for (int i = 0; i < noise.Length; i++)
        {
            network.Parameters[i] += noise[i];
        }

        var sgd = new Sgd(0.05f, momentum: 0.9f);
        (float[] flat, int[] labels) = Batch(network, 20, seed + 1);
        for (int step = 0; step < steps; step++)
        {
            network.TrainBatch(flat, labels);
            sgd.Step(network.Parameters, network.Gradients);
        }

        for (int call = 0; call < 10; call++)
        {
            network.TrainBatch(flat, labels);
        }
    }

    /// <summary>The reference's inference outputs (every BatchNorm unfolded, running statistics) of the samples in <paramref name="flat"/>.</summary>
    private static double[][] Expected(Node[] graph, INetwork network, float[] buffers, float[] flat, int channels, int height, int width)
    {
        double[][] inputs = Enumerable.Range(0, flat.Length / network.InputLength)
            .Select(s => Doubles(flat.AsSpan(s * network.InputLength, network.InputLength))).ToArray();
        return ForwardBatch(graph, Doubles(network.Parameters), inputs, channels, height, width, new Mode(false, Doubles(buffers)));
    }

    /// <summary>Within 1e-5 of the reference, relative to the largest output (probabilities: of the order of 1).</summary>
    private static void AssertClose(double[] expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1e-3, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * scale, $"{what}[{i}]: reference {expected[i]}, generated {actual[i]}");
        }
    }

    private static float[] Forward(INetwork network, float[] input)
    {
        var output = new float[network.OutputLength];
        network.Forward(input, output);
        return output;
    }

    [Fact]
    public void Folded_inference_matches_the_unfolded_reference_after_training()
    {
        var net = new FoldedConvNet();
        Train(net, 1, 3);
        Assert.Equal(13L, net.Bn1NumBatchesTracked[0]);
        (float[] flat, _) = Batch(net, 5, 2);
        double[][] expected = Expected(FoldedConvGraph, net, net.Buffers, flat, 4, 8, 8);

        var batch = new float[5 * FoldedConvNet.OutputLength];
        net.ForwardBatch(flat, batch);
        var predictions = new int[5];
        net.PredictBatch(flat, predictions);
        for (int s = 0; s < 5; s++)
        {
            float[] input = flat.AsSpan(s * FoldedConvNet.InputLength, FoldedConvNet.InputLength).ToArray();
            AssertClose(expected[s], Forward(net, input), $"Forward, sample {s}");
            AssertClose(expected[s], batch.AsSpan(s * FoldedConvNet.OutputLength, FoldedConvNet.OutputLength), $"ForwardBatch, sample {s}");
            Assert.Equal(Array.IndexOf(expected[s], expected[s].Max()), net.Predict(input));
            Assert.Equal(Array.IndexOf(expected[s], expected[s].Max()), predictions[s]);
            Assert.Equal(-Math.Log(expected[s][s % 5]), net.Loss(input, s % 5), 1e-4);
        }
    }

    [Fact]
    public void The_residual_network_with_every_BatchNorm_folded_matches_the_unfolded_reference()
    {
        var net = new ResNetBN { DegreeOfParallelism = 2 };
        Train(net, 3, 2);
        (float[] flat, _) = Batch(net, 2, 4);
        double[][] expected = Expected(ResNetBNGraph, net, net.Buffers, flat, 1, 28, 28);
        var batch = new float[2 * ResNetBN.OutputLength];
        net.ForwardBatch(flat, batch);
        for (int s = 0; s < 2; s++)
        {
            AssertClose(expected[s], Forward(net, flat.AsSpan(s * ResNetBN.InputLength, ResNetBN.InputLength).ToArray()), $"Forward, sample {s}");
            AssertClose(expected[s], batch.AsSpan(s * ResNetBN.OutputLength, ResNetBN.OutputLength), $"ForwardBatch, sample {s}");
        }
    }

    [Fact]
    public void Winograd_convolutions_match_the_unfolded_reference_with_the_same_bits_on_1_2_and_3_threads() =>
        // conv2's weight reaches its Winograd transform before the next inference call.
        AssertPreparedFormsMatchTheReference(() => new WinogradNet(), WinogradGraph, (32, 9, 7), 15, static net => net.Conv2Weight, "conv2.weight",
            forwardHasBatchBits: false);

    [Fact]
    public void Products_with_pixels_as_rows_match_the_reference_and_the_batch_passes_bits_on_1_2_and_3_threads() =>
        // ForwardBatch multiplies 4 samples at a time with filters as rows, and its fifth alone with pixels as rows, as
        // Forward does: every sum is the same, so every output is the same bits. down's weight reaches its transposed copy.
        AssertPreparedFormsMatchTheReference(() => new PixelRowsNet(), PixelRowsGraph, (40, 11, 11), 21, static net => net.DownWeight, "down.weight",
            forwardHasBatchBits: true);

    /// <summary>
    /// A network trained alike on 1, 2 and 3 threads gives the same bits from ForwardBatch over 5 samples on each; on one
    /// thread, Forward and ForwardBatch match the unfolded reference (and, with <paramref name="forwardHasBatchBits"/>, each
    /// other bit for bit), and a write through <paramref name="weight"/> reaches the weights prepared from it before the
    /// next inference call.
    /// </summary>
    private static void AssertPreparedFormsMatchTheReference<TNetwork>(Func<TNetwork> create, Node[] graph, (int Channels, int Height, int Width) shape, int seed,
        Func<TNetwork, Span<float>> weight, string weightName, bool forwardHasBatchBits)
        where TNetwork : INetwork
    {
        float[]? first = null;
        for (int threads = 1; threads <= 3; threads++)
        {
            TNetwork net = create();
            net.DegreeOfParallelism = threads;
            Train(net, seed, 2);
            (float[] flat, _) = Batch(net, 5, seed + 1);
            int inputs = net.InputLength, outputs = net.OutputLength;
            var batch = new float[5 * outputs];
            net.ForwardBatch(flat, batch);
            if (first is not null)
            {
                Assert.True(first.AsSpan().SequenceEqual(batch), $"{threads} threads: other outputs");
                continue;
            }

            first = batch;
            double[][] expected = Expected(graph, net, net.Buffers, flat, shape.Channels, shape.Height, shape.Width);
            for (int s = 0; s < 5; s++)
            {
                float[] single = Forward(net, flat.AsSpan(s * inputs, inputs).ToArray());
                AssertClose(expected[s], single, $"Forward, sample {s}");
                AssertClose(expected[s], batch.AsSpan(s * outputs, outputs), $"ForwardBatch, sample {s}");
                Assert.True(!forwardHasBatchBits || single.AsSpan().SequenceEqual(batch.AsSpan(s * outputs, outputs)), $"Forward and ForwardBatch differ at sample {s}");
            }

            float[] input0 = flat.AsSpan(0, inputs).ToArray();
            float[] before = Forward(net, input0);
            weight(net)[100] += 0.5f;
            float[] after = Forward(net, input0);
            Assert.NotEqual(before, after);
            AssertClose(Expected(graph, net, net.Buffers, input0, shape.Channels, shape.Height, shape.Width)[0], after, $"after a write to {weightName}");
        }
    }

    [Fact]
    public void A_training_step_without_an_optimizer_refolds_the_new_running_statistics()
    {
        var net = new FoldedConvNet();
        Train(net, 4, 1);
        (float[] flat, int[] labels) = Batch(net, 6, 5);
        float[] input = flat.AsSpan(0, FoldedConvNet.InputLength).ToArray();
        float[] before = Forward(net, input);

        net.TrainBatch(flat, labels); // changes the running statistics only (no optimizer step)
        float[] after = Forward(net, input);
        Assert.NotEqual(before, after);
        AssertClose(Expected(FoldedConvGraph, net, net.Buffers, input, 4, 8, 8)[0], after, "after TrainBatch");
    }

    [Fact]
    public void Writing_through_the_public_spans_refolds_before_the_next_inference_call()
    {
        var net = new FoldedConvNet();
        Train(net, 6, 2);
        (float[] flat, _) = Batch(net, 1, 7);

        // Each change between two inference calls, with nothing else that marks the folded weights stale in between (the
        // reference reads Parameters and Buffers, which does: it runs after the second call).
        void Check(string what, Action change)
        {
            float[] before = Forward(net, flat);
            change();
            float[] after = Forward(net, flat);
            Assert.NotEqual(before, after);
            AssertClose(Expected(FoldedConvGraph, net, net.Buffers, flat, 4, 8, 8)[0], after, what);
        }

        // Convolutions' weights and biases, γ, β and the running statistics, through the named spans.
        Check("conv1.weight", () => net.Conv1Weight[4] += 0.75f);
        Check("grouped.bias", () => net.GroupedBias[1] -= 0.5f);
        Check("depthwise.weight", () => net.DepthwiseWeight[10] *= -2f);
        Check("bn2.weight", () => net.Bn2Weight[3] *= -1.5f);
        Check("bn1.bias", () => net.Bn1Bias[0] += 0.5f);
        Check("bn3.running_var", () => net.Bn3RunningVar[2] *= 3f);
        Check("bn4.running_mean", () => net.Bn4RunningMean[5] += 0.5f);

        // Through the arrays: an optimizer's step, a write to Buffers.
        net.TrainBatch(TestData.Uniform(3 * FoldedConvNet.InputLength, 8), [0, 1, 2]);
        var sgd = new Sgd(0.1f);
        Check("an optimizer step", () => sgd.Step(net.Parameters, net.Gradients));
        Check("Buffers", () => net.Buffers[1] += 1f); // bn1.running_mean[1]
    }

    [Fact]
    public void Inference_reuses_the_folded_weights_until_something_marks_them_stale()
    {
        // The folded weights are recomputed only where the parameters may have changed, not per call: a write through an
        // array reference kept past an inference call is not seen until the next getter call (the documented contract).
        var net = new FoldedConvNet();
        Train(net, 9, 1);
        (float[] flat, _) = Batch(net, 1, 10);
        float[] parameters = net.Parameters;
        float[] first = Forward(net, flat);
        parameters[0] += 1f; // conv1.weight, behind the network's back
        Assert.Equal(first, Forward(net, flat));
        _ = net.Parameters; // handed out again: stale
        float[] refolded = Forward(net, flat);
        Assert.NotEqual(first, refolded);
        AssertClose(Expected(FoldedConvGraph, net, net.Buffers, flat, 4, 8, 8)[0], refolded, "after Parameters");
    }

    [Fact]
    public void Load_and_InitializeParameters_refold()
    {
        var trained = new FoldedConvNet();
        Train(trained, 11, 2);
        (float[] flat, _) = Batch(trained, 1, 12);
        string path = Path.Combine(Path.GetTempPath(), $"netgen-fold-{Guid.NewGuid():N}.safetensors");
        try
        {
            trained.Save(path);
            var net = new FoldedConvNet();
            net.InitializeParameters(5);
            float[] initial = Forward(net, flat);
            net.Load(path);
            Assert.Equal(Forward(trained, flat), Forward(net, flat));

            net.InitializeParameters(5);
            Assert.Equal(initial, Forward(net, flat));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_with_SafeTensorsLoadOptions_strips_a_prefix_ignores_extras_and_refolds()
    {
        var trained = new FoldedConvNet();
        Train(trained, 15, 2);
        (float[] flat, _) = Batch(trained, 1, 16);
        static NetGen.Weights.TensorSlot[] Prefixed(System.Collections.Generic.IReadOnlyList<NetGen.Weights.TensorSlot> layout) =>
            [.. layout.Select(s => new NetGen.Weights.TensorSlot("model." + s.Name, s.Shape, s.Offset))];

        // A PyTorch-style file: every name under "model.", and a tensor this network does not have.
        float[] parameters = [.. trained.Parameters, 42f];
        NetGen.Weights.TensorSlot[] layout = [.. Prefixed(FoldedConvNet.ParameterLayout), new("model.head.weight", [1], parameters.Length - 1)];
        string path = Path.Combine(Path.GetTempPath(), $"netgen-options-{Guid.NewGuid():N}.safetensors");
        try
        {
            NetGen.Weights.SafeTensors.Save(path, parameters, layout, trained.Buffers, Prefixed(FoldedConvNet.BufferLayout),
                trained.Counters, Prefixed(FoldedConvNet.CounterLayout));
            var net = new FoldedConvNet();
            net.InitializeParameters(5);
            float[] initial = Forward(net, flat);

            var strict = NetGen.Weights.SafeTensorsLoadOptions.StripPrefix("model.");
            var e = Assert.Throws<InvalidDataException>(() => net.Load(path, strict));
            Assert.Contains("model.head.weight (as head.weight)", e.Message, StringComparison.Ordinal);
            Assert.Contains("Expected (", e.Message, StringComparison.Ordinal);
            Assert.Equal(initial, Forward(net, flat));

            var ignored = net.Load(path, strict with { Strict = false });
            Assert.Equal(["model.head.weight"], ignored);
            Assert.NotEqual(initial, Forward(net, flat));
            Assert.Equal(Forward(trained, flat), Forward(net, flat));
            Assert.Equal(trained.Buffers, net.Buffers);
            Assert.Equal(trained.Counters, net.Counters);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Folded_inference_gives_the_same_bits_on_1_2_and_3_threads()
    {
        float[]? expected = null;
        for (int threads = 1; threads <= 3; threads++)
        {
            var net = new FoldedConvNet { DegreeOfParallelism = threads };
            Train(net, 13, 2);
            (float[] flat, _) = Batch(net, 37, 14); // chunks of 16, 16 and 5
            var outputs = new float[37 * FoldedConvNet.OutputLength];
            net.ForwardBatch(flat, outputs);
            if (expected is null)
            {
                expected = outputs;
                continue;
            }

            Assert.True(expected.AsSpan().SequenceEqual(outputs), $"{threads} threads: other outputs");
        }
    }

    [Fact]
    public void A_clone_folds_from_its_own_copies()
    {
        var net = new FoldedConvNet();
        Train(net, 21, 2);
        (float[] flat, int[] labels) = Batch(net, 6, 22);
        float[] input = flat.AsSpan(0, FoldedConvNet.InputLength).ToArray();
        float[] original = Forward(net, input); // folds the original's weights

        FoldedConvNet clone = net.Clone();
        Assert.Equal(original, Forward(clone, input));

        clone.TrainBatch(flat, labels); // the clone's running statistics move; the original's stay
        float[] cloned = Forward(clone, input);
        Assert.NotEqual(original, cloned);
        AssertClose(Expected(FoldedConvGraph, clone, clone.Buffers, input, 4, 8, 8)[0], cloned, "the clone after TrainBatch");
        Assert.Equal(original, Forward(net, input));
    }
}
