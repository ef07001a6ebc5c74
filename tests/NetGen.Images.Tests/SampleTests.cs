using System;
using System.IO;
using ImageFolderSample;
using SkiaSharp;
using Xunit;
using Xunit.Abstractions;

namespace NetGen.Images.Tests;

/// <summary>The image-folder sample, as a user runs it: train on a generated folder of three shape classes, predict files.</summary>
public sealed class SampleTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _directory = new();

    [Fact]
    public void The_sample_trains_above_chance_on_synthetic_shapes_and_predicts_new_files()
    {
        string root = _directory.File("shapes");
        TestImages.WriteShapeFolder(root, perClass: 40, seed: 7);
        string model = _directory.File("model.safetensors");

        TrainedModel trained = ImageClassifier.Train(root, model, new TrainSettings(Epochs: 12, Seed: 1));

        Assert.Equal(TestImages.ShapeClasses, trained.ClassNames);
        Assert.Equal((96, 24), (trained.TrainCount, trained.ValidationCount));
        Assert.True(trained.ValidationAccuracy >= 0.8, $"validation accuracy {trained.ValidationAccuracy:P1} on 3 classes");

        // Images the network never saw, one PNG and one JPEG of each class, from another seed.
        var random = new Random(99);
        int right = 0;
        foreach (string shape in TestImages.ShapeClasses)
        {
            foreach (SKEncodedImageFormat format in (SKEncodedImageFormat[])[SKEncodedImageFormat.Png, SKEncodedImageFormat.Jpeg])
            {
                string file = TestImages.WriteShape(_directory.File($"new-{shape}.{format}"), shape, random, format);
                Prediction prediction = ImageClassifier.Predict(model, file);
                Assert.Equal(Array.IndexOf(TestImages.ShapeClasses, prediction.ClassName), prediction.Label);
                right += prediction.ClassName == shape ? 1 : 0;
            }
        }

        output.WriteLine($"validation accuracy {trained.ValidationAccuracy:P1}, last training loss {trained.History.Epochs[^1].TrainingLoss:F4}, {right} of 6 new images right");
        Assert.True(right == 6, $"{right} of 6 new images classified right");
    }

    [Fact]
    public void Predict_rejects_a_weights_file_that_train_did_not_write()
    {
        string model = _directory.File("other.safetensors");
        NetGen.Weights.SafeTensors.Save(model, new float[ShapesNet.ParameterCount], [.. ShapesNet.ParameterLayout]);
        string image = TestImages.WriteShape(_directory.File("disc.png"), "disc", new Random(1), SKEncodedImageFormat.Png);

        var e = Assert.Throws<InvalidDataException>(() => ImageClassifier.Predict(model, image));

        Assert.Contains("not a model written by 'train'", e.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Dispose();
}
