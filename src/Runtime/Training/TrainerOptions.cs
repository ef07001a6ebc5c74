using System;
using NetGen.Data;
using NetGen.Optimizers;

namespace NetGen.Training;

/// <summary>
/// How <see cref="Trainer.Fit(INetwork, IOptimizer, ILabeledSamples, ILabeledSamples?, TrainerOptions)"/>
/// trains: epochs, batch size, seed, learning-rate schedule, augmentation and callbacks. Every setter checks its value
/// and throws <see cref="ArgumentOutOfRangeException"/> or <see cref="ArgumentException"/> naming the property.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>Epochs to train (≥ 1), numbered from 1 in callbacks and results; early stopping may end sooner. Default 1.</summary>
    public int Epochs { get; init => field = OptionCheck.Positive(value, nameof(Epochs)); } = 1;

    /// <summary>
    /// Samples per optimizer step (≥ 1; at most the training set's size is used). 1 trains sample by sample through
    /// <c>TrainSample</c> on one thread; larger batches through <c>TrainBatch</c> on the network's
    /// <see cref="INeuralNetwork.DegreeOfParallelism"/> threads. The last batch of an epoch may be shorter. Default 32.
    /// </summary>
    public int BatchSize { get; init => field = OptionCheck.Positive(value, nameof(BatchSize)); } = 32;

    /// <summary>Samples per <see cref="INeuralNetwork.ForwardBatch"/> call when evaluating the validation data (≥ 1). Default 500.</summary>
    public int ValidationBatchSize { get; init => field = OptionCheck.Positive(value, nameof(ValidationBatchSize)); } = 500;

    /// <summary>
    /// Seeds the run: epoch e visits the training set in the order <see cref="BatchOrder.EpochSeed"/>(Seed, e) and
    /// <see cref="Augmentation"/> draws from (Seed, e, sample index). The network's initial parameters are the caller's
    /// (<see cref="INeuralNetwork.InitializeParameters"/>). Default 0.
    /// </summary>
    public int Seed { get; init; }

    /// <summary>
    /// The learning rate of every optimizer step, stepped per batch: before step s (counted from 0 over the whole run)
    /// the optimizer's <see cref="IOptimizer.LearningRate"/> is set to <c>Schedule.LearningRateAt(s)</c>, so a
    /// <see cref="CosineAnnealing"/> over the run's steps anneals once per batch. Null leaves the optimizer's rate alone.
    /// </summary>
    public ILearningRateSchedule? Schedule { get; init; }

    /// <summary>
    /// Crops and flips each training sample (drawn from the seed, the epoch and the sample's index) before the batch is
    /// trained on; null trains on the samples as they are. Its <see cref="ImageAugmentation.SampleLength"/> must be the
    /// network's input length. Validation data is never augmented.
    /// </summary>
    public ImageAugmentation? Augmentation { get; init; }

    /// <summary>Stops training when a validation metric stops improving; null trains every epoch.</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>Writes a training checkpoint every few epochs, from which <see cref="ResumeFrom"/> continues the run; null writes nothing.</summary>
    public Checkpoint? Checkpoint { get; init; }

    /// <summary>
    /// A checkpoint that <see cref="Checkpoint"/> wrote, to continue its run at the epoch after it, up to
    /// <see cref="Epochs"/> (which counts the whole run); null starts at epoch 1. <c>Fit</c> restores the parameters, BatchNorm
    /// buffers and counters, the dropout step, the optimizer's state and learning rate, the schedule's step, and the
    /// early-stopping and best-model bookkeeping, so that the parameters after epoch n are bit for bit those of a run that
    /// never stopped. The options must be the run's own (the same <see cref="Seed"/>, <see cref="BatchSize"/>, training
    /// set, schedule and augmentation; <see cref="EarlyStopping"/> and <see cref="BestModel"/> with the same monitors) and
    /// the network and optimizer of the same kind; the file is checked whole against them first, and a mismatch throws
    /// <see cref="System.IO.InvalidDataException"/> naming what was expected, with nothing changed.
    /// </summary>
    public string? ResumeFrom { get; init => field = OptionCheck.NullOrPath(value, nameof(ResumeFrom), "to start a new run"); }

    /// <summary>Keeps the network of the best epoch and puts it back when training ends; null keeps the last epoch's.</summary>
    public BestModel? BestModel { get; init; }

    /// <summary>
    /// Called on the training thread after every optimizer step. It receives a struct, so the trainer allocates nothing
    /// for it; what it does itself is its own business. An exception it throws ends <c>Fit</c>.
    /// </summary>
    public Action<BatchProgress>? OnBatch { get; init; }

    /// <summary>Called on the training thread after every epoch, its validation, checkpoint and best-model keeping.</summary>
    public Action<EpochSummary>? OnEpoch { get; init; }
}

/// <summary>A metric an epoch measures, for <see cref="EarlyStopping"/> and <see cref="BestModel"/> to watch.</summary>
public enum TrainingMetric
{
    /// <summary>The validation data's mean loss, or without validation data the epoch's mean training loss.</summary>
    Loss,

    /// <summary>The validation data's accuracy (a classifier's).</summary>
    Accuracy,

    /// <summary>The validation data's mean squared error (a regression network's; equal to its loss).</summary>
    MeanSquaredError,

    /// <summary>The validation data's mean absolute error (a regression network's).</summary>
    MeanAbsoluteError,
}

/// <summary>Whether a smaller or a larger value of a <see cref="TrainingMetric"/> is better.</summary>
public enum MetricGoal
{
    /// <summary>Larger for <see cref="TrainingMetric.Accuracy"/>, smaller for the others (Keras' <c>mode="auto"</c>).</summary>
    Auto,

