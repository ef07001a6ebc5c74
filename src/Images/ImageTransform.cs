using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using NetGen.Data;
using SkiaSharp;

namespace NetGen.Images;

/// <summary>
/// Turns an image file into one network input: <see cref="Channels"/> × <see cref="Height"/> × <see cref="Width"/> floats
/// in channel-major order (CHW), as torchvision's <c>Compose([Grayscale() or RGB, Resize((height, width)), ToTensor(),
/// Normalize(mean, std)])</c> does to a PIL image:
/// <code>
/// decode      any format Skia reads: PNG, JPEG, GIF (first frame), BMP, WebP, ICO, WBMP; 8 bits per channel, alpha unpremultiplied
/// channels    1: grey, y = 0.299·R + 0.587·G + 0.114·B (ITU-R BT.601, as Pillow's convert("L"))
///             3: R, G, B (alpha dropped, as Pillow's convert("RGB")); 4: R, G, B, A
/// scale       x / 255, so every value is in [0, 1]
/// resize      to height × width, ignoring the aspect ratio, with Pillow's antialiased bilinear filter (torchvision's
///             Resize default): bilinear between pixel centres when enlarging; when shrinking by a factor s, a triangle
///             filter 2s pixels wide, so every source pixel counts
/// normalize   x' = (x − mean[c]) / std[c] per channel c (mean 0 and std 1 by default: no change)
/// </code>
/// </summary>
/// <remarks>
/// <para>
/// The resize runs in float on the [0, 1] values: it agrees with Pillow's resize of a float ("F") image to within 2e-7,
/// and with torchvision's resize of an 8-bit PIL image, which rounds to 8 bits after each pass, to within 2/255. Decoding
/// applies no colour profile and no EXIF rotation, as Pillow's <c>Image.open</c>.
/// </para>
/// <para>
/// The decoded pixels and the resize's intermediate rows live in arrays rented from <see cref="ArrayPool{T}.Shared"/>;
/// the <c>Load</c> overloads that take a destination span write the result there and allocate only Skia's small decoder
/// objects. An instance holds no mutable state: any number of threads may load with it at once.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// var transform = new ImageTransform(3, 32, 32, mean: [0.49f, 0.48f, 0.45f], standardDeviation: [0.25f, 0.24f, 0.26f]);
/// float[] input = transform.Load("cat.jpg");          // 3 × 32 × 32 floats
/// int label = net.Predict(input);
/// </code>
/// </example>
public sealed class ImageTransform
{
    private readonly float[] _mean;
    private readonly float[] _standardDeviation;

    /// <summary>A transform without normalization: values stay in [0, 1].</summary>
    /// <param name="channels">1 (grey), 3 (RGB) or 4 (RGBA).</param>
    /// <param name="height">Rows of the output (≥ 1).</param>
    /// <param name="width">Columns of the output (≥ 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1, or a channel count other than 1, 3 and 4.</exception>
    public ImageTransform(int channels, int height, int width)
        : this(channels, height, width, [], [])
    {
    }

    /// <summary>A transform that normalizes each channel c to (x − mean[c]) / standardDeviation[c].</summary>
    /// <param name="channels">1 (grey), 3 (RGB) or 4 (RGBA).</param>
    /// <param name="height">Rows of the output (≥ 1).</param>
    /// <param name="width">Columns of the output (≥ 1).</param>
    /// <param name="mean">One finite value per channel, on the [0, 1] scale; empty: 0 for every channel.</param>
    /// <param name="standardDeviation">One finite positive value per channel; empty: 1 for every channel.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1, a channel count other than 1, 3 and 4, or a mean or standard deviation out of range.</exception>
    /// <exception cref="ArgumentException">The mean or standard deviation has neither one value per channel nor none.</exception>
    public ImageTransform(int channels, int height, int width, ReadOnlySpan<float> mean, ReadOnlySpan<float> standardDeviation)
    {
        if (channels is not (1 or 3 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Images have 1 (grey), 3 (RGB) or 4 (RGBA) channels.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if ((long)channels * height * width > Array.MaxLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"An image of {channels}×{height}×{width} has more floats than an array holds."), nameof(width));
        }

        _mean = PerChannel(mean, channels, 0f, nameof(mean));
        _standardDeviation = PerChannel(standardDeviation, channels, 1f, nameof(standardDeviation));
        foreach (float m in _mean)
        {
            if (!float.IsFinite(m))
            {
                throw new ArgumentOutOfRangeException(nameof(mean), m, "Every mean must be finite.");
            }
        }

        foreach (float s in _standardDeviation)
        {
            if (!float.IsFinite(s) || s <= 0f)
            {
                throw new ArgumentOutOfRangeException(nameof(standardDeviation), s, "Every standard deviation must be finite and positive.");
            }
        }

        Channels = channels;
        Height = height;
        Width = width;
        SampleLength = channels * height * width;
    }

