using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NetGen.Optimizers;
using NetGen.Tests.Networks;
using NetGen.Tests.Numerics;
using Xunit;

namespace NetGen.Tests.Training;

public class BatchTests
{
    internal static (float[] Inputs, int[] Labels) Batch(int count, int seed)
    {
        float[] inputs = TestData.Uniform(count * LeNet5.InputLength, seed);
        var random = new SeededRandom(seed);
        int[] labels = Enumerable.Range(0, count).Select(_ => random.NextInt32(LeNet5.OutputLength)).ToArray();
        return (inputs, labels);
    }

    /// <summary>
    /// A batch's mean loss and gradients are the mean of <paramref name="single"/>'s <c>TrainSample</c> over the same samples
    /// (the same products, summed in chunks rather than in one run: equal up to float rounding).
    /// </summary>
    internal static void AssertMeanOfSamples(INetwork single, float[] inputs, int[] labels, float meanLoss, ReadOnlySpan<float> gradients)
    {
        single.ZeroGradients();
        double lossSum = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            lossSum += single.TrainSample(inputs.AsSpan(i * single.InputLength, single.InputLength), labels[i]);
        }

        Assert.Equal(lossSum / labels.Length, meanLoss, 1e-5);
        for (int p = 0; p < single.ParameterCount; p++)
        {
            float expected = single.Gradients[p] / labels.Length;
            Assert.True(Math.Abs(expected - gradients[p]) <= 1e-6 + 1e-4 * Math.Abs(expected), $"gradient {p}: {expected} vs {gradients[p]}");
        }
    }

    private static float[] Train(int threads, int steps, int batchSize)
    {
        var net = new LeNet5 { DegreeOfParallelism = threads };
        net.InitializeParameters(5);
        var sgd = new Sgd(0.05f, momentum: 0.9f);
        for (int step = 0; step < steps; step++)
        {
            (float[] inputs, int[] labels) = Batch(batchSize, 100 + step);
            net.TrainBatch(inputs, labels);
            sgd.Step(net.Parameters, net.Gradients);
        }

        return net.Parameters.ToArray();
    }

    [Fact]
    public void Training_is_bit_identical_for_1_2_and_3_threads()
    {
        // 75 samples: four full chunks of 16 and a partial one, spread differently over 1, 2 and 3 threads.
        float[] one = Train(1, 6, 75);
        float[] two = Train(2, 6, 75);
        float[] three = Train(3, 6, 75);
        Assert.True(one.AsSpan().SequenceEqual(two), "1 and 2 threads differ");
        Assert.True(one.AsSpan().SequenceEqual(three), "1 and 3 threads differ");
        Assert.False(one.AsSpan().SequenceEqual(Train(1, 5, 75)), "training must have changed the parameters");
    }

    [Fact]
    public void A_network_with_a_dense_weight_larger_than_L2_trains_in_chunks_of_32_with_the_same_guarantees()
    {
        // 75 samples: chunks of 32, 32 and 11, spread differently over 1, 2 and 3 threads: the same bits.
        float[] inputs = TestData.Uniform(75 * LargeDenseNet.InputLength, 4);
        int[] labels = Enumerable.Range(0, 75).Select(i => i % LargeDenseNet.OutputLength).ToArray();
        float[][] gradients = new float[3][];
        float[] losses = new float[3];
        for (int threads = 1; threads <= 3; threads++)
        {
            var net = new LargeDenseNet { DegreeOfParallelism = threads };
            net.InitializeParameters(8);
            losses[threads - 1] = net.TrainBatch(inputs, labels);
            gradients[threads - 1] = net.Gradients.ToArray();
        }

        Assert.True(gradients[0].AsSpan().SequenceEqual(gradients[1]), "1 and 2 threads differ");
        Assert.True(gradients[0].AsSpan().SequenceEqual(gradients[2]), "1 and 3 threads differ");
        Assert.Equal(losses[0], losses[2]);

        // And the batch's mean is the mean of the single-sample gradients, up to float rounding.
        var single = new LargeDenseNet();
        single.InitializeParameters(8);
        AssertMeanOfSamples(single, inputs, labels, losses[0], gradients[0]);
    }

    [Fact]
    public async Task Training_goes_on_after_the_worker_threads_idled_out()
    {
        // The batch engine's worker threads exit after 2 s without work (ParallelRunner.IdleMilliseconds) and are
        // started again by the next batch; the results must not notice.
        var one = new LeNet5 { DegreeOfParallelism = 1 };
        var two = new LeNet5 { DegreeOfParallelism = 2 };
        one.InitializeParameters(3);
        two.InitializeParameters(3);
        (float[] inputs, int[] labels) = Batch(75, 9);
        for (int round = 0; round < 2; round++)
        {
            one.TrainBatch(inputs, labels);
            Task step = Task.Run(() => two.TrainBatch(inputs, labels));
            Assert.True(await Task.WhenAny(step, Task.Delay(TimeSpan.FromSeconds(60))) == step, $"round {round}: TrainBatch did not finish");
            await step;
            Assert.True(one.Gradients.SequenceEqual(two.Gradients), $"round {round}: 1 and 2 threads differ");
            await Task.Delay(TimeSpan.FromSeconds(2.5));
        }
    }

    [Fact]
    public void TrainBatch_gives_the_mean_of_the_samples_loss_and_gradients()
    {
        (float[] inputs, int[] labels) = Batch(37, 7);
        var batch = new LeNet5 { DegreeOfParallelism = 2 };
        batch.InitializeParameters(1);
        batch.Gradients.AsSpan().Fill(123f); // overwritten, not added to
        float meanLoss = batch.TrainBatch(inputs, labels);

        var single = new LeNet5();
        single.InitializeParameters(1);
        AssertMeanOfSamples(single, inputs, labels, meanLoss, batch.Gradients);
    }

    [Fact]
    public void ForwardBatch_and_PredictBatch_match_the_single_sample_calls()
    {
        (float[] inputs, _) = Batch(40, 3);
        var net = new LeNet5 { DegreeOfParallelism = 3 };
        net.InitializeParameters(2);
        var probabilities = new float[40 * LeNet5.OutputLength];
        var predictions = new int[40];
        net.ForwardBatch(inputs, probabilities);
        net.PredictBatch(inputs, predictions);
        var one = new float[LeNet5.OutputLength];
        for (int i = 0; i < 40; i++)
        {
            net.Forward(inputs.AsSpan(i * LeNet5.InputLength, LeNet5.InputLength), one);
            Assert.True(one.AsSpan().SequenceEqual(probabilities.AsSpan(i * LeNet5.OutputLength, LeNet5.OutputLength)), $"sample {i}");
            Assert.Equal(net.Predict(inputs.AsSpan(i * LeNet5.InputLength, LeNet5.InputLength)), predictions[i]);
        }
    }

    /// <summary>
    /// A dense weight larger than L2 makes a chunk's forward pass one product with the samples in the vector lanes, which
    /// sums in another order than <c>Forward</c>'s dot products: the same probabilities to rounding; a chunk of one sample
    /// (33 = 32 + 1) takes the dot products, so its probabilities are <c>Forward</c>'s bit for bit.
    /// </summary>
    [Fact]
    public void ForwardBatch_through_a_large_dense_layer_matches_Forward_to_rounding()
    {
        const int count = 33;
        float[] inputs = TestData.Uniform(count * LargeDenseNet.InputLength, 12);
        var net = new LargeDenseNet { DegreeOfParallelism = 2 };
        net.InitializeParameters(3);
        var probabilities = new float[count * LargeDenseNet.OutputLength];
        net.ForwardBatch(inputs, probabilities);
        var one = new float[LargeDenseNet.OutputLength];
        for (int i = 0; i < count; i++)
        {
            net.Forward(inputs.AsSpan(i * LargeDenseNet.InputLength, LargeDenseNet.InputLength), one);
            ReadOnlySpan<float> batch = probabilities.AsSpan(i * LargeDenseNet.OutputLength, LargeDenseNet.OutputLength);
            for (int c = 0; c < one.Length; c++)
            {
                Assert.True(Math.Abs(one[c] - batch[c]) <= 1e-6f, $"sample {i}, class {c}: {batch[c]} in the batch, {one[c]} alone");
            }

            if (i == count - 1)
            {
                Assert.True(one.AsSpan().SequenceEqual(batch), "the chunk of one sample");
            }
        }
    }

    [Fact]
    public void Separate_instances_can_train_on_separate_threads_at_once()
    {
        // The documented rule: one instance per thread. Instances share nothing, so concurrent training
        // gives exactly the sequential result.
        float[] expected = Train(2, 3, 40);
        float[][] results = new float[4][];
        Parallel.For(0, 4, i => results[i] = Train(2, 3, 40));
        Assert.All(results, r => Assert.True(expected.AsSpan().SequenceEqual(r)));
    }

    [Fact]
    public void Batch_arguments_are_checked()
    {
        var net = new LeNet5();
        (float[] inputs, int[] labels) = Batch(4, 1);
        var e = Assert.Throws<ArgumentException>(() => net.TrainBatch(inputs.AsSpan(1), labels));
        Assert.Contains("Expected 4 × 784 = 3136 floats in 'inputs'", e.Message);
        Assert.Throws<ArgumentException>(() => net.TrainBatch([], []));
        labels[2] = 10;
        var label = Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainBatch(inputs, labels));
        Assert.Contains("labels[2] = 10 is not a class from 0 to 9", label.Message);
        Assert.Throws<ArgumentException>(() => net.ForwardBatch(inputs, new float[39]));
        Assert.Throws<ArgumentException>(() => net.PredictBatch(inputs, new int[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.DegreeOfParallelism = 0);
    }

    [Fact]
    public void Single_sample_arguments_are_checked()
    {
        var net = new LeNet5();
        var input = new float[LeNet5.InputLength];
        var e = Assert.Throws<ArgumentException>(() => net.Forward(input.AsSpan(1), new float[10]));
        Assert.Contains("Expected 784 floats in 'input', got 783", e.Message);
        Assert.Throws<ArgumentException>(() => net.Forward(input, new float[9]));
        Assert.Throws<ArgumentException>(() => net.Predict(new float[785]));
        var label = Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainSample(input, -1));
        Assert.Contains("from 0 to 9; got -1", label.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => net.Loss(input, 10));
    }

}

