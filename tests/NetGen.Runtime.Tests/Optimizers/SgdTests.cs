using System;
using NetGen.Optimizers;
using Xunit;

namespace NetGen.Runtime.Tests.Optimizers;

public sealed class SgdTests
{
    internal static readonly float[] Theta0 = [0.5f, -1.25f, 2f, 0f, -0.1f];

    // Three steps of gradients.
    internal static readonly float[][] Gradients =
    [
        [0.1f, -0.2f, 0.3f, -0.4f, 0.05f],
        [-0.3f, 0.1f, 0.25f, 0.2f, -0.15f],
        [0.05f, 0.5f, -0.1f, 0.0f, 0.3f],
    ];

    /// <summary>torch.optim.SGD's update written out directly, in double.</summary>
    private static double[][] Reference(double lr, double mu, bool nesterov, double wd)
    {
        int n = Theta0.Length;
        var theta = new double[n];
        var buf = new double[n];
        for (int i = 0; i < n; i++)
        {
            theta[i] = Theta0[i];
        }

        var history = new double[Gradients.Length][];
        for (int t = 0; t < Gradients.Length; t++)
        {
            for (int i = 0; i < n; i++)
            {
                double g = Gradients[t][i] + wd * theta[i];
                if (mu != 0)
                {
                    buf[i] = t == 0 ? g : mu * buf[i] + g;
                    g = nesterov ? g + mu * buf[i] : buf[i];
                }

                theta[i] -= lr * g;
            }

            history[t] = (double[])theta.Clone();
        }

        return history;
    }

    [Theory]
    [InlineData(0.1f, 0f, false, 0f)]
    [InlineData(0.05f, 0.9f, false, 0f)]
    [InlineData(0.05f, 0.9f, true, 0f)]
    [InlineData(0.1f, 0f, false, 0.01f)]
    [InlineData(0.02f, 0.8f, false, 0.1f)]
    [InlineData(0.02f, 0.8f, true, 0.1f)]
    public void Matches_the_PyTorch_update_over_three_steps(float lr, float momentum, bool nesterov, float weightDecay)
    {
        double[][] expected = Reference(lr, momentum, nesterov, weightDecay);
        var sgd = new Sgd(lr, momentum, nesterov, weightDecay);
        float[] theta = (float[])Theta0.Clone();

        for (int t = 0; t < Gradients.Length; t++)
        {
            sgd.Step(theta, Gradients[t]);
            for (int i = 0; i < theta.Length; i++)
            {
                Assert.Equal(expected[t][i], theta[i], 1e-6);
            }
        }
    }

    [Fact]
    public void Plain_step_by_hand()
    {
        var sgd = new Sgd(0.5f);
        float[] theta = [1f, 2f];

        sgd.Step(theta, [0.5f, -1f]);

        Assert.Equal([0.75f, 2.5f], theta);
    }

    [Fact]
    public void Momentum_by_hand_first_buffer_is_the_gradient()
    {
        var sgd = new Sgd(0.1f, momentum: 0.5f);
        float[] theta = [1f];

        sgd.Step(theta, [2f]);   // b = 2, θ = 1 − 0.2 = 0.8
        Assert.Equal(0.8f, theta[0], 6);
        Assert.Equal([2f], sgd.MomentumBuffer.ToArray());

        sgd.Step(theta, [2f]);   // b = 0.5·2 + 2 = 3, θ = 0.8 − 0.3 = 0.5
        Assert.Equal(0.5f, theta[0], 6);
        Assert.Equal([3f], sgd.MomentumBuffer.ToArray());
    }

    [Fact]
    public void Nesterov_by_hand()
    {
        var sgd = new Sgd(0.1f, momentum: 0.5f, nesterov: true);
        float[] theta = [1f];

        sgd.Step(theta, [2f]);   // b = 2, g = 2 + 0.5·2 = 3, θ = 1 − 0.3 = 0.7
        Assert.Equal(0.7f, theta[0], 6);

        sgd.Step(theta, [2f]);   // b = 3, g = 2 + 1.5 = 3.5, θ = 0.7 − 0.35 = 0.35
        Assert.Equal(0.35f, theta[0], 6);
    }

    [Fact]
    public void Weight_decay_by_hand_and_gradients_untouched()
    {
        var sgd = new Sgd(0.1f, weightDecay: 0.5f);
        float[] theta = [2f];
        float[] gradient = [1f];

        sgd.Step(theta, gradient);   // g = 1 + 0.5·2 = 2, θ = 2 − 0.2 = 1.8

        Assert.Equal(1.8f, theta[0], 6);
        Assert.Equal([1f], gradient);
    }

    [Fact]
    public void Learning_rate_change_applies_to_the_next_step()
    {
        var sgd = new Sgd(1f);
        float[] theta = [0f];
        sgd.Step(theta, [1f]);

        sgd.LearningRate = 0.25f;
        sgd.Step(theta, [1f]);

        Assert.Equal(-1.25f, theta[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = -1f);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = float.NaN);
        Assert.Equal(0.25f, sgd.LearningRate);
    }

    [Fact]
    public void Step_rejects_mismatched_lengths_naming_both()
    {
        var sgd = new Sgd(0.1f, momentum: 0.9f);

        var e = Assert.Throws<ArgumentException>(() => sgd.Step(new float[3], new float[4]));
        Assert.Contains("4", e.Message, StringComparison.Ordinal);
        Assert.Contains("3", e.Message, StringComparison.Ordinal);

        sgd.Step(new float[3], new float[3]);
        var later = Assert.Throws<ArgumentException>(() => sgd.Step(new float[5], new float[5]));
        Assert.Contains("5", later.Message, StringComparison.Ordinal);
        Assert.Contains("expected 3", later.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reset_forgets_length_and_momentum()
    {
        var sgd = new Sgd(0.1f, momentum: 0.5f);
        sgd.Step(new float[3], [1f, 1f, 1f]);

        sgd.Reset();
        float[] theta = [1f, 1f];
        sgd.Step(theta, [2f, 2f]);

        Assert.Equal([2f, 2f], sgd.MomentumBuffer.ToArray());
        Assert.Equal(0.8f, theta[0], 6);
    }

    [Fact]
    public void Steps_after_the_first_do_not_allocate()
    {
        var sgd = new Sgd(0.01f, momentum: 0.9f, nesterov: true, weightDecay: 1e-4f);
        float[] theta = new float[1000];
        float[] gradient = new float[1000];
        gradient.AsSpan().Fill(0.5f);
        sgd.Step(theta, gradient);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            sgd.Step(theta, gradient);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Constructor_validates_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(-0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(float.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(0.1f, momentum: -0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(0.1f, weightDecay: -1f));
        Assert.Throws<ArgumentException>(() => new Sgd(0.1f, momentum: 0f, nesterov: true));
    }
}
