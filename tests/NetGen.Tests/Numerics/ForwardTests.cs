using System;
using System.Collections.Generic;
using NetGen.Tests.Networks;
using Xunit;
using static NetGen.Tests.Numerics.Reference;

namespace NetGen.Tests.Numerics;

/// <summary>The generated forward pass agrees with the plain-loop reference on every test network.</summary>
public class ForwardTests
{
    public static IEnumerable<object[]> Networks()
    {
        yield return [new ConvStridedNet(), new Op[] { new Conv(3, 3, 2, 2, 1), new Dense(4), new Softmax() }];
        yield return [new ConvPlainNet(), new Op[] { new Conv(2, 3, 3), new Softmax() }];
        yield return [new ConvWidePaddingNet(), new Op[] { new Conv(2, 1, 4, 3, 2), new Dense(3), new Softmax() }];
        yield return [new DenseNet(), new Op[] { new Dense(5), new Dense(3), new Softmax() }];
        yield return [new ReLUNet(), new Op[] { new Relu(), new Dense(3), new Softmax() }];
        yield return [new PoolNet(), new Op[] { new Pool(2, 2), new Dense(3), new Softmax() }];
        yield return [new OverlappingPoolNet(), new Op[] { new Pool(3, 2), new Dense(3), new Softmax() }];
        yield return [new RectifiedPoolNet(), new Op[] { new Relu(), new Pool(2, 2), new Dense(3), new Softmax() }];
        yield return [new SoftmaxNet(), new Op[] { new Softmax() }];
        yield return [new MixedNet(), new Op[] { new Conv(4, 3, 5, 2, 2), new Relu(), new Pool(2, 1), new Conv(5, 2, 2), new Relu(), new Dense(6), new Softmax() }];
        yield return [new LeNet5(), new Op[] { new Conv(6, 5, 5, 1, 2), new Relu(), new Pool(2, 2), new Conv(16, 5, 5), new Relu(), new Pool(2, 2), new Dense(120), new Relu(), new Dense(84), new Relu(), new Dense(10), new Softmax() }];
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Forward_matches_the_reference(INetwork network, Op[] ops)
    {
        (int c, int h, int w) = (network.InputChannels, network.InputHeight, network.InputWidth);
        for (int seed = 1; seed <= 3; seed++)
        {
            network.InitializeParameters(seed);
            // Non-zero biases too, so a bias at the wrong offset shows.
            float[] noise = TestData.Uniform(network.ParameterCount, seed + 100, 0.1f);
            for (int i = 0; i < noise.Length; i++)
            {
                network.Parameters[i] += noise[i];
            }

            float[] input = TestData.Uniform(network.InputLength, seed + 200);
            double[] expected = Reference.Forward(ops, network.Parameters, input, c, h, w);
            var actual = new float[network.OutputLength];
            network.Forward(input, actual);

            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < actual.Length; i++)
            {
                // Float32 sums of up to a few hundred products against a double reference: 1e-5 absolute on
                // probabilities in [0, 1] is ~100 float ulps of headroom.
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"seed {seed}, output {i}: expected {expected[i]}, got {actual[i]}");
            }

            int predicted = network.Predict(input);
            Assert.Equal(IndexOfMax(actual), predicted);
        }
    }

    [Fact]
    public void Shapes_are_inferred_as_PyTorch_computes_them()
    {
        // floor((H + 2p − k) / s) + 1 for conv; floor((H − k) / s) + 1 for pooling.
        Assert.Equal(new TensorShape(3, 4, 5), ConvStridedNet.Shapes.Conv1);
        Assert.Equal(new TensorShape(2, 3, 3), ConvWidePaddingNet.Shapes.Conv1);
        Assert.Equal(new TensorShape(2, 3, 2), PoolNet.Shapes.Pool1);
        Assert.Equal(new TensorShape(1, 3, 4), OverlappingPoolNet.Shapes.Pool1);
        Assert.Equal(new TensorShape(4, 8, 5), MixedNet.Shapes.Features);
        Assert.Equal(new TensorShape(4, 7, 4), MixedNet.Shapes.Pool1);
        Assert.Equal(new TensorShape(5, 6, 3), MixedNet.Shapes.Mixer);
        Assert.Equal(61_706, LeNet5.ParameterCount);
        Assert.Equal(784, LeNet5.InputLength);
        Assert.Equal(10, LeNet5.OutputLength);
        Assert.Equal(new TensorShape(16, 5, 5), LeNet5.Shapes.Pool2);
        Assert.Equal(400, LeNet5.Shapes.Pool2.Length);
        Assert.Equal(new TensorShape(1, 28, 28), LeNet5.Shapes.Input);
        Assert.Equal(new TensorShape(10, 1, 1), LeNet5.Shapes.Softmax1);
    }

    [Fact]
    public void Parameter_views_follow_PyTorch_parameters_order()
    {
        var net = new LeNet5();
        net.InitializeParameters(7);
        // conv1.weight [6,1,5,5], conv1.bias [6], conv2.weight [16,6,5,5], conv2.bias [16], dense1.weight [120,400], …
        Assert.Equal(150, net.Conv1Weight.Length);
        Assert.Equal(6, net.Conv1Bias.Length);
        Assert.Equal(2400, net.Conv2Weight.Length);
        Assert.Equal(48_000, net.Dense1Weight.Length);
        Assert.Equal(840, net.Dense3Weight.Length);
        Assert.True(net.Conv2Weight[0] == net.Parameters[156] && net.Dense3Bias.Length == 10);
        net.Dense3Bias[9] = 42f;
        Assert.Equal(42f, net.Parameters[LeNet5.ParameterCount - 1]);
        net.Dense3BiasGradient[9] = 7f;
        Assert.Equal(7f, net.Gradients[LeNet5.ParameterCount - 1]);
    }

    [Fact]
    public void Initialization_is_He_uniform_with_zero_biases_and_reproducible()
    {
        var a = new LeNet5();
        var b = new LeNet5();
        a.InitializeParameters(123);
        b.InitializeParameters(123);
        Assert.Equal(a.Parameters, b.Parameters);

        b.InitializeParameters(124);
        Assert.NotEqual(a.Parameters, b.Parameters);

        Assert.All(a.Conv1Bias.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(a.Dense1Bias.ToArray(), v => Assert.Equal(0f, v));
        float bound = MathF.Sqrt(6f / 400f);
        Assert.All(a.Dense1Weight.ToArray(), v => Assert.InRange(v, -bound, bound));
        // Uniform on ±bound has standard deviation bound/√3; 48,000 draws pin it to well within 2%.
        double sd = Math.Sqrt(Mean(a.Dense1Weight, v => v * v));
        Assert.InRange(sd, 0.98 * bound / Math.Sqrt(3), 1.02 * bound / Math.Sqrt(3));
    }

    [Fact]
    public void Pooling_ties_go_to_the_first_maximum_in_row_major_order()
    {
        var net = new PoolNet();
        net.InitializeParameters(3);
        var input = new float[PoolNet.InputLength]; // all equal: every window is a four-way tie
        net.ZeroGradients();
        net.TrainSample(input, 1);
        ReadOnlySpan<float> dx = net.InputGradient;
        for (int c = 0; c < 2; c++)
        {
            for (int u = 0; u < 7; u++)
            {
                for (int v = 0; v < 5; v++)
                {
                    bool isWindowTopLeft = u % 2 == 0 && v % 2 == 0 && u < 6 && v < 4;
                    float g = dx[(c * 7 + u) * 5 + v];
                    Assert.True(isWindowTopLeft || g == 0f, $"gradient reached ({c},{u},{v}), which is not a window's first element");
                }
            }
        }
    }

    [Fact]
    public void Summary_lists_layers_shapes_and_parameter_counts()
    {
        Assert.Contains("conv1 (Conv2D)", LeNet5.Summary);
        Assert.Contains("6×28×28", LeNet5.Summary);
        Assert.Contains("2,416", LeNet5.Summary);
        Assert.Contains("Total parameters: 61,706", LeNet5.Summary);
        Assert.Contains("features (Conv2D)", MixedNet.Summary);
    }

    private static int IndexOfMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static double Mean(ReadOnlySpan<float> values, Func<double, double> f)
    {
        double sum = 0;
        foreach (float v in values)
        {
            sum += f(v);
        }

        return sum / values.Length;
    }
}

