using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using NetGen.Data;
using NetGen.Metrics;
using NetGen.Optimizers;
using NetGen.Tests.Networks;
using NetGen.Tests.Numerics;
using NetGen.Training;
using Xunit;

namespace NetGen.Tests.Training;

public class TrainerTests
{
    /// <summary>
    /// Labelled images whose class is the image's largest of three fixed projections: learnable, and the same for a seed.
    /// </summary>
    internal static LabeledImages Images(int count, int channels, int height, int width, int classes, int seed)
    {
        int length = channels * height * width;
        float[] images = TestData.Uniform(count * length, seed);
        float[] directions = TestData.Uniform(classes * length, 1000 + classes);
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            float best = float.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                float dot = 0;
                for (int k = 0; k < length; k++)
                {
                    dot += images[i * length + k] * directions[c * length + k];
                }

                if (dot > best)
                {
                    best = dot;
                    labels[i] = c;
                }
            }
        }

        return new LabeledImages(images, labels, channels, height, width);
    }

    internal static LabeledImages ConvImages(int count, int seed) =>
        Images(count, ConvStridedNet.Shapes.Input.Channels, ConvStridedNet.Shapes.Input.Height, ConvStridedNet.Shapes.Input.Width, ConvStridedNet.OutputLength, seed);

    internal static LabeledImages DenseImages(int count, int seed) => Images(count, 1, 1, 7, DenseNet.OutputLength, seed);

    /// <summary>Targets a smooth function of the inputs: each output a sum of the input's thirds, squashed.</summary>
    internal static RegressionData Regression(int count, int seed)
    {
        float[] inputs = TestData.Uniform(count * RegressionNet.InputLength, seed);
        var targets = new float[count * RegressionNet.OutputLength];
        for (int i = 0; i < count; i++)
        {
            for (int o = 0; o < RegressionNet.OutputLength; o++)
            {
                float sum = 0;
                for (int k = o; k < RegressionNet.InputLength; k += RegressionNet.OutputLength)
                {
                    sum += inputs[i * RegressionNet.InputLength + k];
                }

                targets[i * RegressionNet.OutputLength + o] = MathF.Tanh(sum / 4);
            }
        }

        return new RegressionData(inputs, targets, RegressionNet.InputLength);
    }

    /// <summary>A schedule that trains at <c>rate</c> for the first <c>steps</c> steps, then not at all.</summary>
    private sealed class StopAfter(int steps, float rate) : ILearningRateSchedule
    {
        public float LearningRateAt(int epoch) => epoch < steps ? rate : 0f;
    }

    private static float[] FitConv(int threads, int seed, bool augment = true)
    {
        var net = new ConvStridedNet { DegreeOfParallelism = threads };
        net.InitializeParameters(3);
        LabeledImages train = ConvImages(75, 1);
        var options = new TrainerOptions
        {
            Epochs = 3,
            BatchSize = 16,
            Seed = seed,
            Schedule = new CosineAnnealing(0.01f, 15),
            Augmentation = augment ? new ImageAugmentation(2, 7, 9, cropPadding: 1) { DegreeOfParallelism = threads } : null,
        };
        Trainer.Fit(net, new Adam(0.01f), train, ConvImages(20, 2), options);
        return net.Parameters.ToArray();
    }

    [Fact]
    public void The_same_seed_gives_the_same_bits_on_1_2_and_3_threads()
    {
        // 75 samples in batches of 16 (the last of 11), augmented, spread differently over 1, 2 and 3 threads.
        float[] one = FitConv(1, seed: 7);
        Assert.True(one.AsSpan().SequenceEqual(FitConv(1, seed: 7)), "two runs with one thread differ");
        Assert.True(one.AsSpan().SequenceEqual(FitConv(2, seed: 7)), "1 and 2 threads differ");
        Assert.True(one.AsSpan().SequenceEqual(FitConv(3, seed: 7)), "1 and 3 threads differ");
        Assert.False(one.AsSpan().SequenceEqual(FitConv(1, seed: 8)), "another seed must give another order and other crops");
        Assert.False(one.AsSpan().SequenceEqual(FitConv(1, seed: 7, augment: false)), "the augmentation must change the run");
    }

    [Fact]
    public void A_network_with_BatchNorm_and_Dropout_gets_the_same_parameters_and_buffers_on_any_thread_count()
    {
        (float[] Parameters, float[] Buffers) Run(int threads)
        {
            var net = new NormalizedResidualNet { DegreeOfParallelism = threads };
            net.InitializeParameters(4);
            LabeledImages train = Images(50, 2, 6, 6, NormalizedResidualNet.OutputLength, 3);
            Trainer.Fit(net, new Sgd(0.05f, momentum: 0.9f), train, null, new TrainerOptions { Epochs = 2, BatchSize = 12, Seed = 5 });
            return (net.Parameters.ToArray(), net.Buffers.ToArray());
        }

        var one = Run(1);
        foreach (int threads in new[] { 2, 3 })
        {
            var other = Run(threads);
            Assert.True(one.Parameters.AsSpan().SequenceEqual(other.Parameters), $"1 and {threads} threads: parameters differ");
            Assert.True(one.Buffers.AsSpan().SequenceEqual(other.Buffers), $"1 and {threads} threads: buffers differ");
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(1)]
    public void Fit_is_the_hand_written_loop_bit_for_bit(int batchSize)
    {
        LabeledImages train = ConvImages(40, 5);
        var schedule = new CosineAnnealing(0.02f, 12);
        var fitted = new ConvStridedNet { DegreeOfParallelism = 2 };
        fitted.InitializeParameters(9);
        var steps = new List<BatchProgress>();
        TrainingHistory history = Trainer.Fit(fitted, new Sgd(0.02f, momentum: 0.9f), train, null,
            new TrainerOptions { Epochs = 2, BatchSize = batchSize, Seed = 11, Schedule = schedule, OnBatch = steps.Add });

        var manual = new ConvStridedNet { DegreeOfParallelism = 2 };
        manual.InitializeParameters(9);
        var sgd = new Sgd(0.02f, momentum: 0.9f);
        var order = new BatchOrder(train.Count, batchSize);
        var inputs = new float[batchSize * train.SampleLength];
        var labels = new int[batchSize];
        int step = 0;
        for (int epoch = 1; epoch <= 2; epoch++)
        {
            order.Shuffle(BatchOrder.EpochSeed(11, epoch));
            double lossSum = 0;
            for (int b = 0; b < order.BatchCount; b++)
            {
                ReadOnlySpan<int> batch = order.Batch(b);
                sgd.LearningRate = schedule.LearningRateAt(step);
                float loss;
                if (batchSize == 1)
                {
                    manual.ZeroGradients();
                    loss = manual.TrainSample(train.Image(batch[0]), train.Labels[batch[0]]);
                }
                else
                {
                    train.Gather(batch, inputs, labels);
                    loss = manual.TrainBatch(inputs.AsSpan(0, batch.Length * train.SampleLength), labels.AsSpan(0, batch.Length));
                }

                sgd.Step(manual.Parameters, manual.Gradients);
                lossSum += (double)loss * batch.Length;
                Assert.Equal(loss, steps[step].Loss);
                Assert.Equal(sgd.LearningRate, steps[step].LearningRate);
                Assert.Equal((epoch, b, (long)step), (steps[step].Epoch, steps[step].Batch, steps[step].Step));
                step++;
            }

            Assert.Equal(lossSum / train.Count, history.Epochs[epoch - 1].TrainingLoss);
        }

        Assert.Equal(step, steps.Count);
        Assert.True(manual.Parameters.AsSpan().SequenceEqual(fitted.Parameters), "Fit differs from the loop it stands for");
        Assert.Null(history.Epochs[0].Validation);
        Assert.Equal(2, history.Epochs.Count);
        Assert.Equal(step, history.Epochs[^1].Steps);
    }

    [Fact]
    public void Early_stopping_stops_after_patience_epochs_without_improvement()
    {
        // Training stops changing the network after 3 epochs (the rate drops to 0): the validation loss of epochs 4 and 5
        // equals epoch 3's, which is no improvement; with a patience of 2 the run ends after epoch 5, not 10.
        LabeledImages data = DenseImages(60, 3);
        var net = new DenseNet();
        net.InitializeParameters(2);
        int stepsPerEpoch = 4; // 60 samples in batches of 15
        var options = new TrainerOptions
        {
            Epochs = 10,
            BatchSize = 15,
            Schedule = new StopAfter(3 * stepsPerEpoch, 0.1f),
            EarlyStopping = new EarlyStopping { Patience = 2 },
        };
        TrainingHistory history = Trainer.Fit(net, new Sgd(0.1f), data, data, options);

        double[] losses = history.Epochs.Select(e => e.Validation!.Value.Loss).ToArray();
        Assert.True(losses[0] > losses[1] && losses[1] > losses[2], $"the test needs improving epochs 1 to 3: {string.Join(", ", losses)}");
        Assert.Equal(5, history.Epochs.Count);
        Assert.True(history.StoppedEarly);
        Assert.Equal(losses[2], losses[3]);
        Assert.Equal(losses[2], losses[4]);
    }

    [Fact]
    public void Early_stopping_counts_only_improvements_larger_than_min_delta_and_watches_accuracy_upwards()
    {
        LabeledImages data = DenseImages(60, 3);
        var net = new DenseNet();
        net.InitializeParameters(2);

        // No accuracy can rise by more than 1: only the first epoch counts as an improvement; patience 1 stops after epoch 2.
        TrainingHistory history = Trainer.Fit(net, new Sgd(0.1f), data, data, new TrainerOptions
        {
            Epochs = 6,
            BatchSize = 15,
            EarlyStopping = new EarlyStopping { Monitor = TrainingMetric.Accuracy, MinDelta = 1.0, Patience = 1 },
        });
        Assert.Equal(2, history.Epochs.Count);
        Assert.True(history.StoppedEarly);

        // Without early stopping every epoch runs, and the last is not called early.
        history = Trainer.Fit(net, new Sgd(0.1f), data, data, new TrainerOptions { Epochs = 3, BatchSize = 15 });
        Assert.Equal(3, history.Epochs.Count);
        Assert.False(history.StoppedEarly);
    }

    [Fact]
    public void Checkpoints_are_written_every_n_epochs_with_that_epochs_parameters()
    {
        string folder = Path.Combine(Path.GetTempPath(), "netgen-trainer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var net = new DenseNet();
            net.InitializeParameters(1);
            var atEpoch = new Dictionary<int, float[]>();
            Trainer.Fit(net, new Adam(0.01f), DenseImages(40, 1), null, new TrainerOptions
            {
                Epochs = 5,
                BatchSize = 8,
                Checkpoint = new Checkpoint { PathPattern = Path.Combine(folder, "dense-{epoch}.safetensors"), Every = 2 },
                OnEpoch = e => atEpoch[e.Epoch] = net.Parameters.ToArray(),
            });

            string[] written = Directory.GetFiles(folder).Select(f => Path.GetFileName(f)).Order().ToArray();
            Assert.Equal(new[] { "dense-2.safetensors", "dense-4.safetensors" }, written);
            foreach (int epoch in new[] { 2, 4 })
            {
                var loaded = new DenseNet();
                loaded.Load(Path.Combine(folder, $"dense-{epoch}.safetensors"));
                Assert.True(loaded.Parameters.AsSpan().SequenceEqual(atEpoch[epoch]), $"checkpoint {epoch} holds other parameters");
            }

            Assert.False(atEpoch[2].AsSpan().SequenceEqual(atEpoch[4]), "training must have moved on between checkpoints");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_best_model_is_restored_with_its_parameters_and_BatchNorm_buffers()
    {
        // "Best" here is the highest loss (Maximize): whichever epoch that is, Fit must put its network back.
        var net = new NormalizedResidualNet { DegreeOfParallelism = 2 };
        net.InitializeParameters(6);
        LabeledImages train = Images(48, 2, 6, 6, NormalizedResidualNet.OutputLength, 7);
        LabeledImages validation = Images(24, 2, 6, 6, NormalizedResidualNet.OutputLength, 8);
        var parameters = new Dictionary<int, float[]>();
        var buffers = new Dictionary<int, float[]>();
        string path = Path.Combine(Path.GetTempPath(), "netgen-trainer-best-" + Guid.NewGuid().ToString("N") + ".safetensors");
        try
        {
            TrainingHistory history = Trainer.Fit(net, new Adam(0.01f), train, validation, new TrainerOptions
            {
                Epochs = 4,
                BatchSize = 8,
                BestModel = new BestModel { Monitor = TrainingMetric.Loss, Mode = MetricGoal.Maximize, Path = path },
                OnEpoch = e =>
                {
                    parameters[e.Epoch] = net.Parameters.ToArray();
                    buffers[e.Epoch] = net.Buffers.ToArray();
                },
            });

            double[] losses = history.Epochs.Select(e => e.Validation!.Value.Loss).ToArray();
            int expected = Array.IndexOf(losses, losses.Max()) + 1;
            Assert.NotEqual(4, expected); // the test needs the best epoch not to be the last
            Assert.Equal(expected, history.BestEpoch);
            Assert.True(net.Parameters.AsSpan().SequenceEqual(parameters[expected]), "the parameters are not the best epoch's");
            Assert.True(net.Buffers.AsSpan().SequenceEqual(buffers[expected]), "the running statistics are not the best epoch's");
            Assert.False(net.Buffers.AsSpan().SequenceEqual(buffers[4]), "the last epoch's running statistics must differ");
            Assert.True(File.Exists(path), "a given path keeps the best model");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Without_a_path_the_best_model_is_kept_in_a_temporary_file_that_is_deleted()
    {
        var net = new DenseNet();
        net.InitializeParameters(1);
        LabeledImages data = DenseImages(40, 4);
        string[] before = Directory.GetFiles(Path.GetTempPath(), "netgen-best-*");
        var parameters = new Dictionary<int, float[]>();
        TrainingHistory history = Trainer.Fit(net, new Sgd(0.05f), data, data, new TrainerOptions
        {
            Epochs = 3,
            BatchSize = 10,
            BestModel = new BestModel { Monitor = TrainingMetric.Accuracy, Mode = MetricGoal.Minimize },
            OnEpoch = e => parameters[e.Epoch] = net.Parameters.ToArray(),
        });

        double[] accuracies = history.Epochs.Select(e => e.Validation!.Value.Accuracy).ToArray();
        int expected = Array.IndexOf(accuracies, accuracies.Min()) + 1; // the first of equal ones
        Assert.Equal(expected, history.BestEpoch);
        Assert.True(net.Parameters.AsSpan().SequenceEqual(parameters[expected]));
        Assert.Equal(before.Order(), Directory.GetFiles(Path.GetTempPath(), "netgen-best-*").Order());
    }

    [Fact]
    public void Cancellation_stops_between_batches_with_the_last_steps_parameters()
    {
        var net = new ConvStridedNet { DegreeOfParallelism = 2 };
        net.InitializeParameters(2);
        using var cancellation = new CancellationTokenSource();
        float[]? atCancel = null;
        int batchesSeen = 0;
        var options = new TrainerOptions
        {
            Epochs = 3,
            BatchSize = 10,
            OnBatch = p =>
            {
                batchesSeen++;
                if (p.Step == 5)
                {
                    atCancel = net.Parameters.ToArray();
                    cancellation.Cancel();
                }
            },
        };

        Assert.ThrowsAny<OperationCanceledException>(() =>
            Trainer.Fit(net, new Adam(0.01f), ConvImages(40, 3), ConvImages(10, 4), options, cancellation.Token));
        Assert.Equal(6, batchesSeen);
        Assert.True(net.Parameters.AsSpan().SequenceEqual(atCancel), "no step may follow the cancellation");

        // A token cancelled before the call stops it before the first step.
        float[] initial = net.Parameters.ToArray();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            Trainer.Fit(net, new Adam(0.01f), ConvImages(40, 3), null, options with { OnBatch = null }, cancellation.Token));
        Assert.True(net.Parameters.AsSpan().SequenceEqual(initial));
    }

    [Fact]
    public void A_NaN_input_stops_training_before_it_reaches_the_parameters()
    {
        var net = new DenseNet();
        net.InitializeParameters(1);
        LabeledImages data = DenseImages(20, 1);
        Array.Fill(data.Images, float.NaN, 0, 7 * 20);
        float[] initial = net.Parameters.ToArray();
        var e = Assert.Throws<NonFiniteTrainingException>(() =>
            Trainer.Fit(net, new Sgd(0.1f), data, null, new TrainerOptions { BatchSize = 5 }));
        Assert.Equal(0, e.Step);
        Assert.True(net.Parameters.AsSpan().SequenceEqual(initial));
    }

    [Fact]
    public void Evaluate_counts_the_confusion_matrix_accuracy_and_loss_as_by_hand()
    {
        var net = new ConvStridedNet();
        net.InitializeParameters(12);
        LabeledImages data = ConvImages(37, 9);
        EvaluationResult result = Trainer.Evaluate(net, data, batchSize: 8);

        var counts = new long[ConvStridedNet.OutputLength, ConvStridedNet.OutputLength];
        var probabilities = new float[ConvStridedNet.OutputLength];
        int correct = 0;
        double lossSum = 0;
        for (int i = 0; i < data.Count; i++)
        {
            net.Forward(data.Image(i), probabilities);
            int predicted = net.Predict(data.Image(i));
            counts[data.Labels[i], predicted]++;
            correct += predicted == data.Labels[i] ? 1 : 0;
            lossSum -= Math.Log(probabilities[data.Labels[i]]);
        }

        ConfusionMatrix confusion = result.Confusion!;
        for (int l = 0; l < ConvStridedNet.OutputLength; l++)
        {
            for (int p = 0; p < ConvStridedNet.OutputLength; p++)
            {
                Assert.Equal(counts[l, p], confusion[l, p]);
            }
        }

        Assert.Equal(37, confusion.Total);
        Assert.Equal((double)correct / data.Count, result.Accuracy);
        Assert.Equal(lossSum / data.Count, result.Loss, 1e-5);
        Assert.Equal(data.Count, result.Metrics.Count);
        Assert.True(double.IsNaN(result.Metrics.MeanSquaredError));
        Assert.True(correct > 0 && correct < data.Count, "the test needs right and wrong answers");
    }

    [Fact]
    public void Evaluate_computes_a_regression_networks_mean_squared_and_absolute_errors_as_by_hand()
    {
        var net = new RegressionNet();
        net.InitializeParameters(3);
        RegressionData data = Regression(23, 4);
        EvaluationResult result = Trainer.Evaluate(net, data, batchSize: 5, CancellationToken.None);

        var output = new float[RegressionNet.OutputLength];
        double squares = 0, absolutes = 0;
        for (int i = 0; i < data.Count; i++)
        {
            net.Forward(data.Input(i), output);
            for (int o = 0; o < output.Length; o++)
            {
                double d = output[o] - data.Target(i)[o];
                squares += d * d;
                absolutes += Math.Abs(d);
            }
        }

        double elements = data.Count * RegressionNet.OutputLength;
        Assert.Equal(squares / elements, result.Metrics.MeanSquaredError, 1e-5);
        Assert.Equal(absolutes / elements, result.Metrics.MeanAbsoluteError, 1e-5);
        Assert.Equal(result.Metrics.MeanSquaredError, result.Loss);
        Assert.Null(result.Confusion);
        Assert.True(double.IsNaN(result.Accuracy));
    }

    [Fact]
    public void A_regression_network_trains_reproducibly_and_reports_its_errors_per_epoch()
    {
        (float[] Parameters, TrainingHistory History, RegressionNet Net) Run(int threads)
        {
            var net = new RegressionNet { DegreeOfParallelism = threads };
            net.InitializeParameters(1);
            TrainingHistory history = Trainer.Fit(net, new Adam(0.01f), Regression(60, 1), Regression(20, 2), new TrainerOptions
            {
                Epochs = 4,
                BatchSize = 8,
                Seed = 3,
                EarlyStopping = new EarlyStopping { Monitor = TrainingMetric.MeanAbsoluteError, Patience = 4 },
            });
            return (net.Parameters.ToArray(), history, net);
        }

        var one = Run(1);
        Assert.True(one.Parameters.AsSpan().SequenceEqual(Run(2).Parameters), "1 and 2 threads differ");
        Assert.True(one.Parameters.AsSpan().SequenceEqual(Run(3).Parameters), "1 and 3 threads differ");
        EvaluationMetrics first = one.History.Epochs[0].Validation!.Value, last = one.History.Epochs[^1].Validation!.Value;
        Assert.True(last.MeanSquaredError < first.MeanSquaredError, $"{first.MeanSquaredError} → {last.MeanSquaredError}");
        Assert.Equal(Trainer.Evaluate(one.Net, Regression(20, 2)).Metrics, last);
        Assert.True(one.History.Epochs[^1].TrainingLoss < one.History.Epochs[0].TrainingLoss);
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_parameter()
    {
        var net = new DenseNet();
        LabeledImages data = DenseImages(10, 1);
        var options = new TrainerOptions();
        var adam = new Adam();

        Assert.Equal("network", Assert.Throws<ArgumentNullException>(() => Trainer.Fit((INetwork)null!, adam, data, null, options)).ParamName);
        Assert.Equal("optimizer", Assert.Throws<ArgumentNullException>(() => Trainer.Fit(net, null!, data, null, options)).ParamName);
        Assert.Equal("train", Assert.Throws<ArgumentNullException>(() => Trainer.Fit(net, adam, (LabeledImages)null!, null, options)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => Trainer.Fit(net, adam, data, null, null!)).ParamName);
        Assert.Equal("train", Assert.Throws<ArgumentException>(() => Trainer.Fit(net, adam, ConvImages(5, 1), null, options)).ParamName);
        Assert.Equal("validation", Assert.Throws<ArgumentException>(() => Trainer.Fit(net, adam, data, ConvImages(5, 1), options)).ParamName);
        Assert.Equal("train", Assert.Throws<ArgumentException>(() => Trainer.Fit(net, adam, data.Subset(0, 0), null, options)).ParamName);
        var badLabel = new LabeledImages(new float[14], [0, 3], 1, 1, 7); // DenseNet has 3 classes
        Assert.Contains("Label 1 is 3", Assert.Throws<ArgumentException>(() => Trainer.Fit(net, adam, badLabel, null, options)).Message);
        Assert.Equal("validation", Assert.Throws<ArgumentException>(() => Trainer.Fit(net, adam, data, badLabel, options)).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => Trainer.Fit(net, adam, data, null,
            options with { Augmentation = new ImageAugmentation(1, 2, 2) })).ParamName);
        Assert.Equal("validation", Assert.Throws<ArgumentException>(() => Trainer.Fit(net, adam, data, null,
            options with { EarlyStopping = new EarlyStopping { Monitor = TrainingMetric.Accuracy } })).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => Trainer.Fit(net, adam, data, data,
            options with { BestModel = new BestModel { Monitor = TrainingMetric.MeanAbsoluteError } })).ParamName);

        var regression = new RegressionNet();
        RegressionData targets = Regression(4, 1);
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => Trainer.Fit(regression, adam, targets, targets,
            options with { EarlyStopping = new EarlyStopping { Monitor = TrainingMetric.Accuracy } })).ParamName);
        var wrongTargets = new RegressionData(targets.Inputs, new float[4 * 2], RegressionNet.InputLength);
        Assert.Equal("train", Assert.Throws<ArgumentException>(() => Trainer.Fit(regression, adam, wrongTargets, null, options)).ParamName);
        Assert.Equal("data", Assert.Throws<ArgumentException>(() => Trainer.Evaluate(regression, wrongTargets)).ParamName);
        Assert.Equal("batchSize", Assert.Throws<ArgumentOutOfRangeException>(() => Trainer.Evaluate(net, data, 0)).ParamName);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => new RegressionData(new float[5], new float[1], 2)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => new RegressionData(new float[6], new float[4], 2)).ParamName);

        Assert.Equal("Epochs", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { Epochs = 0 }).ParamName);
        Assert.Equal("BatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { BatchSize = -1 }).ParamName);
        Assert.Equal("ValidationBatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { ValidationBatchSize = 0 }).ParamName);
        Assert.Equal("Patience", Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping { Patience = -1 }).ParamName);
        Assert.Equal("MinDelta", Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping { MinDelta = double.NaN }).ParamName);
        Assert.Equal("Monitor", Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStopping { Monitor = (TrainingMetric)9 }).ParamName);
        Assert.Equal("Mode", Assert.Throws<ArgumentOutOfRangeException>(() => new BestModel { Mode = (MetricGoal)9 }).ParamName);
        Assert.Equal("Path", Assert.Throws<ArgumentException>(() => new BestModel { Path = " " }).ParamName);
        Assert.Equal("Every", Assert.Throws<ArgumentOutOfRangeException>(() => new Checkpoint { Every = 0 }).ParamName);
        Assert.Equal("PathPattern", Assert.Throws<ArgumentException>(() => new Checkpoint { PathPattern = "" }).ParamName);
    }
}

