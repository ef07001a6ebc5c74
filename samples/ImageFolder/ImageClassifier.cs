using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using NetGen.Data;
using NetGen.Images;
using NetGen.Optimizers;
using NetGen.Training;
using NetGen.Weights;

namespace ImageFolderSample;

/// <summary>How to train: epochs, batch size, seed, learning rate.</summary>
/// <param name="Epochs">Passes over the training images.</param>
/// <param name="BatchSize">Images per optimizer step.</param>
/// <param name="Seed">Seeds the initial parameters, the order and the augmentation: the same seed gives the same model.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
public sealed record TrainSettings(int Epochs = 15, int BatchSize = 16, int Seed = 1, float LearningRate = 2e-3f);

/// <summary>A trained model: the class names, the accuracy on the held-out images, the epochs.</summary>
/// <param name="ClassNames">Label i is ClassNames[i].</param>
/// <param name="TrainCount">Images trained on.</param>
/// <param name="ValidationCount">Images held out.</param>
/// <param name="ValidationAccuracy">Accuracy on the held-out images after the last epoch.</param>
/// <param name="History">Every epoch's summary.</param>
public sealed record TrainedModel(IReadOnlyList<string> ClassNames, int TrainCount, int ValidationCount, double ValidationAccuracy, TrainingHistory History);

/// <summary>The class of one image and its probability.</summary>
/// <param name="Label">The class index.</param>
/// <param name="ClassName">The class's folder name.</param>
/// <param name="Probability">The network's probability for it.</param>
public sealed record Prediction(int Label, string ClassName, float Probability);

/// <summary>
/// Trains <see cref="ShapesNet"/> on a folder of images (one subfolder per class) and classifies image files with the
/// result. The model file is a safetensors file: the parameters, and in its metadata the class names and the
/// per-channel mean and standard deviation the inputs were normalized with.
/// </summary>
public static class ImageClassifier
{
    /// <summary>Every fifth image in file order (the 5th, 10th, …: about a fifth of each class) is held out for validation.</summary>
    private const int ValidationEvery = 5;

    /// <summary>
    /// Loads the folder at the network's input size, holds out every fifth image, normalizes with the
    /// training images' per-channel statistics, trains with random crops and flips, and writes the model.
    /// </summary>
    /// <param name="folder">The image folder.</param>
    /// <param name="modelPath">The model file to write.</param>
    /// <param name="settings">Epochs, batch size, seed.</param>
    /// <param name="onEpoch">Called after every epoch, or null.</param>
    /// <returns>The classes and the validation accuracy.</returns>
    /// <exception cref="InvalidDataException">The folder has more classes than the network's outputs, or an image cannot be decoded.</exception>
    public static TrainedModel Train(string folder, string modelPath, TrainSettings settings, Action<EpochSummary>? onEpoch = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var images = new ImageFolder(folder);
        var net = new ShapesNet { DegreeOfParallelism = Environment.ProcessorCount };
        if (images.ClassNames.Count > ShapesNet.OutputLength)
        {
            throw new InvalidDataException(
                $"{folder}: {images.ClassNames.Count} classes; {nameof(ShapesNet)} has {ShapesNet.OutputLength} outputs (change its last [Dense]).");
        }

        LabeledImages all = images.Load(ImageTransform.For(net)); // values in [0, 1]
        int[] held = Enumerable.Range(0, all.Count).Where(IsHeldOut).ToArray();
        int[] kept = Enumerable.Range(0, all.Count).Where(i => !IsHeldOut(i)).ToArray();
        LabeledImages train = Select(all, kept), validation = Select(all, held);

        (float[] mean, float[] std) = ImageTransform.ComputeChannelStatistics(train);
        for (int c = 0; c < std.Length; c++)
        {
            std[c] = std[c] > 1e-6f ? std[c] : 1f; // a channel of one value everywhere: only subtract its mean
        }

        ImageTransform transform = ImageTransform.For(net, mean, std);
        transform.Normalize(train);
        transform.Normalize(validation);

        net.InitializeParameters(settings.Seed);
        var options = new TrainerOptions
        {
            Epochs = settings.Epochs,
            BatchSize = settings.BatchSize,
            Seed = settings.Seed,
            // Crops of 32×32 from the image padded by 2 with the mean (0 after normalization), and left-right flips.
            Augmentation = new ImageAugmentation(ShapesNet.Shapes.Input.Channels, ShapesNet.Shapes.Input.Height, ShapesNet.Shapes.Input.Width, horizontalFlip: true, cropPadding: 2, fill: 0f),
            OnEpoch = onEpoch,
        };
        TrainingHistory history = Trainer.Fit(net, new Adam(settings.LearningRate), train, validation.Count > 0 ? validation : null, options);
        double accuracy = validation.Count > 0 ? Trainer.Evaluate(net, validation).Accuracy : double.NaN;

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["network"] = nameof(ShapesNet),
            ["mean"] = Join(mean),
            ["std"] = Join(std),
            ["class_count"] = images.ClassNames.Count.ToString(CultureInfo.InvariantCulture),
        };
        for (int i = 0; i < images.ClassNames.Count; i++)
        {
            metadata["class." + i.ToString(CultureInfo.InvariantCulture)] = images.ClassNames[i];
        }

