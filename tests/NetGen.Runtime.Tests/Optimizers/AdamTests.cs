using System;
using NetGen.Optimizers;
using Xunit;

namespace NetGen.Runtime.Tests.Optimizers;

public sealed class AdamTests
{
    /// <summary>torch.optim.Adam / AdamW written out directly, in double.</summary>
    private static double[][] Reference(double lr, double b1, double b2, double eps, double wd, bool decoupled)
    {
        float[] theta0 = SgdTests.Theta0;
        float[][] gradients = SgdTests.Gradients;
        int n = theta0.Length;
        var theta = new double[n];
        var m = new double[n];
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            theta[i] = theta0[i];
        }

        var history = new double[gradients.Length][];
        for (int t = 1; t <= gradients.Length; t++)
        {
            for (int i = 0; i < n; i++)
            {
                double g = gradients[t - 1][i];
                if (decoupled)
                {
                    theta[i] *= 1 - lr * wd;
                }
                else
                {
                    g += wd * theta[i];
                }

                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(b1, t));
                double vHat = v[i] / (1 - Math.Pow(b2, t));
                theta[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }

            history[t - 1] = (double[])theta.Clone();
        }

        return history;
    }

    [Theory]
    [InlineData(1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false)]
    [InlineData(0.1f, 0.9f, 0.999f, 1e-8f, 0f, false)]
    [InlineData(0.05f, 0.8f, 0.99f, 1e-3f, 0f, false)]
    [InlineData(0.05f, 0.9f, 0.999f, 1e-8f, 0.1f, false)]
    [InlineData(0.05f, 0.9f, 0.999f, 1e-8f, 0.1f, true)]
    [InlineData(0.01f, 0.5f, 0.9f, 1e-6f, 0.5f, true)]
    public void Matches_the_PyTorch_update_over_three_steps(float lr, float b1, float b2, float eps, float wd, bool decoupled)
    {
        double[][] expected = Reference(lr, b1, b2, eps, wd, decoupled);
        var adam = new Adam(lr, b1, b2, eps, wd, decoupled);
        float[] theta = (float[])SgdTests.Theta0.Clone();

        for (int t = 0; t < SgdTests.Gradients.Length; t++)
        {
            adam.Step(theta, SgdTests.Gradients[t]);
            Assert.Equal(t + 1, adam.StepCount);
            for (int i = 0; i < theta.Length; i++)
            {
                Assert.Equal(expected[t][i], theta[i], 2e-6);
            }
        }
    }

    [Fact]
    public void Bias_correction_makes_the_first_step_move_each_parameter_by_the_learning_rate()
    {
        // m̂ = g and v̂ = g² after one step, so the update is lr·g/(|g| + ε) ≈ lr·sign(g) whatever |g|.
        var adam = new Adam(learningRate: 0.01f);
        float[] theta = [1f, 1f, 1f, 1f];

        adam.Step(theta, [1e-3f, -5f, 100f, -0.2f]);

        Assert.Equal([0.99f, 1.01f, 0.99f, 1.01f], theta, (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void Moments_by_hand_after_two_steps()
    {
        var adam = new Adam(learningRate: 0.1f, beta1: 0.5f, beta2: 0.75f);
        float[] theta = [0f];

        adam.Step(theta, [2f]);   // m = 1, v = 1
        adam.Step(theta, [4f]);   // m = 0.5 + 2 = 2.5, v = 0.75 + 4 = 4.75

        Assert.Equal(2.5f, adam.FirstMoment[0], 6);
        Assert.Equal(4.75f, adam.SecondMoment[0], 6);
        // Step 2: m̂ = 2.5 / 0.75, v̂ = 4.75 / 0.4375; step 1 moved by −0.1.
        double expected = -0.1 - 0.1 * (2.5 / 0.75) / (Math.Sqrt(4.75 / 0.4375) + 1e-8);
        Assert.Equal(expected, theta[0], 6);
    }

    [Fact]
    public void AdamW_decay_is_decoupled_from_the_moments()
    {
        // Zero gradient: m = v = 0, so Adam's update vanishes and only the decoupled shrink remains.
        var adamW = Adam.AdamW(learningRate: 0.1f, weightDecay: 0.5f);
        float[] theta = [2f, -4f];

        adamW.Step(theta, [0f, 0f]);

        Assert.True(adamW.DecoupledWeightDecay);
        Assert.Equal(2f * 0.95f, theta[0], 6);
        Assert.Equal(-4f * 0.95f, theta[1], 6);
        Assert.Equal([0f, 0f], adamW.FirstMoment.ToArray());

        // With L2 decay (plain Adam) the decay term goes through the moments: a full lr-sized step instead.
        var adam = new Adam(learningRate: 0.1f, weightDecay: 0.5f);
        float[] theta2 = [2f, -4f];
        adam.Step(theta2, [0f, 0f]);
        Assert.Equal(1.9f, theta2[0], 5);
        Assert.Equal(-3.9f, theta2[1], 5);
    }

    [Fact]
    public void AdamW_factory_uses_PyTorch_defaults()
    {
        Adam adamW = Adam.AdamW();

        Assert.Equal(1e-3f, adamW.LearningRate);
        Assert.Equal(0.9f, adamW.Beta1);
        Assert.Equal(0.999f, adamW.Beta2);
        Assert.Equal(1e-8f, adamW.Epsilon);
        Assert.Equal(1e-2f, adamW.WeightDecay);
        Assert.False(new Adam().DecoupledWeightDecay);
        Assert.Equal(0f, new Adam().WeightDecay);
    }

    [Fact]
    public void Step_rejects_mismatched_lengths()
    {
        var adam = new Adam();

        var e = Assert.Throws<ArgumentException>(() => adam.Step(new float[2], new float[1]));
        Assert.Contains("1", e.Message, StringComparison.Ordinal);
        Assert.Contains("2", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, adam.StepCount);

        adam.Step(new float[2], new float[2]);
        var later = Assert.Throws<ArgumentException>(() => adam.Step(new float[7], new float[7]));
        Assert.Contains("7", later.Message, StringComparison.Ordinal);
        Assert.Contains("expected 2", later.Message, StringComparison.Ordinal);
        Assert.Equal(1, adam.StepCount);
    }

    [Fact]
    public void Reset_restarts_bias_correction()
    {
        var adam = new Adam(learningRate: 0.01f);
        float[] theta = [1f];
        adam.Step(theta, [3f]);
        adam.Step(theta, [-1f]);

        adam.Reset();
        float[] fresh = [1f, 1f];
        adam.Step(fresh, [0.5f, -0.5f]);

        Assert.Equal(1, adam.StepCount);
        Assert.Equal(0.99f, fresh[0], 6);
        Assert.Equal(1.01f, fresh[1], 6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Steps_after_the_first_do_not_allocate(bool decoupled)
    {
        var adam = new Adam(weightDecay: 0.01f, decoupledWeightDecay: decoupled);
        float[] theta = new float[1000];
        float[] gradient = new float[1000];
        gradient.AsSpan().Fill(0.25f);
        adam.Step(theta, gradient);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            adam.Step(theta, gradient);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Constructor_validates_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(learningRate: -1e-3f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: -0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta2: float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(epsilon: -1e-8f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(weightDecay: -0.01f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Adam.AdamW(weightDecay: float.PositiveInfinity));
    }

    [Fact]
    public void Learning_rate_setter_validates()
    {
        var adam = new Adam(learningRate: 0.01f);

        Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = -1f);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = float.NaN);
        Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = float.PositiveInfinity);
        Assert.Equal(0.01f, adam.LearningRate);
    }
}