public class WeightsFileTests
{
    [Fact]
    public void Save_and_Load_round_trip_through_a_safetensors_file_with_PyTorch_names()
    {
        string path = Path.Combine(Path.GetTempPath(), $"netgen-{Guid.NewGuid():N}.safetensors");
        try
        {
            var a = new LeNet5();
            a.InitializeParameters(9);
            a.Save(path);
            var b = new LeNet5();
            b.Load(path);
            Assert.Equal(a.Parameters, b.Parameters);
            Assert.Equal(["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "dense1.weight", "dense1.bias", "dense2.weight", "dense2.bias", "dense3.weight", "dense3.bias"],
                LeNet5.ParameterLayout.Select(t => t.Name));
            Assert.Equal([16, 6, 5, 5], LeNet5.ParameterLayout[2].Shape.ToArray());

            // A file of another architecture is rejected and changes nothing.
            var other = new MixedNet();
            other.InitializeParameters(1);
            other.Save(path);
            float[] before = b.Parameters.ToArray();
            var e = Assert.Throws<InvalidDataException>(() => b.Load(path));
            Assert.Contains("conv1.weight", e.Message);
            Assert.Equal(before, b.Parameters);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>Runs alone: the worker threads' count is process-wide, and other tests' batch engines would add to it.</summary>
[CollectionDefinition(nameof(AllocationTests), DisableParallelization = true)]
public sealed class AllocationCollection { }

[Collection(nameof(AllocationTests))]
public class AllocationTests
{
    [Fact]
    public void Steady_state_calls_allocate_nothing()
    {
        var net = new LeNet5 { DegreeOfParallelism = 2 };
        net.InitializeParameters(1);
        (float[] inputs, int[] labels) = BatchTests.Batch(64, 2);
        var probabilities = new float[64 * 10];
        for (int i = 0; i < 3; i++)
        {
            net.TrainBatch(inputs, labels); // warm-up of every call measured below: buffers, workspaces, worker threads
            net.ForwardBatch(inputs, probabilities);
            net.TrainSample(inputs.AsSpan(0, LeNet5.InputLength), labels[0]);
        }

        // The calling thread runs its share of the chunks, the engine's worker the rest: both counted, and nothing else
        // in the test process (whose own threads, the test runner's among them, allocate at their own pace).
        long callerBefore = GC.GetAllocatedBytesForCurrentThread(), workersBefore = NetGen.Training.WorkerThreads.AllocatedBytes;
        for (int i = 0; i < 5; i++)
        {
            net.TrainBatch(inputs, labels);
            net.ForwardBatch(inputs, probabilities);
            net.TrainSample(inputs.AsSpan(0, LeNet5.InputLength), labels[0]);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - callerBefore + (NetGen.Training.WorkerThreads.AllocatedBytes - workersBefore);
        Assert.True(allocated == 0, $"{allocated} bytes allocated by the caller and the workers in 15 steady-state calls");
    }
}
