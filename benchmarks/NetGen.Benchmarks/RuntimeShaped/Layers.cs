using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using NetGen.Kernels;

using NetGen.Generator.Layers;

namespace NetGen.Benchmarks.RuntimeShaped;

// The "runtime-shaped" baseline: the SAME algorithm as NetGen's generated code — layers run over a chunk of samples;
// convolutions unfold each sample (im2col: with stride 1, whole-vector row copies by Rows.CopyWhole, from a zero-padded
// copy of the sample when there is padding; with a larger stride, per-tap scalar copies over the valid output range)
// and compute y = W·columns and dcolumns = Wᵀ·dy with one cache-blocked NetGen.Kernels.Gemm.MultiplyAdd call each;
// dW with 16 filters or more and 64 rows or more as one Gemm.MultiplyAdd per sample into a transposed buffer (columns · dyᵀ), added to dW
// once per chunk, with fewer filters by the Gemm.Dot kernel (dot products in tiles of 4 rows, then 2, then 1); the backward pass runs the samples last
// first and reuses the columns the forward pass left for the last one; then fold back (col2im; with stride 1, each row
// of dx summed in registers over lane-masked tap rows); dense layers are one Gemm.Dot product per chunk forward and one
// Gemm.MultiplyAdd for dx backward, their dW one Gemm.MultiplyAdd per batch (rows split among the workers); max pooling
// is vectorized along each row with compare-and-select, picks stride-2 outputs with PickEven and records the arg-max,
// its 2×2/stride-2 backward writes whole rows, and a ReLU before it is fused in (max, then max(·, 0));
// every vectorized method is a compilation unit of its own (NoInlining); ReLU's backward pass is a vectorized select; softmax by the same
// TensorPrimitives calls; the same dispatch on the vector width (Float512 / Float256 / Float128 / Float128Unfused /
// Float1) — but every shape and stride is an int field of a layer object, every loop bound is computed at run time,
// and layers are called through virtual methods, the way a hand-written layer library works. The difference between
// it and the generated code is what compile-time specialization buys.

/// <summary>One layer's buffers for up to <c>capacity</c> samples of a chunk (one set per worker thread).</summary>
public sealed class LayerBuffers
{
    /// <summary>Floats of slack after every buffer, as in the generated workspaces: the masked tail vectors may reach into it.</summary>
    public const int Slack = 32;

    public LayerBuffers(int capacity, int outLength)
    {
        Output = new float[capacity * outLength + Slack];
        OutputGradient = new float[capacity * outLength + Slack];
    }

    public float[] Output { get; }
    public float[] OutputGradient { get; }
    public float[] Columns { get; init; } = [];
    public float[] ColumnsGradient { get; init; } = [];
    public float[] Padded { get; init; } = [];
    public float[] WindowMax { get; init; } = [];
    public float[] WindowTap { get; init; } = [];
    public float[] ArgMax { get; init; } = [];
    public float[] LogSumExp { get; init; } = [];
    public float[] OutputGradientT { get; init; } = [];
    public float[] WeightGradientT { get; init; } = [];
    public float[] InputT { get; init; } = [];
    public float[] OutputT { get; init; } = [];
    public float[] Gathered { get; init; } = [];
    public float[] Transformed { get; init; } = [];
    public float[] WinogradOutputs { get; init; } = [];

    /// <summary>Whether a dense layer leaves its dL/dW to the batch (<see cref="Dense.BatchWeightGradient"/>), as the generated engine's chunks do.</summary>
    public bool BatchWeightGradient { get; set; }
}

/// <summary>A layer with its input and output shapes (CHW) as run-time ints.</summary>
public abstract class Layer
{
    protected Layer(int inChannels, int inHeight, int inWidth, int outChannels, int outHeight, int outWidth)
    {
        InChannels = inChannels;
        InHeight = inHeight;
        InWidth = inWidth;
        OutChannels = outChannels;
        OutHeight = outHeight;
        OutWidth = outWidth;
        InLength = inChannels * inHeight * inWidth;
        OutLength = outChannels * outHeight * outWidth;
    }

    public int InChannels { get; }
    public int InHeight { get; }
    public int InWidth { get; }
    public int OutChannels { get; }
    public int OutHeight { get; }
    public int OutWidth { get; }
    public int InLength { get; }
    public int OutLength { get; }

    /// <summary>Trainable parameters of this layer (weight then bias).</summary>
    public virtual int ParameterCount => 0;

    /// <summary>Multiply-adds of one forward pass of one sample.</summary>
    public virtual long MultiplyAdds => 0;

    /// <summary>He-uniform fan-in of the weight (0 when there is no weight).</summary>
    public virtual int FanIn => 0;

    /// <summary>Weights in the parameter slice (the rest is bias).</summary>
    public virtual int WeightCount => 0;

    /// <summary>This layer's buffers for chunks of up to <paramref name="capacity"/> samples.</summary>
    public virtual LayerBuffers CreateBuffers(int capacity) => new(capacity, OutLength);

    /// <summary>y = layer(x) for <paramref name="count"/> samples (one after the other in x), into <c>buffers.Output</c>.</summary>
    public abstract void Forward(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, LayerBuffers buffers);

    /// <summary>
    /// From dL/dy in <c>buffers.OutputGradient</c>: adds dL/dθ of the samples into <paramref name="gradients"/> (this layer's slice)
    /// and writes dL/dx when <paramref name="computeDx"/>.
    /// </summary>
    public abstract void Backward(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> gradients, LayerBuffers buffers, Span<float> dx, bool computeDx);
}

/// <summary>2-D cross-correlation as PyTorch's Conv2d: per sample, im2col and one blocked GEMM, as the generated code.</summary>
public sealed class Conv2D : Layer
{
    private readonly int _filters, _kernelHeight, _kernelWidth, _stride, _padding, _rows, _pixels;

    public Conv2D(int inChannels, int inHeight, int inWidth, int filters, int kernelSize, int stride = 1, int padding = 0)
        : base(inChannels, inHeight, inWidth, filters,
               (inHeight + 2 * padding - kernelSize) / stride + 1, (inWidth + 2 * padding - kernelSize) / stride + 1)
    {
        _filters = filters;
        _kernelHeight = kernelSize;
        _kernelWidth = kernelSize;
        _stride = stride;
        _padding = padding;
        _rows = inChannels * kernelSize * kernelSize;
        _pixels = OutHeight * OutWidth;
    }

    public override int WeightCount => _filters * _rows;
    public override int ParameterCount => WeightCount + _filters;
    public override int FanIn => _rows;
    public override long MultiplyAdds => (long)_filters * _rows * _pixels;

