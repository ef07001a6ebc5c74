using System;
using System.Buffers;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using NetGen.Data;

namespace NetGen.Images;

/// <summary>
/// The images of an <see cref="ImageFolder"/> decoded batch by batch, when <see cref="NetGen.Training.Trainer"/> draws
/// them: only the labels and file names are held, and each <see cref="Gather"/> decodes its files on all cores into the
/// caller's buffer. Sample i has the values <see cref="ImageFolder.Load(ImageTransform)"/> gives it, bit for bit.
/// </summary>
/// <remarks>
/// Every epoch decodes every file again, so a run costs the decoding of epochs × <see cref="Count"/> files; in return
/// memory holds one batch, whatever the folder's size. An instance holds no mutable state: threads may gather at once.
/// </remarks>
public sealed class StreamedImages : ILabeledSamples
{
    private readonly string[] _files;
    private readonly int[] _labels;
    private readonly ParallelOptions _parallel;

    internal StreamedImages(string[] files, int[] labels, ImageTransform transform, int degreeOfParallelism)
    {
        _files = files;
        _labels = labels;
        Transform = transform;
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = degreeOfParallelism };
    }

    /// <summary>Decodes each file: its channels, size and normalization.</summary>
    public ImageTransform Transform { get; }

    /// <summary>Threads that decode a batch's files.</summary>
    public int DegreeOfParallelism => _parallel.MaxDegreeOfParallelism;

    /// <summary>Number of images.</summary>
    public int Count => _files.Length;

    /// <summary>Floats per image: the transform's channels × height × width.</summary>
    public int SampleLength => Transform.SampleLength;

    /// <summary>Channels per image.</summary>
    public int Channels => Transform.Channels;

    /// <summary>Rows per image.</summary>
    public int Height => Transform.Height;

    /// <summary>Columns per image.</summary>
    public int Width => Transform.Width;

    /// <summary>The class index of each image, as <see cref="ImageFolder.Labels"/>.</summary>
    public ReadOnlySpan<int> Labels => _labels;

    /// <summary>
    /// Decodes the files named by <paramref name="indices"/> into <paramref name="inputs"/>, one after another, on up to
    /// <see cref="DegreeOfParallelism"/> threads, and writes their labels. The values do not depend on the thread count.
    /// </summary>
    /// <param name="indices">Indices into the folder's <see cref="ImageFolder.Files"/>.</param>
    /// <param name="inputs">At least indices.Length × <see cref="SampleLength"/> floats; image k goes to [k·SampleLength, (k+1)·SampleLength).</param>
    /// <param name="labels">At least indices.Length labels.</param>
    /// <exception cref="ArgumentException">A buffer is too small.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the set (checked before any file is read).</exception>
    /// <exception cref="InvalidDataException">
    /// A file is not an image or is damaged: the first such file of the batch, named by the message.
    /// </exception>
    /// <exception cref="IOException">A file cannot be read (the message names it).</exception>
    public void Gather(ReadOnlySpan<int> indices, Span<float> inputs, Span<int> labels)
    {
        int length = SampleLength;
        if ((long)indices.Length * length > inputs.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{indices.Length} images need {(long)indices.Length * length} floats, inputs has {inputs.Length}."), nameof(inputs));
        }

        if (indices.Length > labels.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{indices.Length} images need {indices.Length} labels, labels has {labels.Length}."), nameof(labels));
        }

        for (int k = 0; k < indices.Length; k++)
        {
            if ((uint)indices[k] >= (uint)_files.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), indices[k],
                    string.Create(CultureInfo.InvariantCulture, $"Index {k} is {indices[k]}, outside 0..{_files.Length - 1}."));
            }
        }

        if (indices.IsEmpty)
        {
            return;
        }

        // A span cannot cross to the decoding threads: they read the batch's paths from, and write to, pooled arrays; the
        // pixels are copied to the caller's span after.
        int count = indices.Length;
        string[] paths = ArrayPool<string>.Shared.Rent(count);
        float[] pixels = ArrayPool<float>.Shared.Rent(count * length);
        try
        {
            for (int k = 0; k < count; k++)
            {
                paths[k] = _files[indices[k]];
            }

            Transform.LoadAll(paths, count, pixels, _parallel);
            pixels.AsSpan(0, count * length).CopyTo(inputs);
            for (int k = 0; k < count; k++)
            {
                labels[k] = _labels[indices[k]];
            }
        }
        finally
        {
            ArrayPool<string>.Shared.Return(paths, clearArray: true);
            ArrayPool<float>.Shared.Return(pixels);
        }
    }
}
