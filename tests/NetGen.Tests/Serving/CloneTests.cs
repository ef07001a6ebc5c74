using System;
using NetGen.Tests.Networks;
using NetGen.Tests.Numerics;
using Xunit;

namespace NetGen.Tests.Serving;

/// <summary><c>Clone()</c> gives an instance that starts equal to the original and shares nothing mutable with it.</summary>
public sealed class CloneTests
{
    private static void Step(INeuralNetwork net, float learningRate = 0.1f)
    {
        float[] parameters = net.Parameters, gradients = net.Gradients;
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i] -= learningRate * gradients[i];
        }
    }

    [Fact]
    public void A_clone_starts_equal_and_trains_without_changing_the_original()
    {
        var net = new ServingNet();
        net.InitializeParameters(seed: 3);
        float[] input = TestData.Uniform(ServingNet.InputLength, seed: 4);
        net.TrainSample(input, 1);
        net.DegreeOfParallelism = 1;

        ServingNet clone = net.Clone();

        Assert.NotSame(net, clone);
        Assert.NotSame(net.Parameters, clone.Parameters);
        Assert.NotSame(net.Gradients, clone.Gradients);
        Assert.Equal(net.Parameters, clone.Parameters);
        Assert.Equal(net.Gradients, clone.Gradients);
        Assert.Equal(net.InputGradient.ToArray(), clone.InputGradient.ToArray());
        Assert.Equal(1, clone.DegreeOfParallelism);
        float[] original = Forward(net, input);
        Assert.Equal(original, Forward(clone, input));

        // Train the clone: the original's parameters, gradients and outputs stay as they were.
        float[] parameters = (float[])net.Parameters.Clone(), gradients = (float[])net.Gradients.Clone();
        float[] batch = TestData.Uniform(4 * ServingNet.InputLength, seed: 5);
        clone.TrainBatch(batch, [0, 1, 2, 3]);
        Step(clone);
        clone.TrainSample(batch.AsSpan(0, ServingNet.InputLength), 4);
        clone.DegreeOfParallelism = 2;
        Assert.Equal(parameters, net.Parameters);
        Assert.Equal(gradients, net.Gradients);
        Assert.Equal(original, Forward(net, input));
        Assert.Equal(1, net.DegreeOfParallelism);
        Assert.NotEqual(original, Forward(clone, input));

        // And the other way round.
        float[] cloneParameters = (float[])clone.Parameters.Clone(), cloneOutput = Forward(clone, input);
        net.InitializeParameters(seed: 99);
        Assert.Equal(cloneParameters, clone.Parameters);
        Assert.Equal(cloneOutput, Forward(clone, input));
    }

    [Fact]
    public void A_clone_copies_the_running_statistics_and_counters()
    {
        var net = new BatchNormNet();
        net.InitializeParameters(seed: 1);
        float[] batch = TestData.Uniform(6 * BatchNormNet.InputLength, seed: 2);
        int[] labels = [0, 1, 2, 3, 0, 1];
        net.TrainBatch(batch, labels);
        net.TrainBatch(batch, labels);
        Assert.Equal(2, net.Counters[0]);

        BatchNormNet clone = net.Clone();

        Assert.NotSame(net.Buffers, clone.Buffers);
        Assert.NotSame(net.Counters, clone.Counters);
        Assert.Equal(net.Buffers, clone.Buffers);
        Assert.Equal(net.Counters, clone.Counters);
        float[] input = batch.AsSpan(0, BatchNormNet.InputLength).ToArray();
        float[] original = Forward(net, input);
        Assert.Equal(original, Forward(clone, input)); // inference reads the running statistics

        float[] buffers = (float[])net.Buffers.Clone();
        clone.TrainBatch(batch, labels);
        Assert.Equal(buffers, net.Buffers);
        Assert.Equal(2, net.Counters[0]);
        Assert.Equal(3, clone.Counters[0]);
        Assert.NotEqual(buffers, clone.Buffers);
        Assert.Equal(original, Forward(net, input));
    }

    [Fact]
    public void A_clone_draws_the_same_dropout_masks_as_the_original_from_where_it_was()
    {
        var net = new DropoutNet();
        net.InitializeParameters(seed: 5);
        float[] batch = TestData.Uniform(4 * DropoutNet.InputLength, seed: 6);
        int[] labels = [0, 1, 2, 0];
        net.TrainBatch(batch, labels);

        DropoutNet clone = net.Clone();
        Assert.Equal(net.TrainingStep, clone.TrainingStep);

        // The same seed and step: the same masks, so the same loss and gradients bit for bit.
        float loss = net.TrainBatch(batch, labels), cloneLoss = clone.TrainBatch(batch, labels);
        Assert.Equal(loss, cloneLoss);
        Assert.Equal(net.Gradients, clone.Gradients);
        Assert.Equal(2, net.TrainingStep);

        clone.TrainBatch(batch, labels);
        Assert.Equal(3, clone.TrainingStep);
        Assert.Equal(2, net.TrainingStep);
    }

    [Fact]
    public void Clone_through_the_interfaces_returns_the_network_class()
    {
        var classifier = new ServingNet();
        classifier.InitializeParameters(seed: 2);
        INeuralNetwork cloned = ((INetwork)classifier).Clone();
        Assert.IsType<ServingNet>(cloned);
        Assert.Equal(classifier.Parameters, cloned.Parameters);

        var regression = new RegressionNet();
        regression.InitializeParameters(seed: 2);
        Assert.IsType<RegressionNet>(((IRegressionNetwork)regression).Clone());
    }

    private static float[] Forward(INeuralNetwork net, float[] input)
    {
        var output = new float[net.OutputLength];
        net.Forward(input, output);
        return output;
    }
}