/// <summary>Which kernel width this run exercises; CI runs the numeric tests once more with DOTNET_EnableHWIntrinsic=0 (scalar) and once with DOTNET_EnableAVX=0 (Vector128 without FMA).</summary>
public class VectorWidthTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Reports_the_width_the_generated_kernels_use()
    {
        output.WriteLine($"Generated kernels run with {NetGen.Kernels.VectorWidth.Description}.");
        bool hardwareIntrinsicsOff = Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0";
        Assert.Equal(hardwareIntrinsicsOff, NetGen.Kernels.VectorWidth.Kernel == NetGen.Kernels.VectorKernel.Float1);
        Assert.Equal(hardwareIntrinsicsOff, NetGen.Kernels.VectorWidth.Lanes == 1);
        if (!hardwareIntrinsicsOff && Environment.GetEnvironmentVariable("DOTNET_EnableAVX") == "0" && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64)
        {
            // SSE without FMA: what a NativeAOT build for x86-64-v2 runs. The dispatch must pick the unfused 4-float kernels.
            Assert.False(NetGen.Kernels.VectorWidth.HasFusedMultiplyAdd);
            Assert.Equal(NetGen.Kernels.VectorKernel.Float128Unfused, NetGen.Kernels.VectorWidth.Kernel);
            Assert.Equal(4, NetGen.Kernels.VectorWidth.Lanes);
            Assert.Contains("unfused", NetGen.Kernels.VectorWidth.Description, StringComparison.Ordinal);
        }
    }
}
