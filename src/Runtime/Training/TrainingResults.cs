using System;
using System.Collections.Generic;
using NetGen.Metrics;

namespace NetGen.Training;

/// <summary>What one optimizer step did, for <see cref="TrainerOptions.OnBatch"/>.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Batch">The batch within the epoch, from 0.</param>
/// <param name="BatchCount">Batches in the epoch.</param>
/// <param name="Step">The optimizer step, from 0 over the whole run.</param>
/// <param name="Samples">Samples in this batch.</param>
/// <param name="EpochSamples">Samples trained on in this epoch so far, this batch's included.</param>
/// <param name="Loss">This batch's mean loss.</param>
/// <param name="MeanLoss">The mean loss over the epoch's samples so far.</param>
/// <param name="LearningRate">The learning rate of this step.</param>
public readonly record struct BatchProgress(
    int Epoch, int Batch, int BatchCount, long Step, int Samples, int EpochSamples, float Loss, double MeanLoss, float LearningRate);

/// <summary>
/// A network's metrics on a data set. A classifier's have <see cref="Accuracy"/> and NaN errors; a regression network's
/// the errors and a NaN accuracy.
/// </summary>
/// <param name="Loss">
/// The mean loss: a classifier's −log p(label), with p clamped at 1e−30 so that one saturated wrong answer cannot make
/// the mean infinite; a regression network's mean squared error.
/// </param>
/// <param name="Accuracy">The fraction of samples whose most probable class (the first of equal ones) is the label.</param>
/// <param name="MeanSquaredError">The mean of (output − target)² over every sample's every output.</param>
/// <param name="MeanAbsoluteError">The mean of |output − target| over every sample's every output.</param>
/// <param name="Count">Samples evaluated; with 0 the other fields are NaN.</param>
public readonly record struct EvaluationMetrics(double Loss, double Accuracy, double MeanSquaredError, double MeanAbsoluteError, int Count)
{
    /// <summary>The value of <paramref name="metric"/>.</summary>
    /// <param name="metric">Which metric.</param>
    /// <returns>Its value; NaN for a metric the network's kind does not have.</returns>
    public double Get(TrainingMetric metric) => metric switch
    {
        TrainingMetric.Loss => Loss,
        TrainingMetric.Accuracy => Accuracy,
        TrainingMetric.MeanSquaredError => MeanSquaredError,
        TrainingMetric.MeanAbsoluteError => MeanAbsoluteError,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Not a TrainingMetric."),
    };
}

/// <summary>What one epoch measured, for <see cref="TrainerOptions.OnEpoch"/> and <see cref="TrainingHistory.Epochs"/>.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Epochs">Epochs the run was asked for.</param>
/// <param name="Steps">Optimizer steps since the run began, this epoch's included.</param>
/// <param name="TrainingLoss">The mean training loss over the epoch's samples (each batch's mean loss weighted by its size).</param>
/// <param name="Samples">Samples trained on.</param>
/// <param name="TrainingTime">Wall time of the epoch's training steps and their callbacks; validation excluded.</param>
/// <param name="LearningRate">The learning rate of the epoch's last step.</param>
/// <param name="Validation">The validation data's metrics after the epoch; null without validation data.</param>
public readonly record struct EpochSummary(
    int Epoch, int Epochs, long Steps, double TrainingLoss, int Samples, TimeSpan TrainingTime, float LearningRate, EvaluationMetrics? Validation)
{
    /// <summary>Training samples per second of <see cref="TrainingTime"/>.</summary>
    public double SamplesPerSecond => Samples / Math.Max(TrainingTime.TotalSeconds, 1e-9);

    /// <summary>
    /// The value of <paramref name="metric"/> that <see cref="EarlyStopping"/> and <see cref="BestModel"/> watch: the
    /// validation data's, or without validation data the training loss (<see cref="TrainingMetric.Loss"/> only).
    /// </summary>
    /// <param name="metric">Which metric.</param>
    /// <returns>Its value; NaN where the epoch did not measure it.</returns>
    public double Get(TrainingMetric metric) =>
        Validation is EvaluationMetrics v ? v.Get(metric) : metric == TrainingMetric.Loss ? TrainingLoss : double.NaN;
}

/// <summary>What <see cref="Trainer.Evaluate(INetwork, NetGen.Data.ILabeledSamples)"/> measured.</summary>
public sealed class EvaluationResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="metrics">The metrics.</param>
    /// <param name="confusion">A classifier's confusion matrix; null for a regression network.</param>
    public EvaluationResult(EvaluationMetrics metrics, ConfusionMatrix? confusion)
    {
        Metrics = metrics;
        Confusion = confusion;
    }

    /// <summary>Loss, accuracy or errors, and the sample count.</summary>
    public EvaluationMetrics Metrics { get; }

    /// <summary>A classifier's counts of (label, prediction) pairs; null for a regression network.</summary>
    public ConfusionMatrix? Confusion { get; }

    /// <summary>The mean loss (see <see cref="EvaluationMetrics.Loss"/>).</summary>
    public double Loss => Metrics.Loss;

    /// <summary>A classifier's accuracy; NaN for a regression network.</summary>
    public double Accuracy => Metrics.Accuracy;
}

/// <summary>What <c>Trainer.Fit</c> did: every epoch's summary, whether it stopped early, and the best epoch.</summary>
public sealed class TrainingHistory
{
    internal TrainingHistory(IReadOnlyList<EpochSummary> epochs, bool stoppedEarly, int bestEpoch)
    {
        Epochs = epochs;
        StoppedEarly = stoppedEarly;
        BestEpoch = bestEpoch;
    }

    /// <summary>The epochs trained, in order.</summary>
    public IReadOnlyList<EpochSummary> Epochs { get; }

    /// <summary>Whether <see cref="TrainerOptions.EarlyStopping"/> ended the run before <see cref="TrainerOptions.Epochs"/>.</summary>
    public bool StoppedEarly { get; }

    /// <summary>The epoch whose network <see cref="TrainerOptions.BestModel"/> put back; 0 without a <see cref="BestModel"/>.</summary>
    public int BestEpoch { get; }
}
