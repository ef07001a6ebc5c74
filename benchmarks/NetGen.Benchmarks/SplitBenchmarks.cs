using System;
using BenchmarkDotNet.Attributes;
using NetGen.Kernels;
using NetGen.Training;

namespace NetGen.Benchmarks;

/// <summary>
/// What a one-sample split across two cores costs on this machine: ResNetBN's block1_conv1 (16 → 16 filters, 3×3, over a
/// zero-padded 16×30×30 copy → 16×28×28: 1.8M multiply-adds) by <see cref="Convolution.Forward{TVector}(ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int)"/>,
/// on the calling thread or as two parts of 8 filters through a <see cref="LayerSplitter"/> (the calling thread and one
/// worker, as a generated one-sample pass splits a layer). Each call first rewrites the input on the calling thread, as
/// the layer before it would (<c>Written</c>), or leaves it as it is (<c>Unchanged</c>): the second part then reads its 57 KB
/// input from its own cache instead of from the core that wrote it. The rewrite costs the same in both thread counts.
/// Split by rows instead, each part computes 14 of the 28 output rows of every filter (into a buffer of its own); with
/// <c>Written</c>, a run before it has each part rewrite the 15 padded input rows it owns, as a layer before it split the
/// same way would; the row under its outputs that the other part owns it reads from the other core. By <c>first</c>, whichever
/// thread claims a part computes it, so the rows move between the cores whenever the claims swap; pinned, the calling
/// thread always computes the top half and the worker the bottom, as a pass whose every layer splits by rows could.
/// Opt-in (<c>--filter '*Split*'</c>), BenchmarkDotNet's table only.
/// </summary>
[BenchmarkCategory("Split")]
public class SplitBenchmarks
{
    private const int Channels = 16, Filters = 16, Size = 28, Padded = Size + 2, Taps = 9, Slack = 64;
    private const int PaddedPlane = Padded * Padded, Plane = Size * Size;

    private readonly float[] _padded = new float[Channels * PaddedPlane + Slack];
    private readonly float[] _weight = new float[Filters * Channels * Taps], _bias = new float[Filters];
    private readonly float[] _y = new float[Filters * Plane + Slack];
    private readonly float[][] _rows = [new float[Filters * Plane / 2 + Slack], new float[Filters * Plane / 2 + Slack]];
    private int _caller;
    private Splitter _splitter = null!;

    /// <summary>Whether the calling thread writes the input before each call, as the layer before it would.</summary>
    [Params("Written", "Unchanged")]
    public string Input { get; set; } = "Written";

    [GlobalSetup]
    public void Setup()
    {
        var random = new SeededRandom(7);
        for (int t = 0; t < Channels; t++)
        {
            for (int u = 0; u < Size; u++)
            {
                for (int v = 0; v < Size; v++)
                {
                    _padded[t * PaddedPlane + (u + 1) * Padded + v + 1] = random.NextSingle() * 2f - 1f;
                }
            }
        }

        for (int i = 0; i < _weight.Length; i++)
        {
            _weight[i] = random.NextSingle() * 0.2f - 0.1f;
        }

        _splitter = new Splitter(this) { DegreeOfParallelism = 2 };
        float[] whole = Run(split: false);
        float[] parts = Run(split: true);
        if (!whole.AsSpan().SequenceEqual(parts))
        {
            throw new InvalidOperationException("The split convolution gives other bits than the whole one.");
        }
    }

    [Benchmark(Baseline = true)]
    public float One_thread()
    {
        Rewrite();
        Compute(0, Filters);
        return _y[0];
    }

    [Benchmark]
    public float Two_threads_split_by_filters()
    {
        Rewrite();
        _splitter.Run(0, units: Filters, grain: 8);
        return _y[0];
    }

    [Benchmark]
    public float Two_threads_split_by_rows() => SplitByRows(SplitMode.RewriteRows, SplitMode.Rows);

    [Benchmark]
    public float Two_threads_split_by_rows_pinned()
    {
        _caller = Environment.CurrentManagedThreadId;
        return SplitByRows(SplitMode.PinnedRewriteRows, SplitMode.PinnedRows);
    }