    /// <summary>A transform to <paramref name="network"/>'s input size and channels.</summary>
    /// <param name="network">The network whose <see cref="INeuralNetwork.InputChannels"/>, height and width the output has.</param>
    /// <param name="mean">One value per channel, or empty; see the constructor.</param>
    /// <param name="standardDeviation">One value per channel, or empty; see the constructor.</param>
    /// <returns>The transform.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The network's input does not have 1, 3 or 4 channels, or a statistic is out of range.</exception>
    /// <exception cref="ArgumentException">A statistic has neither one value per channel nor none.</exception>
    public static ImageTransform For(INeuralNetwork network, ReadOnlySpan<float> mean = default, ReadOnlySpan<float> standardDeviation = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        return new ImageTransform(network.InputChannels, network.InputHeight, network.InputWidth, mean, standardDeviation);
    }

    /// <summary>Channels of the output: 1 (grey), 3 (RGB) or 4 (RGBA).</summary>
    public int Channels { get; }

    /// <summary>Rows of the output.</summary>
    public int Height { get; }

    /// <summary>Columns of the output.</summary>
    public int Width { get; }

    /// <summary>Floats per output: <see cref="Channels"/> × <see cref="Height"/> × <see cref="Width"/>.</summary>
    public int SampleLength { get; }

    /// <summary>The value subtracted from each channel (on the [0, 1] scale).</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>The divisor of each channel.</summary>
    public IReadOnlyList<float> StandardDeviation => _standardDeviation;

    /// <summary>Loads an image file into a new array; see <see cref="Load(string, Span{float})"/>.</summary>
    /// <param name="path">The image file.</param>
    /// <returns><see cref="SampleLength"/> floats, CHW.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist (the message names it).</exception>
    /// <exception cref="InvalidDataException">The file is not an image Skia decodes, or its data is damaged or cut short (the message names it).</exception>
    public float[] Load(string path)
    {
        var destination = new float[SampleLength];
        Load(path, destination);
        return destination;
    }

