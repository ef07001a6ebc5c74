using System;
using NetGen.Optimizers;
using Xunit;

namespace NetGen.Runtime.Tests.Optimizers;

public sealed class LearningRateScheduleTests
{
    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(2, 0.1)]
    [InlineData(3, 0.05)]
    [InlineData(5, 0.05)]
    [InlineData(6, 0.025)]
    [InlineData(10, 0.0125)]
    public void StepDecay_at_epochs(int epoch, double expected)
    {
        var schedule = new StepDecay(0.1f, stepSize: 3, gamma: 0.5f);

        Assert.Equal(expected, schedule.LearningRateAt(epoch), 1e-8);
    }

    [Fact]
    public void StepDecay_matches_PyTorch_StepLR_recursive_form()
    {
        // StepLR.get_lr: lr unchanged unless last_epoch % step_size == 0, then lr·gamma.
        var schedule = new StepDecay(0.3f, stepSize: 4, gamma: 0.7f);
        double lr = 0.3f;
        for (int epoch = 0; epoch <= 25; epoch++)
        {
            if (epoch != 0 && epoch % 4 == 0)
            {
                lr *= 0.7f;
            }

            Assert.Equal(lr, schedule.LearningRateAt(epoch), 1e-7);
        }
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(5, 0.55)]
    [InlineData(10, 0.1)]
    public void CosineAnnealing_at_epochs(int epoch, double expected)
    {
        var schedule = new CosineAnnealing(1f, totalEpochs: 10, minimum: 0.1f);

        Assert.Equal(expected, schedule.LearningRateAt(epoch), 1e-6);
    }

    [Fact]
    public void CosineAnnealing_matches_PyTorch_CosineAnnealingLR_recursive_form()
    {
        // CosineAnnealingLR.get_lr for 1 ≤ epoch ≤ T_max:
        // lr_e = (1 + cos(π e / T)) / (1 + cos(π (e − 1) / T)) · (lr_{e−1} − η_min) + η_min
        const int T = 12;
        const double initial = 0.05, minimum = 0.001;
        var schedule = new CosineAnnealing((float)initial, T, (float)minimum);
        double lr = initial;
        Assert.Equal(initial, schedule.LearningRateAt(0), 1e-8);
        for (int e = 1; e <= T; e++)
        {
            lr = (1 + Math.Cos(Math.PI * e / T)) / (1 + Math.Cos(Math.PI * (e - 1) / T)) * (lr - minimum) + minimum;
            Assert.Equal(lr, schedule.LearningRateAt(e), 1e-7);
        }
    }

    [Fact]
    public void CosineAnnealing_decreases_monotonically_to_the_minimum()
    {
        var schedule = new CosineAnnealing(0.1f, totalEpochs: 20);
        for (int e = 1; e <= 20; e++)
        {
            Assert.True(schedule.LearningRateAt(e) < schedule.LearningRateAt(e - 1));
        }

        Assert.Equal(0f, schedule.LearningRateAt(20), 7);
    }

    [Fact]
    public void Schedules_validate_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0.1f, 0, 0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(-0.1f, 1, 0.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0.1f, 1, float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(0.1f, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(0.1f, 10, -1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepDecay(0.1f, 2).LearningRateAt(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealing(0.1f, 2).LearningRateAt(-1));
    }

    [Fact]
    public void A_schedule_drives_an_optimizer()
    {
        ILearningRateSchedule schedule = new StepDecay(1f, stepSize: 1, gamma: 0.5f);
        IOptimizer sgd = new Sgd(schedule.LearningRateAt(0));
        float[] theta = [0f];

        for (int epoch = 0; epoch < 3; epoch++)
        {
            sgd.LearningRate = schedule.LearningRateAt(epoch);
            sgd.Step(theta, [1f]);
        }

        Assert.Equal(-1.75f, theta[0]);
    }
}
