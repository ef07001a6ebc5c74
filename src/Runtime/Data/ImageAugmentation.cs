using System;
using System.Globalization;
using NetGen.Training;

namespace NetGen.Data;

/// <summary>
/// Random crops after padding and random horizontal flips of a batch of images, the augmentation of the usual
/// Fashion-MNIST and CIFAR recipes: torchvision's <c>RandomCrop((height, width), padding=p)</c> followed by
/// <c>RandomHorizontalFlip(0.5)</c>, applied to each sample of a CHW batch. For each sample:
/// <code>
/// padded = the image with p rows of fill above and below and p columns of fill left and right
/// crop(c, i, j) = padded(c, i + top, j + left)          top, left uniform in 0 … 2p
/// output(c, i, j) = flip ? crop(c, i, width − 1 − j) : crop(c, i, j)      flip with probability ½
/// </code>
/// </summary>
/// <remarks>
/// <para>
/// Each sample's choices (<see cref="Choose"/>) are a pure function of the run's seed, the epoch and the sample's index in
/// its data set, drawn from a generator of their own: the output does not depend on which batch the sample is in, its
/// place there, the thread count or the order of processing, and a sample gets new choices each epoch.
/// </para>
/// <para>
/// The padding is <see cref="Fill"/> in the pixel space of the data as given. torchvision pads the raw image before
/// <c>Normalize</c>, that is with black; after <see cref="LabeledImages.Normalize"/> zero is the data set's mean, and black
/// is (0 − mean) / standardDeviation: pass that as <c>fill</c> to pad as torchvision does.
/// </para>
/// <para>
/// A batch of 131,072 floats or more (512 KB) is split among <see cref="DegreeOfParallelism"/> threads: the calling thread
/// and worker threads of the instance's own, which the batch engines' runner keeps parked between calls (and lets exit
/// after two idle seconds). That is why <see cref="Apply"/> takes <see cref="Memory{T}"/> rather than spans: another
/// thread cannot reach a span; a <c>float[]</c> converts implicitly, a slice is <c>array.AsMemory(start, length)</c>.
/// Steady-state calls allocate nothing on any thread. An instance is not safe to use from several threads at once.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// (float mean, float std) = train.ComputeMeanAndStandardDeviation();
/// train.Normalize(mean, std);
/// var augmentation = new ImageAugmentation(train.Channels, train.Height, train.Width, cropPadding: 2, fill: -mean / std);
/// var inputs = new float[batchSize * train.SampleLength];
/// var augmented = new float[batchSize * train.SampleLength];
/// for (int epoch = 0; epoch &lt; epochs; epoch++)
/// {
///     order.Shuffle(BatchOrder.EpochSeed(seed, epoch));
///     for (int b = 0; b &lt; order.BatchCount; b++)
///     {
///         ReadOnlySpan&lt;int&gt; batch = order.Batch(b);
///         int length = batch.Length * train.SampleLength;
///         train.Gather(batch, inputs, labels);
///         augmentation.Apply(inputs.AsMemory(0, length), batch, seed, epoch, augmented.AsMemory(0, length));
///         net.TrainBatch(augmented.AsSpan(0, length), labels.AsSpan(0, batch.Length));
///         ...
///     }
/// }
/// </code>
/// </example>
public sealed class ImageAugmentation : IParallelJob
{
    /// <summary>Batches of at least this many floats are split among threads; smaller ones are not worth a hand-over.</summary>
    private const int ParallelThreshold = 1 << 17;

    /// <summary>Floats per work item of a split batch (whole samples, at least one).</summary>
    private const int ItemFloats = 1 << 15;

    /// <summary>Samples whose indices a split batch copies at a time (the workers cannot read the caller's span).</summary>
    private const int RoundSamples = 4096;

    /// <summary>Tells the per-sample generator apart from other generators seeded with the same seed (BatchOrder's).</summary>
    private const ulong StreamKey = 0x6175676D656E7431UL; // "augment1"

    private readonly int _planeLength;
    private readonly int[] _roundIndices;
    private readonly ParallelRunner _runner;
    private int _degreeOfParallelism = Environment.ProcessorCount;

    // The split batch being processed (set by Apply, cleared when it returns).
    private ReadOnlyMemory<float> _source;
    private Memory<float> _destination;
    private long _seed;
    private int _epoch;
    private int _roundCount;
    private int _samplesPerItem;

