using System;
using System.Buffers;

namespace NetGen.Images;

/// <summary>
/// The weights of a one-dimensional resize from <c>sourceSize</c> to <c>targetSize</c> samples with the triangle (bilinear)
/// filter, widened by the scale factor when shrinking so that every source sample contributes (antialiasing): the
/// coefficients of Pillow's <c>Image.resize(…, BILINEAR)</c>, which torchvision's <c>Resize</c> uses on PIL images.
/// </summary>
/// <remarks>
/// Output sample i is centred at source coordinate (i + ½) · scale, scale = sourceSize / targetSize; it averages the
/// source samples j within scale' = max(scale, 1) of that centre with weights max(0, 1 − |j + ½ − centre| / scale'),
/// normalized to sum to 1. Enlarging, that is plain bilinear interpolation between pixel centres (PyTorch's
/// <c>align_corners=False</c>); shrinking by a whole factor n, each output averages a window about 2n source samples wide.
/// The arrays are rented from <see cref="ArrayPool{T}.Shared"/>; <see cref="Dispose"/> returns them.
/// </remarks>
internal readonly struct Resampler : IDisposable
{
    /// <summary>First source index of each output sample.</summary>
    private readonly int[] _starts;

    /// <summary>Number of source samples of each output sample.</summary>
    private readonly int[] _counts;

    /// <summary>Output i's weights are at [i · Stride, i · Stride + counts[i]).</summary>
    private readonly float[] _weights;

    public Resampler(int sourceSize, int targetSize)
    {
        double scale = (double)sourceSize / targetSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterScale; // the triangle filter's support is 1, widened by filterScale
        Stride = (int)Math.Ceiling(support) * 2 + 1;
        TargetSize = targetSize;
        _starts = ArrayPool<int>.Shared.Rent(targetSize);
        _counts = ArrayPool<int>.Shared.Rent(targetSize);
        _weights = ArrayPool<float>.Shared.Rent(targetSize * Stride);
        double[] raw = ArrayPool<double>.Shared.Rent(Stride); // a 1000-fold shrink needs 2001 weights: too many for the stack
        for (int i = 0; i < targetSize; i++)
        {
            double centre = (i + 0.5) * scale;
            int start = Math.Max(0, (int)(centre - support + 0.5)); // (int) truncates toward zero, as Pillow's C cast
            int end = Math.Min(sourceSize, (int)(centre + support + 0.5));
            int count = end - start;
            double total = 0;
            for (int k = 0; k < count; k++)
            {
                double w = 1.0 - Math.Abs((start + k - centre + 0.5) / filterScale);
                raw[k] = w > 0 ? w : 0;
                total += raw[k];
            }

            for (int k = 0; k < count; k++)
            {
                _weights[i * Stride + k] = total > 0 ? (float)(raw[k] / total) : 0f;
            }

            _starts[i] = start;
            _counts[i] = count;
        }

        ArrayPool<double>.Shared.Return(raw);
    }

    /// <summary>Output samples.</summary>
    public int TargetSize { get; }

    /// <summary>Room for the weights of one output sample.</summary>
    public int Stride { get; }

    /// <summary>Output[i] = Σ_k weight(i, k) · source[start(i) + k · step], for every output i, written at target[i · targetStep].</summary>
    public void Apply(ReadOnlySpan<float> source, int sourceStep, Span<float> target, int targetStep)
    {
        for (int i = 0; i < TargetSize; i++)
        {
            ReadOnlySpan<float> weights = _weights.AsSpan(i * Stride, _counts[i]);
            int at = _starts[i] * sourceStep;
            float sum = 0f;
            for (int k = 0; k < weights.Length; k++)
            {
                sum += weights[k] * source[at + k * sourceStep];
            }

            target[i * targetStep] = sum;
        }
    }

    public void Dispose()
    {
        ArrayPool<int>.Shared.Return(_starts);
        ArrayPool<int>.Shared.Return(_counts);
        ArrayPool<float>.Shared.Return(_weights);
    }
}
