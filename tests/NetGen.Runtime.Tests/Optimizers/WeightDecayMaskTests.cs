using System;
using System.Linq;
using NetGen.Optimizers;
using NetGen.Weights;
using Xunit;

namespace NetGen.Runtime.Tests.Optimizers;

public sealed class WeightDecayMaskTests
{
    /// <summary>A small CNN's layout in PyTorch's parameters() order: conv without bias, BatchNorm, conv, dense.</summary>
    private static readonly TensorSlot[] Layout =
    [
        new("conv1.weight", [2, 1, 2, 2], 0),
        new("bn1.weight", [2], 8),
        new("bn1.bias", [2], 10),
        new("conv2.weight", [3, 2, 1, 1], 12),
        new("conv2.bias", [3], 18),
        new("fc.weight", [2, 3], 21),
        new("fc.bias", [2], 27),
    ];

    private const int Count = 29;

    private static readonly bool[] RankTwoOrMore =
        Enumerable.Range(0, Count).Select(i => Layout.Single(s => i >= s.Offset && i < s.End).Shape.Length >= 2).ToArray();

    private static float[] Theta0() => Enumerable.Range(0, Count).Select(i => MathF.Sin(i + 1f)).ToArray();

    private static float[][] Gradients() =>
        Enumerable.Range(0, 3).Select(t => Enumerable.Range(0, Count).Select(i => 0.3f * MathF.Cos(3f * i + t)).ToArray()).ToArray();

    /// <summary>torch.optim.SGD with two parameter groups (weight_decay = wd where decayed, 0 elsewhere), in double.</summary>
    private static double[] SgdReference(double lr, double mu, bool nesterov, double wd, bool[] decayed, int steps)
    {
        double[] theta = Theta0().Select(x => (double)x).ToArray();
        var buffer = new double[Count];
        float[][] gradients = Gradients();
        for (int t = 0; t < steps; t++)
        {
            for (int i = 0; i < Count; i++)
            {
                double g = gradients[t][i] + (decayed[i] ? wd * theta[i] : 0);
                buffer[i] = t == 0 ? g : mu * buffer[i] + g;
                g = nesterov ? g + mu * buffer[i] : buffer[i];
                theta[i] -= lr * g;
            }
        }

        return theta;
    }

    /// <summary>torch.optim.Adam (L2) / AdamW (decoupled) with two parameter groups, in double.</summary>
    private static double[] AdamReference(double lr, double wd, bool decoupled, bool[] decayed, int steps)
    {
        const double B1 = 0.9, B2 = 0.999, Eps = 1e-8;
        double[] theta = Theta0().Select(x => (double)x).ToArray();
        var m = new double[Count];
        var v = new double[Count];
        float[][] gradients = Gradients();
        for (int t = 1; t <= steps; t++)
        {
            for (int i = 0; i < Count; i++)
            {
                double g = gradients[t - 1][i];
                double decay = decayed[i] ? wd : 0;
                if (decoupled)
                {
                    theta[i] *= 1 - lr * decay;
                }
                else
                {
                    g += decay * theta[i];
                }

                m[i] = B1 * m[i] + (1 - B1) * g;
                v[i] = B2 * v[i] + (1 - B2) * g * g;
                theta[i] -= lr * (m[i] / (1 - Math.Pow(B1, t))) / (Math.Sqrt(v[i] / (1 - Math.Pow(B2, t))) + Eps);
            }
        }

        return theta;
    }

    private static float[] Run(IOptimizer optimizer, int steps = 3)
    {
        float[] theta = Theta0();
        float[][] gradients = Gradients();
        for (int t = 0; t < steps; t++)
        {
            optimizer.Step(theta, gradients[t]);
        }

        return theta;
    }

    [Fact]
    public void MatricesAndKernels_selects_the_tensors_of_rank_2_and_above()
    {
        WeightDecayMask mask = WeightDecayMask.MatricesAndKernels(Layout);

        Assert.Equal(["conv1.weight", "conv2.weight", "fc.weight"], mask.DecayedTensors.Select(s => s.Name));
        Assert.Equal(8 + 6 + 6, mask.DecayedCount);
        Assert.Equal(Count, mask.ParameterCount);
    }