    /// <summary>
    /// How the passes compute, by the generated code's own rules (ConvolutionStrategy, linked from the generator): unfold or
    /// convolve directly, compacted copy, zero-padded copy, transposed dL/dw.
    /// </summary>
    private ConvolutionStrategy Strategy =>
        _strategy ??= ConvolutionStrategy.Choose(InChannels, _filters, _kernelHeight, _kernelWidth, _stride, _padding, OutHeight, OutWidth);

    private ConvolutionStrategy? _strategy;

    private bool PadsInput => Strategy.PadsInput;

    private bool TransposesWeightGradient => Strategy.TransposesWeightGradient;

    private bool ConvolvesDirectly => Strategy.ConvolvesDirectly;

    private bool Compacts => Strategy.Compacts;

    /// <summary>
    /// Whether the forward pass runs Winograd's F(2×2, r×r), by the generator's rule for a network that trains in one
    /// pass: a direct forward pass where <see cref="ConvolutionStrategy.WinogradPays"/>.
    /// </summary>
    public bool Winograd => ConvolvesDirectly && ConvolutionStrategy.WinogradPays(InChannels, _filters, 1, _kernelHeight, _kernelWidth, _stride);

    /// <summary>The weight's Winograd transform, shared by all workspaces, made by <see cref="PrepareWeights"/>.</summary>
    private float[] _transformedWeight = [];

    /// <summary>Transforms the weight in <paramref name="parameters"/> (this layer's slice) for the Winograd pass, as the generated <c>PrepareWeights</c>.</summary>
    public void PrepareWeights(ReadOnlySpan<float> parameters)
    {
        if (_transformedWeight.Length == 0)
        {
            _transformedWeight = new float[Kernels.Winograd.TransformedWeightLength(_kernelHeight, _filters, InChannels)];
        }

        Kernels.Winograd.TransformWeight(parameters.Slice(0, WeightCount), _transformedWeight, _kernelHeight, _filters, InChannels);
    }

    private int PaddedHeight => InHeight + 2 * _padding;
    private int PaddedWidth => InWidth + 2 * _padding;

    // Columns: rows (input channel, kernel tap) × columns (output pixel), one sample at a time. With stride 1 every
    // column of every row is written by each unfold; with a larger stride, taps that read padding are never written and
    // stay zero. Padded: one sample inside a zero border that is never written, for stride 1 with padding.
    // OutputGradientT (pixels × filters, one sample's dL/dy transposed) and WeightGradientT (rows × filters, dL/dw
    // transposed, summed over a chunk): only with 16 filters or more and 64 rows or more.
    public override LayerBuffers CreateBuffers(int capacity) => new(capacity, OutLength)
    {
        Columns = new float[_rows * _pixels + LayerBuffers.Slack],
        ColumnsGradient = new float[_rows * _pixels + LayerBuffers.Slack],
        Padded = PadsInput ? new float[InChannels * PaddedHeight * PaddedWidth + LayerBuffers.Slack] : [],
        OutputGradientT = TransposesWeightGradient ? new float[_pixels * _filters + LayerBuffers.Slack] : [],
        WeightGradientT = TransposesWeightGradient ? new float[_rows * _filters + LayerBuffers.Slack] : [],
        Gathered = Winograd ? new float[Kernels.Winograd.GatheredLength(_kernelHeight, InChannels, _filters, OutHeight, OutWidth)] : [],
        Transformed = Winograd ? new float[Kernels.Winograd.TransformedLength(_kernelHeight, InChannels, OutHeight, OutWidth)] : [],
        WinogradOutputs = Winograd ? new float[Kernels.Winograd.OutputsLength(_filters, OutHeight, OutWidth)] : [],
    };