        SafeTensors.Save(modelPath, net.Parameters, [.. ShapesNet.ParameterLayout], metadata);
        return new TrainedModel(images.ClassNames, train.Count, validation.Count, accuracy, history);
    }

    /// <summary>Classifies one image file with a model written by <see cref="Train"/>.</summary>
    /// <param name="modelPath">The model file.</param>
    /// <param name="imagePath">The image (any size; resized to the network's input).</param>
    /// <returns>The most probable of the model's classes.</returns>
    /// <exception cref="InvalidDataException">The model file was not written by <see cref="Train"/>, or the image cannot be decoded.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    public static Prediction Predict(string modelPath, string imagePath)
    {
        IReadOnlyDictionary<string, string> metadata = SafeTensors.ReadMetadata(modelPath);
        if (metadata.GetValueOrDefault("network") != nameof(ShapesNet)
            || !int.TryParse(metadata.GetValueOrDefault("class_count"), NumberStyles.None, CultureInfo.InvariantCulture, out int classCount)
            || classCount < 1 || classCount > ShapesNet.OutputLength)
        {
            throw new InvalidDataException($"{modelPath}: not a model written by 'train' (no {nameof(ShapesNet)} metadata).");
        }

        var net = new ShapesNet();
        net.Load(modelPath);
        ImageTransform transform = ImageTransform.For(net, Parse(metadata, "mean", modelPath), Parse(metadata, "std", modelPath));
        float[] input = transform.Load(imagePath);
        var probabilities = new float[ShapesNet.OutputLength];
        net.Forward(input, probabilities);

        int best = 0; // among the model's classes only: the unused outputs are not classes
        for (int i = 1; i < classCount; i++)
        {
            best = probabilities[i] > probabilities[best] ? i : best;
        }

        string name = metadata.GetValueOrDefault("class." + best.ToString(CultureInfo.InvariantCulture))
            ?? throw new InvalidDataException($"{modelPath}: no name for class {best} in its metadata.");
        return new Prediction(best, name, probabilities[best]);
    }

    private static bool IsHeldOut(int index) => index % ValidationEvery == ValidationEvery - 1;

    /// <summary>A new set of the samples at <paramref name="indices"/>.</summary>
    private static LabeledImages Select(LabeledImages all, int[] indices)
    {
        var images = new float[indices.Length * all.SampleLength];
        var labels = new int[indices.Length];
        all.Gather(indices, images, labels);
        return new LabeledImages(images, labels, all.Channels, all.Height, all.Width);
    }

    private static string Join(float[] values) => string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    private static float[] Parse(IReadOnlyDictionary<string, string> metadata, string key, string modelPath)
    {
        string[] parts = (metadata.GetValueOrDefault(key) ?? "").Split(',');
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
            {
                throw new InvalidDataException($"{modelPath}: '{key}' in its metadata is not a list of numbers.");
            }
        }

        return values;
    }
}
