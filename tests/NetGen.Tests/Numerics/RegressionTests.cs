using System;
using System.Collections.Generic;
using System.Linq;
using NetGen.Tests.Networks;
using Xunit;
using static NetGen.Tests.Numerics.Reference;

namespace NetGen.Tests.Numerics;

/// <summary>
/// The [MeanSquaredError] head: the output is the raw output; TrainSample, Loss and TrainBatch take target values and
/// minimize PyTorch's MSELoss (the mean over the output's elements and the batch), checked against the double-precision
/// reference's central differences.
/// </summary>
public class RegressionTests
{
    public static IEnumerable<object[]> Networks()
    {
        yield return [new RegressionNet(), new Node[] { new(new Conv(3, 3, 3, 1, 1), -1), new(new Relu(), 0), new(new Dense(3), 1), new(new MeanSquaredError(), 2) }];
        yield return [new MapRegressionNet(), new Node[] { new(new Conv(2, 3, 3), -1), new(new Conv(2, 3, 3), -1), new(new Add(), 1, 0), new(new MeanSquaredError(), 2) }];
    }

    private static (float[][] Inputs, float[] Flat, float[][] Targets, float[] FlatTargets) Batch(IRegressionNetwork net, int count, int seed)
    {
        float[] flat = TestData.Uniform(count * net.InputLength, seed);
        float[] flatTargets = TestData.Uniform(count * net.OutputLength, seed + 1, 2f);
        return (Enumerable.Range(0, count).Select(s => flat.AsSpan(s * net.InputLength, net.InputLength).ToArray()).ToArray(), flat,
            Enumerable.Range(0, count).Select(s => flatTargets.AsSpan(s * net.OutputLength, net.OutputLength).ToArray()).ToArray(), flatTargets);
    }

    private static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-5 + 1e-3 * Math.Abs(expected[i]), $"{what}[{i}]: reference {expected[i]}, generated {actual[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Forward_gives_the_raw_output(IRegressionNetwork net, Node[] graph)
    {
        net.InitializeParameters(1);
        (float[][] inputs, _, _, _) = Batch(net, 1, 2);
        double[] expected = ForwardBatch(graph, net.Parameters.Select(v => (double)v).ToArray(), [inputs[0].Select(v => (double)v).ToArray()],
            net.InputChannels, net.InputHeight, net.InputWidth, Mode.Inference)[0];
        var output = new float[net.OutputLength];
        net.Forward(inputs[0], output);
        AssertClose(expected, output, "output");
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void TrainSample_and_Loss_minimize_the_mean_squared_error(IRegressionNetwork net, Node[] graph)
    {
        net.InitializeParameters(3);
        (float[][] inputs, _, float[][] targets, _) = Batch(net, 1, 4);
        (double loss, double[] gradients, double[][] inputGradients) = RegressionGradients(graph, net.Parameters, inputs, targets,
            net.InputChannels, net.InputHeight, net.InputWidth);
        net.ZeroGradients();
        Assert.Equal(loss, net.TrainSample(inputs[0], targets[0]), 1e-5);
        AssertClose(gradients, net.Gradients, "dL/dθ");
        AssertClose(inputGradients[0], net.InputGradient, "dL/dinput");
        Assert.Equal(loss, net.Loss(inputs[0], targets[0]), 1e-5);
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void TrainBatch_takes_the_mean_over_the_batch_and_is_the_same_on_1_2_and_3_threads(IRegressionNetwork net, Node[] graph)
    {
        (float[][] inputs, float[] flat, float[][] targets, float[] flatTargets) = Batch(net, 37, 6);
        float[]? first = null;
        for (int threads = 1; threads <= 3; threads++)
        {
            net.DegreeOfParallelism = threads;
            net.InitializeParameters(5);
            float loss = net.TrainBatch(flat, flatTargets);
            if (first is null)
            {
                (double expected, double[] gradients, _) = RegressionGradients(graph, net.Parameters, inputs, targets,
                    net.InputChannels, net.InputHeight, net.InputWidth);
                Assert.Equal(expected, loss, 1e-5);
                AssertClose(gradients, net.Gradients, "dL/dθ");
                first = net.Gradients.ToArray();
                continue;
            }

            Assert.True(first.AsSpan().SequenceEqual(net.Gradients), $"{threads} threads: other gradients");
        }
    }

    [Fact]
    public void A_target_of_the_wrong_length_is_an_error_naming_the_expected_length()
    {
        var net = new RegressionNet();
        net.InitializeParameters(1);
        var sample = Assert.Throws<ArgumentException>(() => net.TrainSample(new float[RegressionNet.InputLength], new float[2]));
        Assert.Equal("target", sample.ParamName);
        Assert.Contains("3", sample.Message);
        var batch = Assert.Throws<ArgumentException>(() => net.TrainBatch(new float[2 * RegressionNet.InputLength], new float[5]));
        Assert.Equal("targets", batch.ParamName);
        Assert.Contains("targets of n × 3", batch.Message);
    }
}
