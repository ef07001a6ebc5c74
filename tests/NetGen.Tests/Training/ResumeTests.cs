using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NetGen.Data;
using NetGen.Optimizers;
using NetGen.Tests.Networks;
using NetGen.Training;
using Xunit;

namespace NetGen.Tests.Training;

/// <summary>
/// A run of n epochs, and the same run stopped after k epochs and resumed from its checkpoint into a fresh network and
/// optimizer, end with the same bits; a checkpoint that does not fit is rejected with nothing changed.
/// </summary>
public sealed class ResumeTests : IDisposable
{
    private const int Epochs = 4;
    private const int StopAt = 2;
    private const int BatchSize = 8;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "netgen-resume-" + Guid.NewGuid().ToString("N"));
    private readonly LabeledImages _train = TrainerTests.Images(44, 2, 6, 6, NormalizedResidualNet.OutputLength, 7);
    private readonly LabeledImages _validation = TrainerTests.Images(20, 2, 6, 6, NormalizedResidualNet.OutputLength, 8);

    public ResumeTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>What a network holds after an epoch: everything training changes.</summary>
    private sealed record Snapshot(float[] Parameters, float[] Buffers, long[] Counters, DropoutState? Dropout)
    {
        public static Snapshot Of(INeuralNetwork net) => new(net.Parameters.ToArray(), net.Buffers.ToArray(), net.Counters.ToArray(), net.Dropout);

        public void AssertEqual(Snapshot other, string what)
        {
            Assert.True(Parameters.AsSpan().SequenceEqual(other.Parameters), $"{what}: parameters differ");
            Assert.True(Buffers.AsSpan().SequenceEqual(other.Buffers), $"{what}: BatchNorm buffers differ");
            Assert.Equal(Counters, other.Counters);
            Assert.Equal(Dropout, other.Dropout);
        }
    }

    private TrainerOptions SgdOptions(int epochs) => new()
    {
        Epochs = epochs,
        BatchSize = BatchSize,
        Seed = 5,
        Schedule = new CosineAnnealing(0.05f, totalEpochs: Epochs * 6, minimum: 0.005f), // 6 steps an epoch: annealed per batch
        Augmentation = new ImageAugmentation(2, 6, 6, horizontalFlip: true, cropPadding: 1),
        // "Best" is the highest validation loss, which is early in the run: the resumed run must get that network from the checkpoint.
        BestModel = new BestModel { Monitor = TrainingMetric.Loss, Mode = MetricGoal.Maximize },
    };

    private static Sgd NewSgd() => new(0.05f, momentum: 0.9f, nesterov: true, weightDecay: 1e-3f);

    private static IStatefulOptimizer NewAdam(INeuralNetwork net) =>
        new Adam(0.01f, weightDecay: 1e-3f) { WeightDecayMask = WeightDecayMask.MatricesAndKernels(net.ParameterLayout) };

    private TrainerOptions AdamOptions(int epochs) => new()
    {
        Epochs = epochs,
        BatchSize = BatchSize,
        Seed = 11,
        // The highest validation loss is early in the run: it stops once Patience epochs after it have not beaten it, which
        // the resumed run knows only from the checkpoint's record of the best epoch.
        EarlyStopping = new EarlyStopping { Monitor = TrainingMetric.Loss, Mode = MetricGoal.Maximize, Patience = 2 },
    };

    private static NormalizedResidualNet NewNet(int threads, int seed)
    {
        var net = new NormalizedResidualNet { DegreeOfParallelism = threads };
        net.InitializeParameters(seed);
        return net;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Sgd_with_Nesterov_a_cosine_schedule_augmentation_BatchNorm_and_Dropout_resumes_bit_for_bit(int threads)
    {
        // The run that never stops.
        var straight = NewNet(threads, seed: 3);
        Snapshot? atEnd = null;
        TrainingHistory whole = Trainer.Fit(straight, NewSgd(), _train, _validation,
            SgdOptions(Epochs) with { OnEpoch = e => atEnd = e.Epoch == Epochs ? Snapshot.Of(straight) : atEnd });

        // The run that stops after StopAt epochs, and its continuation in a fresh network (other initial weights) and optimizer.
        string checkpoint = Path.Combine(_folder, "ckpt-{epoch}.safetensors");
        Trainer.Fit(NewNet(threads, seed: 3), NewSgd(), _train, _validation,
            SgdOptions(StopAt) with { Checkpoint = new Checkpoint { PathPattern = checkpoint } });
        var resumed = NewNet(threads, seed: 99);
        var optimizer = NewSgd();
        Snapshot? resumedAtEnd = null;
        TrainingHistory rest = Trainer.Fit(resumed, optimizer, _train, _validation, SgdOptions(Epochs) with
        {
            ResumeFrom = Path.Combine(_folder, $"ckpt-{StopAt}.safetensors"),
            OnEpoch = e => resumedAtEnd = e.Epoch == Epochs ? Snapshot.Of(resumed) : resumedAtEnd,
        });

        Assert.Equal(new[] { 3, 4 }, rest.Epochs.Select(e => e.Epoch));
        Assert.Equal(whole.Epochs.Skip(StopAt).Select(e => e.TrainingLoss), rest.Epochs.Select(e => e.TrainingLoss));
        Assert.Equal(whole.Epochs.Skip(StopAt).Select(e => e.LearningRate), rest.Epochs.Select(e => e.LearningRate));
        Assert.Equal(whole.Epochs[^1].Steps, rest.Epochs[^1].Steps);
        resumedAtEnd!.AssertEqual(atEnd!, $"epoch {Epochs}");
        Assert.Equal(Epochs * 6L, optimizer.StepCount);
        Assert.NotEqual(0L, ((INeuralNetwork)resumed).Dropout!.Value.Step);

        // Both put back the best epoch's network; for an epoch before the checkpoint, the resumed run has it from the file.
        Assert.Equal(whole.BestEpoch, rest.BestEpoch);
        Assert.True(whole.BestEpoch < StopAt, $"the test needs the best epoch before the checkpoint; it is {whole.BestEpoch}");
        Snapshot.Of(resumed).AssertEqual(Snapshot.Of(straight), "the best model");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Adam_with_early_stopping_resumes_bit_for_bit(int threads)
    {
        var straight = NewNet(threads, seed: 4);
        IStatefulOptimizer straightAdam = NewAdam(straight);
        TrainingHistory whole = Trainer.Fit(straight, straightAdam, _train, _validation, AdamOptions(Epochs + 2));

        string checkpoint = Path.Combine(_folder, "adam-{epoch}.safetensors");
        var first = NewNet(threads, seed: 4);
        Trainer.Fit(first, NewAdam(first), _train, _validation, AdamOptions(StopAt) with { Checkpoint = new Checkpoint { PathPattern = checkpoint } });
        var resumed = NewNet(threads, seed: 42);
        IStatefulOptimizer adam = NewAdam(resumed);
        TrainingHistory rest = Trainer.Fit(resumed, adam, _train, _validation,
            AdamOptions(Epochs + 2) with { ResumeFrom = Path.Combine(_folder, $"adam-{StopAt}.safetensors") });

        Assert.True(whole.StoppedEarly && whole.Epochs.Count > StopAt,
            $"the test needs early stopping after the checkpoint; the run trained {whole.Epochs.Count} epochs");
        Assert.Equal(whole.Epochs.Count, StopAt + rest.Epochs.Count);
        Assert.Equal(whole.StoppedEarly, rest.StoppedEarly);
        Assert.Equal(whole.Epochs.Skip(StopAt).Select(e => e.Validation!.Value.Accuracy), rest.Epochs.Select(e => e.Validation!.Value.Accuracy));
        Snapshot.Of(resumed).AssertEqual(Snapshot.Of(straight), "the last epoch");
        Assert.Equal(straightAdam.StepCount, adam.StepCount);
        var expected = new float[2 * NormalizedResidualNet.ParameterCount];
        var actual = new float[2 * NormalizedResidualNet.ParameterCount];
        straightAdam.SaveState(expected);
        adam.SaveState(actual);
        Assert.True(expected.AsSpan().SequenceEqual(actual), "Adam's moments differ");
    }

    [Fact]
    public void Per_sample_training_with_Dropout_and_a_regression_network_resume_bit_for_bit()
    {
        // Batches of one train through TrainSample, whose Dropout step the checkpoint must carry too.
        LabeledImages images = TrainerTests.Images(30, 2, 4, 5, DropoutNet.OutputLength, 4);
        var options = new TrainerOptions { Epochs = 3, BatchSize = 1, Seed = 2, Schedule = new StepDecay(0.02f, stepSize: 30, gamma: 0.5f) };
        var straight = new DropoutNet();
        straight.InitializeParameters(1);
        Trainer.Fit(straight, new Sgd(0.02f, momentum: 0.9f), images, null, options);
        string path = Path.Combine(_folder, "dropout-{epoch}.safetensors");
        var first = new DropoutNet();
        first.InitializeParameters(1);
        Trainer.Fit(first, new Sgd(0.02f, momentum: 0.9f), images, null, options with { Epochs = 1, Checkpoint = new Checkpoint { PathPattern = path } });
        var resumed = new DropoutNet();
        Trainer.Fit(resumed, new Sgd(0.02f, momentum: 0.9f), images, null, options with { ResumeFrom = Path.Combine(_folder, "dropout-1.safetensors") });
        Snapshot.Of(resumed).AssertEqual(Snapshot.Of(straight), "per-sample SGD with Dropout");

        RegressionData data = TrainerTests.Regression(24, 5);
        var regression = new TrainerOptions { Epochs = 3, BatchSize = 5, Seed = 3 };
        var whole = new RegressionNet { DegreeOfParallelism = 2 };
        whole.InitializeParameters(2);
        Trainer.Fit(whole, new Adam(0.01f), data, data, regression);
        var part = new RegressionNet { DegreeOfParallelism = 2 };
        part.InitializeParameters(2);
        path = Path.Combine(_folder, "regression-{epoch}.safetensors");
        Trainer.Fit(part, new Adam(0.01f), data, data, regression with { Epochs = 2, Checkpoint = new Checkpoint { PathPattern = path } });
        var rest = new RegressionNet { DegreeOfParallelism = 2 };
        Trainer.Fit(rest, new Adam(0.01f), data, data, regression with { ResumeFrom = Path.Combine(_folder, "regression-2.safetensors") });
        Snapshot.Of(rest).AssertEqual(Snapshot.Of(whole), "a regression network with Adam");
    }

    [Fact]
    public void A_checkpoint_holds_the_documented_tensors_and_metadata_and_loads_as_weights()
    {
        var net = NewNet(1, seed: 3);
        string path = Path.Combine(_folder, "one.safetensors");
        Snapshot? atCheckpoint = null;
        Trainer.Fit(net, NewSgd(), _train, _validation, SgdOptions(StopAt) with
        {
            Checkpoint = new Checkpoint { PathPattern = path },
            OnEpoch = e => atCheckpoint = Snapshot.Of(net),
        });

        IReadOnlyDictionary<string, string> metadata = Weights.SafeTensors.ReadMetadata(path);
        Assert.Equal("1", metadata["netgen.checkpoint"]);
        Assert.Equal("2", metadata["epoch"]);
        Assert.Equal("12", metadata["step"]);
        Assert.Equal("5", metadata["seed"]);
        Assert.Equal("SGD", metadata["optimizer"]);
        Assert.Equal(((INeuralNetwork)net).Dropout!.Value.Step.ToString(System.Globalization.CultureInfo.InvariantCulture), metadata["dropout.step"]);
        Assert.Equal("Loss Maximize", metadata["best_model"]);
        Assert.Equal("1", metadata["best_model.best_epoch"]);
        string[] state = metadata["netgen.training_state"].Split(',');
        Assert.Equal(new[] { "optimizer.momentum_buffer", "optimizer.step" }, state[..2]);
        Assert.Contains("best_model.bn1.running_mean", state);

        // The network's own tensors load as from its Save; the training state is reported as ignored.
        var loaded = new NormalizedResidualNet();
        IReadOnlyList<string> ignored = loaded.Load(path, new Weights.SafeTensorsLoadOptions());
        Assert.Equal(state.Order(), ignored.Order());
        loaded.Load(path);
        Snapshot.Of(loaded).AssertEqual(atCheckpoint! with { Dropout = ((INeuralNetwork)loaded).Dropout }, "the weights loaded from the checkpoint");
    }

    /// <summary>Everything a failed resume must leave alone.</summary>
    private static (Snapshot Net, float[] State, long Steps, float Rate) Untouched(INeuralNetwork net, IStatefulOptimizer optimizer)
    {
        var state = new float[optimizer.StateNames.Count * net.ParameterCount];
        optimizer.SaveState(state);
        return (Snapshot.Of(net), state, optimizer.StepCount, optimizer.LearningRate);
    }

    private static void AssertUntouched((Snapshot Net, float[] State, long Steps, float Rate) before, INeuralNetwork net, IStatefulOptimizer optimizer)
    {
        (Snapshot Net, float[] State, long Steps, float Rate) after = Untouched(net, optimizer);
        after.Net.AssertEqual(before.Net, "after a rejected checkpoint");
        Assert.True(after.State.AsSpan().SequenceEqual(before.State), "the optimizer's state changed");
        Assert.Equal(before.Steps, after.Steps);
        Assert.Equal(before.Rate, after.Rate);
    }

    [Fact]
    public void A_truncated_or_mismatched_checkpoint_is_rejected_before_anything_changes()
    {
        string path = Path.Combine(_folder, "good.safetensors");
        Trainer.Fit(NewNet(1, seed: 3), NewSgd(), _train, _validation, SgdOptions(StopAt) with { Checkpoint = new Checkpoint { PathPattern = path } });

        // A network and an optimizer that have trained already, so that a partial restore would show.
        var net = NewNet(1, seed: 8);
        Sgd sgd = NewSgd();
        Trainer.Fit(net, sgd, _train, null, new TrainerOptions { Epochs = 1, BatchSize = BatchSize });
        var before = Untouched(net, sgd);

        string truncated = Path.Combine(_folder, "truncated.safetensors");
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(truncated, bytes[..^100]);
        var error = Assert.Throws<InvalidDataException>(() =>
            Trainer.Fit(net, sgd, _train, _validation, SgdOptions(Epochs) with { ResumeFrom = truncated }));
        Assert.Contains(truncated, error.Message, StringComparison.Ordinal);
        AssertUntouched(before, net, sgd);

        // Another network: its tensors are not this network's.
        string other = Path.Combine(_folder, "other.safetensors");
        var dropoutNet = new DropoutNet();
        dropoutNet.InitializeParameters(1);
        Trainer.Fit(dropoutNet, NewSgd(), TrainerTests.Images(20, 2, 4, 5, DropoutNet.OutputLength, 3), null,
            new TrainerOptions { Epochs = 1, BatchSize = BatchSize, Seed = 5, Checkpoint = new Checkpoint { PathPattern = other } });
        error = Assert.Throws<InvalidDataException>(() => Trainer.Fit(net, sgd, _train, null,
            new TrainerOptions { Epochs = 3, BatchSize = BatchSize, Seed = 5, ResumeFrom = other }));
        Assert.Contains("samples", error.Message, StringComparison.Ordinal);
        AssertUntouched(before, net, sgd);

        // The same sample count and options, another network: the first tensor that differs is named with its expected shape.
        Trainer.Fit(dropoutNet, NewSgd(), TrainerTests.Images(_train.Count, 2, 4, 5, DropoutNet.OutputLength, 3), null,
            new TrainerOptions { Epochs = 1, BatchSize = BatchSize, Seed = 5, Checkpoint = new Checkpoint { PathPattern = other } });
        error = Assert.Throws<InvalidDataException>(() => Trainer.Fit(net, sgd, _train, null,
            new TrainerOptions { Epochs = 3, BatchSize = BatchSize, Seed = 5, ResumeFrom = other }));
        Assert.Contains("conv1.weight: shape [4, 2, 3, 3] expected, file has [3, 2, 3, 3]", error.Message, StringComparison.Ordinal);
        AssertUntouched(before, net, sgd);

        // Another optimizer kind, another seed, nothing left to train, a network's plain Save.
        var adam = new Adam(0.01f);
        Trainer.Fit(net, adam, _train, null, new TrainerOptions { Epochs = 1, BatchSize = BatchSize });
        var adamBefore = Untouched(net, adam);
        error = Assert.Throws<InvalidDataException>(() => Trainer.Fit(net, adam, _train, _validation, SgdOptions(Epochs) with { ResumeFrom = path }));
        Assert.Contains("optimizer = 'SGD'; the optimizer's kind is 'Adam'", error.Message, StringComparison.Ordinal);
        AssertUntouched(adamBefore, net, adam);

        error = Assert.Throws<InvalidDataException>(() => Trainer.Fit(net, sgd, _train, _validation, SgdOptions(Epochs) with { ResumeFrom = path, Seed = 6 }));
        Assert.Contains("seed = '5'; options.Seed is '6'", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<InvalidDataException>(() => Trainer.Fit(net, sgd, _train, _validation, SgdOptions(StopAt) with { ResumeFrom = path }));
        Assert.Contains("nothing is left to train", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<InvalidDataException>(() => Trainer.Fit(net, sgd, _train, _validation, SgdOptions(Epochs) with { BestModel = null, EarlyStopping = new EarlyStopping(), ResumeFrom = path }));
        Assert.Contains("early_stopping = (none)", error.Message, StringComparison.Ordinal);

        string weights = Path.Combine(_folder, "weights.safetensors");
        net.Save(weights);
        before = Untouched(net, sgd);
        error = Assert.Throws<InvalidDataException>(() => Trainer.Fit(net, sgd, _train, _validation, SgdOptions(Epochs) with { ResumeFrom = weights }));
        Assert.Contains("not a training checkpoint", error.Message, StringComparison.Ordinal);
        AssertUntouched(before, net, sgd);
    }
}
