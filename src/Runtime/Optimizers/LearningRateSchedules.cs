using System;

namespace NetGen.Optimizers;

/// <summary>A learning rate as a function of the epoch number (0 for the first epoch).</summary>
public interface ILearningRateSchedule
{
    /// <summary>The learning rate to use during epoch <paramref name="epoch"/>.</summary>
    /// <param name="epoch">The epoch number, from 0.</param>
    /// <returns>The learning rate.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is negative.</exception>
    float LearningRateAt(int epoch);
}

/// <summary>
/// Multiplies the learning rate by <see cref="Gamma"/> every <see cref="StepSize"/> epochs, as PyTorch's
/// <c>StepLR</c>: <c>lr(epoch) = initial · gamma^⌊epoch / stepSize⌋</c>.
/// </summary>
public sealed class StepDecay : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initial">The learning rate of epochs 0 … stepSize − 1 (finite, ≥ 0).</param>
    /// <param name="stepSize">Epochs between decays (≥ 1).</param>
    /// <param name="gamma">Factor applied at each decay (finite, ≥ 0), e.g. 0.1.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public StepDecay(float initial, int stepSize, float gamma = 0.1f)
    {
        Initial = OptimizerGuard.NonNegative(initial, nameof(initial));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stepSize);
        StepSize = stepSize;
        Gamma = OptimizerGuard.NonNegative(gamma, nameof(gamma));
    }

    /// <summary>The learning rate at epoch 0.</summary>
    public float Initial { get; }

    /// <summary>Epochs between decays.</summary>
    public int StepSize { get; }

    /// <summary>Factor applied at each decay.</summary>
    public float Gamma { get; }

    /// <inheritdoc/>
    public float LearningRateAt(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return (float)(Initial * Math.Pow(Gamma, epoch / StepSize));
    }
}

/// <summary>
/// Cosine annealing from <see cref="Initial"/> down to <see cref="Minimum"/> over <see cref="TotalEpochs"/>
/// epochs, the closed form of PyTorch's <c>CosineAnnealingLR</c> (no restarts):
/// <c>lr(epoch) = minimum + (initial − minimum) · (1 + cos(π · epoch / totalEpochs)) / 2</c>.
/// Like PyTorch's closed form, it rises again after <see cref="TotalEpochs"/> (the cosine is periodic).
/// </summary>
public sealed class CosineAnnealing : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="initial">The learning rate at epoch 0 (finite, ≥ 0).</param>
    /// <param name="totalEpochs">Epochs to reach <paramref name="minimum"/> (PyTorch's <c>T_max</c>, ≥ 1).</param>
    /// <param name="minimum">The learning rate at epoch <paramref name="totalEpochs"/> (PyTorch's <c>eta_min</c>, finite, ≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public CosineAnnealing(float initial, int totalEpochs, float minimum = 0f)
    {
        Initial = OptimizerGuard.NonNegative(initial, nameof(initial));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalEpochs);
        TotalEpochs = totalEpochs;
        Minimum = OptimizerGuard.NonNegative(minimum, nameof(minimum));
    }

    /// <summary>The learning rate at epoch 0.</summary>
    public float Initial { get; }

    /// <summary>Epochs to reach <see cref="Minimum"/>.</summary>
    public int TotalEpochs { get; }

    /// <summary>The learning rate at epoch <see cref="TotalEpochs"/>.</summary>
    public float Minimum { get; }

    /// <inheritdoc/>
    public float LearningRateAt(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return (float)(Minimum + (Initial - (double)Minimum) * (1 + Math.Cos(Math.PI * epoch / TotalEpochs)) / 2);
    }
}
