using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using NetGen.Data;

namespace NetGen.Images;

/// <summary>
/// A labelled image data set laid out as torchvision's <c>ImageFolder</c>: a root folder with one subfolder per class,
/// holding that class's images (in any depth of subfolders below it).
/// <code>
/// root/cat/0001.jpg        class "cat"  → label 0
/// root/cat/more/x.png      class "cat"  → label 0
/// root/dog/a.jpeg          class "dog"  → label 1
/// </code>
/// The classes are the subfolders' names sorted ordinally (label i is <see cref="ClassNames"/>[i]); the files are those
/// with an image extension (<see cref="Extensions"/>, any case), class after class; within a class, folder by folder in
/// ordinal order of their paths (the class folder's own files first) and each folder's files by name, as torchvision
/// walks them. Other files are ignored; so are files directly in the root.
/// </summary>
/// <remarks>
/// <see cref="Load(ImageTransform)"/> decodes every file once into one <see cref="LabeledImages"/> held in memory:
/// suited to folders whose images fit in memory at the network's input size (10,000 RGB images at 64 × 64 take 491 MB).
/// <see cref="Stream(ImageTransform)"/> holds only the file names and decodes each batch when it is drawn, every epoch
/// again: for folders too large for memory. <see cref="NetGen.Training.Trainer"/> takes either, with any augmentation,
/// and gives the same bits with both. Files are decoded on all cores.
/// </remarks>
/// <example>
/// <code>
/// var folder = new ImageFolder("photos");                                  // photos/cat/*.jpg, photos/dog/*.jpg
/// LabeledImages train = folder.Load(ImageTransform.For(net));              // values in [0, 1]
/// (float[] mean, float[] std) = ImageTransform.ComputeChannelStatistics(train);
/// var transform = ImageTransform.For(net, mean, std);
/// transform.Normalize(train);
/// Trainer.Fit(net, new Adam(1e-3f), train, null, new TrainerOptions { Epochs = 10, BatchSize = 32 });
/// string name = folder.ClassNames[net.Predict(transform.Load("new.jpg"))];
/// </code>
/// </example>
public sealed class ImageFolder
{
    private static readonly string[] s_extensions = [".bmp", ".gif", ".ico", ".jpeg", ".jpg", ".png", ".wbmp", ".webp"];

    private readonly string[] _classNames;
    private readonly string[] _files;
    private readonly int[] _labels;

