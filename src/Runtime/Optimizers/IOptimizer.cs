using System;
using System.Diagnostics.CodeAnalysis;

namespace NetGen.Optimizers;

/// <summary>
/// Updates a flat parameter vector from its gradients, one step at a time. An optimizer keeps state (momentum,
/// moment estimates) for one parameter vector: the first <see cref="Step"/> fixes its length, later calls must
/// pass the same length (the implementations' <c>Reset</c> starts over). <see cref="Step"/> allocates nothing after the first call.
/// </summary>
/// <example>
/// <code>
/// IOptimizer optimizer = new Sgd(learningRate: 0.01f, momentum: 0.9f);
/// var schedule = new CosineAnnealing(initial: 0.01f, totalEpochs: epochs);
/// for (int epoch = 0; epoch &lt; epochs; epoch++)
/// {
///     optimizer.LearningRate = schedule.LearningRateAt(epoch);
///     foreach (var (inputs, labels) in batches)
///     {
///         net.TrainBatch(inputs, labels);
///         optimizer.Step(net.Parameters, net.Gradients);
///     }
/// }
/// </code>
/// </example>
public interface IOptimizer
{
    /// <summary>The step size; may be changed between steps, e.g. by an <see cref="ILearningRateSchedule"/>.</summary>
    float LearningRate { get; set; }

    /// <summary>Updates <paramref name="parameters"/> in place from <paramref name="gradients"/>.</summary>
    /// <param name="parameters">The parameters θ.</param>
    /// <param name="gradients">dL/dθ, same length; not modified.</param>
    /// <exception cref="ArgumentException">The lengths differ from each other or from the first call's.</exception>
    [SuppressMessage("Naming", "CA1716:Identifiers should not match keywords",
        Justification = "Step is the established optimizer verb (PyTorch's optimizer.step()); VB callers can escape it as [Step].")]
    void Step(Span<float> parameters, ReadOnlySpan<float> gradients);
}