    /// <summary>Smaller is better.</summary>
    Minimize,

    /// <summary>Larger is better.</summary>
    Maximize,
}

/// <summary>
/// Stops training when <see cref="Monitor"/> has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs in a row, as Keras' <c>EarlyStopping</c>: the first epoch always improves, each later
/// one that does not counts one, and training stops after the epoch that brings the count to <see cref="Patience"/>
/// (with a patience of 0, the first epoch that does not improve).
/// </summary>
public sealed record EarlyStopping
{
    /// <summary>The metric watched. Default <see cref="TrainingMetric.Loss"/>.</summary>
    public TrainingMetric Monitor { get; init => field = OptionCheck.Defined(value, nameof(Monitor)); }

    /// <summary>Epochs without improvement to accept before stopping (≥ 0). Default 3.</summary>
    public int Patience { get; init => field = OptionCheck.NotNegative(value, nameof(Patience)); } = 3;

    /// <summary>The smallest change that counts as an improvement (finite, ≥ 0). Default 0: any strict improvement.</summary>
    public double MinDelta
    {
        get;
        init => field = double.IsFinite(value) && value >= 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(MinDelta), value, "MinDelta must be finite and ≥ 0.");
    }

    /// <summary>Whether smaller or larger is better. Default <see cref="MetricGoal.Auto"/>.</summary>
    public MetricGoal Mode { get; init => field = OptionCheck.Defined(value, nameof(Mode)); }
}

/// <summary>
/// Writes a training checkpoint after every <see cref="Every"/>-th epoch (epochs <see cref="Every"/>,
/// 2 × <see cref="Every"/>, …) to <see cref="PathPattern"/> with <c>{epoch}</c> replaced by the epoch's number:
/// one safetensors file, written atomically, with the network's tensors under the names of
/// <see cref="INeuralNetwork.Save"/> (so <see cref="INeuralNetwork.Load"/> reads the weights from it), the optimizer's
/// state (<c>optimizer.momentum_buffer</c>, or <c>optimizer.exp_avg</c> and <c>optimizer.exp_avg_sq</c>, and
/// <c>optimizer.step</c>), the best network so far (<c>best_model.*</c>) when <see cref="BestModel"/> kept an earlier
/// epoch's, and the run's position in its <c>__metadata__</c>. <see cref="TrainerOptions.ResumeFrom"/> continues from it
/// exactly; docs/training.md lists every key.
/// </summary>
public sealed record Checkpoint
{
    /// <summary>
    /// The file to write, e.g. <c>runs/lenet5-{epoch}.safetensors</c>; without <c>{epoch}</c> each checkpoint overwrites
    /// the last. Its folder must exist. Default <c>checkpoint-{epoch}.safetensors</c>.
    /// </summary>
    public string PathPattern
    {
        get;
        init
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(value, nameof(PathPattern));
            field = value;
        }
    } = "checkpoint-{epoch}.safetensors";

    /// <summary>Epochs between checkpoints (≥ 1). Default 1: every epoch.</summary>
    public int Every { get; init => field = OptionCheck.Positive(value, nameof(Every)); } = 1;

    /// <summary>The path of epoch <paramref name="epoch"/>'s checkpoint.</summary>
    /// <param name="epoch">The epoch's number, from 1.</param>
    /// <returns><see cref="PathPattern"/> with <c>{epoch}</c> replaced by the number.</returns>
    public string PathFor(int epoch) =>
        PathPattern.Replace("{epoch}", epoch.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
}

/// <summary>
/// Keeps the network of the epoch with the best <see cref="Monitor"/> (the earliest of equal ones) and puts it back when
/// <c>Fit</c> ends, early stopping or not, as Keras' <c>restore_best_weights</c>. The network is kept with
/// <see cref="INeuralNetwork.Save"/>, so BatchNorm's running statistics come back with the parameters.
/// </summary>
public sealed record BestModel
{
    /// <summary>The metric compared. Default <see cref="TrainingMetric.Loss"/>.</summary>
    public TrainingMetric Monitor { get; init => field = OptionCheck.Defined(value, nameof(Monitor)); }

    /// <summary>Whether smaller or larger is better. Default <see cref="MetricGoal.Auto"/>.</summary>
    public MetricGoal Mode { get; init => field = OptionCheck.Defined(value, nameof(Mode)); }

    /// <summary>
    /// Where the best network is written, and left when <c>Fit</c> ends; null (the default) uses a temporary file that
    /// <c>Fit</c> deletes before it returns or throws.
    /// </summary>
    public string? Path { get; init => field = OptionCheck.NullOrPath(value, nameof(Path), "for a temporary file"); }
}

/// <summary>The checks of the option records' <c>init</c> accessors; each returns the value or throws naming the property.</summary>
internal static class OptionCheck
{
    public static int Positive(int value, string property)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value, property);
        return value;
    }

    public static int NotNegative(int value, string property)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value, property);
        return value;
    }

    public static T Defined<T>(T value, string property)
        where T : struct, Enum =>
        Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(property, value, $"Not a {typeof(T).Name}.");

    /// <summary>A path, or null for <paramref name="nullMeans"/>; an empty or blank path throws.</summary>
    public static string? NullOrPath(string? value, string property, string nullMeans) =>
        value is null || !string.IsNullOrWhiteSpace(value) ? value
            : throw new ArgumentException($"The path is empty; use null {nullMeans}.", property);
}