    /// <summary>Describes the augmentation of images of one size.</summary>
    /// <param name="channels">Channels per image (≥ 1).</param>
    /// <param name="height">Rows per image (≥ 1).</param>
    /// <param name="width">Columns per image (≥ 1).</param>
    /// <param name="horizontalFlip">Mirror each sample left to right with probability ½; false: never.</param>
    /// <param name="cropPadding">
    /// Rows and columns of <paramref name="fill"/> added on each side before cropping back to
    /// <paramref name="height"/> × <paramref name="width"/> at a random offset (≥ 0; 0: no crop). The usual Fashion-MNIST
    /// recipe pads 2, CIFAR 4.
    /// </param>
    /// <param name="fill">The value of the padding, in the pixel space of the data as given (finite); see the remarks.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1, a negative or huge padding, or a fill that is not finite.</exception>
    /// <exception cref="ArgumentException">One image would have more than int.MaxValue floats.</exception>
    public ImageAugmentation(int channels, int height, int width, bool horizontalFlip = true, int cropPadding = 2, float fill = 0f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if ((long)channels * height * width > int.MaxValue) // each factor is below 2^31: the product fits a long
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"An image of {channels}×{height}×{width} has more than int.MaxValue floats."), nameof(width));
        }

        if (cropPadding < 0 || cropPadding > (int.MaxValue - 1) / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(cropPadding), cropPadding,
                "The padding must be between 0 and (int.MaxValue − 1) / 2, so that its 2 × padding + 1 offsets can be counted.");
        }

        if (!float.IsFinite(fill))
        {
            throw new ArgumentOutOfRangeException(nameof(fill), fill, "The padding's fill value must be finite.");
        }

        Channels = channels;
        Height = height;
        Width = width;
        _planeLength = height * width;
        SampleLength = channels * _planeLength;
        HorizontalFlip = horizontalFlip;
        CropPadding = cropPadding;
        Fill = fill;
        _roundIndices = new int[RoundSamples];
        _runner = new ParallelRunner(this);
    }

    /// <summary>Channels per image.</summary>
    public int Channels { get; }

    /// <summary>Rows per image.</summary>
    public int Height { get; }

    /// <summary>Columns per image.</summary>
    public int Width { get; }

    /// <summary>Floats per image: <see cref="Channels"/> × <see cref="Height"/> × <see cref="Width"/>.</summary>
    public int SampleLength { get; }

    /// <summary>Whether samples are mirrored left to right with probability ½.</summary>
    public bool HorizontalFlip { get; }

    /// <summary>Rows and columns of <see cref="Fill"/> on each side of the image before the random crop (0: no crop).</summary>
    public int CropPadding { get; }

    /// <summary>The value of the padding.</summary>
    public float Fill { get; }

    /// <summary>Threads <see cref="Apply"/> may use for a large batch, the calling thread included. Default: <see cref="Environment.ProcessorCount"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int DegreeOfParallelism
    {
        get => _degreeOfParallelism;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _degreeOfParallelism = value;
        }
    }

    /// <summary>
    /// The choices for sample <paramref name="sampleIndex"/> of a data set in epoch <paramref name="epoch"/> of the run
    /// seeded with <paramref name="seed"/>: what <see cref="Apply"/> does to it. A sample's flip does not depend on
    /// <see cref="CropPadding"/>, nor its crop on <see cref="HorizontalFlip"/> (each option draws the same numbers whether
    /// the other is on or off).
    /// </summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="epoch">The epoch (≥ 0).</param>
    /// <param name="sampleIndex">The sample's index in its data set (≥ 0), not its place in the batch.</param>
    /// <returns>The flip (always false without <see cref="HorizontalFlip"/>) and the crop offsets (0 to 2 × <see cref="CropPadding"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> or <paramref name="sampleIndex"/> is negative.</exception>
    public AugmentationChoice Choose(long seed, int epoch, int sampleIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        ArgumentOutOfRangeException.ThrowIfNegative(sampleIndex);
        return Draw(seed, epoch, sampleIndex);
    }

    /// <summary>
    /// Writes the augmented images of a batch into <paramref name="destination"/>; <paramref name="batch"/> is unchanged.
    /// Sample k of the batch is sample <paramref name="sampleIndices"/>[k] of its data set, which with
    /// <paramref name="seed"/> and <paramref name="epoch"/> determines what is done to it (<see cref="Choose"/>).
    /// </summary>
    /// <param name="batch">sampleIndices.Length images of <see cref="SampleLength"/> floats, one after another, each CHW.</param>
    /// <param name="sampleIndices">The data set index of each sample of the batch, e.g. <see cref="BatchOrder.Batch"/>.</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="epoch">The epoch (≥ 0).</param>
    /// <param name="destination">As many floats as <paramref name="batch"/>, not overlapping it.</param>
    /// <exception cref="ArgumentException">A length is not sampleIndices.Length × <see cref="SampleLength"/>, or the buffers overlap.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> or a sample index is negative.</exception>
    public void Apply(ReadOnlyMemory<float> batch, ReadOnlySpan<int> sampleIndices, long seed, int epoch, Memory<float> destination)
    {
        int count = sampleIndices.Length;
        long length = (long)count * SampleLength;
        CheckLength(batch.Length, length, count, nameof(batch));
        CheckLength(destination.Length, length, count, nameof(destination));
        if (batch.Span.Overlaps(destination.Span))
        {
            throw new ArgumentException("destination overlaps batch; the augmentation writes into a separate buffer.", nameof(destination));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        for (int k = 0; k < count; k++)
        {
            if (sampleIndices[k] < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(sampleIndices), sampleIndices[k],
                    string.Create(CultureInfo.InvariantCulture, $"sampleIndices[{k}] is {sampleIndices[k]}; an index in a data set cannot be negative."));
            }
        }

        if (_degreeOfParallelism == 1 || length < ParallelThreshold)
        {
            ReadOnlySpan<float> source = batch.Span;
            Span<float> target = destination.Span;
            for (int k = 0; k < count; k++)
            {
                int at = k * SampleLength;
                Augment(source.Slice(at, SampleLength), Draw(seed, epoch, sampleIndices[k]), target.Slice(at, SampleLength));
            }

            return;
        }

        _seed = seed;
        _epoch = epoch;
        _samplesPerItem = Math.Max(1, ItemFloats / SampleLength);
        try
        {
            for (int first = 0; first < count; first += RoundSamples)
            {
                _roundCount = Math.Min(RoundSamples, count - first);
                sampleIndices.Slice(first, _roundCount).CopyTo(_roundIndices);
                int start = first * SampleLength, roundLength = _roundCount * SampleLength;
                _source = batch.Slice(start, roundLength);
                _destination = destination.Slice(start, roundLength);
                _runner.Run((_roundCount + _samplesPerItem - 1) / _samplesPerItem, _degreeOfParallelism);
            }
        }
        finally
        {
            _source = default; // hold no reference to the caller's buffers
            _destination = default;
        }
    }

    /// <summary>Augments the samples of work item <paramref name="item"/> of the current round.</summary>
    void IParallelJob.Execute(int item, int worker)
    {
        int first = item * _samplesPerItem;
        int end = Math.Min(first + _samplesPerItem, _roundCount);
        ReadOnlySpan<float> source = _source.Span;
        Span<float> target = _destination.Span;
        for (int k = first; k < end; k++)
        {
            int at = k * SampleLength;
            Augment(source.Slice(at, SampleLength), Draw(_seed, _epoch, _roundIndices[k]), target.Slice(at, SampleLength));
        }
    }

    private void CheckLength(int actual, long expected, int count, string name)
    {
        if (actual != expected)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{name} has {actual} floats; {count} samples (sampleIndices.Length) of {Channels}×{Height}×{Width} = {SampleLength} floats need {expected}."), name);
        }
    }

    private AugmentationChoice Draw(long seed, int epoch, int sampleIndex)
    {
        // A generator of the sample's own, keyed by (seed, epoch, index) through three rounds of SplitMix64's mixer.
        ulong key = Mix(unchecked((ulong)seed) ^ StreamKey);
        key = Mix(key ^ (uint)epoch);
        key = Mix(key ^ (uint)sampleIndex);
        var random = new SeededRandom(unchecked((long)key));

        bool flip = random.NextUInt64() >> 63 != 0; // drawn whether or not flips are on, so the crop draws the same numbers
        int offsets = 2 * CropPadding + 1;
        int top = offsets > 1 ? random.NextInt32(offsets) : 0;
        int left = offsets > 1 ? random.NextInt32(offsets) : 0;
        return new AugmentationChoice(HorizontalFlip && flip, top, left);

        static ulong Mix(ulong value) => new SeededRandom(unchecked((long)value)).NextUInt64();
    }

    /// <summary>output(c, i, j) = image(c, i + dy, j + dx), or <see cref="Fill"/> where that is outside the image; then each row mirrored if flipped.</summary>
    private void Augment(ReadOnlySpan<float> image, AugmentationChoice choice, Span<float> output)
    {
        int height = Height, width = Width;

        // Shifts of the crop against the unpadded image; beyond ±size the crop sees padding only, as at ±size.
        int dy = Math.Clamp(choice.CropTop - CropPadding, -height, height);
        int dx = Math.Clamp(choice.CropLeft - CropPadding, -width, width);
        int firstRow = Math.Max(0, -dy), endRow = Math.Min(height, height - dy);
        int firstColumn = Math.Max(0, -dx), endColumn = Math.Min(width, width - dx);
        int inside = endColumn - firstColumn;

        for (int c = 0; c < Channels; c++)
        {
            ReadOnlySpan<float> plane = image.Slice(c * _planeLength, _planeLength);
            Span<float> target = output.Slice(c * _planeLength, _planeLength);
            target[..(firstRow * width)].Fill(Fill);
            for (int i = firstRow; i < endRow; i++)
            {
                Span<float> row = target.Slice(i * width, width);
                row[..firstColumn].Fill(Fill);
                plane.Slice((i + dy) * width + firstColumn + dx, inside).CopyTo(row.Slice(firstColumn, inside));
                row[endColumn..].Fill(Fill);
                if (choice.HorizontalFlip)
                {
                    row.Reverse();
                }
            }

            target[(endRow * width)..].Fill(Fill);
        }
    }
}
