using System;
using System.Collections.Generic;

namespace NetGen.Optimizers;

/// <summary>
/// An optimizer whose state can be saved and restored, so that a run resumed from a training checkpoint steps exactly as
/// one that never stopped: a step count and a few vectors as long as the parameters, named as PyTorch names its
/// optimizers' state (<c>momentum_buffer</c>; <c>exp_avg</c>, <c>exp_avg_sq</c>). The hyperparameters are not part of
/// the state: they are the constructor's, as in PyTorch's <c>param_groups</c>.
/// </summary>
/// <example>
/// <code>
/// var state = new float[optimizer.StateNames.Count * net.ParameterCount];
/// optimizer.SaveState(state);
/// long steps = optimizer.StepCount;
/// // … later, into a new optimizer of the same kind:
/// resumed.RestoreState(net.ParameterCount, state, steps);
/// </code>
/// </example>
public interface IStatefulOptimizer : IOptimizer
{
    /// <summary>PyTorch's class name of the update rule (<c>SGD</c>, <c>Adam</c>, <c>AdamW</c>); a state restores only into the same kind.</summary>
    string Kind { get; }

    /// <summary>Steps taken since the optimizer was made or reset, or since the step count <see cref="RestoreState"/> set.</summary>
    long StepCount { get; }

    /// <summary>The length of the parameter vectors it steps, fixed by the first <see cref="IOptimizer.Step"/> or by <see cref="RestoreState"/>; −1 before.</summary>
    int ParameterCount { get; }

    /// <summary>
    /// The names of the state vectors, each <see cref="ParameterCount"/> floats, in the order <see cref="SaveState"/> writes
    /// them: PyTorch's state keys (<c>momentum_buffer</c> for SGD with momentum, <c>exp_avg</c> and <c>exp_avg_sq</c> for
    /// Adam); empty for plain SGD. Fixed by the constructor's arguments.
    /// </summary>
    IReadOnlyList<string> StateNames { get; }

    /// <summary>
    /// Copies the state vectors, one after another in <see cref="StateNames"/> order, into <paramref name="destination"/>;
    /// zeros before the first step. Allocates nothing.
    /// </summary>
    /// <param name="destination">
    /// <see cref="StateNames"/>.Count × n floats, n being <see cref="ParameterCount"/> (any n before the first step).
    /// </param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has another length.</exception>
    void SaveState(Span<float> destination);

    /// <summary>
    /// Replaces the whole state: after it, the optimizer steps as one that had taken <paramref name="stepCount"/> steps over
    /// parameter vectors of <paramref name="parameterCount"/> floats and held <paramref name="state"/>. Every argument is
    /// checked before anything changes. The learning rate and the weight-decay mask are kept.
    /// </summary>
    /// <param name="parameterCount">The length of the parameter vectors (≥ 0).</param>
    /// <param name="state">The state vectors as <see cref="SaveState"/> writes them: <see cref="StateNames"/>.Count × <paramref name="parameterCount"/> floats.</param>
    /// <param name="stepCount">The steps taken (≥ 0); 0 restores a fresh optimizer for that length.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="parameterCount"/> or <paramref name="stepCount"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="state"/> has another length, or the weight-decay mask does not fit <paramref name="parameterCount"/>.</exception>
    void RestoreState(int parameterCount, ReadOnlySpan<float> state, long stepCount);
}
