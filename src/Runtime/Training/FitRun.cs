using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using NetGen.Data;
using NetGen.Optimizers;

namespace NetGen.Training;

/// <summary>
/// One call of <c>Trainer.Fit</c>: the epochs, their validation and the callbacks, over the <see cref="TrainingSteps"/>
/// of a classifier or a regression network. Everything a batch needs is allocated here, before the first epoch.
/// </summary>
internal sealed class FitRun
{
    private readonly INeuralNetwork _network;
    private readonly IOptimizer _optimizer;
    private readonly TrainerOptions _options;
    private readonly TrainingSteps _steps;
    private readonly Evaluator? _validation;
    private long _step;

    public FitRun(INeuralNetwork network, IOptimizer optimizer, TrainerOptions options, TrainingSteps steps, Evaluator? validation)
    {
        _network = network;
        _optimizer = optimizer;
        _options = options;
        _steps = steps;
        _validation = validation;
    }

    public TrainingHistory Run(CancellationToken cancellation)
    {
        var epochs = new List<EpochSummary>(_options.Epochs);
        EarlyStopping? early = _options.EarlyStopping;
        BestModel? best = _options.BestModel;
        Checkpoint? checkpoint = _options.Checkpoint;
        var earlyWatch = new MetricWatch(early?.Monitor ?? TrainingMetric.Loss, early?.Mode ?? MetricGoal.Auto, early?.MinDelta ?? 0);
        var bestWatch = new MetricWatch(best?.Monitor ?? TrainingMetric.Loss, best?.Mode ?? MetricGoal.Auto, 0);
        TrainingCheckpoint? state = checkpoint is not null || _options.ResumeFrom is not null
            ? new TrainingCheckpoint(_network, _optimizer, _options, _steps.Order.Count)
            : null;

        // A checkpoint to resume from is read and checked whole before anything changes.
        TrainingCheckpoint.ResumePoint? resume = _options.ResumeFrom is { } from ? state!.Read(from) : null;
        string? bestPath = best is null ? null : best.Path ?? Path.Combine(Path.GetTempPath(), $"netgen-best-{Guid.NewGuid():N}.safetensors");
        bool stoppedEarly = false;
        try
        {
            int first = 1;
            if (resume is not null)
            {
                resume.Apply(earlyWatch, bestWatch, bestPath);
                _step = resume.Step;
                first = resume.Epoch + 1;
            }

            for (int epoch = first; epoch <= _options.Epochs; epoch++)
            {
                EpochSummary summary = TrainEpoch(epoch, cancellation);
                epochs.Add(summary);
                if (best is not null && bestWatch.Improves(summary, epoch))
                {
                    _network.Save(bestPath!);
                }

                bool improved = early is not null && earlyWatch.Improves(summary, epoch);
                if (checkpoint is not null && epoch % checkpoint.Every == 0)
                {
                    state!.Write(checkpoint.PathFor(epoch), epoch, _step, earlyWatch, bestWatch, bestPath);
                }

                _options.OnEpoch?.Invoke(summary);
                if (early is not null && !improved && epoch - earlyWatch.BestEpoch >= Math.Max(1, early.Patience)
                    && epoch < _options.Epochs)
                {
                    stoppedEarly = true;
                    break;
                }
            }

            if (best is not null && bestWatch.BestEpoch > 0)
            {
                _network.Load(bestPath!);
            }
        }
        finally
        {
            if (best is not null && best.Path is null && bestPath is not null)
            {
                File.Delete(bestPath);
            }
        }

        return new TrainingHistory(epochs, stoppedEarly, bestWatch.BestEpoch);
    }