    /// <summary>Two split runs, as two layers of a pass split the same way: each part rewrites its rows (<paramref name="rewrite"/>), then computes its output rows (<paramref name="compute"/>).</summary>
    private float SplitByRows(SplitMode rewrite, SplitMode compute)
    {
        _splitter.Mode = rewrite;
        _splitter.Run(0, units: 2, grain: 1);
        _splitter.Mode = compute;
        _splitter.Run(0, units: 2, grain: 1);
        _splitter.Mode = SplitMode.Filters;
        return _rows[0][0];
    }

    private float[] Run(bool split)
    {
        Array.Clear(_y);
        if (split)
        {
            _splitter.Run(0, units: Filters, grain: 8);
        }
        else
        {
            Compute(0, Filters);
        }

        return _y.AsSpan(0, Filters * Plane).ToArray();
    }

    /// <summary>Writes every cache line of the input on this thread, leaving its values as they are (x · 1).</summary>
    private void Rewrite()
    {
        for (int t = 0; t < Channels; t++)
        {
            RewriteRows(t, 0, Padded);
        }
    }

    /// <summary>With <c>Written</c>, writes every cache line of channel <paramref name="t"/>'s padded rows [first, first + count) on this thread.</summary>
    private void RewriteRows(int t, int first, int count)
    {
        if (Input != "Written")
        {
            return;
        }

        Span<float> rows = _padded.AsSpan(t * PaddedPlane + first * Padded, count * Padded);
        for (int i = 0; i < rows.Length; i += 16)
        {
            rows[i] *= 1f;
        }
    }

    /// <summary>With <c>Written</c>, rewrites the padded rows half <paramref name="half"/> owns, as a layer before it split by rows would.</summary>
    private void RewriteHalf(int half)
    {
        for (int t = 0; t < Channels; t++)
        {
            RewriteRows(t, half * Padded / 2, Padded / 2);
        }
    }

    /// <summary>Half <paramref name="half"/> of the output rows: its 14 rows of every filter.</summary>
    private void Rows(int half)
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: ConvolveRows<Float512>(half); break;
            case VectorKernel.Float256: ConvolveRows<Float256>(half); break;
            case VectorKernel.Float128: ConvolveRows<Float128>(half); break;
            case VectorKernel.Float128Unfused: ConvolveRows<Float128Unfused>(half); break;
            default: ConvolveRows<Float1>(half); break;
        }
    }

    private void ConvolveRows<TVector>(int half)
        where TVector : struct, IFloatVector<TVector> =>
        Convolution.Forward<TVector>(ref _weight[0], ref _bias[0], ref _padded[half * Size / 2 * Padded], ref _rows[half][0], filters: Filters, channels: Channels,
            kernelHeight: 3, kernelWidth: 3, inputWidth: Padded, inputPlane: PaddedPlane, outputHeight: Size / 2, outputWidth: Size);

    private void Compute(int first, int count)
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: Convolve<Float512>(first, count); break;
            case VectorKernel.Float256: Convolve<Float256>(first, count); break;
            case VectorKernel.Float128: Convolve<Float128>(first, count); break;
            case VectorKernel.Float128Unfused: Convolve<Float128Unfused>(first, count); break;
            default: Convolve<Float1>(first, count); break;
        }
    }

    private void Convolve<TVector>(int first, int count)
        where TVector : struct, IFloatVector<TVector> =>
        Convolution.Forward<TVector>(ref _weight[first * Channels * Taps], ref _bias[first], ref _padded[0], ref _y[first * Plane], filters: count, channels: Channels,
            kernelHeight: 3, kernelWidth: 3, inputWidth: Padded, inputPlane: PaddedPlane, outputHeight: Size, outputWidth: Size);

    private enum SplitMode { Filters, RewriteRows, Rows, PinnedRewriteRows, PinnedRows }

    private sealed class Splitter(SplitBenchmarks owner) : LayerSplitter
    {
        public SplitMode Mode;

        protected override void RunPart(int layer, int first, int count)
        {
            switch (Mode)
            {
                case SplitMode.Filters: owner.Compute(first, count); break;
                case SplitMode.RewriteRows: owner.RewriteHalf(first); break;
                case SplitMode.Rows: owner.Rows(first); break;
                case SplitMode.PinnedRewriteRows: owner.RewriteHalf(Environment.CurrentManagedThreadId == owner._caller ? 0 : 1); break;
                default: owner.Rows(Environment.CurrentManagedThreadId == owner._caller ? 0 : 1); break;
            }
        }
    }
}
