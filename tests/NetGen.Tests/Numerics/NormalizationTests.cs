using System;
using System.IO;
using System.Linq;
using NetGen.Tests.Networks;
using Xunit;
using static NetGen.Tests.Numerics.Reference;

namespace NetGen.Tests.Numerics;

/// <summary>
/// BatchNorm2D and Dropout against the double-precision reference run over whole batches: inference with the running
/// statistics, training with the batch's statistics (loss, mean gradients by central differences of the reference batch
/// loss, the running statistics and batch count after the step), batches of one, the same bits on 1, 2 and 3 threads, and
/// dropout masks that depend on the step only.
/// </summary>
public class NormalizationTests
{
    private static readonly Node[] BatchNormGraph =
    [
        new(new Conv(3, 3, 3, 1, 1), -1), new(new BatchNorm(1e-3, 0.3), 0), new(new Relu(), 1),
        new(new Dense(4), 2), new(new BatchNorm(), 3), new(new Softmax(), 4),
    ];

    private static readonly Node[] DropoutGraph =
    [
        new(new Conv(3, 3, 3, 1, 1), -1), new(new Dropout(0.3f, 1), 0), new(new Dense(6), 1), new(new Relu(), 2),
        new(new Dropout(0.5f, 4), 3), new(new Dense(3), 4), new(new Softmax(), 5),
    ];

    private static readonly Node[] ResidualGraph =
    [
        new(new Conv(4, 3, 3, 1, 1), -1), new(new BatchNorm(), 0), new(new Relu(), 1), // stem
        new(new Conv(4, 3, 3, 1, 1), 2), new(new BatchNorm(), 3), new(new Add(), 4, 2), new(new Relu(), 5),
        new(new Dropout(0.25f, 7), 6), new(new Dense(3), 7), new(new Softmax(), 8),
    ];

    private static readonly Node[] WinogradTrainingGraph =
    [
        new(new Conv(32, 3, 3, 1, 1, Bias: false), -1), new(new BatchNorm(), 0), new(new Relu(), 1), // conv1, bn, a
        new(new Conv(32, 3, 3, 1, 1), 2), new(new BatchNorm(), 3), new(new Add(), 4, 2), new(new Relu(), 5), // conv2, bn, add, relu
        new(new GlobalAvgPool(), 6), new(new Dense(3), 7), new(new Softmax(), 8),
    ];

    /// <summary>Parameters from the initializer plus noise (γ away from 1, β away from 0), and running statistics away from 0 and 1.</summary>
    private static void Initialize(INetwork network, int seed, float[]? buffers = null, System.Collections.Generic.IReadOnlyList<NetGen.Weights.TensorSlot>? layout = null)
    {
        network.InitializeParameters(seed);
        float[] noise = TestData.Uniform(network.ParameterCount, seed + 100, 0.2f);
        for (int i = 0; i < noise.Length; i++)
        {
            network.Parameters[i] += noise[i];
        }

        if (buffers is not null)
        {
            float[] values = TestData.Uniform(buffers.Length, seed + 200, 0.5f);
            foreach (NetGen.Weights.TensorSlot slot in layout!)
            {
                bool variance = slot.Name.EndsWith("running_var", StringComparison.Ordinal);
                for (int i = slot.Offset; i < slot.Offset + slot.Length; i++)
                {
                    buffers[i] = variance ? 1f + values[i] : values[i]; // means around 0, variances from 0.5 to 1.5
                }
            }
        }
    }

    private static (float[][] Inputs, float[] Flat, int[] Labels) Batch(INetwork network, int count, int seed)
    {
        float[] flat = TestData.Uniform(count * network.InputLength, seed);
        float[][] inputs = Enumerable.Range(0, count).Select(s => flat.AsSpan(s * network.InputLength, network.InputLength).ToArray()).ToArray();
        int[] labels = Enumerable.Range(0, count).Select(s => (s * 5 + seed) % network.OutputLength).ToArray();
        return (inputs, flat, labels);
    }

    private static double[] Doubles(ReadOnlySpan<float> values) => values.ToArray().Select(v => (double)v).ToArray();