    /// <summary>Loads an image file into <paramref name="destination"/>: decoded, converted, resized and normalized as the class describes.</summary>
    /// <param name="path">The image file.</param>
    /// <param name="destination">Exactly <see cref="SampleLength"/> floats; written CHW.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length, or <paramref name="path"/> is empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist (the message names it).</exception>
    /// <exception cref="DirectoryNotFoundException">Its folder does not exist (the message names the file).</exception>
    /// <exception cref="InvalidDataException">The file is not an image Skia decodes, or its data is damaged or cut short (the message names it).</exception>
    public void Load(string path, Span<float> destination)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckDestination(destination);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        Decode(file, path, destination);
    }

    /// <summary>Loads an encoded image (the bytes of a PNG, JPEG, … file) from a stream, which is read but left open.</summary>
    /// <param name="stream">A readable stream positioned at the image's first byte.</param>
    /// <param name="destination">Exactly <see cref="SampleLength"/> floats; written CHW.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> has the wrong length, or the stream cannot be read.</exception>
    /// <exception cref="InvalidDataException">The bytes are not an image Skia decodes, or are damaged or cut short.</exception>
    public void Load(Stream stream, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream cannot be read.", nameof(stream));
        }

        CheckDestination(destination);
        Decode(stream, "the stream", destination);
    }

    /// <summary>
    /// Loads <paramref name="paths"/>[0 .. <paramref name="count"/>) into <paramref name="destination"/>, file k to
    /// [k·<see cref="SampleLength"/>, (k+1)·<see cref="SampleLength"/>), on the threads <paramref name="options"/> allows.
    /// A file that cannot be read or decoded is rethrown after the loop: the first such file in the order of
    /// <paramref name="paths"/>, whatever the threads' timing.
    /// </summary>
    internal void LoadAll(string[] paths, int count, float[] destination, ParallelOptions options)
    {
        int length = SampleLength;
        var failures = new Exception?[count];
        Parallel.For(0, count, options, (k, loop) =>
        {
            try
            {
                Load(paths[k], destination.AsSpan(k * length, length));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                // Break, not Stop: every file before this one is still decoded, so the failure reported is the first
                // in order, whatever the threads' timing.
                failures[k] = e;
                loop.Break();
            }
        });

        foreach (Exception? failure in failures)
        {
            if (failure is not null)
            {
                ExceptionDispatchInfo.Capture(failure).Throw();
            }
        }
    }

    /// <summary>
    /// Applies this transform's normalization, in place, to images loaded without one (values in [0, 1]): every value
    /// x of channel c becomes (x − <see cref="Mean"/>[c]) / <see cref="StandardDeviation"/>[c], as <c>Load</c> does.
    /// </summary>
    /// <param name="images">Images of <see cref="Channels"/> channels (any size).</param>
    /// <exception cref="ArgumentException">The images do not have <see cref="Channels"/> channels.</exception>
    public void Normalize(LabeledImages images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Channels != Channels)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The images have {images.Channels} channels, the transform {Channels}."), nameof(images));
        }

        int plane = images.Height * images.Width;
        Span<float> all = images.Images;
        for (int sample = 0; sample < images.Count; sample++)
        {
            Normalize(all.Slice(sample * images.SampleLength, images.SampleLength), plane);
        }
    }

    /// <summary>
    /// The mean and (population) standard deviation of each channel over all images, accumulated in double precision:
    /// the statistics to normalize with, computed on a training set loaded without normalization.
    /// </summary>
    /// <param name="images">The images.</param>
    /// <returns>One mean and one standard deviation per channel; zeros for an empty set.</returns>
    public static (float[] Mean, float[] StandardDeviation) ComputeChannelStatistics(LabeledImages images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var sums = new double[images.Channels];
        var squares = new double[images.Channels];
        ReadOnlySpan<float> all = images.Images;
        for (int sample = 0; sample < images.Count; sample++)
        {
            Accumulate(all.Slice(sample * images.SampleLength, images.SampleLength), sums, squares);
        }

        return Statistics(sums, squares, (double)images.Count * images.Height * images.Width);
    }

    /// <summary>
    /// The mean and (population) standard deviation of each channel over a streamed folder's images, decoded batch by
    /// batch so that memory holds one batch: the same values as the overload gives on the folder loaded with the same
    /// transform. Stream with a transform without normalization to get the statistics to normalize with.
    /// </summary>
    /// <param name="images">The images.</param>
    /// <returns>One mean and one standard deviation per channel; zeros for an empty set.</returns>
    /// <exception cref="InvalidDataException">A file is not an image or is damaged (the message names it).</exception>
    /// <exception cref="IOException">A file cannot be read (the message names it).</exception>
    public static (float[] Mean, float[] StandardDeviation) ComputeChannelStatistics(StreamedImages images)
    {
        ArgumentNullException.ThrowIfNull(images);
        const int Batch = 64;
        int length = images.SampleLength, size = Math.Min(Batch, Math.Max(1, images.Count));
        var indices = new int[size];
        var labels = new int[size];
        var pixels = new float[size * length];
        var sums = new double[images.Channels];
        var squares = new double[images.Channels];
        for (int start = 0; start < images.Count; start += size)
        {
            int n = Math.Min(size, images.Count - start);
            for (int k = 0; k < n; k++)
            {
                indices[k] = start + k;
            }

            images.Gather(indices.AsSpan(0, n), pixels, labels);
            for (int k = 0; k < n; k++)
            {
                Accumulate(pixels.AsSpan(k * length, length), sums, squares);
            }
        }

        return Statistics(sums, squares, (double)images.Count * images.Height * images.Width);
    }

    /// <summary>Adds one CHW sample's values and squares to each channel's sums, in double precision.</summary>
    private static void Accumulate(ReadOnlySpan<float> sample, double[] sums, double[] squares)
    {
        int plane = sample.Length / sums.Length;
        for (int c = 0; c < sums.Length; c++)
        {
            foreach (float x in sample.Slice(c * plane, plane))
            {
                sums[c] += x;
                squares[c] += (double)x * x;
            }
        }
    }

    /// <summary>Each channel's mean and population standard deviation from its sums over <paramref name="n"/> values.</summary>
    private static (float[] Mean, float[] StandardDeviation) Statistics(double[] sums, double[] squares, double n)
    {
        var mean = new float[sums.Length];
        var deviation = new float[sums.Length];
        for (int c = 0; c < sums.Length && n > 0; c++)
        {
            double m = sums[c] / n;
            mean[c] = (float)m;
            deviation[c] = (float)Math.Sqrt(Math.Max(0, squares[c] / n - m * m));
        }

        return (mean, deviation);
    }

    private static float[] PerChannel(ReadOnlySpan<float> values, int channels, float fallback, string name)
    {
        if (values.IsEmpty)
        {
            var filled = new float[channels];
            Array.Fill(filled, fallback);
            return filled;
        }

        if (values.Length != channels)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{values.Length} values for {channels} channels; give one per channel, or none."), name);
        }

        return values.ToArray();
    }

    private void CheckDestination(Span<float> destination)
    {
        if (destination.Length != SampleLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"destination has {destination.Length} floats; a {Channels}×{Height}×{Width} image needs {SampleLength}."), nameof(destination));
        }
    }

    /// <summary>(x − mean[c]) / std[c] over each channel plane of one sample.</summary>
    private void Normalize(Span<float> sample, int plane)
    {
        for (int c = 0; c < Channels; c++)
        {
            float mean = _mean[c], deviation = _standardDeviation[c];
            if (mean == 0f && deviation == 1f)
            {
                continue;
            }

            Span<float> values = sample.Slice(c * plane, plane);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (values[i] - mean) / deviation;
            }
        }
    }

    private void Decode(Stream stream, string name, Span<float> destination)
    {
        // Skia reads the caller's stream through a wrapper that leaves it open; a stream that cannot seek is read
        // through a buffer large enough for the format sniffing to rewind.
        using SKStream source = stream.CanSeek
            ? new SKManagedStream(stream, disposeManagedStream: false)
            : new SKFrontBufferedManagedStream(stream, SKCodec.MinBufferedBytesNeeded, disposeUnderlyingStream: false);
        using SKCodec? codec = SKCodec.Create(source, out SKCodecResult created);
        if (codec is null)
        {
            throw new InvalidDataException(created == SKCodecResult.IncompleteInput
                ? $"{name}: the image data is cut short, within its header ({created})."
                : $"{name}: not an image that can be decoded ({created}); PNG, JPEG, GIF, BMP, WebP, ICO and WBMP can.");
        }

        int width = codec.Info.Width, height = codec.Info.Height;
        // The decoded RGBA pixels, and the rows resized to the output's width, must each fit in an array.
        if (width <= 0 || height <= 0 || (long)width * height * 4 > Array.MaxLength || (long)Channels * height * Width > Array.MaxLength)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{name}: an image of {width}×{height} pixels is empty or too large to load into arrays."));
        }

        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        byte[] pixels = ArrayPool<byte>.Shared.Rent(width * height * 4);
        try
        {
            SKCodecResult decoded;
            GCHandle pin = GCHandle.Alloc(pixels, GCHandleType.Pinned);
            try
            {
                decoded = codec.GetPixels(info, pin.AddrOfPinnedObject());
            }
            finally
            {
                pin.Free();
            }

            if (decoded != SKCodecResult.Success)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: the {codec.EncodedFormat} image data is damaged or cut short ({decoded})."));
            }

            Resize(pixels.AsSpan(0, width * height * 4), width, height, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pixels);
        }

        Normalize(destination, Height * Width);
    }

    /// <summary>RGBA bytes of width × height → <see cref="Channels"/> planes of <see cref="Height"/> × <see cref="Width"/> values in [0, 1].</summary>
    private void Resize(ReadOnlySpan<byte> rgba, int width, int height, Span<float> destination)
    {
        int channels = Channels;
        using var horizontal = new Resampler(width, Width);
        using var vertical = new Resampler(height, Height);
        float[] row = ArrayPool<float>.Shared.Rent(width);
        float[] rows = ArrayPool<float>.Shared.Rent(channels * height * Width); // each source row resized to Width
        try
        {
            Span<float> line = row.AsSpan(0, width);
            for (int y = 0; y < height; y++)
            {
                ReadOnlySpan<byte> pixels = rgba.Slice(y * width * 4, width * 4);
                for (int c = 0; c < channels; c++)
                {
                    if (channels == 1)
                    {
                        for (int x = 0; x < width; x++)
                        {
                            int at = x * 4;
                            line[x] = (0.299f * pixels[at] + 0.587f * pixels[at + 1] + 0.114f * pixels[at + 2]) / 255f;
                        }
                    }
                    else
                    {
                        for (int x = 0; x < width; x++)
                        {
                            line[x] = pixels[x * 4 + c] / 255f;
                        }
                    }

                    horizontal.Apply(line, 1, rows.AsSpan((c * height + y) * Width, Width), 1);
                }
            }

            for (int c = 0; c < channels; c++)
            {
                ReadOnlySpan<float> plane = rows.AsSpan(c * height * Width, height * Width);
                Span<float> target = destination.Slice(c * Height * Width, Height * Width);
                for (int x = 0; x < Width; x++)
                {
                    vertical.Apply(plane[x..], Width, target[x..], Width);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(row);
            ArrayPool<float>.Shared.Return(rows);
        }
    }
}
