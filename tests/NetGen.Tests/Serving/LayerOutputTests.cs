using System;
using System.Linq;
using NetGen.Tests.Networks;
using NetGen.Tests.Numerics;
using Xunit;

namespace NetGen.Tests.Serving;

/// <summary>conv1 → relu1 (computed inside pool1) → pool1 → conv2 (bn1 folded in for inference) → bn1 → dense1 → softmax.</summary>
[Input(2, 9, 11)]
[Conv2D(3, 3, Padding = 1)]
[ReLU]
[MaxPool2D(2)]
[Conv2D(4, 3, Bias = false)]
[BatchNorm2D]
[Dense(5)]
[Softmax]
public partial class FeatureNet { }

/// <summary>After a single-sample call each layer's activation is readable, as a property and by name.</summary>
public sealed class LayerOutputTests
{
    private static (FeatureNet Net, float[] Input) Run()
    {
        var net = new FeatureNet();
        net.InitializeParameters(5);
        var input = new float[FeatureNet.InputLength];
        var random = new Random(3);
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)(random.NextDouble() * 2 - 1);
        }

        net.Forward(input, new float[FeatureNet.OutputLength]);
        return (net, input);
    }

    [Fact]
    public void The_outputs_after_Forward_are_the_layers_activations_of_that_sample()
    {
        (FeatureNet net, float[] input) = Run();

        // conv1 against the double-precision reference.
        double[] conv1 = Reference.Conv2D(input.Select(v => (double)v).ToArray(), 2, 9, 11,
            net.Conv1Weight.ToArray().Select(v => (double)v).ToArray(), net.Conv1Bias.ToArray().Select(v => (double)v).ToArray(),
            new Reference.Conv(3, 3, 3, Padding: 1), out int h, out int w);
        Assert.Equal((9, 11), (h, w));
        Assert.Equal(conv1.Length, net.Conv1Output.Length);
        for (int i = 0; i < conv1.Length; i++)
        {
            Assert.Equal(conv1[i], net.Conv1Output[i], 1e-5);
        }

        // pool1 = max over 2×2 windows of max(conv1, 0).
        double[] pooled = Reference.MaxPool(conv1.Select(v => Math.Max(v, 0)).ToArray(), 3, 9, 11, 2, 2, 0, out int ph, out int pw);
        Assert.Equal((4, 5), (ph, pw));
        Assert.Equal(pooled.Length, net.Pool1Output.Length);
        for (int i = 0; i < pooled.Length; i++)
        {
            Assert.Equal(pooled[i], net.Pool1Output[i], 1e-5);
        }

        // The last layer's output is what Forward returned; the by-name view is the property's.
        var probabilities = new float[FeatureNet.OutputLength];
        net.Forward(input, probabilities);
        Assert.Equal(probabilities, net.Softmax1Output.ToArray());
        Assert.Equal(4 * 2 * 3, net.Bn1Output.Length);
        Assert.Equal(net.Bn1Output.ToArray(), net.LayerOutput("bn1").ToArray());
        Assert.Equal(net.Dense1Output.ToArray(), net.LayerOutput("dense1").ToArray());
        Assert.Equal(net.Conv1Output.ToArray(), ((INetwork)net).LayerOutput("conv1").ToArray());
    }

    [Fact]
    public void A_layer_without_a_kept_output_or_an_unknown_name_is_an_error_that_says_where_to_look()
    {
        (FeatureNet net, _) = Run();
        var fused = Assert.Throws<ArgumentException>(() => net.LayerOutput("relu1"));
        Assert.Contains("computed inside pool1", fused.Message);
        var folded = Assert.Throws<ArgumentException>(() => net.LayerOutput("conv2"));
        Assert.Contains("bn1 folded in", folded.Message);
        // A BatchNorm with the ReLU after it folded into the same convolution: inference writes only the ReLU's output.
        var folding = new FoldedConvNet();
        folding.InitializeParameters(1);
        folding.Forward(new float[FoldedConvNet.InputLength], new float[FoldedConvNet.OutputLength]);
        var skipped = Assert.Throws<ArgumentException>(() => folding.LayerOutput("bn1"));
        Assert.Contains("inference runs bn1 inside conv1, writing relu1's output only: read relu1's", skipped.Message);
        Assert.Contains("conv1 with bn1, relu1 folded in", Assert.Throws<ArgumentException>(() => folding.LayerOutput("conv1")).Message);
        Assert.Equal(FoldedConvNet.OutputLength, folding.LayerOutput("softmax1").Length);
        var unknown = Assert.Throws<ArgumentException>(() => net.LayerOutput("conv9"));
        Assert.Contains("'conv9'", unknown.Message);
        Assert.Contains("conv1, pool1, bn1, dense1, softmax1", unknown.Message);
        Assert.Equal("layer", unknown.ParamName);
    }
}
