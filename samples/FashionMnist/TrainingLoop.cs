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

/// <summary>The learning rate at each optimizer step of a run.</summary>
internal sealed class LearningRatePlan
{
    private readonly ILearningRateSchedule? _perStep;
    private readonly ILearningRateSchedule? _perEpoch;
    private readonly float _initial;

    /// <param name="kind">The schedule.</param>
    /// <param name="initial">The learning rate of the first step.</param>
    /// <param name="totalSteps">Optimizer steps in the whole run (for <see cref="ScheduleKind.Cosine"/>).</param>
    /// <param name="stepSize">Epochs between decays (for <see cref="ScheduleKind.Step"/>).</param>
    /// <param name="gamma">Decay factor (for <see cref="ScheduleKind.Step"/>).</param>
    public LearningRatePlan(ScheduleKind kind, float initial, long totalSteps, int stepSize, float gamma)
    {
        _initial = initial;
        switch (kind)
        {
            case ScheduleKind.Cosine:
                _perStep = new CosineAnnealing(initial, (int)Math.Min(int.MaxValue, Math.Max(1, totalSteps)));
                break;
            case ScheduleKind.Step:
                _perEpoch = new StepDecay(initial, stepSize, gamma);
                break;
        }
    }

    /// <summary>The rate for optimizer step <paramref name="step"/> (from 0) in epoch <paramref name="epoch"/> (from 1).</summary>
    public float At(int epoch, long step) =>
        _perStep?.LearningRateAt((int)Math.Min(int.MaxValue, step))
        ?? _perEpoch?.LearningRateAt(epoch - 1)
        ?? _initial;
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
/// path (<see cref="INetwork.TrainSample"/>), exactly the loop of the original sample.
/// </summary>
internal sealed class TrainingLoop
{
    private readonly INetwork _network;
    private readonly IOptimizer _optimizer;
    private readonly LearningRatePlan _plan;
    private readonly LabeledImages _train;
    private readonly BatchOrder _order;
    private readonly float[] _inputs;
    private readonly int[] _labels;
    private readonly int _seed;
    private long _step;

    public TrainingLoop(INetwork network, IOptimizer optimizer, LearningRatePlan plan, LabeledImages train, int batchSize, int seed)
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
        int size = Math.Min(batchSize, Math.Max(1, train.Count));
        _order = new BatchOrder(train.Count, size);
        _inputs = size > 1 ? new float[size * train.SampleLength] : [];
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
            if (batch.Length == 1 && _inputs.Length == 0)
            {
                int index = batch[0];
                _network.ZeroGradients();
                loss = _network.TrainSample(_train.Image(index), _train.Labels[index]);
            }
            else
            {
                Span<float> inputs = _inputs.AsSpan(0, batch.Length * _train.SampleLength);
                Span<int> labels = _labels.AsSpan(0, batch.Length);
                _train.Gather(batch, inputs, labels);
                loss = _network.TrainBatch(inputs, labels); // Gradients = the batch mean
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
