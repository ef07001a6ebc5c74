using System;
using NetGen.Optimizers;

namespace FashionMnist;

/// <summary>How the learning rate moves over a run.</summary>
internal enum ScheduleKind
{
    /// <summary>The initial rate throughout.</summary>
    Constant,

    /// <summary>Cosine annealing to 0, updated at every optimizer step.</summary>
    Cosine,

    /// <summary>Multiplied by a factor every few epochs (PyTorch's StepLR).</summary>
    Step,
}

/// <summary>
/// The learning rate at each optimizer step of a run: an optional linear warmup from near 0 to the initial rate over the
/// first steps, then the schedule over the rest of the run. <see cref="NetGen.Training.Trainer"/> asks it for every step,
/// numbered from 0 over the whole run.
/// </summary>
internal sealed class LearningRatePlan : ILearningRateSchedule
{
    private readonly ILearningRateSchedule? _perStep;
    private readonly ILearningRateSchedule? _perEpoch;
    private readonly float _initial;
    private readonly long _warmupSteps;
    private readonly int _stepsPerEpoch;

    /// <param name="kind">The schedule.</param>
    /// <param name="initial">The learning rate of the first step after the warmup (the peak with a warmup).</param>
    /// <param name="stepsPerEpoch">Optimizer steps in one epoch (≥ 1).</param>
    /// <param name="totalSteps">Optimizer steps in the whole run (for <see cref="ScheduleKind.Cosine"/>).</param>
    /// <param name="stepSize">Epochs between decays (for <see cref="ScheduleKind.Step"/>).</param>
    /// <param name="gamma">Decay factor (for <see cref="ScheduleKind.Step"/>).</param>
    /// <param name="warmupSteps">
    /// Steps of linear warmup: step s (from 0) of them gets initial · (s + 1) / warmupSteps, as PyTorch's <c>LinearLR</c>
    /// from 1 / warmupSteps. The cosine then anneals over the remaining steps (PyTorch's <c>SequentialLR</c> of the two).
    /// </param>
    public LearningRatePlan(ScheduleKind kind, float initial, int stepsPerEpoch, long totalSteps, int stepSize, float gamma, long warmupSteps = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepsPerEpoch);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        _stepsPerEpoch = stepsPerEpoch;
        _initial = initial;
        _warmupSteps = Math.Min(warmupSteps, Math.Max(0, totalSteps));
        switch (kind)
        {
            case ScheduleKind.Cosine:
                _perStep = new CosineAnnealing(initial, (int)Math.Min(int.MaxValue, Math.Max(1, totalSteps - _warmupSteps)));
                break;
            case ScheduleKind.Step:
                _perEpoch = new StepDecay(initial, stepSize, gamma);
                break;
        }
    }

    /// <summary>The rate for optimizer step <paramref name="step"/> (from 0); a per-epoch schedule reads its epoch from it.</summary>
    public float LearningRateAt(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (step < _warmupSteps)
        {
            return (float)(_initial * (double)(step + 1) / _warmupSteps);
        }

        return _perStep?.LearningRateAt((int)Math.Min(int.MaxValue, step - _warmupSteps))
            ?? _perEpoch?.LearningRateAt(step / _stepsPerEpoch)
            ?? _initial;
    }
}
