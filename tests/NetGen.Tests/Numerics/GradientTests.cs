using System;
using System.Collections.Generic;
using System.Linq;
using NetGen.Tests.Networks;
using Xunit;

namespace NetGen.Tests.Numerics;

/// <summary>
/// Analytic gradients (the generated backward pass) against central finite differences of the generated
/// forward pass, for every layer kind and for LeNet-5, on dL/dθ and dL/dinput.
/// </summary>
/// <remarks>
/// Tolerance: |analytic − numeric| ≤ 1e-3 + 2e-2 · |numeric|. The loss is computed in float32, so its rounding
/// noise (~1e-6 for losses near 2) divided by the step 2h = 2e-2 gives ~1e-4 of absolute noise in the numeric
/// derivative; the O(h²) truncation error of the central difference is ~1e-4 relative for these smooth
/// functions. The bound leaves 10× headroom over both, and is still ~10× tighter than the error of any
/// plausible bug (a dropped tap, a wrong offset or a transposed weight changes gradients by O(1) relative).
/// In the one-layer networks, inputs to ReLU and pooling are spread at least 0.05 apart and away from zero, so
/// no step of h = 1e-2 crosses a kink or changes an arg-max. In the deep networks a step of one weight moves
/// hundreds of pre-activations, and some cross a ReLU kink or swap a pooling arg-max: over such a step the loss
/// has no derivative to compare (as h → 0 the difference does converge to the analytic value). A kink inside
/// [θ − h, θ + h] shows as one-sided differences that disagree, while for a smooth loss they differ only by
/// O(h·L''). So there the step is retried at h/10, and if the loss is still not smooth it is set aside; the
/// test requires such steps to stay rare (≤ 10%) and every other gradient to match.
/// </remarks>
public class GradientTests
{
    private const float Step = 1e-2f;

    public static IEnumerable<object[]> SmallNetworks()
    {
        yield return [new ConvStridedNet()];
        yield return [new ConvPlainNet()];
        yield return [new ConvWidePaddingNet()];
        yield return [new DenseNet()];
        yield return [new ReLUNet()];
        yield return [new PoolNet()];
        yield return [new OverlappingPoolNet()];
        yield return [new RectifiedPoolNet()];
        yield return [new SoftmaxNet()];
    }

    [Theory]
    [MemberData(nameof(SmallNetworks))]
    public void Every_gradient_matches_finite_differences(INetwork network)
    {
        network.InitializeParameters(11);
        float[] input = TestData.WellSeparated(network.InputLength, 5);
        for (int label = 0; label < network.OutputLength; label += 2)
        {
            CheckGradients(network, input, label, Enumerable.Range(0, network.ParameterCount));
        }
    }

    [Fact]
    public void Mixed_network_gradients_match_finite_differences()
    {
        var network = new MixedNet();
        network.InitializeParameters(3);
        float[] input = TestData.WellSeparated(MixedNet.InputLength, 9, gap: 0.01f);
        CheckGradients(network, input, 2, Enumerable.Range(0, MixedNet.ParameterCount), allowKinks: true);
    }

    /// <summary>A 5×5 convolution whose dL/dw is by Winograd's F(5×5, 2×2) (its 3×3 form runs against the reference in GraphTests).</summary>
    [Fact]
    public void Winograd_5x5_weight_gradients_match_finite_differences()
    {
        var network = new WinogradGradient5Net();
        network.InitializeParameters(5);
        float[] input = TestData.Uniform(WinogradGradient5Net.InputLength, 6);
        // Every bias, and 200 weights drawn from each weight tensor.
        var indices = new List<int>();
        var random = new SeededRandom(23);
        int offset = 0;
        foreach ((int length, bool isBias) in new[] { (network.Conv1Weight.Length, false), (network.Conv1Bias.Length, true), (network.Conv2Weight.Length, false),
            (network.Conv2Bias.Length, true), (network.Dense1Weight.Length, false), (network.Dense1Bias.Length, true) })
        {
            for (int k = 0; k < (isBias ? length : 200); k++)
            {
                indices.Add(offset + (isBias ? k : random.NextInt32(length)));
            }

            offset += length;
        }

        Assert.Equal(WinogradGradient5Net.ParameterCount, offset);

        CheckGradients(network, input, 1, indices, inputIndices: Enumerable.Range(0, 35).Select(i => i * 3), allowKinks: true);
    }