    [Fact]
    public void All_and_Where_select_what_they_say()
    {
        WeightDecayMask all = WeightDecayMask.All(Layout);
        WeightDecayMask named = WeightDecayMask.Where(Layout, s => s.Name.StartsWith("conv", StringComparison.Ordinal));

        Assert.Equal(Layout, all.DecayedTensors);
        Assert.Equal(Count, all.DecayedCount);
        Assert.Equal(["conv1.weight", "conv2.weight", "conv2.bias"], named.DecayedTensors.Select(s => s.Name));
        Assert.Equal(17, named.DecayedCount);
    }

    [Theory]
    [InlineData(0.1f, 0f, false, 0.1f)]
    [InlineData(0.05f, 0.9f, false, 0.2f)]
    [InlineData(0.05f, 0.9f, true, 0.2f)]
    public void Sgd_decays_only_the_matrices_and_kernels(float lr, float momentum, bool nesterov, float wd)
    {
        var sgd = new Sgd(lr, momentum, nesterov, wd) { WeightDecayMask = WeightDecayMask.MatricesAndKernels(Layout) };

        float[] theta = Run(sgd);

        double[] expected = SgdReference(lr, momentum, nesterov, wd, RankTwoOrMore, 3);
        double[] decayAll = SgdReference(lr, momentum, nesterov, wd, Enumerable.Repeat(true, Count).ToArray(), 3);
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(expected[i], theta[i], 1e-6);
            Assert.True(RankTwoOrMore[i] || Math.Abs(decayAll[i] - expected[i]) > 1e-4, $"element {i}: the decay makes no visible difference");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Adam_and_AdamW_decay_only_the_matrices_and_kernels(bool decoupled)
    {
        const float Lr = 0.05f, Wd = 0.5f;
        var adam = new Adam(Lr, weightDecay: Wd, decoupledWeightDecay: decoupled) { WeightDecayMask = WeightDecayMask.MatricesAndKernels(Layout) };

        float[] theta = Run(adam);

        double[] expected = AdamReference(Lr, Wd, decoupled, RankTwoOrMore, 3);
        double[] decayAll = AdamReference(Lr, Wd, decoupled, Enumerable.Repeat(true, Count).ToArray(), 3);
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(expected[i], theta[i], 2e-6);
            Assert.True(RankTwoOrMore[i] || Math.Abs(decayAll[i] - expected[i]) > 1e-4, $"element {i}: the decay makes no visible difference");
        }
    }

    public static TheoryData<string> Optimizers => ["sgd", "nesterov", "adam", "adamw"];

    private static IOptimizer Create(string kind, float weightDecay) => kind switch
    {
        "sgd" => new Sgd(0.05f, weightDecay: weightDecay),
        "nesterov" => new Sgd(0.05f, momentum: 0.9f, nesterov: true, weightDecay: weightDecay),
        "adam" => new Adam(0.05f, weightDecay: weightDecay),
        _ => Adam.AdamW(0.05f, weightDecay: weightDecay),
    };

    private static void SetMask(IOptimizer optimizer, WeightDecayMask? mask)
    {
        if (optimizer is Sgd sgd)
        {
            sgd.WeightDecayMask = mask;
        }
        else
        {
            ((Adam)optimizer).WeightDecayMask = mask;
        }
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void A_masked_step_is_bit_for_bit_the_decayed_step_on_decayed_tensors_and_the_undecayed_step_elsewhere(string kind)
    {
        IOptimizer masked = Create(kind, 0.3f);
        SetMask(masked, WeightDecayMask.MatricesAndKernels(Layout));

        float[] theta = Run(masked);
        float[] decayed = Run(Create(kind, 0.3f));
        float[] undecayed = Run(Create(kind, 0f));

        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(RankTwoOrMore[i] ? decayed[i] : undecayed[i], theta[i]);
        }
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void The_All_mask_decays_everything_as_no_mask_does(string kind)
    {
        IOptimizer masked = Create(kind, 0.3f);
        SetMask(masked, WeightDecayMask.All(Layout));

        Assert.Equal(Run(Create(kind, 0.3f)), Run(masked));
    }

    [Fact]
    public void A_layout_out_of_offset_order_or_with_gaps_decays_its_tensors_only()
    {
        // Elements 0–1 and 8 belong to no tensor: they are never decayed, even by All.
        TensorSlot[] layout = [new("fc.weight", [2, 2], 4), new("fc.bias", [2], 2), new("w", [1, 1, 1], 9)];
        var sgd = new Sgd(1f, weightDecay: 0.5f) { WeightDecayMask = WeightDecayMask.All(layout) };
        float[] theta = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1];

        sgd.Step(theta, new float[10]);

        Assert.Equal([1f, 1f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 1f, 0.5f], theta);
        Assert.Equal(10, WeightDecayMask.All(layout).ParameterCount);
        Assert.Equal(["fc.weight", "w"], WeightDecayMask.MatricesAndKernels(layout).DecayedTensors.Select(s => s.Name));
    }

