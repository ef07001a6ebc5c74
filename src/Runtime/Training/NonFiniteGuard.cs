using System;
using System.Numerics.Tensors;

namespace NetGen.Training;

/// <summary>
/// Stops training at the first step whose loss or gradients are not finite (NaN or ±∞), before the optimizer
/// would write them into the weights: call <see cref="Check"/> between the backward pass and the optimizer
/// step, and the parameters keep the values of the last good step.
/// </summary>
/// <example>
/// <code>
/// float loss = net.TrainBatch(inputs, labels);
/// NonFiniteGuard.Check(loss, net.Gradients, step);   // throws NonFiniteTrainingException naming the step
/// optimizer.Step(net.Parameters, net.Gradients);
/// </code>
/// </example>
public static class NonFiniteGuard
{
    /// <summary>Throws <see cref="NonFiniteTrainingException"/> when <paramref name="loss"/> or any gradient is NaN or infinite.</summary>
    /// <param name="loss">The step's loss.</param>
    /// <param name="gradients">The gradients the optimizer is about to apply.</param>
    /// <param name="step">The step's number, for the message.</param>
    public static void Check(float loss, ReadOnlySpan<float> gradients, long step)
    {
        if (!float.IsFinite(loss))
        {
            throw new NonFiniteTrainingException(step, $"Training stopped at step {step}: the loss is {loss}. The parameters are those of the last good step; lower the learning rate or check the inputs for NaN.");
        }

        // MaxMagnitude is NaN if any gradient is NaN and ∞ if any is infinite: one vectorized pass.
        float largest = gradients.IsEmpty ? 0f : TensorPrimitives.MaxMagnitude(gradients);
        if (!float.IsFinite(largest))
        {
            int index = IndexOfNonFinite(gradients);
            throw new NonFiniteTrainingException(step, $"Training stopped at step {step}: gradient {index} is {gradients[index]}. The parameters are those of the last good step; lower the learning rate or check the inputs for NaN.");
        }
    }

    private static int IndexOfNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>Training produced a NaN or infinite loss or gradient; see <see cref="NonFiniteGuard"/>.</summary>
public sealed class NonFiniteTrainingException : Exception
{
    /// <summary>Creates the exception for <paramref name="step"/>.</summary>
    public NonFiniteTrainingException(long step, string message) : base(message) => Step = step;

    /// <summary>Creates the exception.</summary>
    public NonFiniteTrainingException() : base("Training produced a non-finite loss or gradient.") { }

    /// <summary>Creates the exception.</summary>
    public NonFiniteTrainingException(string message) : base(message) { }

    /// <summary>Creates the exception.</summary>
    public NonFiniteTrainingException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The step (counted from 0) whose loss or gradients were not finite.</summary>
    public long Step { get; }
}
