using System;
using System.Globalization;
using System.Threading;
using NetGen.Data;
using NetGen.Optimizers;

namespace NetGen.Training;

/// <summary>
/// Keras' <c>fit</c> and <c>evaluate</c> for any generated network: mini-batch training in a seeded order with a
/// learning-rate schedule stepped per batch, validation after every epoch, callbacks, early stopping, checkpoints and
/// best-model keeping, cancellation, and a stop at the first NaN or infinite loss or gradient.
/// </summary>
/// <remarks>
/// <para>
/// <b>Reproducible.</b> The result depends only on the network's initial parameters, the data, the optimizer and the
/// options: the same seed gives the same bits after <c>Fit</c>, on any <see cref="INeuralNetwork.DegreeOfParallelism"/>
/// (the batch methods promise that) and any <see cref="ImageAugmentation.DegreeOfParallelism"/>.
/// </para>
/// <para>
/// <b>Allocation-free.</b> Batch buffers, the validation outputs and the confusion matrix are made when <c>Fit</c>
/// starts; after the first epoch an epoch allocates nothing but what the callbacks allocate, what the data's
/// <see cref="ILabeledSamples.Gather"/> allocates (nothing for <see cref="LabeledImages"/>; a streamed image folder
/// decodes files), and the files a <see cref="Checkpoint"/> or <see cref="BestModel"/> writes.
/// </para>
/// <para>
/// <b>Resuming.</b> A <see cref="Checkpoint"/> holds the network, the optimizer's state and the run's position;
/// <see cref="TrainerOptions.ResumeFrom"/> continues from it with the same bits as a run that never stopped.
/// </para>
/// <para>
/// <b>Cancellation.</b> The token is checked before every batch and every validation batch; when it is signalled,
/// <c>Fit</c> throws <see cref="OperationCanceledException"/> (the .NET convention, as
/// <see cref="CancellationToken.ThrowIfCancellationRequested"/>). The network then holds the parameters of the last
/// completed optimizer step, never a half-applied one, and is not put back to the best epoch's.
/// </para>
/// <para>
/// <b>Non-finite values.</b> <see cref="NonFiniteGuard"/> checks every step's loss and gradients before the optimizer
/// applies them: a NaN or infinity throws <see cref="NonFiniteTrainingException"/> and the parameters keep the values of
/// the last good step.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// var net = new LeNet5 { DegreeOfParallelism = Environment.ProcessorCount };
/// net.InitializeParameters(seed: 1);
/// var options = new TrainerOptions { Epochs = 10, BatchSize = 64, Seed = 1, Schedule = new CosineAnnealing(1e-3f, totalSteps) };
/// TrainingHistory history = Trainer.Fit(net, new Adam(1e-3f), train, test, options);
/// EvaluationResult result = Trainer.Evaluate(net, test);   // result.Accuracy, result.Confusion
/// </code>
/// </example>
public static class Trainer
{
    /// <summary>The default samples per <see cref="INeuralNetwork.ForwardBatch"/> call of <c>Evaluate</c>.</summary>
    public const int DefaultEvaluationBatchSize = 500;

    /// <summary>Trains a classifier on labelled images; see the overload with a <see cref="CancellationToken"/>.</summary>
    /// <param name="network">The network, with its initial parameters.</param>
    /// <param name="optimizer">Steps the parameters after every batch.</param>
    /// <param name="train">The training set.</param>
    /// <param name="validation">Evaluated after every epoch, or null.</param>
    /// <param name="options">Epochs, batch size, seed, schedule, augmentation, callbacks.</param>
    /// <returns>Every epoch's summary, whether it stopped early, the best epoch.</returns>
    public static TrainingHistory Fit(INetwork network, IOptimizer optimizer, ILabeledSamples train, ILabeledSamples? validation, TrainerOptions options) =>
        Fit(network, optimizer, train, validation, options, CancellationToken.None);

    /// <summary>Trains a regression network; see the overload with a <see cref="CancellationToken"/>.</summary>
    /// <param name="network">The network, with its initial parameters.</param>
    /// <param name="optimizer">Steps the parameters after every batch.</param>
    /// <param name="train">The training set.</param>
    /// <param name="validation">Evaluated after every epoch, or null.</param>
    /// <param name="options">Epochs, batch size, seed, schedule, augmentation, callbacks.</param>
    /// <returns>Every epoch's summary, whether it stopped early, the best epoch.</returns>
    public static TrainingHistory Fit(IRegressionNetwork network, IOptimizer optimizer, RegressionData train, RegressionData? validation, TrainerOptions options) =>
        Fit(network, optimizer, train, validation, options, CancellationToken.None);

    /// <summary>A classifier's metrics and confusion matrix on <paramref name="data"/>, in batches of <see cref="DefaultEvaluationBatchSize"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="data">The data.</param>
    /// <returns>The metrics and the confusion matrix.</returns>
    public static EvaluationResult Evaluate(INetwork network, ILabeledSamples data) =>
        Evaluate(network, data, DefaultEvaluationBatchSize, CancellationToken.None);

