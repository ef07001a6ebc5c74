using System;
using System.IO;
using System.Linq;
using NetGen.Data;
using NetGen.Optimizers;
using NetGen.Tests.Networks;
using NetGen.Training;
using Xunit;

namespace NetGen.Tests.Training;

/// <summary>
/// Labelled samples that only <see cref="ILabeledSamples.Gather"/> can read, as a streamed data set: Fit, Evaluate and
/// resuming give the bits they give on the same samples held in a <see cref="LabeledImages"/>.
/// </summary>
public sealed class LabeledSamplesTests
{
    /// <summary>Another class over a LabeledImages, so the trainer cannot read its arrays in place; counts its gathers.</summary>
    internal sealed class GatherOnly(LabeledImages data) : ILabeledSamples
    {
        public int Gathers { get; private set; }

        public int GatheredSamples { get; private set; }

        public int Count => data.Count;

        public int SampleLength => data.SampleLength;

        public ReadOnlySpan<int> Labels => data.Labels;

        public void Gather(ReadOnlySpan<int> indices, Span<float> inputs, Span<int> labels)
        {
            Gathers++;
            GatheredSamples += indices.Length;
            data.Gather(indices, inputs, labels);
        }
    }

    /// <summary>Labels that disagree with the count, or a label of a class the network does not have.</summary>
    private sealed class BadLabels(int count, int[] labels) : ILabeledSamples
    {
        public int Count => count;

        public int SampleLength => ConvStridedNet.InputLength;

        public ReadOnlySpan<int> Labels => labels;

        public void Gather(ReadOnlySpan<int> indices, Span<float> inputs, Span<int> labels) =>
            throw new InvalidOperationException("never gathered: the labels are checked first");
    }

    private static TrainerOptions Options(int batchSize) => new()
    {
        Epochs = 3,
        BatchSize = batchSize,
        Seed = 4,
        Schedule = new CosineAnnealing(0.01f, 30),
        Augmentation = new ImageAugmentation(2, 7, 9, cropPadding: 1),
    };

    private static (float[] Parameters, TrainingHistory History) Fit(ILabeledSamples train, ILabeledSamples validation, int batchSize)
    {
        var net = new ConvStridedNet { DegreeOfParallelism = 2 };
        net.InitializeParameters(3);
        TrainingHistory history = Trainer.Fit(net, new Adam(0.01f), train, validation, Options(batchSize));
        return (net.Parameters.ToArray(), history);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(1)]
    public void Fit_on_gathered_samples_is_Fit_on_the_images_in_memory_bit_for_bit(int batchSize)
    {
        LabeledImages train = TrainerTests.ConvImages(37, 1), validation = TrainerTests.ConvImages(21, 2);
        var gatheredTrain = new GatherOnly(train);
        var gatheredValidation = new GatherOnly(validation);

        var inMemory = Fit(train, validation, batchSize);
        var gathered = Fit(gatheredTrain, gatheredValidation, batchSize);

        Assert.True(inMemory.Parameters.AsSpan().SequenceEqual(gathered.Parameters), "parameters differ");
        Assert.Equal(inMemory.History.Epochs.Select(e => (e.TrainingLoss, e.Validation)), gathered.History.Epochs.Select(e => (e.TrainingLoss, e.Validation)));

        // Every training sample once an epoch, and the validation set in batches of at most ValidationBatchSize.
        Assert.Equal(3 * 37, gatheredTrain.GatheredSamples);
        Assert.Equal(3 * (int)Math.Ceiling(37.0 / batchSize), gatheredTrain.Gathers);
        Assert.Equal(3 * 21, gatheredValidation.GatheredSamples);
    }

