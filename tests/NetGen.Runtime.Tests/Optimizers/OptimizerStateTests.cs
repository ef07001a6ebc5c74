using System;
using System.Linq;
using NetGen.Optimizers;
using Xunit;

namespace NetGen.Runtime.Tests.Optimizers;

/// <summary>
/// An optimizer's saved state restored into a new one continues the same steps bit for bit; a state that does not fit is
/// rejected with the optimizer unchanged.
/// </summary>
public sealed class OptimizerStateTests
{
    public static TheoryData<string> Kinds => ["sgd", "sgd-momentum", "sgd-nesterov", "adam", "adamw"];

    private static IStatefulOptimizer New(string kind) => kind switch
    {
        "sgd" => new Sgd(0.1f, weightDecay: 0.01f),
        "sgd-momentum" => new Sgd(0.1f, momentum: 0.9f),
        "sgd-nesterov" => new Sgd(0.1f, momentum: 0.8f, nesterov: true, weightDecay: 0.01f),
        "adam" => new Adam(0.05f, weightDecay: 0.01f),
        _ => Adam.AdamW(0.05f),
    };

    private static void Step(IOptimizer optimizer, float[] theta, int t) => optimizer.Step(theta, SgdTests.Gradients[t]);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_restored_state_continues_exactly_as_the_optimizer_that_saved_it(string kind)
    {
        IStatefulOptimizer original = New(kind);
        float[] theta = [.. SgdTests.Theta0];
        Step(original, theta, 0);
        Step(original, theta, 1);

        var state = new float[original.StateNames.Count * theta.Length];
        original.SaveState(state);
        IStatefulOptimizer restored = New(kind);
        restored.RestoreState(theta.Length, state, original.StepCount);
        Assert.Equal(2, restored.StepCount);
        Assert.Equal(theta.Length, restored.ParameterCount);

        float[] copy = [.. theta];
        Step(original, theta, 2);
        Step(restored, copy, 2);
        Assert.Equal(theta, copy); // bit for bit: float equality
        var after = new float[state.Length];
        var afterRestored = new float[state.Length];
        original.SaveState(after);
        restored.SaveState(afterRestored);
        Assert.Equal(after, afterRestored);
    }

    [Fact]
    public void The_state_names_are_PyTorchs_state_keys()
    {
        Assert.Empty(New("sgd").StateNames);
        Assert.Equal(["momentum_buffer"], New("sgd-momentum").StateNames);
        Assert.Equal(["exp_avg", "exp_avg_sq"], New("adam").StateNames);
        Assert.Equal(["SGD", "SGD", "Adam", "AdamW"], new[] { "sgd", "sgd-nesterov", "adam", "adamw" }.Select(k => New(k).Kind));
    }

    [Fact]
    public void Before_the_first_step_the_state_is_zeros_and_restoring_step_zero_is_a_fresh_optimizer()
    {
        var sgd = new Sgd(0.1f, momentum: 0.9f);
        Assert.Equal(-1, sgd.ParameterCount);
        float[] state = [1, 2, 3];
        sgd.SaveState(state);
        Assert.Equal(new float[3], state);

        // Step 0: the first step copies the gradient into the buffer rather than decaying what the state holds.
        sgd.RestoreState(3, [7, 7, 7], stepCount: 0);
        float[] theta = [0, 0, 0];
        sgd.Step(theta, [1, 2, 3]);
        var fresh = new Sgd(0.1f, momentum: 0.9f);
        float[] expected = [0, 0, 0];
        fresh.Step(expected, [1, 2, 3]);
        Assert.Equal(expected, theta);
    }

    [Fact]
    public void A_state_that_does_not_fit_is_rejected_and_changes_nothing()
    {
        var adam = new Adam(0.05f);
        float[] theta = [.. SgdTests.Theta0];
        adam.Step(theta, SgdTests.Gradients[0]);
        float[] before = adam.FirstMoment.ToArray();

        var error = Assert.Throws<ArgumentException>(() => adam.RestoreState(theta.Length, new float[theta.Length], 3));
        Assert.Equal("state", error.ParamName);
        Assert.Contains("expected 2 × 5 = 10", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.RestoreState(theta.Length, new float[10], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.RestoreState(-1, [], 1));
        Assert.Throws<ArgumentException>(() => adam.SaveState(new float[9]));

        var masked = new Sgd(0.1f, weightDecay: 0.1f) { WeightDecayMask = WeightDecayMask.All([new NetGen.Weights.TensorSlot("w", [5], 0)]) };
        Assert.Throws<ArgumentException>(() => masked.RestoreState(4, [], 1));
        Assert.Equal(-1, masked.ParameterCount);

        Assert.Equal(1, adam.StepCount);
        Assert.Equal(before, adam.FirstMoment.ToArray());
    }
}