    public override void Forward(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, LayerBuffers buffers)
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: Forward<Float512>(count, x, parameters, buffers); break;
            case VectorKernel.Float256: Forward<Float256>(count, x, parameters, buffers); break;
            case VectorKernel.Float128: Forward<Float128>(count, x, parameters, buffers); break;
            case VectorKernel.Float128Unfused: Forward<Float128Unfused>(count, x, parameters, buffers); break;
            default: Forward<Float1>(count, x, parameters, buffers); break;
        }
    }

    public override void Backward(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> gradients, LayerBuffers buffers, Span<float> dx, bool computeDx)
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: Backward<Float512>(count, x, parameters, gradients, buffers, dx, computeDx); break;
            case VectorKernel.Float256: Backward<Float256>(count, x, parameters, gradients, buffers, dx, computeDx); break;
            case VectorKernel.Float128: Backward<Float128>(count, x, parameters, gradients, buffers, dx, computeDx); break;
            case VectorKernel.Float128Unfused: Backward<Float128Unfused>(count, x, parameters, gradients, buffers, dx, computeDx); break;
            default: Backward<Float1>(count, x, parameters, gradients, buffers, dx, computeDx); break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void Forward<TVector>(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, LayerBuffers buffers)
        where TVector : struct, IFloatVector<TVector>
    {
        int rows = _rows, pixels = _pixels, filters = _filters, inLength = InLength, outLength = OutLength;
        ReadOnlySpan<float> weight = parameters.Slice(0, WeightCount);
        ReadOnlySpan<float> bias = parameters.Slice(WeightCount, filters);
        Span<float> columns = buffers.Columns, padded = buffers.Padded;
        Span<float> y = buffers.Output;
        ref float w0 = ref MemoryMarshal.GetReference(weight);
        ref float c0 = ref MemoryMarshal.GetReference(columns);
        for (int s = 0; s < count; s++)
        {
            ReadOnlySpan<float> xs = x.Slice(s * inLength); // to the buffer's end, as ys: a row's last vector may reach into the slack
            Span<float> ys = y.Slice(s * outLength);
            ref float y0 = ref MemoryMarshal.GetReference(ys);

            if (Winograd)
            {
                // The same sums as the generated Winograd pass, from the weight PrepareWeights transformed.
                Kernels.Winograd.Forward<TVector>(ref MemoryMarshal.GetReference(_transformedWeight.AsSpan()), ref MemoryMarshal.GetReference(bias),
                    ref MemoryMarshal.GetReference(xs.Slice(0, inLength)), ref MemoryMarshal.GetReference(buffers.Gathered.AsSpan()),
                    ref MemoryMarshal.GetReference(buffers.Transformed.AsSpan()), ref MemoryMarshal.GetReference(buffers.WinogradOutputs.AsSpan()), ref y0,
                    _kernelHeight, filters, InChannels, InHeight, InWidth, _padding, Epilogue.None);
                continue;
            }

            if (ConvolvesDirectly)
            {
                // y(k, i, j) = b(k) + Σ_t Σ_m Σ_n w(k, t, m, n) · x(t, i + m, j + n), straight from the (padded) input.
                ReadOnlySpan<float> source = xs;
                int width = InWidth, plane = InHeight * InWidth;
                if (PadsInput)
                {
                    Pad(xs, padded);
                    source = padded;
                    width = PaddedWidth;
                    plane = PaddedHeight * PaddedWidth;
                }

                if (Compacts)
                {
                    Convolution.ForwardCompacted<TVector>(ref w0, ref MemoryMarshal.GetReference(bias), ref MemoryMarshal.GetReference(source.Slice(0, InChannels * plane + TVector.Count - 1)),
                        ref MemoryMarshal.GetReference(columns.Slice(0, InChannels * _kernelWidth * (OutHeight + _kernelHeight - 1) * OutWidth + TVector.Count - 1)), ref y0,
                        filters, InChannels, _kernelHeight, _kernelWidth, width, plane, OutHeight, OutWidth);
                }
                else
                {
                    Convolution.Forward<TVector>(ref w0, ref MemoryMarshal.GetReference(bias), ref MemoryMarshal.GetReference(source.Slice(0, InChannels * plane + TVector.Count - 1)), ref y0,
                        filters, InChannels, _kernelHeight, _kernelWidth, width, plane, OutHeight, OutWidth);
                }

                continue;
            }

            // 1. Unfold (im2col) this sample into columns.
            Unfold<TVector>(xs, columns, padded);

            // 2. y(k, q) = b(k) + Σ_r w(k, r) · columns(r, q): [filters×rows] · [rows×pixels], blocked for the caches, each filter starting at its bias.
            Gemm.MultiplyBias<TVector>(ref w0, rows, 1, ref c0, pixels, ref y0, pixels, ref MemoryMarshal.GetReference(bias), m: filters, k: rows, n: pixels, paddedTail: true);
        }
    }

    // The two ways of dL/dw are methods of their own: a generated layer inlines only the one its shape chooses, and a
    // method that inlined both kernels and the dcolumns product as well would run out of the JIT's inlining budget, which
    // then leaves the vector operations themselves as calls (measured: a 4× slower training step).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void TransposedWeightGradient<TVector>(ReadOnlySpan<float> dys, Span<float> outputGradientT, ref float c0, ref float dyT0, ref float dwT0)
        where TVector : struct, IFloatVector<TVector>
    {
        int rows = _rows, pixels = _pixels, filters = _filters;
        Rows.Transpose(dys, pixels, filters, pixels, outputGradientT, filters);
        Gemm.MultiplyAdd<TVector>(ref c0, pixels, 1, ref dyT0, filters, ref dwT0, filters, m: rows, k: pixels, n: filters, paddedTail: true);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void DotWeightGradient<TVector>(ref float dy0, ref float c0, ref float dw0)
        where TVector : struct, IFloatVector<TVector>
    {
        int rows = _rows, pixels = _pixels, filters = _filters;
        Gemm.Dot<TVector>(ref dy0, pixels, ref c0, pixels, pixels, ref dw0, rows, 1, m: filters, n: rows);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void Backward<TVector>(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> gradients, LayerBuffers buffers, Span<float> dx, bool computeDx)
        where TVector : struct, IFloatVector<TVector>
    {
        int rows = _rows, pixels = _pixels, filters = _filters, inLength = InLength, outLength = OutLength;
        ReadOnlySpan<float> weight = parameters.Slice(0, WeightCount);
        Span<float> weightGradient = gradients.Slice(0, WeightCount);
        Span<float> biasGradient = gradients.Slice(WeightCount, filters);
        Span<float> columns = buffers.Columns, columnsGradient = buffers.ColumnsGradient, padded = buffers.Padded;
        ReadOnlySpan<float> dy = buffers.OutputGradient;
        bool transposes = TransposesWeightGradient;
        ref float w0 = ref MemoryMarshal.GetReference(weight);
        ref float dw0 = ref MemoryMarshal.GetReference(weightGradient);
        ref float c0 = ref MemoryMarshal.GetReference(columns);
        ref float dc0 = ref MemoryMarshal.GetReference(columnsGradient);
        Span<float> outputGradientT = buffers.OutputGradientT, weightGradientT = buffers.WeightGradientT;
        ref float dyT0 = ref MemoryMarshal.GetReference(outputGradientT);
        ref float dwT0 = ref MemoryMarshal.GetReference(weightGradientT);
        if (transposes)
        {
            // dL/dyᵀ and dL/dwᵀ: a row's last vector may reach into the buffers' slack, which these slices prove is there.
            dyT0 = ref MemoryMarshal.GetReference(outputGradientT.Slice(0, pixels * filters + TVector.Count - 1));
            dwT0 = ref MemoryMarshal.GetReference(weightGradientT.Slice(0, rows * filters + TVector.Count - 1));
            weightGradientT.Slice(0, rows * filters).Clear();
        }

        // Last sample first: the forward pass left its columns in place (unless it convolved directly), so only the others are unfolded again.
        for (int s = count - 1; s >= 0; s--)
        {
            ReadOnlySpan<float> xs = x.Slice(s * inLength); // to the buffer's end (see the forward pass)
            ReadOnlySpan<float> dys = dy.Slice(s * outLength);
            ref float dy0 = ref MemoryMarshal.GetReference(dys);

            // 1. Unfold this sample again, unless the forward pass's columns are still its own.
            if (s != count - 1 || ConvolvesDirectly)
            {
                Unfold<TVector>(xs, columns, padded);
            }

            // 2. dL/db(k) += Σ_q dL/dy(k, q); with 16 filters and 64 rows or more, dL/dwᵀ(r, k) += Σ_q columns(r, q) · dL/dyᵀ(q, k):
            //    [rows×pixels] · [pixels×filters], blocked for the caches; with fewer, dL/dw(k, r) += Σ_q dL/dy(k, q) · columns(r, q)
            //    by tiles of 4 filters × 4 rows of dot products.
            if (transposes)
            {
                TransposedWeightGradient<TVector>(dys, outputGradientT, ref c0, ref dyT0, ref dwT0);
            }
            else
            {
                DotWeightGradient<TVector>(ref dy0, ref c0, ref dw0);
            }

            for (int k = 0; k < filters; k++)
            {
                biasGradient[k] += TensorPrimitives.Sum(dys.Slice(k * pixels, pixels));
            }

            if (!computeDx)
            {
                continue;
            }

            // 3. dL/dcolumns(r, q) = Σ_k w(k, r) · dL/dy(k, q): [rows×filters] (w transposed) · [filters×pixels], blocked for the caches, written over dcolumns.
            Gemm.Multiply<TVector>(ref w0, 1, rows, ref dy0, pixels, ref dc0, pixels, m: rows, k: filters, n: pixels, paddedTail: true);

            // 4. Fold dL/dcolumns back into this sample's dL/dx (col2im).
            if (_stride == 1)
            {
                FoldWholeRows<TVector>(columnsGradient, dx.Slice(s * inLength));
            }
            else
            {
                Span<float> dxs = dx.Slice(s * inLength, inLength);
                dxs.Clear();
                Fold(columnsGradient, dxs);
            }
        }

        if (transposes)
        {
            // 5. dL/dw(k, r) += dL/dwᵀ(r, k), once for all the samples.
            Rows.TransposeAdd(weightGradientT, filters, rows, filters, weightGradient, rows);
        }
    }

    /// <summary>
    /// im2col: columns(r, q) = x(t, i·s + m − p, j·s + n − p), r = (t·kh + m)·kw + n, q = i·outW + j. <paramref name="xs"/>
    /// runs from the sample to the end of its buffer: with stride 1 a row's last vector may read into the next sample or
    /// the slack.
    /// </summary>
    private void Unfold<TVector>(ReadOnlySpan<float> xs, Span<float> columns, Span<float> padded)
        where TVector : struct, IFloatVector<TVector>
    {
        if (_stride == 1)
        {
            UnfoldWholeRows<TVector>(xs, columns, padded);
        }
        else
        {
            UnfoldTaps(xs, columns);
        }
    }

    /// <summary>The sample into the middle of its zero-padded copy; the border stays zero.</summary>
    private void Pad(ReadOnlySpan<float> xs, Span<float> padded)
    {
        int inPlane = InHeight * InWidth, width = PaddedWidth, plane = PaddedHeight * PaddedWidth, p = _padding;
        for (int t = 0; t < InChannels; t++)
        {
            for (int u = 0; u < InHeight; u++)
            {
                xs.Slice(t * inPlane + u * InWidth, InWidth).CopyTo(padded.Slice(t * plane + (u + p) * width + p, InWidth));
            }
        }
    }

    /// <summary>
    /// Stride 1: every tap (t, m, n) fills its row block of columns completely, output row after output row, each from one
    /// input row (of the zero-padded copy, with padding), in whole vectors (<c>Rows.CopyWhole</c>): a copy may run up
    /// to Count − 1 floats past its row, into the next one, which is written next; the last row runs into the slack.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void UnfoldWholeRows<TVector>(ReadOnlySpan<float> xs, Span<float> columns, Span<float> padded)
        where TVector : struct, IFloatVector<TVector>
    {
        int channels = InChannels, kernelHeight = _kernelHeight, kernelWidth = _kernelWidth;
        int outHeight = OutHeight, outWidth = OutWidth, pixels = _pixels, taps = kernelHeight * kernelWidth;
        int height = InHeight, width = InWidth;
        ReadOnlySpan<float> source = xs;
        if (PadsInput)
        {
            Pad(xs, padded);
            width = PaddedWidth;
            height = PaddedHeight;
            source = padded;
        }

        int plane = height * width;

        // Reads and writes run up to Count − 1 floats past the last row: these slices prove the buffers have them.
        ref float x0 = ref MemoryMarshal.GetReference(source.Slice(0, channels * plane + TVector.Count - 1));
        ref float c0 = ref MemoryMarshal.GetReference(columns.Slice(0, channels * taps * pixels + TVector.Count - 1));
        for (int t = 0; t < channels; t++)
        {
            ref float xt = ref Unsafe.Add(ref x0, t * plane);
            ref float ct = ref Unsafe.Add(ref c0, t * taps * pixels);
            for (int m = 0; m < kernelHeight; m++)
            {
                for (int n = 0; n < kernelWidth; n++)
                {
                    // tap (m, n), columns row r = m·kw + n: columns(r, i·outW + j) = source(t, i + m, j + n)
                    ref float from = ref Unsafe.Add(ref xt, m * width + n);
                    ref float to = ref Unsafe.Add(ref ct, (m * kernelWidth + n) * pixels);
                    for (int i = 0; i < outHeight; i++)
                    {
                        Rows.CopyWhole<TVector>(ref Unsafe.Add(ref from, i * width), ref Unsafe.Add(ref to, i * outWidth), outWidth);
                    }
                }
            }
        }
    }

    /// <summary>Stride &gt; 1: per tap, a scalar copy over the output range that reads inside the input; taps in the padding stay zero.</summary>
    private void UnfoldTaps(ReadOnlySpan<float> xs, Span<float> columns)
    {
        int plane = InHeight * InWidth, pixels = _pixels, block = _kernelHeight * _kernelWidth * pixels;
        for (int t = 0; t < InChannels; t++)
        {
            ReadOnlySpan<float> xt = xs.Slice(t * plane, plane);
            Span<float> ct = columns.Slice(t * block, block);
            for (int m = 0; m < _kernelHeight; m++)
            {
                (int i0, int i1) = ValidRange(m, InHeight, OutHeight);
                for (int n = 0; n < _kernelWidth; n++)
                {
                    (int j0, int j1) = ValidRange(n, InWidth, OutWidth);
                    if (i0 >= i1 || j0 >= j1)
                    {
                        continue;
                    }

                    int rowBase = (m * _kernelWidth + n) * pixels;
                    int sourceBase = (m - _padding) * InWidth + (n - _padding);
                    for (int i = i0; i < i1; i++)
                    {
                        for (int j = j0; j < j1; j++)
                        {
                            ct[i * OutWidth + j + rowBase] = xt[i * _stride * InWidth + j * _stride + sourceBase];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Stride-1 col2im, as the generated code: each row of dx is summed in registers over the taps that reach it, a vector
    /// of columns at a time (the tap's dcolumns row loaded shifted by n − p, masked to the columns that exist), and stored once.
    /// </summary>
    private void FoldWholeRows<TVector>(ReadOnlySpan<float> columnsGradient, Span<float> dxs)
        where TVector : struct, IFloatVector<TVector>
    {
        int plane = InHeight * InWidth, pixels = _pixels, block = _kernelHeight * _kernelWidth * pixels, length = InChannels * plane;
        int p = _padding, outHeight = OutHeight, outWidth = OutWidth, width = InWidth, kernelWidth = _kernelWidth;
        ref float c0 = ref MemoryMarshal.GetReference(columnsGradient.Slice(0, _rows * pixels + TVector.Count - 1));
        ref float dx0 = ref MemoryMarshal.GetReference(dxs.Slice(0, length + TVector.Count - 1));
        for (int t = 0; t < InChannels; t++)
        {
            ref float ct = ref Unsafe.Add(ref c0, t * block);
            for (int u = 0; u < InHeight; u++)
            {
                int mFirst = Math.Max(0, u + p - (outHeight - 1)), mEnd = Math.Min(_kernelHeight, u + p + 1);
                for (int v = 0; v < width; v += TVector.Count)
                {
                    TVector sum = TVector.Zero;
                    int nEnd = Math.Min(kernelWidth, v + TVector.Count + p);
                    for (int n = Math.Max(0, v + p - (outWidth - 1)); n < nEnd; n++)
                    {
                        TVector keep = TVector.LaneMask(n - v - p, n - v + outWidth - p);
                        ref float tap = ref Unsafe.Add(ref ct, n * (pixels - 1) + u * outWidth + v + p * outWidth + p);
                        for (int m = mFirst; m < mEnd; m++)
                        {
                            sum = TVector.Add(sum, TVector.Masked(TVector.Load(ref Unsafe.Add(ref tap, m * (kernelWidth * pixels - outWidth))), keep));
                        }
                    }

                    int at = t * plane + u * width + v;
                    if (at <= length - TVector.Count)
                    {
                        TVector.Store(sum, ref Unsafe.Add(ref dx0, at));
                    }
                    else
                    {
                        TVector.StoreLanes(sum, ref Unsafe.Add(ref dx0, at), 0, length - at);
                    }
                }
            }
        }
    }

    /// <summary>col2im with a stride above 1, the transpose of the unfold: dx(t, i·s + m − p, j·s + n − p) += dcolumns(r, q).</summary>
    private void Fold(ReadOnlySpan<float> columnsGradient, Span<float> dx)
    {
        int plane = InHeight * InWidth, pixels = _pixels, block = _kernelHeight * _kernelWidth * pixels;
        for (int t = 0; t < InChannels; t++)
        {
            Span<float> dxt = dx.Slice(t * plane, plane);
            ReadOnlySpan<float> ct = columnsGradient.Slice(t * block, block);
            for (int m = 0; m < _kernelHeight; m++)
            {
                (int i0, int i1) = ValidRange(m, InHeight, OutHeight);
                for (int n = 0; n < _kernelWidth; n++)
                {
                    (int j0, int j1) = ValidRange(n, InWidth, OutWidth);
                    if (i0 >= i1 || j0 >= j1)
                    {
                        continue;
                    }

                    int rowBase = (m * _kernelWidth + n) * pixels;
                    int sourceBase = (m - _padding) * InWidth + (n - _padding);
                    for (int i = i0; i < i1; i++)
                    {
                        for (int j = j0; j < j1; j++)
                        {
                            dxt[i * _stride * InWidth + j * _stride + sourceBase] += ct[i * OutWidth + j + rowBase];
                        }
                    }
                }
            }
        }
    }

    /// <summary>The output indices [first, end) whose tap at kernel offset <paramref name="k"/> reads inside the input.</summary>
    private (int First, int End) ValidRange(int k, int size, int outputSize)
    {
        int first = _padding - k <= 0 ? 0 : (_padding - k + _stride - 1) / _stride;
        int last = (size - 1 + _padding - k) < 0 ? -1 : (size - 1 + _padding - k) / _stride;
        return (first, Math.Min(last + 1, outputSize));
    }
}

/// <summary>y = max(x, 0).</summary>
public sealed class ReLU : Layer
{
    public ReLU(int channels, int height, int width) : base(channels, height, width, channels, height, width) { }

    public override void Forward(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, LayerBuffers buffers) =>
        TensorPrimitives.Max(x.Slice(0, count * InLength), 0f, buffers.Output);

    public override void Backward(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> gradients, LayerBuffers buffers, Span<float> dx, bool computeDx)
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: Backward<Float512>(count, buffers, dx); break;
            case VectorKernel.Float256: Backward<Float256>(count, buffers, dx); break;
            case VectorKernel.Float128: Backward<Float128>(count, buffers, dx); break;
            case VectorKernel.Float128Unfused: Backward<Float128Unfused>(count, buffers, dx); break;
            default: Backward<Float1>(count, buffers, dx); break;
        }
    }

    /// <summary>dL/dx = dL/dy where y &gt; 0, else 0: a select over whole vectors, then a scalar tail.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void Backward<TVector>(int count, LayerBuffers buffers, Span<float> dx)
        where TVector : struct, IFloatVector<TVector>
    {
        int length = count * OutLength;
        ReadOnlySpan<float> y = buffers.Output.AsSpan(0, length), dy = buffers.OutputGradient.AsSpan(0, length);
        dx = dx.Slice(0, length);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        ref float dy0 = ref MemoryMarshal.GetReference(dy);
        ref float dx0 = ref MemoryMarshal.GetReference(dx);
        int i = 0;
        for (; i <= length - TVector.Count; i += TVector.Count)
        {
            TVector.Store(TVector.SelectGreater(TVector.Load(ref Unsafe.Add(ref y0, i)), TVector.Zero, TVector.Load(ref Unsafe.Add(ref dy0, i)), TVector.Zero), ref Unsafe.Add(ref dx0, i));
        }

        for (; i < length; i++)
        {
            dx[i] = y[i] > 0f ? dy[i] : 0f;
        }
    }
}

/// <summary>
/// Max pooling that records each window's arg-max (the first maximum in row-major order wins), vectorized along each row
/// with compare-and-select, as the generated code.
/// </summary>
public sealed class MaxPool2D : Layer
{
    private readonly int _size, _stride;

    public MaxPool2D(int channels, int height, int width, int size, int? stride = null)
        : base(channels, height, width, channels, (height - size) / (stride ?? size) + 1, (width - size) / (stride ?? size) + 1)
    {
        _size = size;
        _stride = stride ?? size;
    }

    /// <summary>Input columns an output row's windows start at, and those between: (output width − 1) · stride + 1.</summary>
    private int Positions => (OutWidth - 1) * _stride + 1;

    /// <summary>Whether the ReLU before it is fused in, as the generator does: y = max(0, max over the window), the gradient only where y &gt; 0.</summary>
    public bool RectifiesInput { get; set; }

    public override LayerBuffers CreateBuffers(int capacity) => new(capacity, OutLength)
    {
        ArgMax = new float[capacity * OutLength + LayerBuffers.Slack],
        WindowMax = new float[Positions + LayerBuffers.Slack],
        WindowTap = new float[Positions + LayerBuffers.Slack],
    };

    public override void Forward(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, LayerBuffers buffers)
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: Forward<Float512>(count, x, buffers); break;
            case VectorKernel.Float256: Forward<Float256>(count, x, buffers); break;
            case VectorKernel.Float128: Forward<Float128>(count, x, buffers); break;
            case VectorKernel.Float128Unfused: Forward<Float128Unfused>(count, x, buffers); break;
            default: Forward<Float1>(count, x, buffers); break;
        }
    }

    // Vectorized along the row: the windows starting at Count consecutive input columns are reduced at once, one vector
    // load per tap, with compare-and-select (no data-dependent branches). With stride 2 the even lanes of two such vectors
    // are Count outputs (PickEven); otherwise every stride-th position of a row buffer is a window of the output. argMax
    // holds each winner's offset from its window's start (or its tap number), as the generated code.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void Forward<TVector>(int count, ReadOnlySpan<float> x, LayerBuffers buffers)
        where TVector : struct, IFloatVector<TVector>
    {
        int inLength = InLength, outLength = OutLength, plane = InHeight * InWidth, inWidth = InWidth;
        int channels = OutChannels, outHeight = OutHeight, outWidth = OutWidth, size = _size, stride = _stride, positions = Positions;

        // A row's last vectors read up to 2 · Count − 1 floats past its windows and write up to Count − 1 past the row, at most into the buffers' slack.
        x = x.Slice(0, count * inLength + 2 * TVector.Count - 1);
        Span<float> windowMax = buffers.WindowMax.AsSpan(0, positions + TVector.Count - 1);
        Span<float> windowTap = buffers.WindowTap.AsSpan(0, positions + TVector.Count - 1);
        Span<float> y = buffers.Output.AsSpan(0, count * outLength + TVector.Count - 1);
        Span<float> argMax = buffers.ArgMax.AsSpan(0, count * outLength + TVector.Count - 1);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        ref float argMax0 = ref MemoryMarshal.GetReference(argMax);
        ref float max0 = ref MemoryMarshal.GetReference(windowMax);
        ref float tap0 = ref MemoryMarshal.GetReference(windowTap);
        bool offsetsFit = OffsetsFit, rectify = RectifiesInput;
        int o = 0;
        for (int s = 0; s < count; s++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int i = 0; i < outHeight; i++)
                {
                    int row = s * inLength + c * plane + i * stride * inWidth;
                    if (stride == 2)
                    {
                        for (int j = 0; j < outWidth; j += TVector.Count)
                        {
                            ref float low = ref Unsafe.Add(ref x0, row + 2 * j);
                            (TVector maxLow, TVector tapLow) = Reduce<TVector>(ref low, size, inWidth, offsetsFit);
                            (TVector maxHigh, TVector tapHigh) = Reduce<TVector>(ref Unsafe.Add(ref low, TVector.Count), size, inWidth, offsetsFit);
                            TVector picked = TVector.PickEven(maxLow, maxHigh);
                            TVector.Store(rectify ? TVector.Max(picked, TVector.Zero) : picked, ref Unsafe.Add(ref y0, o + j));
                            TVector.Store(TVector.PickEven(tapLow, tapHigh), ref Unsafe.Add(ref argMax0, o + j));
                        }

                        o += outWidth;
                        continue;
                    }

                    for (int q = 0; q < positions; q += TVector.Count)
                    {
                        (TVector max, TVector tap) = Reduce<TVector>(ref Unsafe.Add(ref x0, row + q), size, inWidth, offsetsFit);
                        TVector.Store(max, ref Unsafe.Add(ref max0, q));
                        TVector.Store(tap, ref Unsafe.Add(ref tap0, q));
                    }

                    // Every stride-th position starts a window of the output.
                    for (int j = 0; j < outWidth; j++, o++)
                    {
                        float max = Unsafe.Add(ref max0, j * stride);
                        Unsafe.Add(ref y0, o) = rectify ? MathF.Max(max, 0f) : max;
                        Unsafe.Add(ref argMax0, o) = Unsafe.Add(ref tap0, j * stride);
                    }
                }
            }
        }
    }

    /// <summary>Whether each winner's offset from its window's start is exact in a float (else its tap number is kept), as in the generated code.</summary>
    private bool OffsetsFit => (_size - 1) * (long)InWidth + _size - 1 < 1 << 24;

    /// <summary>The windows starting at the Count positions from <paramref name="at"/>: top-left tap, then each other tap in row-major order; '>' keeps the first maximum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (TVector Max, TVector Tap) Reduce<TVector>(ref float at, int size, int inWidth, bool offsetsFit)
        where TVector : struct, IFloatVector<TVector>
    {
        TVector max = TVector.Load(ref at);
        TVector tap = TVector.Zero;
        for (int m = 0; m < size; m++)
        {
            for (int n = m == 0 ? 1 : 0; n < size; n++)
            {
                TVector v = TVector.Load(ref Unsafe.Add(ref at, m * inWidth + n));
                tap = TVector.SelectGreater(v, max, TVector.Broadcast(offsetsFit ? m * inWidth + n : m * size + n), tap);
                max = TVector.SelectGreater(v, max, v, max);
            }
        }

        return (max, tap);
    }

    public override void Backward(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> gradients, LayerBuffers buffers, Span<float> dx, bool computeDx)
    {
        if (_size == 2 && _stride == 2)
        {
            switch (VectorWidth.Kernel)
            {
                case VectorKernel.Float512: SpreadBackward<Float512>(count, buffers, dx); break;
                case VectorKernel.Float256: SpreadBackward<Float256>(count, buffers, dx); break;
                case VectorKernel.Float128: SpreadBackward<Float128>(count, buffers, dx); break;
                case VectorKernel.Float128Unfused: SpreadBackward<Float128Unfused>(count, buffers, dx); break;
                default: SpreadBackward<Float1>(count, buffers, dx); break;
            }

            return;
        }

        ReadOnlySpan<float> argMax = buffers.ArgMax;
        ReadOnlySpan<float> dy = buffers.OutputGradient, y = buffers.Output;
        dx.Slice(0, count * InLength).Clear();
        int inLength = InLength, plane = InHeight * InWidth, inWidth = InWidth, size = _size, stride = _stride;
        bool offsetsFit = OffsetsFit, rectify = RectifiesInput;
        int o = 0;
        for (int s = 0; s < count; s++)
        {
            for (int c = 0; c < OutChannels; c++)
            {
                for (int i = 0; i < OutHeight; i++)
                {
                    int row = s * inLength + c * plane + i * stride * inWidth;
                    for (int j = 0; j < OutWidth; j++, o++)
                    {
                        int t = (int)argMax[o];
                        dx[row + j * stride + (offsetsFit ? t : t / size * inWidth + t % size)] += rectify && !(y[o] > 0f) ? 0f : dy[o];
                    }
                }
            }
        }
    }

    /// <summary>2×2 windows, stride 2, as the generated code: whole rows of dx, each output gradient in the lane of its window's winner.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void SpreadBackward<TVector>(int count, LayerBuffers buffers, Span<float> dx)
        where TVector : struct, IFloatVector<TVector>
    {
        int inLength = InLength, outLength = OutLength, width = InWidth, plane = InHeight * InWidth;
        int outHeight = OutHeight, outWidth = OutWidth;
        bool offsetsFit = OffsetsFit, rectify = RectifiesInput;
        ref float y0 = ref MemoryMarshal.GetReference(buffers.Output.AsSpan(0, count * outLength + TVector.Count - 1));
        ref float dy0 = ref MemoryMarshal.GetReference(buffers.OutputGradient.AsSpan(0, count * outLength + TVector.Count - 1));
        ref float argMax0 = ref MemoryMarshal.GetReference(buffers.ArgMax.AsSpan(0, count * outLength + TVector.Count - 1));
        ref float dx0 = ref MemoryMarshal.GetReference(dx.Slice(0, count * inLength + 2 * TVector.Count - 2));
        TVector zero = TVector.Zero;
        int o = 0;
        for (int s = 0; s < count; s++)
        {
            for (int c = 0; c < OutChannels; c++)
            {
                for (int i = 0; i < outHeight; i++, o += outWidth)
                {
                    int row = s * inLength + c * plane + i * 2 * width;
                    for (int m = 0; m < 2; m++)
                    {
                        TVector leftTap = TVector.Broadcast(offsetsFit ? m * width : m * 2), rightTap = TVector.Broadcast(offsetsFit ? m * width + 1 : m * 2 + 1);
                        for (int j = 0; j < outWidth; j += TVector.Count)
                        {
                            TVector g = TVector.Load(ref Unsafe.Add(ref dy0, o + j)), winner = TVector.Load(ref Unsafe.Add(ref argMax0, o + j));
                            if (rectify)
                            {
                                g = TVector.SelectGreater(TVector.Load(ref Unsafe.Add(ref y0, o + j)), zero, g, zero);
                            }

                            TVector left = TVector.SelectEqual(winner, leftTap, g, zero), right = TVector.SelectEqual(winner, rightTap, g, zero);
                            ref float at = ref Unsafe.Add(ref dx0, row + m * width + 2 * j);
                            TVector.Store(TVector.InterleaveLower(left, right), ref at);
                            TVector.Store(TVector.InterleaveUpper(left, right), ref Unsafe.Add(ref at, TVector.Count));
                        }
                    }

                    if (width % 2 != 0)
                    {
                        Unsafe.Add(ref dx0, row + width - 1) = 0f;
                        Unsafe.Add(ref dx0, row + 2 * width - 1) = 0f;
                    }
                }

                if (InHeight % 2 != 0)
                {
                    dx.Slice(s * inLength + c * plane + (InHeight - 1) * width, width).Clear();
                }
            }
        }
    }
}

/// <summary>y = W·x + b over the flattened input (PyTorch's flatten + Linear), one matrix product per chunk and per gradient.</summary>
public sealed class Dense : Layer
{
    private readonly int _units;

    public Dense(int inChannels, int inHeight, int inWidth, int units) : base(inChannels, inHeight, inWidth, units, 1, 1) => _units = units;

    public override int WeightCount => _units * InLength;
    public override int ParameterCount => WeightCount + _units;
    public override int FanIn => InLength;
    public override long MultiplyAdds => (long)_units * InLength;

    /// <summary>
    /// The generated code's rule: a weight larger than a core's L2 (1 MB) computes a chunk of two samples or more as one
    /// product yᵀ = W · xᵀ + b with the samples in the vector lanes (transposed into InputT, out of OutputT).
    /// </summary>
    private bool MultipliesBatch => DenseStrategy.MultipliesBatch(_units, InLength);

    // InputT / OutputT: a chunk's inputs and outputs transposed, rows of the chunk's samples rounded up to whole vectors.
    public override LayerBuffers CreateBuffers(int capacity) => new(capacity, OutLength)
    {
        InputT = MultipliesBatch ? new float[capacity * InLength + LayerBuffers.Slack] : [],
        OutputT = MultipliesBatch ? new float[capacity * _units + LayerBuffers.Slack] : [],
    };

    public override void Forward(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, LayerBuffers buffers)
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: Forward<Float512>(count, x, parameters, buffers); break;
            case VectorKernel.Float256: Forward<Float256>(count, x, parameters, buffers); break;
            case VectorKernel.Float128: Forward<Float128>(count, x, parameters, buffers); break;
            case VectorKernel.Float128Unfused: Forward<Float128Unfused>(count, x, parameters, buffers); break;
            default: Forward<Float1>(count, x, parameters, buffers); break;
        }
    }

    public override void Backward(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> gradients, LayerBuffers buffers, Span<float> dx, bool computeDx)
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: Backward<Float512>(count, x, parameters, gradients, buffers, dx, computeDx); break;
            case VectorKernel.Float256: Backward<Float256>(count, x, parameters, gradients, buffers, dx, computeDx); break;
            case VectorKernel.Float128: Backward<Float128>(count, x, parameters, gradients, buffers, dx, computeDx); break;
            case VectorKernel.Float128Unfused: Backward<Float128Unfused>(count, x, parameters, gradients, buffers, dx, computeDx); break;
            default: Backward<Float1>(count, x, parameters, gradients, buffers, dx, computeDx); break;
        }
    }

    /// <summary>
    /// dL/dW over a whole batch (<paramref name="count"/> samples of <paramref name="x"/> and <paramref name="dy"/>), rows
    /// <paramref name="first"/> to <paramref name="end"/> − 1, written over <paramref name="weightGradient"/>'s rows: one work item
    /// of the batch-gradient phase, as the generated code.
    /// </summary>
    public void BatchWeightGradient(int first, int end, int count, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> weightGradient)
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: BatchWeightGradient<Float512>(first, end, count, x, dy, weightGradient); break;
            case VectorKernel.Float256: BatchWeightGradient<Float256>(first, end, count, x, dy, weightGradient); break;
            case VectorKernel.Float128: BatchWeightGradient<Float128>(first, end, count, x, dy, weightGradient); break;
            case VectorKernel.Float128Unfused: BatchWeightGradient<Float128Unfused>(first, end, count, x, dy, weightGradient); break;
            default: BatchWeightGradient<Float1>(first, end, count, x, dy, weightGradient); break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void BatchWeightGradient<TVector>(int first, int end, int count, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> weightGradient)
        where TVector : struct, IFloatVector<TVector>
    {
        int inputs = InLength, units = _units;
        Span<float> rows = weightGradient.Slice(first * inputs, (end - first) * inputs);
        Gemm.Multiply<TVector>(ref Unsafe.Add(ref MemoryMarshal.GetReference(dy), first), 1, units, ref MemoryMarshal.GetReference(x), inputs, ref MemoryMarshal.GetReference(rows), inputs, m: end - first, k: count, n: inputs, paddedTail: false);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void Forward<TVector>(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, LayerBuffers buffers)
        where TVector : struct, IFloatVector<TVector>
    {
        int inputs = InLength, units = _units;
        ReadOnlySpan<float> weight = parameters.Slice(0, WeightCount);
        ReadOnlySpan<float> bias = parameters.Slice(WeightCount, units);
        Span<float> y = buffers.Output;
        ref float w0 = ref MemoryMarshal.GetReference(weight);
        if (MultipliesBatch && count > 1)
        {
            // yᵀ(o, s) = b(o) + Σ_i W(o, i) · xᵀ(i, s): one product with the samples in the vector lanes.
            int lanes = (count + TVector.Count - 1) / TVector.Count * TVector.Count;
            Span<float> xT = buffers.InputT.AsSpan(0, inputs * lanes), yT = buffers.OutputT.AsSpan(0, units * lanes);
            Rows.Transpose(x, inputs, count, inputs, xT, lanes);
            Gemm.MultiplyBias<TVector>(ref w0, inputs, 1, ref MemoryMarshal.GetReference(xT), lanes, ref MemoryMarshal.GetReference(yT), lanes, ref MemoryMarshal.GetReference(bias), m: units, k: inputs, n: count, paddedTail: true);
            Rows.Transpose(yT, lanes, units, count, y, units);
            return;
        }

        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        for (int s = 0; s < count; s++)
        {
            bias.CopyTo(y.Slice(s * units, units));
        }

        // y(s, o) += Σ_i W(o, i) · x(s, i): register tiles of 4 outputs (then 2, then 1) × 4 samples.
        Gemm.Dot<TVector>(ref w0, inputs, ref x0, inputs, inputs, ref y0, 1, units, m: units, n: count);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void Backward<TVector>(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> gradients, LayerBuffers buffers, Span<float> dx, bool computeDx)
        where TVector : struct, IFloatVector<TVector>
    {
        int inputs = InLength, units = _units;
        ReadOnlySpan<float> weight = parameters.Slice(0, WeightCount);
        Span<float> weightGradient = gradients.Slice(0, WeightCount);
        Span<float> biasGradient = gradients.Slice(WeightCount, units);
        ReadOnlySpan<float> dy = buffers.OutputGradient;
        ref float w0 = ref MemoryMarshal.GetReference(weight);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float dy0 = ref MemoryMarshal.GetReference(dy);
        ref float dw0 = ref MemoryMarshal.GetReference(weightGradient);
        ref float dx0 = ref MemoryMarshal.GetReference(dx);
        for (int s = 0; s < count; s++)
        {
            TensorPrimitives.Add(biasGradient, dy.Slice(s * units, units), biasGradient);
        }

        if (!buffers.BatchWeightGradient) // else the batch computes dL/dW once over all its samples (BatchWeightGradient)
        {
            // dL/dW(o, i) += Σ_s dL/dy(s, o) · x(s, i): [units×count] · [count×inputs], blocked for the caches.
            Gemm.MultiplyAdd<TVector>(ref dy0, 1, units, ref x0, inputs, ref dw0, inputs, m: units, k: count, n: inputs, paddedTail: false);
        }

        if (!computeDx)
        {
            return;
        }

        // dL/dx(s, i) = Σ_o dL/dy(s, o) · W(o, i): [count×units] · [units×inputs], blocked for the caches, written over dx.
        Gemm.Multiply<TVector>(ref dy0, units, 1, ref w0, inputs, ref dx0, inputs, m: count, k: units, n: inputs, paddedTail: false);
    }
}

/// <summary>Softmax over the flattened input; keeps log Σ exp per sample for the loss. Must be last.</summary>
public sealed class Softmax : Layer
{
    public Softmax(int classes) : base(classes, 1, 1, classes, 1, 1) { }

    public override LayerBuffers CreateBuffers(int capacity) => new(capacity, OutLength) { LogSumExp = new float[capacity + LayerBuffers.Slack] };

    public override void Forward(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, LayerBuffers buffers)
    {
        int classes = OutLength;
        Span<float> y = buffers.Output, logSumExp = buffers.LogSumExp;
        for (int s = 0; s < count; s++)
        {
            ReadOnlySpan<float> z = x.Slice(s * classes, classes);
            Span<float> p = y.Slice(s * classes, classes);
            float max = TensorPrimitives.Max(z);
            TensorPrimitives.Subtract(z, max, p);
            TensorPrimitives.Exp(p, p);
            float sum = TensorPrimitives.Sum(p);
            TensorPrimitives.Divide(p, sum, p);
            logSumExp[s] = max + MathF.Log(sum);
        }
    }

    /// <summary>Not used: softmax's backward pass needs the labels; see <see cref="Backward(int, LayerBuffers, ReadOnlySpan{int}, Span{float})"/>.</summary>
    public override void Backward(int count, ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> gradients, LayerBuffers buffers, Span<float> dx, bool computeDx) =>
        throw new NotSupportedException("Softmax is trained with cross-entropy: call Backward(count, buffers, labels, dx).");

    /// <summary>Softmax with cross-entropy: dL/dz(s, i) = p(s, i) − [i = label(s)].</summary>
    public void Backward(int count, LayerBuffers buffers, ReadOnlySpan<int> labels, Span<float> dx)
    {
        int classes = OutLength;
        buffers.Output.AsSpan(0, count * classes).CopyTo(dx);
        for (int s = 0; s < count; s++)
        {
            dx[s * classes + labels[s]] -= 1f;
        }
    }
}