    /// <summary>A regression network's metrics on <paramref name="data"/>, in batches of <see cref="DefaultEvaluationBatchSize"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="data">The data.</param>
    /// <returns>The metrics.</returns>
    public static EvaluationResult Evaluate(IRegressionNetwork network, RegressionData data) =>
        Evaluate(network, data, DefaultEvaluationBatchSize, CancellationToken.None);

    /// <summary>A classifier's metrics and confusion matrix on <paramref name="data"/>, in batches of <paramref name="batchSize"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="data">The data.</param>
    /// <param name="batchSize">Samples per <see cref="INeuralNetwork.ForwardBatch"/> call (≥ 1).</param>
    /// <returns>The metrics and the confusion matrix.</returns>
    public static EvaluationResult Evaluate(INetwork network, ILabeledSamples data, int batchSize) =>
        Evaluate(network, data, batchSize, CancellationToken.None);

    /// <summary>A regression network's metrics on <paramref name="data"/>, in batches of <paramref name="batchSize"/>.</summary>
    /// <param name="network">The network.</param>
    /// <param name="data">The data.</param>
    /// <param name="batchSize">Samples per <see cref="INeuralNetwork.ForwardBatch"/> call (≥ 1).</param>
    /// <returns>The metrics.</returns>
    public static EvaluationResult Evaluate(IRegressionNetwork network, RegressionData data, int batchSize) =>
        Evaluate(network, data, batchSize, CancellationToken.None);

    /// <summary>Trains a classifier on labelled images.</summary>
    /// <param name="network">The network, with its initial parameters.</param>
    /// <param name="optimizer">Steps the parameters after every batch.</param>
    /// <param name="train">
    /// The training set: samples of the network's input length, labels below its number of classes; a
    /// <see cref="LabeledImages"/> in memory, or a set that produces each batch when it is drawn.
    /// </param>
    /// <param name="validation">Evaluated after every epoch (loss, accuracy), or null.</param>
    /// <param name="options">Epochs, batch size, seed, schedule, augmentation, callbacks.</param>
    /// <param name="cancellationToken">Checked before every batch; see the remarks of <see cref="Trainer"/>.</param>
    /// <returns>Every epoch's summary, whether it stopped early, the best epoch.</returns>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="validation"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The data does not fit the network (the message says how), the training set is empty, or the options ask for a
    /// metric the network or the data cannot give; the parameter named is the one at fault.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was signalled.</exception>
    /// <exception cref="NonFiniteTrainingException">A loss or gradient was NaN or infinite.</exception>
    /// <exception cref="System.IO.InvalidDataException">
    /// <see cref="TrainerOptions.ResumeFrom"/> is not a training checkpoint, is corrupt, or does not fit the network, the
    /// optimizer or the options; the message says what was expected, and nothing has changed.
    /// </exception>
    /// <exception cref="System.IO.FileNotFoundException"><see cref="TrainerOptions.ResumeFrom"/> does not exist.</exception>
    public static TrainingHistory Fit(INetwork network, IOptimizer optimizer, ILabeledSamples train, ILabeledSamples? validation,
        TrainerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        CheckData(network, train, nameof(train));
        if (train.Count == 0)
        {
            throw new ArgumentException("The training set is empty.", nameof(train));
        }

        if (validation is not null)
        {
            CheckData(network, validation, nameof(validation));
        }

        CheckOptions(network, options, validation, classifier: true);
        return new FitRun(network, optimizer, options, new ClassifierSteps(network, train, options.BatchSize, options.Augmentation),
            validation is null ? null : new Evaluator(network, validation, options.ValidationBatchSize)).Run(cancellationToken);
    }

    /// <summary>Trains a regression network on samples with target values.</summary>
    /// <param name="network">The network, with its initial parameters.</param>
    /// <param name="optimizer">Steps the parameters after every batch.</param>
    /// <param name="train">The training set: inputs of the network's input length, targets of its output length.</param>
    /// <param name="validation">Evaluated after every epoch (mean squared and mean absolute error), or null.</param>
    /// <param name="options">Epochs, batch size, seed, schedule, augmentation, callbacks.</param>
    /// <param name="cancellationToken">Checked before every batch; see the remarks of <see cref="Trainer"/>.</param>
    /// <returns>Every epoch's summary, whether it stopped early, the best epoch.</returns>
    /// <exception cref="ArgumentNullException">An argument other than <paramref name="validation"/> is null.</exception>
    /// <exception cref="ArgumentException">
    /// The data does not fit the network, the training set is empty, or the options ask for a metric the network or the
    /// data cannot give; the parameter named is the one at fault.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was signalled.</exception>
    /// <exception cref="NonFiniteTrainingException">A loss or gradient was NaN or infinite.</exception>
    /// <exception cref="System.IO.InvalidDataException">
    /// <see cref="TrainerOptions.ResumeFrom"/> is not a training checkpoint, is corrupt, or does not fit the network, the
    /// optimizer or the options; the message says what was expected, and nothing has changed.
    /// </exception>
    /// <exception cref="System.IO.FileNotFoundException"><see cref="TrainerOptions.ResumeFrom"/> does not exist.</exception>
    public static TrainingHistory Fit(IRegressionNetwork network, IOptimizer optimizer, RegressionData train, RegressionData? validation,
        TrainerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        CheckData(network, train, nameof(train));
        if (train.Count == 0)
        {
            throw new ArgumentException("The training set is empty.", nameof(train));
        }

        if (validation is not null)
        {
            CheckData(network, validation, nameof(validation));
        }

        CheckOptions(network, options, validation, classifier: false);
        return new FitRun(network, optimizer, options, new RegressionSteps(network, train, options.BatchSize, options.Augmentation),
            validation is null ? null : new Evaluator(network, validation, options.ValidationBatchSize)).Run(cancellationToken);
    }