    /// <summary>Lists the classes and image files under <paramref name="root"/>; nothing is decoded yet.</summary>
    /// <param name="root">The folder with one subfolder per class.</param>
    /// <exception cref="DirectoryNotFoundException"><paramref name="root"/> does not exist (the message names it).</exception>
    /// <exception cref="InvalidDataException">
    /// <paramref name="root"/> has no subfolder, or a class folder has no image file (the message names the folder).
    /// </exception>
    public ImageFolder(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"{root}: no such folder; an image folder has one subfolder of images per class.");
        }

        Root = root;
        _classNames = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (_classNames.Length == 0)
        {
            throw new InvalidDataException($"{root}: no class folders; an image folder has one subfolder of images per class.");
        }

        var files = new List<string>();
        var labels = new List<int>();
        for (int label = 0; label < _classNames.Length; label++)
        {
            string folder = Path.Combine(root, _classNames[label]);
            // As torchvision's sorted(os.walk(…)): folder by folder in ordinal order of their paths, each folder's
            // files by name, so a class folder's own files come before those of its subfolders.
            string[] images = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Where(IsImage)
                .OrderBy(Path.GetDirectoryName, StringComparer.Ordinal)
                .ThenBy(Path.GetFileName, StringComparer.Ordinal)
                .ToArray();
            if (images.Length == 0)
            {
                throw new InvalidDataException(
                    $"{folder}: class '{_classNames[label]}' has no image files ({string.Join(", ", s_extensions)}).");
            }

            files.AddRange(images);
            labels.AddRange(Enumerable.Repeat(label, images.Length));
        }

        _files = [.. files];
        _labels = [.. labels];
    }

    /// <summary>The file extensions taken as images (lower case; matched in any case).</summary>
    public static IReadOnlyList<string> Extensions => s_extensions;

    /// <summary>The root folder as given.</summary>
    public string Root { get; }

    /// <summary>The class names, sorted ordinally: label i is class <c>ClassNames[i]</c>.</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <summary>The image files, class after class.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>The label of each file of <see cref="Files"/>.</summary>
    public IReadOnlyList<int> Labels => _labels;

    /// <summary>Number of image files.</summary>
    public int Count => _files.Length;

    /// <summary>Decodes every file with <paramref name="transform"/> on all cores; see <see cref="Load(ImageTransform, int)"/>.</summary>
    /// <param name="transform">Decides each sample's channels, size and normalization.</param>
    /// <returns>One sample per file, in the order of <see cref="Files"/>.</returns>
    /// <exception cref="InvalidDataException">A file is not an image or is damaged (the message names the first such file).</exception>
    /// <exception cref="IOException">A file cannot be read (the message names it).</exception>
    public LabeledImages Load(ImageTransform transform) => Load(transform, Environment.ProcessorCount);

    /// <summary>
    /// Decodes every file with <paramref name="transform"/> on up to <paramref name="degreeOfParallelism"/> threads into
    /// one <see cref="LabeledImages"/>: sample i is <see cref="Files"/>[i] with label <see cref="Labels"/>[i]. The result
    /// does not depend on the thread count.
    /// </summary>
    /// <param name="transform">Decides each sample's channels, size and normalization.</param>
    /// <param name="degreeOfParallelism">Threads that decode (≥ 1).</param>
    /// <returns>One sample per file, in the order of <see cref="Files"/>.</returns>
    /// <exception cref="InvalidDataException">
    /// A file is not an image or is damaged: the first such file in the order of <see cref="Files"/>, named by the message.
    /// </exception>
    /// <exception cref="IOException">A file cannot be read (the message names it).</exception>
    public LabeledImages Load(ImageTransform transform, int degreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(transform);
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        int length = transform.SampleLength;
        if ((long)length * _files.Length > Array.MaxLength)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"{Root}: {_files.Length} images of {transform.Channels}×{transform.Height}×{transform.Width} floats do not fit in one array."));
        }

        var images = new float[length * _files.Length];
        transform.LoadAll(_files, _files.Length, images, new ParallelOptions { MaxDegreeOfParallelism = degreeOfParallelism });
        return new LabeledImages(images, [.. _labels], transform.Channels, transform.Height, transform.Width);
    }

    /// <summary>The folder's images decoded batch by batch on all cores; see <see cref="Stream(ImageTransform, int)"/>.</summary>
    /// <param name="transform">Decides each sample's channels, size and normalization.</param>
    /// <returns>One sample per file, in the order of <see cref="Files"/>, decoded when gathered.</returns>
    public StreamedImages Stream(ImageTransform transform) => Stream(transform, Environment.ProcessorCount);

    /// <summary>
    /// The folder's images as a set that <see cref="NetGen.Training.Trainer"/> reads batch by batch: nothing is decoded
    /// now; each batch's files are decoded with <paramref name="transform"/> on up to
    /// <paramref name="degreeOfParallelism"/> threads when it is drawn. Sample i is <see cref="Files"/>[i] with label
    /// <see cref="Labels"/>[i], with the values <see cref="Load(ImageTransform, int)"/> gives it.
    /// </summary>
    /// <param name="transform">Decides each sample's channels, size and normalization.</param>
    /// <param name="degreeOfParallelism">Threads that decode a batch (≥ 1).</param>
    /// <returns>One sample per file, in the order of <see cref="Files"/>, decoded when gathered.</returns>
    public StreamedImages Stream(ImageTransform transform, int degreeOfParallelism)
    {
        ArgumentNullException.ThrowIfNull(transform);
        ArgumentOutOfRangeException.ThrowIfLessThan(degreeOfParallelism, 1);
        return new StreamedImages(_files, _labels, transform, degreeOfParallelism);
    }

    private static bool IsImage(string path) => s_extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);
}
