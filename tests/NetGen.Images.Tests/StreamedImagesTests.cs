using System;
using System.IO;
using System.Linq;
using ImageFolderSample;
using NetGen.Data;
using NetGen.Optimizers;
using NetGen.Training;
using Xunit;

namespace NetGen.Images.Tests;

/// <summary>
/// An ImageFolder streamed batch by batch gives the values Load gives, bit for bit, and training on it the parameters
/// training on the loaded images gives; a bad file is an error naming it.
/// </summary>
public sealed class StreamedImagesTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private static readonly ImageTransform Normalized = new(3, 32, 32, [0.5f, 0.4f, 0.3f], [0.2f, 0.3f, 0.4f]);

    [Fact]
    public void Gather_decodes_the_values_Load_gives_bit_for_bit_on_any_thread_count()
    {
        TestImages.WriteShapeFolder(_directory.Path, perClass: 5, seed: 3);
        var folder = new ImageFolder(_directory.Path);
        LabeledImages loaded = folder.Load(Normalized);
        int[] indices = [14, 0, 7, 7, 3, 12, 1, 9, 10]; // any order, repeats allowed
        int length = Normalized.SampleLength;

        foreach (int threads in new[] { 1, 3 })
        {
            StreamedImages stream = folder.Stream(Normalized, threads);
            Assert.Equal((15, length, 3, 32, 32, threads), (stream.Count, stream.SampleLength, stream.Channels, stream.Height, stream.Width, stream.DegreeOfParallelism));
            Assert.Equal(folder.Labels, stream.Labels.ToArray());

            // Larger buffers than needed, filled with a marker: only the first indices.Length samples are written.
            var inputs = new float[(indices.Length + 1) * length];
            var labels = new int[indices.Length + 1];
            Array.Fill(inputs, -7f);
            Array.Fill(labels, -7);
            stream.Gather(indices, inputs, labels);

            var expectedInputs = new float[indices.Length * length];
            var expectedLabels = new int[indices.Length];
            loaded.Gather(indices, expectedInputs, expectedLabels);
            Assert.True(expectedInputs.AsSpan().SequenceEqual(inputs.AsSpan(0, expectedInputs.Length)), $"{threads} threads: values differ from Load's");
            Assert.Equal(expectedLabels, labels[..indices.Length]);
            Assert.All(inputs[^length..], x => Assert.Equal(-7f, x));
            Assert.Equal(-7, labels[^1]);
        }
    }

    [Fact]
    public void Channel_statistics_of_the_stream_are_those_of_the_loaded_folder_exactly()
    {
        TestImages.WriteShapeFolder(_directory.Path, perClass: 22, seed: 8); // 66 images: a batch of 64 and one of 2
        var folder = new ImageFolder(_directory.Path);
        var transform = new ImageTransform(3, 8, 8);

        (float[] mean, float[] std) = ImageTransform.ComputeChannelStatistics(folder.Stream(transform, 2));
        (float[] expectedMean, float[] expectedStd) = ImageTransform.ComputeChannelStatistics(folder.Load(transform));

        Assert.Equal(expectedMean, mean);
        Assert.Equal(expectedStd, std);
        Assert.All(std, s => Assert.True(s > 0.05f, $"std {s}: the shapes vary"));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(1)]
    public void Fit_and_Evaluate_on_the_stream_give_the_bits_of_the_loaded_images(int batchSize)
    {
        TestImages.WriteShapeFolder(_directory.File("train"), perClass: 4, seed: 5);
        TestImages.WriteShapeFolder(_directory.File("validation"), perClass: 2, seed: 6);
        var train = new ImageFolder(_directory.File("train"));
        var validation = new ImageFolder(_directory.File("validation"));

        (float[] Parameters, TrainingHistory History, EvaluationResult Result) Run(ILabeledSamples trainSet, ILabeledSamples validationSet)
        {
            var net = new ShapesNet { DegreeOfParallelism = 2 };
            net.InitializeParameters(2);
            var options = new TrainerOptions
            {
                Epochs = 2,
                BatchSize = batchSize,
                Seed = 9,
                Augmentation = new ImageAugmentation(3, 32, 32, cropPadding: 2),
            };
            TrainingHistory history = Trainer.Fit(net, new Adam(1e-3f), trainSet, validationSet, options);
            return (net.Parameters.ToArray(), history, Trainer.Evaluate(net, validationSet, batchSize: 4));
        }

        var loaded = Run(train.Load(Normalized), validation.Load(Normalized));
        var streamed = Run(train.Stream(Normalized), validation.Stream(Normalized));

        Assert.True(loaded.Parameters.AsSpan().SequenceEqual(streamed.Parameters), "parameters differ");
        var initial = new ShapesNet();
        initial.InitializeParameters(2);
        Assert.False(initial.Parameters.SequenceEqual(streamed.Parameters), "training must change the parameters");
        Assert.Equal(loaded.History.Epochs.Select(e => (e.TrainingLoss, e.Validation)), streamed.History.Epochs.Select(e => (e.TrainingLoss, e.Validation)));
        Assert.Equal(loaded.Result.Metrics, streamed.Result.Metrics);
        Assert.Equal(6, streamed.Result.Metrics.Count);
    }

    [Fact]
    public void A_bad_file_is_an_error_naming_the_first_in_the_batch_and_Fit_passes_it_on()
    {
        TestImages.WriteShapeFolder(_directory.Path, perClass: 4, seed: 2);
        var folder = new ImageFolder(_directory.Path);
        int first = folder.Files.ToList().IndexOf(_directory.File("horizontal/horizontal003.jpg"));
        int later = folder.Files.ToList().IndexOf(_directory.File("disc/disc001.jpg"));
        File.WriteAllText(folder.Files[first], "not a JPEG");
        File.WriteAllText(folder.Files[later], "not a JPEG either");
        var transform = new ImageTransform(1, 8, 8);
        var inputs = new float[3 * transform.SampleLength];
        var labels = new int[3];

        foreach (int threads in new[] { 1, 4 })
        {
            StreamedImages stream = folder.Stream(transform, threads);
            var e = Assert.Throws<InvalidDataException>(() => stream.Gather([2, first, later], inputs, labels));
            Assert.StartsWith(folder.Files[first] + ": not an image", e.Message, StringComparison.Ordinal);
            e = Assert.Throws<InvalidDataException>(() => stream.Gather([later, first], inputs, labels));
            Assert.StartsWith(folder.Files[later] + ": not an image", e.Message, StringComparison.Ordinal);
        }

        var net = new ShapesNet();
        net.InitializeParameters(1);
        var error = Assert.Throws<InvalidDataException>(() => Trainer.Fit(net, new Adam(1e-3f), folder.Stream(ImageTransform.For(net)), null,
            new TrainerOptions { Epochs = 1, BatchSize = 4 }));
        Assert.Contains(": not an image", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_indices_and_buffers_are_errors_before_any_file_is_read()
    {
        TestImages.WriteShapeFolder(_directory.Path, perClass: 1, seed: 4);
        var folder = new ImageFolder(_directory.Path);
        var transform = new ImageTransform(1, 4, 4);
        StreamedImages stream = folder.Stream(transform);
        File.Delete(folder.Files[0]); // reading it would be a FileNotFoundException

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => stream.Gather([0, 3], new float[32], new int[2]));
        Assert.Equal("indices", e.ParamName);
        Assert.Contains("Index 1 is 3, outside 0..2", e.Message, StringComparison.Ordinal);
        var small = Assert.Throws<ArgumentException>(() => stream.Gather([0, 1], new float[31], new int[2]));
        Assert.Equal("inputs", small.ParamName);
        Assert.StartsWith("2 images need 32 floats, inputs has 31.", small.Message, StringComparison.Ordinal);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => stream.Gather([0, 1], new float[32], new int[1])).ParamName);
        Assert.Throws<FileNotFoundException>(() => stream.Gather([0], new float[16], new int[1]));

        Assert.Throws<ArgumentNullException>(() => folder.Stream(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => folder.Stream(transform, 0));
    }

    public void Dispose() => _directory.Dispose();
}