    /// <summary>
    /// A classifier's accuracy, mean loss and confusion matrix on <paramref name="data"/>, in inference mode, in batches
    /// on the network's <see cref="INeuralNetwork.DegreeOfParallelism"/> threads.
    /// </summary>
    /// <param name="network">The network.</param>
    /// <param name="data">Samples of the network's input length, labels below its number of classes.</param>
    /// <param name="batchSize">Samples per <see cref="INeuralNetwork.ForwardBatch"/> call (≥ 1).</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>The metrics (NaN for an empty set) and the confusion matrix.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The data does not fit the network, or <paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was signalled.</exception>
    public static EvaluationResult Evaluate(INetwork network, ILabeledSamples data, int batchSize,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        CheckData(network, data, nameof(data));
        var evaluator = new Evaluator(network, data, batchSize);
        return new EvaluationResult(evaluator.Run(cancellationToken), evaluator.Confusion);
    }

    /// <summary>
    /// A regression network's mean squared error (its loss) and mean absolute error on <paramref name="data"/>, over every
    /// output of every sample, in inference mode, in batches on the network's threads.
    /// </summary>
    /// <param name="network">The network.</param>
    /// <param name="data">Inputs of the network's input length, targets of its output length.</param>
    /// <param name="batchSize">Samples per <see cref="INeuralNetwork.ForwardBatch"/> call (≥ 1).</param>
    /// <param name="cancellationToken">Checked before every batch.</param>
    /// <returns>The metrics (NaN for an empty set), without a confusion matrix.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The data does not fit the network, or <paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was signalled.</exception>
    public static EvaluationResult Evaluate(IRegressionNetwork network, RegressionData data, int batchSize,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        CheckData(network, data, nameof(data));
        return new EvaluationResult(new Evaluator(network, data, batchSize).Run(cancellationToken), null);
    }

    private static void CheckData(INetwork network, ILabeledSamples data, string name)
    {
        if (data.SampleLength != network.InputLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The images have {data.SampleLength} floats each, the network takes {network.InputLength}."), name);
        }

        ReadOnlySpan<int> labels = data.Labels;
        if (labels.Length != data.Count)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The data has {data.Count} samples but {labels.Length} labels."), name);
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)network.OutputLength)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Label {i} is {labels[i]}; the network has {network.OutputLength} classes, 0 to {network.OutputLength - 1}."), name);
            }
        }
    }

    private static void CheckData(IRegressionNetwork network, RegressionData data, string name)
    {
        if (data.Count > 0 && data.InputLength != network.InputLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The inputs have {data.InputLength} floats each, the network takes {network.InputLength}."), name);
        }

        if (data.Count > 0 && data.TargetLength != network.OutputLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The targets have {data.TargetLength} floats each, the network outputs {network.OutputLength}."), name);
        }
    }

    private static void CheckOptions(INeuralNetwork network, TrainerOptions options, object? validation, bool classifier)
    {
        if (options.Augmentation is { } augmentation && augmentation.SampleLength != network.InputLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"options.Augmentation works on {augmentation.Channels}×{augmentation.Height}×{augmentation.Width} images, the network takes {network.InputLength} floats."),
                nameof(options));
        }

        foreach ((TrainingMetric? monitor, string option) in (ReadOnlySpan<(TrainingMetric?, string)>)[
                     (options.EarlyStopping?.Monitor, nameof(TrainerOptions.EarlyStopping)), (options.BestModel?.Monitor, nameof(TrainerOptions.BestModel))])
        {
            if (monitor is not TrainingMetric metric || metric == TrainingMetric.Loss)
            {
                continue; // without validation data the training loss
            }

            if (classifier != (metric == TrainingMetric.Accuracy))
            {
                throw new ArgumentException(
                    $"options.{option} monitors {metric}, which a {(classifier ? "classifier" : "regression network")} does not measure.", nameof(options));
            }

            if (validation is null)
            {
                throw new ArgumentException($"options.{option} monitors {metric}, which is measured on validation data; pass some.", nameof(validation));
            }
        }
    }
}