    private static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what, double absolute = 3e-5, double relative = 2e-3)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (double.IsNaN(expected[i]))
            {
                continue; // not differenced (see Reference.TrainingGradients)
            }

            Assert.True(Math.Abs(expected[i] - actual[i]) <= absolute + relative * Math.Abs(expected[i]), $"{what}[{i}]: reference {expected[i]}, generated {actual[i]}");
        }
    }

    [Fact]
    public void BatchNorm_inference_uses_the_running_statistics()
    {
        var net = new BatchNormNet();
        Initialize(net, 1, net.Buffers, BatchNormNet.BufferLayout);
        (float[][] inputs, _, _) = Batch(net, 3, 7);
        foreach (float[] input in inputs)
        {
            double[] expected = ForwardBatch(BatchNormGraph, Doubles(net.Parameters), [Doubles(input)], 2, 5, 7, new Mode(false, Doubles(net.Buffers)))[0];
            var actual = new float[BatchNormNet.OutputLength];
            net.Forward(input, actual);
            AssertClose(expected, actual, "probabilities", 1e-5, 0);
        }
    }

    [Theory]
    [InlineData(37)] // chunks of 16, 16 and 5
    [InlineData(2)]
    public void BatchNorm_TrainBatch_normalizes_with_the_whole_batch_and_updates_the_running_statistics(int count)
    {
        var net = new BatchNormNet();
        Initialize(net, 2, net.Buffers, BatchNormNet.BufferLayout);
        (float[][] inputs, float[] flat, int[] labels) = Batch(net, count, 3);
        var mode = new Mode(true, Doubles(net.Buffers));
        (double loss, double[] gradients, _) = TrainingGradients(BatchNormGraph, net.Parameters, inputs, labels, 2, 5, 7, mode);

        float actual = net.TrainBatch(flat, labels);
        Assert.Equal(loss, actual, 1e-5);
        AssertClose(gradients, net.Gradients, "dL/dθ");
        AssertClose(mode.RunningStatistics, net.Buffers, "running statistics", 1e-6, 1e-5);
        Assert.Equal([1L, 1L], net.Counters);
        Assert.Equal(1L, net.Bn1NumBatchesTracked[0]);
    }

    [Fact]
    public void BatchNorm_TrainSample_is_a_batch_of_one()
    {
        var net = new NormalizedResidualNet();
        Initialize(net, 3, net.Buffers, NormalizedResidualNet.BufferLayout);
        (float[][] inputs, _, int[] labels) = Batch(net, 1, 4);
        var mode = new Mode(true, Doubles(net.Buffers), NetGen.Kernels.Dropout.Key(3, 0));
        (double loss, double[] gradients, double[][] inputGradients) = TrainingGradients(ResidualGraph, net.Parameters, inputs, labels, 2, 6, 6, mode);

        net.ZeroGradients();
        float actual = net.TrainSample(inputs[0], labels[0]);
        Assert.Equal(loss, actual, 1e-5);
        AssertClose(gradients, net.Gradients, "dL/dθ");
        AssertClose(inputGradients[0], net.InputGradient, "dL/dinput");
        AssertClose(mode.RunningStatistics, net.Buffers, "running statistics", 1e-6, 1e-5);
        Assert.Equal(1L, net.TrainingStep);
    }

    [Fact]
    public void A_residual_network_with_BatchNorm_and_dropout_trains_as_the_reference()
    {
        var net = new NormalizedResidualNet();
        Initialize(net, 4, net.Buffers, NormalizedResidualNet.BufferLayout);
        net.TrainingStep = 5;
        (float[][] inputs, float[] flat, int[] labels) = Batch(net, 21, 5);
        var mode = new Mode(true, Doubles(net.Buffers), NetGen.Kernels.Dropout.Key(4, 5));
        (double loss, double[] gradients, _) = TrainingGradients(ResidualGraph, net.Parameters, inputs, labels, 2, 6, 6, mode);

        Assert.Equal(loss, net.TrainBatch(flat, labels), 1e-5);
        AssertClose(gradients, net.Gradients, "dL/dθ");
        AssertClose(mode.RunningStatistics, net.Buffers, "running statistics", 1e-6, 1e-5);
        Assert.Equal(6L, net.TrainingStep);
    }

    [Fact]
    public void Convolutions_trained_by_Winograd_give_the_reference_loss_gradients_and_statistics()
    {
        // Each convolution's training forward pass runs its Winograd form over a transform of its weight made before the
        // call, and conv2's dL/dx (by Winograd) the turned weight's transform made then: the second call checks that a
        // changed weight (and bias) reaches them.
        var net = new WinogradTrainingNet();
        Initialize(net, 6, net.Buffers, WinogradTrainingNet.BufferLayout);
        for (int call = 0; call < 2; call++)
        {
            (float[][] inputs, float[] flat, int[] labels) = Batch(net, 3, 8 + call);
            var mode = new Mode(true, Doubles(net.Buffers));
            // Every 41st parameter differenced (each convolution's 9216 weights would take minutes): 41 is prime to the
            // kernel's 9 taps and the 32 channels, so every tap, channel and filter is checked.
            (double loss, double[] gradients, _) = TrainingGradients(WinogradTrainingGraph, net.Parameters, inputs, labels, 32, 4, 3, mode, every: 41);

            net.ZeroGradients();
            Assert.Equal(loss, net.TrainBatch(flat, labels), 1e-5);
            AssertClose(gradients, net.Gradients, $"call {call}: dL/dθ");
            AssertClose(mode.RunningStatistics, net.Buffers, $"call {call}: running statistics", 1e-6, 1e-5);
            new NetGen.Optimizers.Sgd(0.5f).Step(net.Parameters, net.Gradients);
        }

        // TrainSample, a batch of one, with dL/d(input): conv1's dL/dx makes its own turned weight's transform (a layer on
        // the network's input computes dL/dx only when asked), conv2's reads the one made before the call.
        (float[][] sample, _, int[] label) = Batch(net, 1, 11);
        var one = new Mode(true, Doubles(net.Buffers));
        (double sampleLoss, double[] sampleGradients, double[][] inputGradients) =
            TrainingGradients(WinogradTrainingGraph, net.Parameters, sample, label, 32, 4, 3, one, every: 41);
        net.ZeroGradients();
        Assert.Equal(sampleLoss, net.TrainSample(sample[0], label[0]), 1e-5);
        AssertClose(sampleGradients, net.Gradients, "TrainSample: dL/dθ");
        AssertClose(inputGradients[0], net.InputGradient, "TrainSample: dL/dinput");
    }

    [Fact]
    public void Dropout_trains_with_the_steps_masks_and_infers_without_them()
    {
        var net = new DropoutNet();
        Initialize(net, 6);
        (float[][] inputs, float[] flat, int[] labels) = Batch(net, 19, 6);
        var mode = new Mode(true, null, NetGen.Kernels.Dropout.Key(6, 0));
        (double loss, double[] gradients, _) = TrainingGradients(DropoutGraph, net.Parameters, inputs, labels, 2, 4, 5, mode);
        Assert.Equal(loss, net.TrainBatch(flat, labels), 1e-5);
        AssertClose(gradients, net.Gradients, "dL/dθ");

        double[] expected = ForwardBatch(DropoutGraph, Doubles(net.Parameters), [Doubles(inputs[0])], 2, 4, 5, Mode.Inference)[0];
        var probabilities = new float[DropoutNet.OutputLength];
        net.Forward(inputs[0], probabilities);
        AssertClose(expected, probabilities, "inference", 1e-5, 0);
    }

    [Fact]
    public void Dropout_masks_follow_the_step_which_can_be_set_back()
    {
        var net = new DropoutNet();
        Initialize(net, 8);
        (_, float[] flat, int[] labels) = Batch(net, 9, 8);
        float first = net.TrainBatch(flat, labels);
        float second = net.TrainBatch(flat, labels);
        Assert.Equal(2L, net.TrainingStep);
        Assert.NotEqual(first, second); // another step, other masks (same parameters: no optimizer ran)
        net.TrainingStep = 0;
        Assert.Equal(first, net.TrainBatch(flat, labels));
        net.InitializeParameters(8);
        Assert.Equal(0L, net.TrainingStep);
    }

    [Theory]
    [InlineData(typeof(BatchNormNet))]
    [InlineData(typeof(DropoutNet))]
    [InlineData(typeof(NormalizedResidualNet))]
    [InlineData(typeof(FoldedConvNet))]
    [InlineData(typeof(WinogradTrainingNet))]
    public void Training_gives_the_same_bits_on_1_2_and_3_threads(Type type)
    {
        float[]? gradients = null, buffers = null, parameters = null;
        for (int threads = 1; threads <= 3; threads++)
        {
            var net = (INetwork)Activator.CreateInstance(type)!;
            net.DegreeOfParallelism = threads;
            net.InitializeParameters(9);
            var sgd = new NetGen.Optimizers.Sgd(0.05f, momentum: 0.9f);
            (_, float[] flat, int[] labels) = Batch(net, 45, 10);
            for (int step = 0; step < 3; step++)
            {
                net.TrainBatch(flat, labels);
                sgd.Step(net.Parameters, net.Gradients);
            }

            float[] state = type == typeof(DropoutNet) ? [] : (float[])type.GetProperty("Buffers")!.GetValue(net)!;
            if (gradients is null)
            {
                (gradients, buffers, parameters) = (net.Gradients.ToArray(), state.ToArray(), net.Parameters.ToArray());
                continue;
            }

            Assert.True(gradients.AsSpan().SequenceEqual(net.Gradients), $"{threads} threads: other gradients");
            Assert.True(buffers.AsSpan().SequenceEqual(state), $"{threads} threads: other running statistics");
            Assert.True(parameters.AsSpan().SequenceEqual(net.Parameters), $"{threads} threads: other parameters");
        }
    }

    [Fact]
    public void BatchNorm_over_1x1_outputs_needs_two_samples_and_a_smaller_batch_changes_nothing()
    {
        var net = new BatchNormNet(); // its second BatchNorm follows a dense layer: 4 × 1 × 1 per sample
        net.InitializeParameters(1);
        float[] buffers = net.Buffers.ToArray(), parameters = net.Parameters.ToArray();
        var one = Assert.Throws<InvalidOperationException>(() => net.TrainSample(new float[BatchNormNet.InputLength], 0));
        Assert.Contains("bn2 (BatchNorm2D) needs 2 samples or more in a training batch (it normalizes with the batch's statistics, over more than one value per channel): TrainSample trains on one; use TrainBatch.", one.Message);
        var batch = Assert.Throws<ArgumentException>(() => net.TrainBatch(new float[BatchNormNet.InputLength], [0]));
        Assert.Contains("this one has 1", batch.Message);
        Assert.Equal(buffers, net.Buffers);
        Assert.Equal(parameters, net.Parameters);
        Assert.Equal([0L, 0L], net.Counters);
        Assert.InRange(net.Predict(new float[BatchNormNet.InputLength]), 0, BatchNormNet.OutputLength - 1); // inference still works
    }

    [Fact]
    public void Save_and_Load_keep_the_running_statistics_and_the_batch_count_under_PyTorchs_names()
    {
        var net = new BatchNormNet();
        Initialize(net, 11, net.Buffers, BatchNormNet.BufferLayout);
        (_, float[] flat, int[] labels) = Batch(net, 8, 11);
        net.TrainBatch(flat, labels);
        net.TrainBatch(flat, labels);
        string path = Path.Combine(Path.GetTempPath(), $"netgen-bn-{Guid.NewGuid():N}.safetensors");
        try
        {
            net.Save(path);
            var copy = new BatchNormNet();
            copy.Load(path);
            Assert.Equal(net.Parameters, copy.Parameters);
            Assert.Equal(net.Buffers, copy.Buffers);
            Assert.Equal([2L, 2L], copy.Counters);
            string header = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(path));
            Assert.Contains("\"bn1.running_mean\"", header);
            Assert.Contains("\"bn2.running_var\"", header);
            Assert.Contains("\"bn1.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[]", header.Replace(" ", ""));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
