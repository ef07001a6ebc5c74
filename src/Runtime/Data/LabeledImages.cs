using System;
using System.Globalization;
using System.IO;
using System.Numerics.Tensors;

namespace NetGen.Data;

/// <summary>
/// A set of labelled images held in memory: <see cref="Images"/> is <see cref="Count"/> × <see cref="Channels"/> ×
/// <see cref="Height"/> × <see cref="Width"/> floats (one sample after another, each in channel-major order,
/// as PyTorch's NCHW), <see cref="Labels"/> one class index per image.
/// </summary>
/// <example>
/// Load a training and a test set and standardize both with the training set's statistics:
/// <code>
/// LabeledImages train = LabeledImages.LoadIdx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", classCount: 10);
/// LabeledImages test = LabeledImages.LoadIdx("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", classCount: 10);
/// (float mean, float std) = train.ComputeMeanAndStandardDeviation();
/// train.Normalize(mean, std);
/// test.Normalize(mean, std);
/// </code>
/// </example>
public sealed class LabeledImages : ILabeledSamples
{
    /// <summary>Wraps existing arrays (not copied).</summary>
    /// <param name="images">Count × channels × height × width floats.</param>
    /// <param name="labels">One class index (≥ 0) per image.</param>
    /// <param name="channels">Channels per image (≥ 1).</param>
    /// <param name="height">Rows per image (≥ 1).</param>
    /// <param name="width">Columns per image (≥ 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1 or a negative label.</exception>
    /// <exception cref="ArgumentException">The array lengths do not agree with the sizes.</exception>
    public LabeledImages(float[] images, int[] labels, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        long sampleLength = (long)channels * height; // below 2^62: cannot overflow
        if (sampleLength <= int.MaxValue)
        {
            sampleLength *= width; // below 2^62 again
        }

        if (sampleLength > int.MaxValue)
        {
            throw new ArgumentException("One sample cannot exceed int.MaxValue floats.", nameof(width));
        }

        if ((long)labels.Length * sampleLength != images.Length)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture,
                    $"{labels.Length} labels × {channels}×{height}×{width} = {labels.Length * sampleLength} floats expected, images has {images.Length}."),
                nameof(images));
        }

        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(labels),
                    string.Create(CultureInfo.InvariantCulture, $"Label {i} is {labels[i]}; labels cannot be negative."));
            }
        }

        Images = images;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        SampleLength = (int)sampleLength;
    }

    /// <summary>All pixels, sample after sample (count × channels × height × width).</summary>
    public float[] Images { get; }

    /// <summary>The class index of each sample.</summary>
    public int[] Labels { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Labels.Length;

    /// <inheritdoc/>
    ReadOnlySpan<int> ILabeledSamples.Labels => Labels;

    /// <summary>Channels per image.</summary>
    public int Channels { get; }

    /// <summary>Rows per image.</summary>
    public int Height { get; }

    /// <summary>Columns per image.</summary>
    public int Width { get; }

    /// <summary>Floats per sample: <see cref="Channels"/> × <see cref="Height"/> × <see cref="Width"/>.</summary>
    public int SampleLength { get; }

    /// <summary>The pixels of sample <paramref name="index"/>.</summary>
    /// <param name="index">0 ≤ index &lt; <see cref="Count"/>.</param>
    /// <returns>A view of <see cref="SampleLength"/> floats inside <see cref="Images"/>.</returns>
    public ReadOnlySpan<float> Image(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Images.AsSpan(index * SampleLength, SampleLength);
    }

    /// <summary>
    /// Loads images and labels from IDX files (plain or gzip, see <see cref="IdxFile.Read"/>). The images file
    /// must be unsigned bytes of shape [count, height, width] (one channel) or [count, channels, height, width];
    /// pixels are scaled to [0, 1] by dividing by 255. The labels file must be unsigned bytes of shape [count].
    /// </summary>
    /// <param name="imagesPath">The images file, e.g. <c>train-images-idx3-ubyte.gz</c>.</param>
    /// <param name="labelsPath">The labels file, e.g. <c>train-labels-idx1-ubyte.gz</c>.</param>
    /// <param name="classCount">Number of classes: every label must be below it (1 to 256; 256 accepts any byte).</param>
    /// <returns>The loaded set.</returns>
    /// <exception cref="InvalidDataException">
    /// A file is not valid IDX, has the wrong number of dimensions, images of size 0 or of more than
    /// int.MaxValue pixels, the two files hold different counts (the message names both files), or a label is
    /// not below <paramref name="classCount"/>.
    /// </exception>
    public static LabeledImages LoadIdx(string imagesPath, string labelsPath, int classCount = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classCount, 256);
        IdxFile images = IdxFile.Read(imagesPath);
        IdxFile labels = IdxFile.Read(labelsPath);

        var d = images.Dimensions;
        int count, channels, height, width;
        switch (d.Count)
        {
            case 3:
                (count, channels, height, width) = (d[0], 1, d[1], d[2]);
                break;
            case 4:
                (count, channels, height, width) = (d[0], d[1], d[2], d[3]);
                break;
            default:
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{imagesPath}: images file has {d.Count} dimensions; 3 (count×height×width) or 4 (count×channels×height×width) expected"));
        }

        if (channels == 0 || height == 0 || width == 0)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{imagesPath}: images of size {channels}×{height}×{width} are empty"));
        }

        // With a count of 0 the IDX reader accepts any image size; one image must still fit in an array.
        // (channels × height is checked first so that the product cannot overflow a long.)
        if ((long)channels * height > int.MaxValue || (long)channels * height * width > int.MaxValue)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{imagesPath}: images of size {channels}×{height}×{width} have more than int.MaxValue pixels each"));
        }

        if (labels.Dimensions.Count != 1)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{labelsPath}: labels file has {labels.Dimensions.Count} dimensions; 1 (count) expected"));
        }

        if (labels.Dimensions[0] != count)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"count mismatch: {imagesPath} has {count} images but {labelsPath} has {labels.Dimensions[0]} labels"));
        }

        var labelValues = new int[count];
        for (int i = 0; i < count; i++)
        {
            int label = labels.Data[i];
            if (label >= classCount)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{labelsPath}: label {i} is {label}, not below the {classCount} classes expected"));
            }

            labelValues[i] = label;
        }

        var pixels = new float[images.Data.Length];
        TensorPrimitives.ConvertChecked<byte, float>(images.Data, pixels);
        TensorPrimitives.Divide(pixels, 255f, pixels);
        return new LabeledImages(pixels, labelValues, channels, height, width);
    }

    /// <summary>
    /// Mean and (population) standard deviation of all pixels, accumulated in double precision; use them with
    /// <see cref="Normalize"/>, typically computed on the training set and applied to both sets.
    /// </summary>
    /// <returns>The mean and standard deviation; (0, 0) for an empty set.</returns>
    public (float Mean, float StandardDeviation) ComputeMeanAndStandardDeviation()
    {
        ReadOnlySpan<float> all = Images;
        if (all.IsEmpty)
        {
            return (0f, 0f);
        }

        const int Chunk = 4096;
        double sum = 0;
        for (int i = 0; i < all.Length; i += Chunk)
        {
            sum += TensorPrimitives.Sum(all.Slice(i, Math.Min(Chunk, all.Length - i)));
        }

        double mean = sum / all.Length;
        Span<float> deviations = new float[Math.Min(Chunk, all.Length)];
        double squares = 0;
        for (int i = 0; i < all.Length; i += Chunk)
        {
            ReadOnlySpan<float> part = all.Slice(i, Math.Min(Chunk, all.Length - i));
            Span<float> d = deviations[..part.Length];
            TensorPrimitives.Subtract(part, (float)mean, d);
            squares += TensorPrimitives.SumOfSquares<float>(d);
        }

        return ((float)mean, (float)Math.Sqrt(squares / all.Length));
    }

    /// <summary>Replaces every pixel x by (x − <paramref name="mean"/>) / <paramref name="standardDeviation"/>, in place.</summary>
    /// <param name="mean">The value subtracted.</param>
    /// <param name="standardDeviation">The divisor; finite and &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="standardDeviation"/> is not finite and positive, or <paramref name="mean"/> is not finite.</exception>
    public void Normalize(float mean, float standardDeviation)
    {
        if (!float.IsFinite(mean))
        {
            throw new ArgumentOutOfRangeException(nameof(mean), mean, "The mean must be finite.");
        }

        if (!float.IsFinite(standardDeviation) || standardDeviation <= 0f)
        {
            throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation, "The standard deviation must be finite and positive.");
        }

        TensorPrimitives.Subtract(Images, mean, Images);
        TensorPrimitives.Divide(Images, standardDeviation, Images);
    }

    /// <summary>A copy of samples <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> − 1.</summary>
    /// <param name="start">First sample.</param>
    /// <param name="count">Number of samples.</param>
    /// <returns>A new set with its own arrays.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the set.</exception>
    public LabeledImages Subset(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count - start);
        float[] images = Images.AsSpan(start * SampleLength, count * SampleLength).ToArray();
        int[] labels = Labels.AsSpan(start, count).ToArray();
        return new LabeledImages(images, labels, Channels, Height, Width);
    }

    /// <summary>
    /// Copies the samples named by <paramref name="indices"/> into caller buffers, one after another; allocates nothing.
    /// </summary>
    /// <param name="indices">Sample indices, e.g. one batch of <see cref="BatchOrder"/>.</param>
    /// <param name="inputs">At least indices.Length × <see cref="SampleLength"/> floats; sample k goes to [k·SampleLength, (k+1)·SampleLength).</param>
    /// <param name="labels">At least indices.Length labels.</param>
    /// <exception cref="ArgumentException">A buffer is too small.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the set.</exception>
    public void Gather(ReadOnlySpan<int> indices, Span<float> inputs, Span<int> labels)
    {
        if ((long)indices.Length * SampleLength > inputs.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{indices.Length} samples need {(long)indices.Length * SampleLength} floats, inputs has {inputs.Length}."), nameof(inputs));
        }

        if (indices.Length > labels.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{indices.Length} samples need {indices.Length} labels, labels has {labels.Length}."), nameof(labels));
        }

        ReadOnlySpan<float> images = Images;
        for (int k = 0; k < indices.Length; k++)
        {
            int index = indices[k];
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), index,
                    string.Create(CultureInfo.InvariantCulture, $"Index {k} is {index}, outside 0..{Count - 1}."));
            }

            images.Slice(index * SampleLength, SampleLength).CopyTo(inputs.Slice(k * SampleLength, SampleLength));
            labels[k] = Labels[index];
        }
    }
}
