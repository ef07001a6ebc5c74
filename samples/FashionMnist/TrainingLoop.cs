using System;
using System.Diagnostics;
using System.Threading;
using NetGen;
using NetGen.Data;
using NetGen.Optimizers;
using NetGen.Training;

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
/// first steps, then the schedule over the rest of the run.
/// </summary>
internal sealed class LearningRatePlan
{
    private readonly ILearningRateSchedule? _perStep;
    private readonly ILearningRateSchedule? _perEpoch;
    private readonly float _initial;
    private readonly long _warmupSteps;

    /// <param name="kind">The schedule.</param>
    /// <param name="initial">The learning rate of the first step after the warmup (the peak with a warmup).</param>
    /// <param name="totalSteps">Optimizer steps in the whole run (for <see cref="ScheduleKind.Cosine"/>).</param>
    /// <param name="stepSize">Epochs between decays (for <see cref="ScheduleKind.Step"/>).</param>
    /// <param name="gamma">Decay factor (for <see cref="ScheduleKind.Step"/>).</param>
    /// <param name="warmupSteps">
    /// Steps of linear warmup: step s (from 0) of them gets initial · (s + 1) / warmupSteps, as PyTorch's <c>LinearLR</c>
    /// from 1 / warmupSteps. The cosine then anneals over the remaining steps (PyTorch's <c>SequentialLR</c> of the two).
    /// </param>
    public LearningRatePlan(ScheduleKind kind, float initial, long totalSteps, int stepSize, float gamma, long warmupSteps = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
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

    /// <summary>The rate for optimizer step <paramref name="step"/> (from 0) in epoch <paramref name="epoch"/> (from 1).</summary>
    public float At(int epoch, long step)
    {
        if (step < _warmupSteps)
        {
            return (float)(_initial * (double)(step + 1) / _warmupSteps);
        }

        return _perStep?.LearningRateAt((int)Math.Min(int.MaxValue, step - _warmupSteps))
            ?? _perEpoch?.LearningRateAt(epoch - 1)
            ?? _initial;
    }
}

/// <summary>What one epoch of training measured.</summary>
/// <param name="MeanLoss">Mean training loss over the epoch's samples.</param>
/// <param name="Samples">Samples trained on.</param>
/// <param name="Elapsed">Wall time of the epoch's training (evaluation excluded).</param>
/// <param name="LastLearningRate">The learning rate of the epoch's last step.</param>
internal readonly record struct EpochStats(double MeanLoss, int Samples, TimeSpan Elapsed, float LastLearningRate)
{
    public double SamplesPerSecond => Samples / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// Mini-batch training of any <see cref="INetwork"/>: each epoch visits the training set in a seeded random order
/// (<see cref="BatchOrder.EpochSeed"/>), one optimizer step per batch. With a batch size of 1 it takes the per-sample
/// path (<see cref="INetwork.TrainSample"/>), exactly the loop of the original sample. With an
/// <see cref="ImageAugmentation"/> each sample is cropped and flipped as drawn from the run's seed, the epoch and the
/// sample's index: the same seed gives the same run, whatever the thread count.
/// </summary>
internal sealed class TrainingLoop
{
    private readonly INetwork _network;
    private readonly IOptimizer _optimizer;
    private readonly LearningRatePlan _plan;
    private readonly LabeledImages _train;
    private readonly BatchOrder _order;
    private readonly ImageAugmentation? _augmentation;
    private readonly float[] _gathered;
    private readonly float[] _inputs;
    private readonly int[] _labels;
    private readonly int _seed;
    private long _step;

    /// <param name="network">The network to train.</param>
    /// <param name="optimizer">Steps the parameters after each batch.</param>
    /// <param name="plan">The learning rate of each step.</param>
    /// <param name="train">The training set.</param>
    /// <param name="batchSize">Samples per step.</param>
    /// <param name="seed">Seeds the order of each epoch and the augmentation.</param>
    /// <param name="augmentation">Crops and flips each training sample, or null to train on the images as they are.</param>
    public TrainingLoop(INetwork network, IOptimizer optimizer, LearningRatePlan plan, LabeledImages train, int batchSize, int seed,
        ImageAugmentation? augmentation = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (train.SampleLength != network.InputLength)
        {
            throw new ArgumentException($"The images have {train.SampleLength} floats each, the network takes {network.InputLength}.", nameof(train));
        }

        _network = network;
        _optimizer = optimizer;
        _plan = plan;
        _train = train;
        _seed = seed;
        _augmentation = augmentation;
        int size = Math.Min(batchSize, Math.Max(1, train.Count));
        _order = new BatchOrder(train.Count, size);
        _inputs = size > 1 || augmentation is not null ? new float[size * train.SampleLength] : [];
        _gathered = augmentation is not null ? new float[size * train.SampleLength] : [];
        _labels = size > 1 ? new int[size] : [];
    }

    /// <summary>Optimizer steps in one epoch over <paramref name="count"/> samples (the last batch may be smaller).</summary>
    public static int StepsPerEpoch(int count, int batchSize) => (int)(((long)count + batchSize - 1) / batchSize);

    /// <summary>Trains one epoch (numbered from 1).</summary>
    /// <param name="epoch">The epoch number, which also seeds its order.</param>
    /// <param name="progress">Called after every step with the samples done so far and their mean loss.</param>
    /// <param name="cancellation">Checked before every step.</param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was signalled.</exception>
    public EpochStats TrainEpoch(int epoch, Action<int, double>? progress, CancellationToken cancellation)
    {
        _order.Shuffle(BatchOrder.EpochSeed(_seed, epoch));
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        int done = 0;
        float learningRate = _optimizer.LearningRate;
        for (int b = 0; b < _order.BatchCount; b++)
        {
            cancellation.ThrowIfCancellationRequested();
            learningRate = _plan.At(epoch, _step++);
            _optimizer.LearningRate = learningRate;
            ReadOnlySpan<int> batch = _order.Batch(b);
            float loss;
            int length = batch.Length * _train.SampleLength;
            if (_labels.Length == 0)
            {
                int index = batch[0];
                ReadOnlySpan<float> image = _train.Image(index);
                if (_augmentation is not null)
                {
                    _augmentation.Apply(_train.Images.AsMemory(index * length, length), batch, _seed, epoch, _inputs.AsMemory(0, length));
                    image = _inputs.AsSpan(0, length);
                }

                _network.ZeroGradients();
                loss = _network.TrainSample(image, _train.Labels[index]);
            }
            else
            {
                Span<int> labels = _labels.AsSpan(0, batch.Length);
                if (_augmentation is not null)
                {
                    _train.Gather(batch, _gathered.AsSpan(0, length), labels);
                    _augmentation.Apply(_gathered.AsMemory(0, length), batch, _seed, epoch, _inputs.AsMemory(0, length));
                }
                else
                {
                    _train.Gather(batch, _inputs.AsSpan(0, length), labels);
                }

                loss = _network.TrainBatch(_inputs.AsSpan(0, length), labels); // Gradients = the batch mean
            }

            // A NaN or infinite loss or gradient stops training here, before it reaches the weights.
            NonFiniteGuard.Check(loss, _network.Gradients, _step - 1);
            lossSum += (double)loss * batch.Length;
            _optimizer.Step(_network.Parameters, _network.Gradients);
            done += batch.Length;
            progress?.Invoke(done, lossSum / done);
        }

        return new EpochStats(done == 0 ? double.NaN : lossSum / done, done, clock.Elapsed, learningRate);
    }
}