    private EpochSummary TrainEpoch(int epoch, CancellationToken cancellation)
    {
        BatchOrder order = _steps.Order;
        int seed = _options.Seed;
        ILearningRateSchedule? schedule = _options.Schedule;
        Action<BatchProgress>? onBatch = _options.OnBatch;
        order.Shuffle(BatchOrder.EpochSeed(seed, epoch));
        long start = Stopwatch.GetTimestamp();
        double lossSum = 0;
        int done = 0;
        float learningRate = _optimizer.LearningRate;
        for (int b = 0; b < order.BatchCount; b++)
        {
            cancellation.ThrowIfCancellationRequested();
            if (schedule is not null)
            {
                learningRate = schedule.LearningRateAt((int)Math.Min(int.MaxValue, _step));
                _optimizer.LearningRate = learningRate;
            }
            else
            {
                learningRate = _optimizer.LearningRate;
            }

            ReadOnlySpan<int> batch = order.Batch(b);
            float loss = _steps.Train(batch, seed, epoch);

            // A NaN or infinite loss or gradient stops training here, before it reaches the weights.
            NonFiniteGuard.Check(loss, _network.Gradients, _step);
            lossSum += (double)loss * batch.Length;
            _optimizer.Step(_network.Parameters, _network.Gradients);
            done += batch.Length;
            _step++;
            onBatch?.Invoke(new BatchProgress(epoch, b, order.BatchCount, _step - 1, batch.Length, done, loss, lossSum / done, learningRate));
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        EvaluationMetrics? validation = _validation?.Run(cancellation);
        return new EpochSummary(epoch, _options.Epochs, _step, done == 0 ? double.NaN : lossSum / done, done, elapsed, learningRate, validation);
    }
}

/// <summary>The best value of one monitored metric so far, as Keras' callbacks keep it; a checkpoint saves and restores it.</summary>
internal sealed class MetricWatch(TrainingMetric metric, MetricGoal goal, double minDelta)
{
    private readonly bool _maximize = goal == MetricGoal.Maximize || (goal == MetricGoal.Auto && metric == TrainingMetric.Accuracy);

    /// <summary>The best value; NaN before any.</summary>
    public double Best { get; private set; } = double.NaN;

    /// <summary>The epoch of the best value; 0 before any.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>
    /// Whether <paramref name="summary"/>'s value beats the best by more than the minimum change (the first finite value
    /// always does; NaN never does), and if so records it.
    /// </summary>
    public bool Improves(in EpochSummary summary, int epoch)
    {
        double value = summary.Get(metric);
        bool better = !double.IsNaN(value) && (BestEpoch == 0 || (_maximize ? value > Best + minDelta : value < Best - minDelta));
        if (better)
        {
            Best = value;
            BestEpoch = epoch;
        }

        return better;
    }

    /// <summary>Sets the best value and its epoch, as a checkpoint recorded them.</summary>
    public void Restore(double best, int bestEpoch)
    {
        Best = best;
        BestEpoch = bestEpoch;
    }
}

/// <summary>
/// How one batch of a training set becomes an optimizer step's gradients: gathered into preallocated buffers, augmented,
/// then trained on through <c>TrainBatch</c>, or for batches of one sample through <c>TrainSample</c> on a zeroed
/// gradient (the per-sample SGD of the original sample, bit for bit).
/// </summary>
internal abstract class TrainingSteps
{
    protected TrainingSteps(int count, int inputLength, int batchSize, ImageAugmentation? augmentation)
    {
        int size = Math.Min(batchSize, Math.Max(1, count));
        Order = new BatchOrder(count, size);
        PerSample = size == 1;
        InputLength = inputLength;
        Augmentation = augmentation;
        Inputs = !PerSample || augmentation is not null ? new float[size * inputLength] : [];
        Gathered = !PerSample && augmentation is not null ? new float[size * inputLength] : [];
    }

    /// <summary>The epoch's order, cut into batches.</summary>
    public BatchOrder Order { get; }

    protected bool PerSample { get; }

    protected int InputLength { get; }

    protected ImageAugmentation? Augmentation { get; }

    /// <summary>The batch's inputs as trained on.</summary>
    protected float[] Inputs { get; }

    /// <summary>The batch's inputs before augmentation.</summary>
    protected float[] Gathered { get; }

    /// <summary>Sets the network's gradients to the batch's mean dL/dθ and returns its mean loss.</summary>
    public abstract float Train(ReadOnlySpan<int> batch, int seed, int epoch);