[Collection(nameof(AllocationTests))]
public class TrainerAllocationTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(1)]
    public void An_epoch_after_the_first_allocates_nothing(int batchSize)
    {
        var net = new ConvStridedNet { DegreeOfParallelism = 2 };
        net.InitializeParameters(1);
        var allocated = new long[5];
        int batches = 0;
        var options = new TrainerOptions
        {
            Epochs = 4,
            BatchSize = batchSize,
            Seed = 2,
            Schedule = new CosineAnnealing(0.01f, 100),
            Augmentation = new ImageAugmentation(2, 7, 9, cropPadding: 1) { DegreeOfParallelism = 2 },
            EarlyStopping = new EarlyStopping { Patience = 10 },
            OnBatch = _ => batches++,

            // The caller's thread and the batch engine's workers, with nothing else the test process does.
            OnEpoch = e => allocated[e.Epoch] = GC.GetAllocatedBytesForCurrentThread() + WorkerThreads.AllocatedBytes,
        };
        Trainer.Fit(net, new Adam(0.01f), TrainerTests.ConvImages(43, 1), TrainerTests.ConvImages(21, 2), options);

        Assert.Equal(4 * (int)Math.Ceiling(43.0 / batchSize), batches);
        long steady = allocated[4] - allocated[2];
        Assert.True(steady == 0, $"epochs 3 and 4 (training, validation, callbacks) allocated {steady} bytes");
    }
}
