using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.IO;

namespace NetGen.Data;

/// <summary>
/// Fashion-MNIST (Zalando): 28×28 grey-scale images of clothing in 10 classes, 60 000 for training and 10 000
/// for testing, distributed as four IDX files (optionally gzipped).
/// </summary>
public static class FashionMnist
{
    /// <summary>Number of classes.</summary>
    public const int ClassCount = 10;

    /// <summary>Training images file name (without <c>.gz</c>).</summary>
    public const string TrainImagesFile = "train-images-idx3-ubyte";

    /// <summary>Training labels file name (without <c>.gz</c>).</summary>
    public const string TrainLabelsFile = "train-labels-idx1-ubyte";

    /// <summary>Test images file name (without <c>.gz</c>).</summary>
    public const string TestImagesFile = "t10k-images-idx3-ubyte";

    /// <summary>Test labels file name (without <c>.gz</c>).</summary>
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte";

    private static readonly string[] s_classNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> ClassNames => s_classNames;

    /// <summary>
    /// Whether <paramref name="directory"/> holds all four files, each plain or with <c>.gz</c>. Only that directory is
    /// looked at: where a machine keeps its copy is the application's choice.
    /// </summary>
    /// <param name="directory">The directory to look in; null or empty finds nothing.</param>
    /// <param name="found"><paramref name="directory"/> when it holds all four files; otherwise null.</param>
    /// <returns>Whether the directory holds the data set.</returns>
    /// <example>
    /// Look in a few places, in order, and load the first copy found:
    /// <code>
    /// string? directory = null;
    /// foreach (string candidate in new[] { args[0], "/usr/share/datasets/fashion-mnist" })
    /// {
    ///     if (FashionMnist.TryFind(candidate, out directory)) break;
    /// }
    /// LabeledImages train = FashionMnist.LoadTrain(directory ?? throw new FileNotFoundException("Fashion-MNIST not found"));
    /// </code>
    /// </example>
    public static bool TryFind(string? directory, [NotNullWhen(true)] out string? found)
    {
        found = !string.IsNullOrEmpty(directory) && HasAllFiles(directory) ? directory : null;
        return found is not null;
    }

    /// <summary>Loads the 60 000 training images (scaled to [0, 1]) and labels from <paramref name="directory"/>.</summary>
    /// <param name="directory">A directory holding the files, e.g. from <see cref="TryFind"/>.</param>
    /// <returns>The training set.</returns>
    /// <exception cref="FileNotFoundException">A file is missing (neither plain nor <c>.gz</c>).</exception>
    /// <exception cref="InvalidDataException">A file is corrupt; see <see cref="LabeledImages.LoadIdx"/>.</exception>
    public static LabeledImages LoadTrain(string directory) =>
        LabeledImages.LoadIdx(Resolve(directory, TrainImagesFile), Resolve(directory, TrainLabelsFile), ClassCount);

    /// <summary>Loads the 10 000 test images (scaled to [0, 1]) and labels from <paramref name="directory"/>.</summary>
    /// <param name="directory">A directory holding the files, e.g. from <see cref="TryFind"/>.</param>
    /// <returns>The test set.</returns>
    /// <exception cref="FileNotFoundException">A file is missing (neither plain nor <c>.gz</c>).</exception>
    /// <exception cref="InvalidDataException">A file is corrupt; see <see cref="LabeledImages.LoadIdx"/>.</exception>
    public static LabeledImages LoadTest(string directory) =>
        LabeledImages.LoadIdx(Resolve(directory, TestImagesFile), Resolve(directory, TestLabelsFile), ClassCount);

    private static bool HasAllFiles(string directory) =>
        TryResolve(directory, TrainImagesFile) is not null
        && TryResolve(directory, TrainLabelsFile) is not null
        && TryResolve(directory, TestImagesFile) is not null
        && TryResolve(directory, TestLabelsFile) is not null;

    private static string Resolve(string directory, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        return TryResolve(directory, name)
            ?? throw new FileNotFoundException($"{Path.Combine(directory, name)}[.gz]: Fashion-MNIST file not found.", Path.Combine(directory, name));
    }

    private static string? TryResolve(string directory, string name)
    {
        string plain = Path.Combine(directory, name);
        if (File.Exists(plain))
        {
            return plain;
        }

        string gz = plain + ".gz";
        return File.Exists(gz) ? gz : null;
    }
}