    [Fact]
    public void LeNet5_gradients_match_finite_differences()
    {
        var network = new LeNet5();
        network.InitializeParameters(2);
        float[] input = TestData.Uniform(LeNet5.InputLength, 4);
        // Every bias, and 60 weights drawn from each weight tensor.
        var indices = new List<int>();
        var random = new SeededRandom(17);
        foreach ((int offset, int length, bool isBias) in Tensors(network))
        {
            for (int k = 0; k < (isBias ? length : 60); k++)
            {
                indices.Add(offset + (isBias ? k : random.NextInt32(length)));
            }
        }

        CheckGradients(network, input, 3, indices, inputIndices: Enumerable.Range(0, 100).Select(i => i * 7), allowKinks: true);
    }

    [Fact]
    public void TrainSample_adds_into_Gradients_and_ZeroGradients_clears_them()
    {
        var network = new DenseNet();
        network.InitializeParameters(1);
        float[] input = TestData.Uniform(DenseNet.InputLength, 2);
        network.ZeroGradients();
        float loss = network.TrainSample(input, 1);
        float[] once = network.Gradients.ToArray();
        Assert.Equal(loss, network.TrainSample(input, 1));
        Assert.Equal(once.Select(g => 2 * g), network.Gradients);
        network.ZeroGradients();
        Assert.All(network.Gradients, g => Assert.Equal(0f, g));
        Assert.Equal(loss, network.Loss(input, 1));
        Assert.All(network.Gradients, g => Assert.Equal(0f, g));
    }

    private static IEnumerable<(int Offset, int Length, bool IsBias)> Tensors(LeNet5 n)
    {
        int offset = 0;
        foreach (int length in new[] { n.Conv1Weight.Length, n.Conv1Bias.Length, n.Conv2Weight.Length, n.Conv2Bias.Length, n.Dense1Weight.Length, n.Dense1Bias.Length, n.Dense2Weight.Length, n.Dense2Bias.Length, n.Dense3Weight.Length, n.Dense3Bias.Length })
        {
            yield return (offset, length, length <= 120);
            offset += length;
        }
    }

    internal static void CheckGradients(INetwork network, float[] input, int label, IEnumerable<int> parameterIndices, IEnumerable<int>? inputIndices = null, bool allowKinks = false)
    {
        network.ZeroGradients();
        network.TrainSample(input, label);
        float[] analytic = network.Gradients.ToArray();
        float[] analyticInput = network.InputGradient.ToArray();
        int compared = 0, kinks = 0;

        // values() is asked again for every write: a network's Parameters getter marks the weights made from them (folded,
        // Winograd-transformed) stale, which a write through a reference kept past an inference call would not.
        void Compare(Func<float[]> values, int i, float expected, string what)
        {
            float? numeric = allowKinks
                ? SmoothCentralDifference(values, i, Step, () => network.Loss(input, label)) ?? SmoothCentralDifference(values, i, Step / 10, () => network.Loss(input, label))
                : CentralDifference(values, i, Step, () => network.Loss(input, label));
            if (numeric is not { } n)
            {
                kinks++;
                return;
            }

            compared++;
            Assert.True(IsClose(expected, n), $"{what}: backward pass gives {expected}, finite differences {n}");
        }

        foreach (int i in parameterIndices)
        {
            Compare(() => network.Parameters, i, analytic[i], $"dL/dθ[{i}] (label {label})");
        }

        foreach (int i in inputIndices ?? Enumerable.Range(0, input.Length))
        {
            Compare(() => input, i, analyticInput[i], $"dL/dinput[{i}] (label {label})");
        }

        Assert.True(kinks <= (compared + kinks) / 10, $"{kinks} of {compared + kinks} steps crossed a kink; expected at most 10%");
    }

    /// <summary>The central difference, or null when the one-sided differences show a kink within the step.</summary>
    private static float? SmoothCentralDifference(Func<float[]> values, int i, float step, Func<float> loss)
    {
        float original = values()[i];
        float center = loss();
        values()[i] = original + step;
        float plus = loss();
        values()[i] = original - step;
        float minus = loss();
        values()[i] = original;
        float forward = (plus - center) / step, backward = (center - minus) / step, central = (plus - minus) / (2 * step);
        return IsClose(forward, backward) ? central : null;
    }

    private static float CentralDifference(Func<float[]> values, int i, float step, Func<float> loss)
    {
        float original = values()[i];
        values()[i] = original + step;
        float plus = loss();
        values()[i] = original - step;
        float minus = loss();
        values()[i] = original;
        return (plus - minus) / (2 * step);
    }

    private static bool IsClose(float analytic, float numeric) =>
        Math.Abs(analytic - numeric) <= 1e-3 + 2e-2 * Math.Abs(numeric);
}