    [Fact]
    public void Evaluate_on_gathered_samples_gives_the_metrics_and_confusion_matrix_of_the_images_in_memory()
    {
        var net = new ConvStridedNet();
        net.InitializeParameters(12);
        LabeledImages data = TrainerTests.ConvImages(37, 9);
        var gathered = new GatherOnly(data);

        EvaluationResult expected = Trainer.Evaluate(net, data, batchSize: 8);
        EvaluationResult actual = Trainer.Evaluate(net, gathered, batchSize: 8);

        Assert.Equal(expected.Metrics, actual.Metrics);
        Assert.Equal(5, gathered.Gathers); // 8 + 8 + 8 + 8 + 5
        for (int l = 0; l < ConvStridedNet.OutputLength; l++)
        {
            for (int p = 0; p < ConvStridedNet.OutputLength; p++)
            {
                Assert.Equal(expected.Confusion![l, p], actual.Confusion![l, p]);
            }
        }
    }

    [Fact]
    public void A_run_resumed_on_gathered_samples_ends_as_one_that_never_stopped()
    {
        string folder = Path.Combine(Path.GetTempPath(), "netgen-samples-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var train = new GatherOnly(TrainerTests.ConvImages(37, 1));
            TrainerOptions options = Options(8) with { Checkpoint = new Checkpoint { Every = 1, PathPattern = Path.Combine(folder, "epoch-{epoch}.safetensors") } };
            var whole = new ConvStridedNet();
            whole.InitializeParameters(3);
            Trainer.Fit(whole, new Adam(0.01f), train, null, options);

            var resumed = new ConvStridedNet();
            resumed.InitializeParameters(5); // overwritten by the checkpoint
            Trainer.Fit(resumed, new Adam(0.01f), train, null,
                Options(8) with { ResumeFrom = Path.Combine(folder, "epoch-1.safetensors") });

            Assert.True(whole.Parameters.SequenceEqual(resumed.Parameters), "the resumed run's parameters differ");

            // The checkpoint records the training set's size: a set of another size is refused.
            var smaller = new GatherOnly(TrainerTests.ConvImages(36, 1));
            Assert.Throws<InvalidDataException>(() => Trainer.Fit(new ConvStridedNet(), new Adam(0.01f), smaller, null,
                Options(8) with { ResumeFrom = Path.Combine(folder, "epoch-1.safetensors") }));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Labels_that_do_not_fit_the_count_or_the_network_are_errors_naming_the_parameter()
    {
        var net = new ConvStridedNet();
        int classes = ConvStridedNet.OutputLength;

        var e = Assert.Throws<ArgumentException>(() => Trainer.Evaluate(net, new BadLabels(3, [0, 1])));
        Assert.Equal("data", e.ParamName);
        Assert.StartsWith("The data has 3 samples but 2 labels.", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => Trainer.Fit(net, new Adam(0.01f), new BadLabels(2, [0, classes]), null, Options(2)));
        Assert.Equal("train", e.ParamName);
        Assert.StartsWith($"Label 1 is {classes}; the network has {classes} classes", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<ArgumentException>(() => Trainer.Fit(net, new Adam(0.01f), TrainerTests.ConvImages(4, 1), new BadLabels(1, [-1]), Options(2)));
        Assert.Equal("validation", e.ParamName);
    }
}

[Collection(nameof(AllocationTests))]
public class LabeledSamplesAllocationTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(1)]
    public void An_epoch_on_gathered_samples_after_the_first_allocates_nothing(int batchSize)
    {
        var net = new ConvStridedNet { DegreeOfParallelism = 2 };
        net.InitializeParameters(1);
        var allocated = new long[5];
        var options = new TrainerOptions
        {
            Epochs = 4,
            BatchSize = batchSize,
            Seed = 2,
            Augmentation = new ImageAugmentation(2, 7, 9, cropPadding: 1) { DegreeOfParallelism = 2 },
            OnEpoch = e => allocated[e.Epoch] = GC.GetAllocatedBytesForCurrentThread() + WorkerThreads.AllocatedBytes,
        };
        Trainer.Fit(net, new Adam(0.01f), new LabeledSamplesTests.GatherOnly(TrainerTests.ConvImages(43, 1)),
            new LabeledSamplesTests.GatherOnly(TrainerTests.ConvImages(21, 2)), options);

        long steady = allocated[4] - allocated[2];
        Assert.True(steady == 0, $"epochs 3 and 4 (training, validation) allocated {steady} bytes");
    }
}