    [Fact]
    public void Reset_keeps_the_mask()
    {
        WeightDecayMask mask = WeightDecayMask.MatricesAndKernels(Layout);
        var sgd = new Sgd(0.1f, weightDecay: 0.1f) { WeightDecayMask = mask };
        var adam = new Adam(weightDecay: 0.1f) { WeightDecayMask = mask };
        Run(sgd);
        Run(adam);

        sgd.Reset();
        adam.Reset();

        Assert.Same(mask, sgd.WeightDecayMask);
        Assert.Same(mask, adam.WeightDecayMask);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Masked_steps_after_the_first_do_not_allocate(bool adam)
    {
        WeightDecayMask mask = WeightDecayMask.MatricesAndKernels(Layout);
        IOptimizer optimizer = adam
            ? new Adam(weightDecay: 0.01f) { WeightDecayMask = mask }
            : new Sgd(0.1f, momentum: 0.9f, weightDecay: 0.01f) { WeightDecayMask = mask };
        float[] theta = Theta0();
        float[] gradient = Gradients()[0];
        optimizer.Step(theta, gradient);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            optimizer.Step(theta, gradient);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_mask_of_another_network_is_rejected_naming_both_lengths()
    {
        WeightDecayMask mask = WeightDecayMask.MatricesAndKernels(Layout);
        var sgd = new Sgd(0.1f, weightDecay: 0.1f) { WeightDecayMask = mask };
        var adam = new Adam(weightDecay: 0.1f);
        adam.Step(new float[5], new float[5]);

        var step = Assert.Throws<ArgumentException>(() => sgd.Step(new float[Count + 1], new float[Count + 1]));
        var set = Assert.Throws<ArgumentException>(() => adam.WeightDecayMask = mask);

        Assert.Equal("parameters", step.ParamName);
        Assert.Contains("describes 29 parameters", step.Message, StringComparison.Ordinal);
        Assert.Contains("parameters has 30", step.Message, StringComparison.Ordinal);
        Assert.Equal("value", set.ParamName);
        Assert.Null(adam.WeightDecayMask);
        adam.Reset();
        adam.WeightDecayMask = mask; // a new start takes any length
    }

    [Fact]
    public void Bad_layouts_are_rejected()
    {
        TensorSlot[] overlapping = [new("a", [2, 2], 0), new("b", [2], 3)];
        TensorSlot[] withNull = [new("a", [2, 2], 0), null!];

        var overlap = Assert.Throws<ArgumentException>(() => WeightDecayMask.MatricesAndKernels(overlapping));
        var hole = Assert.Throws<ArgumentException>(() => WeightDecayMask.All(withNull));

        Assert.Equal("parameterLayout", overlap.ParamName);
        Assert.Contains("b [2] at 3 overlaps the tensor before it, which ends at 4", overlap.Message, StringComparison.Ordinal);
        Assert.Equal("parameterLayout", hole.ParamName);
        Assert.Contains("parameterLayout[1] is null", hole.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => WeightDecayMask.All(null!));
        Assert.Throws<ArgumentNullException>(() => WeightDecayMask.Where(Layout, null!));
    }
}
