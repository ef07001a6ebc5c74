using System;
using System.Threading;
using NetGen.Tests.Networks;
using NetGen.Tests.Numerics;
using Xunit;

namespace NetGen.Tests.Serving;

/// <summary><see cref="Predictor{TNetwork}"/>: concurrent inference over clones, equal to one instance's, allocating nothing.</summary>
public sealed class PredictorTests
{
    private const int Samples = 1000;

    private static ServingNet Trained()
    {
        var net = new ServingNet();
        net.InitializeParameters(seed: 11);
        return net;
    }

    [Fact]
    public void Eight_threads_predict_bit_for_bit_what_one_instance_does_and_allocate_nothing()
    {
        ServingNet net = Trained();
        float[] inputs = TestData.Uniform(Samples * ServingNet.InputLength, seed: 12);
        var classes = new int[Samples];
        var probabilities = new float[Samples * ServingNet.OutputLength];
        for (int i = 0; i < Samples; i++)
        {
            classes[i] = net.Predict(inputs.AsSpan(i * ServingNet.InputLength, ServingNet.InputLength));
            net.Forward(inputs.AsSpan(i * ServingNet.InputLength, ServingNet.InputLength), probabilities.AsSpan(i * ServingNet.OutputLength, ServingNet.OutputLength));
        }

        Assert.True(new System.Collections.Generic.HashSet<int>(classes).Count > 1, "the test inputs fall into one class: the comparison would prove little");

        // Fewer instances than threads, so that calls wait for one another as well as run side by side.
        var predictor = new Predictor<ServingNet>(net, instances: 3);
        const int Threads = 8, Calls = 10_000, WarmUp = 100;
        var mismatches = new int[Threads];
        var allocated = new long[Threads];
        using var start = new ManualResetEventSlim();
        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int thread = t;
            threads[t] = new Thread(() =>
            {
                var output = new float[ServingNet.OutputLength];
                start.Wait();
                long before = 0;
                for (int call = 0; call < Calls; call++)
                {
                    if (call == WarmUp)
                    {
                        before = GC.GetAllocatedBytesForCurrentThread();
                    }

                    // Each thread walks the samples in its own order.
                    int i = (call * 7 + thread * 131) % Samples;
                    ReadOnlySpan<float> input = inputs.AsSpan(i * ServingNet.InputLength, ServingNet.InputLength);
                    int predicted = predictor.Predict(input);
                    predictor.Forward(input, output);
                    if (predicted != classes[i] || !output.AsSpan().SequenceEqual(probabilities.AsSpan(i * ServingNet.OutputLength, ServingNet.OutputLength)))
                    {
                        mismatches[thread]++;
                    }
                }

                allocated[thread] = GC.GetAllocatedBytesForCurrentThread() - before;
            });
            threads[t].Start();
        }

        start.Set();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        Assert.Equal(new int[Threads], mismatches);
        Assert.Equal(new long[Threads], allocated);
    }

    [Fact]
    public void A_call_after_warm_up_allocates_nothing()
    {
        var predictor = new Predictor<ServingNet>(Trained());
        float[] input = TestData.Uniform(ServingNet.InputLength, seed: 13);
        var output = new float[ServingNet.OutputLength];
        predictor.Predict(input);
        predictor.Forward(input, output);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            predictor.Predict(input);
            predictor.Forward(input, output);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_predictor_holds_clones_a_snapshot_of_the_prototype()
    {
        ServingNet net = Trained();
        float[] input = TestData.Uniform(ServingNet.InputLength, seed: 14);
        var expected = new float[ServingNet.OutputLength];
        net.Forward(input, expected);

        var predictor = new Predictor<ServingNet>(net);
        Assert.Equal(Environment.ProcessorCount, predictor.InstanceCount);
        Assert.Equal(ServingNet.InputLength, predictor.InputLength);
        Assert.Equal(ServingNet.OutputLength, predictor.OutputLength);

        // Changing the prototype afterwards does not reach the predictor, and the prototype stays usable on its own.
        net.InitializeParameters(seed: 15);
        var output = new float[ServingNet.OutputLength];
        predictor.Forward(input, output);
        Assert.Equal(expected, output);
        net.Forward(input, output);
        Assert.NotEqual(expected, output);
    }

    [Fact]
    public void A_predictor_serves_a_regression_network_through_Forward()
    {
        var net = new RegressionNet();
        net.InitializeParameters(seed: 16);
        float[] input = TestData.Uniform(RegressionNet.InputLength, seed: 17);
        var expected = new float[RegressionNet.OutputLength];
        net.Forward(input, expected);

        var typed = new Predictor<RegressionNet>(net, instances: 2);
        var output = new float[RegressionNet.OutputLength];
        typed.Forward(input, output);
        Assert.Equal(expected, output);
        var error = Assert.Throws<InvalidOperationException>(() => typed.Predict(input));
        Assert.Contains("regression network", error.Message);

        // Over the interface too: the clones are whatever class the prototype is.
        var untyped = new Predictor<INeuralNetwork>(net, instances: 2);
        Array.Clear(output);
        untyped.Forward(input, output);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void A_failed_call_gives_its_instance_back()
    {
        var predictor = new Predictor<INetwork>(Trained(), instances: 1);
        float[] input = TestData.Uniform(ServingNet.InputLength, seed: 18);
        Assert.Throws<ArgumentException>(() => predictor.Predict(new float[5]));
        Assert.Throws<ArgumentException>(() => predictor.Forward(input, new float[2]));

        // The one instance is free again: this call gets it (it would wait for ever otherwise).
        Assert.Equal(Trained().Predict(input), predictor.Predict(input));
    }

    [Fact]
    public void A_predictor_needs_an_instance()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Predictor<ServingNet>(Trained(), instances: 0));
        Assert.Throws<ArgumentNullException>(() => new Predictor<ServingNet>(null!));
    }

    /// <summary>The cores are shared out among the instances, so concurrent calls do not split layers onto each other's threads.</summary>
    [Fact]
    public void Each_instance_gets_its_share_of_the_cores()
    {
        var prototype = new SplitUnfoldDenseNet { DegreeOfParallelism = 64 };
        prototype.InitializeParameters(3);
        Assert.Equal(1, new Predictor<SplitUnfoldDenseNet>(prototype, Environment.ProcessorCount).DegreeOfParallelism);
        Assert.Equal(1, new Predictor<SplitUnfoldDenseNet>(prototype, 4 * Environment.ProcessorCount).DegreeOfParallelism);
        var single = new Predictor<SplitUnfoldDenseNet>(prototype, 1);
        Assert.Equal(Environment.ProcessorCount, single.DegreeOfParallelism);
        prototype.DegreeOfParallelism = 1;
        Assert.Equal(1, new Predictor<SplitUnfoldDenseNet>(prototype, 1).DegreeOfParallelism);

        // Whatever the threads, the same bits as the prototype.
        float[] input = TestData.Uniform(SplitUnfoldDenseNet.InputLength, 4);
        var expected = new float[SplitUnfoldDenseNet.OutputLength];
        var actual = new float[SplitUnfoldDenseNet.OutputLength];
        prototype.Forward(input, expected);
        single.Forward(input, actual);
        Assert.Equal(expected, actual);
    }
}