    /// <summary>Sample <paramref name="index"/>'s input as trained on: augmented into <see cref="Inputs"/>, or as it is.</summary>
    protected ReadOnlySpan<float> SampleInput(float[] all, int index, ReadOnlySpan<int> batch, int seed, int epoch)
    {
        if (Augmentation is null)
        {
            return all.AsSpan(index * InputLength, InputLength);
        }

        Augmentation.Apply(all.AsMemory(index * InputLength, InputLength), batch, seed, epoch, Inputs.AsMemory(0, InputLength));
        return Inputs.AsSpan(0, InputLength);
    }

    /// <summary>Augments the gathered batch into <see cref="Inputs"/>, if there is an augmentation.</summary>
    protected ReadOnlySpan<float> BatchInputs(int length, ReadOnlySpan<int> batch, int seed, int epoch)
    {
        Augmentation?.Apply(Gathered.AsMemory(0, length), batch, seed, epoch, Inputs.AsMemory(0, length));
        return Inputs.AsSpan(0, length);
    }

    /// <summary>Where a batch is gathered: <see cref="Gathered"/> before an augmentation, else <see cref="Inputs"/>.</summary>
    protected Span<float> GatherInto(int length) => (Augmentation is null ? Inputs : Gathered).AsSpan(0, length);
}

internal sealed class ClassifierSteps : TrainingSteps
{
    private readonly INetwork _network;
    private readonly ILabeledSamples _data;
    private readonly LabeledImages? _inMemory;
    private readonly int[] _labels;

    // One sample gathered from a set not held in memory, for batches of one; empty otherwise.
    private readonly float[] _sample;

    public ClassifierSteps(INetwork network, ILabeledSamples data, int batchSize, ImageAugmentation? augmentation)
        : base(data.Count, data.SampleLength, batchSize, augmentation)
    {
        _network = network;
        _data = data;
        _inMemory = data as LabeledImages;
        _labels = PerSample && _inMemory is not null ? [] : new int[Order.BatchSize];
        _sample = PerSample && _inMemory is null ? new float[data.SampleLength] : [];
    }

    public override float Train(ReadOnlySpan<int> batch, int seed, int epoch)
    {
        if (PerSample)
        {
            int index = batch[0];
            float[] all = _inMemory?.Images ?? _sample;
            int label;
            if (_inMemory is not null)
            {
                label = _inMemory.Labels[index];
            }
            else
            {
                _data.Gather(batch, _sample, _labels);
                (index, label) = (0, _labels[0]); // the sample now sits at the start of _sample
            }

            ReadOnlySpan<float> input = SampleInput(all, index, batch, seed, epoch);
            _network.ZeroGradients();
            return _network.TrainSample(input, label);
        }

        int length = batch.Length * InputLength;
        Span<int> labels = _labels.AsSpan(0, batch.Length);
        _data.Gather(batch, GatherInto(length), labels);
        return _network.TrainBatch(BatchInputs(length, batch, seed, epoch), labels); // Gradients = the batch mean
    }
}

internal sealed class RegressionSteps : TrainingSteps
{
    private readonly IRegressionNetwork _network;
    private readonly RegressionData _data;
    private readonly float[] _targets;

    public RegressionSteps(IRegressionNetwork network, RegressionData data, int batchSize, ImageAugmentation? augmentation)
        : base(data.Count, network.InputLength, batchSize, augmentation)
    {
        _network = network;
        _data = data;
        _targets = PerSample ? [] : new float[Order.BatchSize * network.OutputLength];
    }

    public override float Train(ReadOnlySpan<int> batch, int seed, int epoch)
    {
        if (PerSample)
        {
            int index = batch[0];
            ReadOnlySpan<float> input = SampleInput(_data.Inputs, index, batch, seed, epoch);
            _network.ZeroGradients();
            return _network.TrainSample(input, _data.Target(index));
        }

        int length = batch.Length * InputLength;
        Span<float> targets = _targets.AsSpan(0, batch.Length * _data.TargetLength);
        _data.Gather(batch, GatherInto(length), targets);
        return _network.TrainBatch(BatchInputs(length, batch, seed, epoch), targets); // Gradients = the batch mean
    }
}
