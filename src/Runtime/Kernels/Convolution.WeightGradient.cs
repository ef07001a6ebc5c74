using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace NetGen.Kernels;

/// <summary>
/// dL/dw of a stride-1 convolution straight from its (zero-padded, or compacted) inputs and dL/dy, summed over several
/// samples, without unfolding them (im2col) first.
/// </summary>
/// <remarks>
/// dL/dw(k, t, m, n) = Σ_s Σ_i Σ_j dL/dy_s(k, i, j) · x_s(t, i + m, j + n): for one tap (t, m, n) the input pixels a vector of
/// output pixels reads are contiguous, as in <see cref="Forward{TVector}(ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/>, so one load of the input feeds the multiply-adds
/// of every filter in a tile, and one load of dL/dy those of every tap in it. A register tile holds filters × kernel
/// columns (4 × up to 5 with 32 registers) lane-wise partial sums over every vector of output pixels of every sample; each
/// is added up across its lanes once, at the end, into dL/dw. A row's last, partial vector of dL/dy is masked to zero in the
/// lanes past the row, so the input floats those lanes read (the next row's, or slack) add nothing.
/// </remarks>
public static partial class Convolution
{
    /// <summary>
    /// dL/dw(k, t, m, n) += Σ_s Σ_i Σ_j dL/dy_s(k, i, j) · x_s(t, i + m, j + n) for s &lt; <paramref name="samples"/>, k &lt;
    /// <paramref name="filters"/>, t &lt; <paramref name="channels"/>, m &lt; <paramref name="kernelHeight"/>, n &lt;
    /// <paramref name="kernelWidth"/>, over the output pixels i &lt; <paramref name="outputHeight"/>, j &lt;
    /// <paramref name="outputWidth"/>: dL/dw in PyTorch's layout, x_s(t, u, v) = x[s·<paramref name="inputSample"/> +
    /// t·<paramref name="inputPlane"/> + u·<paramref name="inputWidth"/> + v] (with padding, the zero-padded copies),
    /// dL/dy_s(k, i, j) = dy[s·<paramref name="outputSample"/> + (k·outputHeight + i)·outputWidth + j].
    /// </summary>
    /// <remarks>
    /// Reads up to <c>Count − 1</c> floats past the last row a vector starts in, of x and of dL/dy (lanes that add
    /// nothing), so those must be addressable: generated workspaces carry that slack. The sums do not depend on the register
    /// file: each float of dL/dw is one lane-wise accumulation over the same vectors in the same order, then its lanes.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WeightGradient<TVector>(ref float dy, int outputSample, ref float x, int inputSample, ref float weightGradient, int samples, int filters,
        int channels, int kernelHeight, int kernelWidth, int inputWidth, int inputPlane, int outputHeight, int outputWidth)
        where TVector : struct, IFloatVector<TVector>
    {
        if (Avx512F.IsSupported || AdvSimd.Arm64.IsSupported) // 32 vector registers (see IRegisterFile)
        {
            WeightGradient<TVector, ThirtyTwoRegisters>(ref dy, outputSample, ref x, inputSample, ref weightGradient, samples, filters, channels, kernelHeight, kernelWidth, inputWidth, inputPlane, outputHeight, outputWidth);
        }
        else
        {
            WeightGradient<TVector, SixteenRegisters>(ref dy, outputSample, ref x, inputSample, ref weightGradient, samples, filters, channels, kernelHeight, kernelWidth, inputWidth, inputPlane, outputHeight, outputWidth);
        }
    }

    /// <summary><see cref="WeightGradient{TVector}"/> with register tiles for <typeparamref name="TRegisters"/>; tests call it with either.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void WeightGradient<TVector, TRegisters>(ref float dy, int outputSample, ref float x, int inputSample, ref float weightGradient, int samples, int filters,
        int channels, int kernelHeight, int kernelWidth, int inputWidth, int inputPlane, int outputHeight, int outputWidth)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        var shape = new Shape(channels, kernelHeight, kernelWidth, inputWidth, inputPlane, 1, outputHeight * outputWidth);
        var pixels = new PixelRows(samples, outputSample, inputSample, outputHeight, outputWidth, inputWidth);
        GradientTiles<TVector, TRegisters>(ref dy, ref x, ref weightGradient, filters, shape, pixels);
    }

    /// <summary>
    /// As <see cref="WeightGradient{TVector}"/>, from compacted copies of the inputs (see <see cref="ForwardCompacted{TVector}(ref float, ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/>
    /// and <see cref="Compact{TVector}"/>), sample s's at <c>compacted[s·<paramref name="compactedSample"/>]</c>: a vector of
    /// output pixels runs on across rows narrower than a vector, so only each plane's last vector has empty lanes.
    /// </summary>
    /// <remarks>Reads up to <c>Count − 1</c> floats past each sample's compacted planes and past its dL/dy (lanes that add nothing).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WeightGradientCompacted<TVector>(ref float dy, int outputSample, ref float compacted, int compactedSample, ref float weightGradient, int samples,
        int filters, int channels, int kernelHeight, int kernelWidth, int outputHeight, int outputWidth)
        where TVector : struct, IFloatVector<TVector>
    {
        if (Avx512F.IsSupported || AdvSimd.Arm64.IsSupported) // 32 vector registers (see IRegisterFile)
        {
            WeightGradientCompacted<TVector, ThirtyTwoRegisters>(ref dy, outputSample, ref compacted, compactedSample, ref weightGradient, samples, filters, channels, kernelHeight, kernelWidth, outputHeight, outputWidth);
        }
        else
        {
            WeightGradientCompacted<TVector, SixteenRegisters>(ref dy, outputSample, ref compacted, compactedSample, ref weightGradient, samples, filters, channels, kernelHeight, kernelWidth, outputHeight, outputWidth);
        }
    }

    /// <summary><see cref="WeightGradientCompacted{TVector}"/> with register tiles for <typeparamref name="TRegisters"/>; tests call it with either.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void WeightGradientCompacted<TVector, TRegisters>(ref float dy, int outputSample, ref float compacted, int compactedSample, ref float weightGradient, int samples,
        int filters, int channels, int kernelHeight, int kernelWidth, int outputHeight, int outputWidth)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        var shape = CompactedShape(channels, kernelHeight, kernelWidth, outputHeight, outputWidth);
        var pixels = new PixelRows(samples, outputSample, compactedSample, 1, shape.OutputPlane, 0); // the whole plane as one row
        GradientTiles<TVector, TRegisters>(ref dy, ref compacted, ref weightGradient, filters, shape, pixels);
    }

    /// <summary>
    /// Every filter × every tap in register tiles: per channel and kernel row, the kernel's columns in runs of up to 5; the
    /// filters 4 at a time with 32 registers (up to 20 accumulators, 4 of dL/dy and one input: 25 registers), or 6 at a time
    /// for kernels up to 3 wide (18 accumulators, 6 of dL/dy and one input; then 4), which loads 9 vectors per 18
    /// multiply-adds instead of 7 per 12; with 16, 2 at a time for runs of 4 or 5 columns, 3 for a run of 3, 4 for shorter
    /// runs (at most 13 registers); then 2 and 1. Each sum sees the same vectors in the same order whatever the tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientTiles<TVector, TRegisters>(ref float dy, ref float x, ref float weightGradient, int filters, Shape shape, PixelRows pixels)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        int run = System.Math.Min(shape.KernelWidth, 5);
        int tile = typeof(TRegisters) == typeof(ThirtyTwoRegisters) ? shape.KernelWidth <= 3 ? 6 : 4 : run >= 4 ? 2 : run == 3 ? 3 : 4;
        int k = 0;
        for (; k + tile <= filters; k += tile)
        {
            switch (tile)
            {
                case 6: GradientColumns<TVector, Six>(ref dy, ref x, ref weightGradient, shape, pixels, k); break;
                case 4: GradientColumns<TVector, Four>(ref dy, ref x, ref weightGradient, shape, pixels, k); break;
                case 3: GradientColumns<TVector, Three>(ref dy, ref x, ref weightGradient, shape, pixels, k); break;
                default: GradientColumns<TVector, Two>(ref dy, ref x, ref weightGradient, shape, pixels, k); break;
            }
        }

        if (tile == 6 && k + 4 <= filters)
        {
            GradientColumns<TVector, Four>(ref dy, ref x, ref weightGradient, shape, pixels, k);
            k += 4;
        }

        if (k + 2 <= filters)
        {
            GradientColumns<TVector, Two>(ref dy, ref x, ref weightGradient, shape, pixels, k);
            k += 2;
        }

        if (k < filters)
        {
            GradientColumns<TVector, One>(ref dy, ref x, ref weightGradient, shape, pixels, k);
        }
    }

    /// <summary>
    /// Kernel rows a tile call keeps sums for at once: their lane-wise sums (up to 30 vectors a row, at f·5 + d for filter f
    /// and tap d) wait between the samples in a stack buffer of at most 16 · 30 vectors (30 KB of 512-bit ones).
    /// </summary>
    private const int RowsPerCall = 16;

    /// <summary><typeparamref name="TFilters"/> filters from <paramref name="first"/> over every channel and kernel row, each row's columns in runs of up to 5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientColumns<TVector, TFilters>(ref float dy, ref float x, ref float weightGradient, Shape shape, PixelRows pixels, int first)
        where TVector : struct, IFloatVector<TVector>
        where TFilters : struct, IRowCount
    {
        for (int t = 0; t < shape.Channels; t++)
        {
            for (int m = 0; m < shape.KernelHeight; m += RowsPerCall)
            {
                int rows = System.Math.Min(RowsPerCall, shape.KernelHeight - m);
                for (int n = 0; n < shape.KernelWidth; n += 5)
                {
                    switch (System.Math.Min(shape.KernelWidth - n, 5))
                    {
                        case 5: GradientTile<TVector, TFilters, Five>(ref dy, ref x, ref weightGradient, shape, pixels, first, t, m, rows, n); break;
                        case 4: GradientTile<TVector, TFilters, Four>(ref dy, ref x, ref weightGradient, shape, pixels, first, t, m, rows, n); break;
                        case 3: GradientTile<TVector, TFilters, Three>(ref dy, ref x, ref weightGradient, shape, pixels, first, t, m, rows, n); break;
                        case 2: GradientTile<TVector, TFilters, Two>(ref dy, ref x, ref weightGradient, shape, pixels, first, t, m, rows, n); break;
                        default: GradientTile<TVector, TFilters, One>(ref dy, ref x, ref weightGradient, shape, pixels, first, t, m, rows, n); break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// dL/dw for <typeparamref name="TFilters"/> filters from <paramref name="first"/> (up to 4, or 6 with up to 3 taps) × the <typeparamref name="TTaps"/>
    /// kernel columns from <paramref name="column"/> (up to 5) of channel <paramref name="channel"/>, kernel rows
    /// <paramref name="firstRow"/> to <paramref name="firstRow"/> + <paramref name="rows"/> − 1: per vector of output pixels, one
    /// load of dL/dy per filter and one of the input per tap feed one multiply-add per pair, into lane-wise sums kept over every
    /// vector of every sample. Block of samples by block, each kernel row in turn: a block's dL/dy and input rows are read from
    /// the L1 cache by every kernel row after the first, and each row's sums wait in a stack buffer between blocks (run over
    /// all the samples one kernel row at a time, each row streamed every sample from L2; docs/benchmarks.md). Every sum sees
    /// the same vectors in the same order either way. The counts are types, so the JIT compiles one copy per tile shape with
    /// the unused accumulators removed. Not inlined: one call runs all the samples.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void GradientTile<TVector, TFilters, TTaps>(ref float dy, ref float x, ref float weightGradient, Shape shape, PixelRows pixels, int first, int channel,
        int firstRow, int rows, int column)
        where TVector : struct, IFloatVector<TVector>
        where TFilters : struct, IRowCount
        where TTaps : struct, IRowCount
    {
        int filters = TFilters.Count, taps = TTaps.Count, count = TVector.Count;
        nint filterBytes = (nint)shape.OutputPlane * sizeof(float), tapBytes = (nint)shape.TapStride * sizeof(float);
        ref float dyFirst = ref Unsafe.Add(ref dy, first * shape.OutputPlane);
        ref float xFirst = ref Unsafe.Add(ref x, channel * shape.ChannelStride + firstRow * shape.RowStride + column * shape.TapStride);
        int width = pixels.RowWidth;
        TVector mask = TVector.LaneMask(0, width % TVector.Count);

        // Samples a block: as many as keep the block's dL/dy and input rows for this tile within about 16 KB (L1), so that
        // every kernel row after the first reads them from there; each kernel row's sums are loaded and stored once a block.
        int floatsPerSample = filters * pixels.Rows * width + taps * (pixels.Rows * System.Math.Max(width, pixels.InputRowStride) + rows * shape.RowStride);
        int block = System.Math.Clamp(4096 / System.Math.Max(floatsPerSample, 1), 1, 8);
        // Sums carried between blocks wait in a stack buffer; with one block they stay in registers from the first sample to dL/dw.
        System.Span<float> buffer = stackalloc float[pixels.Samples <= block ? 0 : rows * 5 * filters * count];
        ref float sums = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(buffer);
        int weights = shape.Rows;
        ref float dwFirst = ref Unsafe.Add(ref weightGradient, (first * shape.Channels + channel) * shape.KernelHeight * shape.KernelWidth + firstRow * shape.KernelWidth + column);
        for (int s0 = 0; s0 < pixels.Samples; s0 += block)
        {
            int s1 = System.Math.Min(pixels.Samples, s0 + block);
            for (int r = 0; r < rows; r++)
            {
                // Kernel row firstRow + r's sums: from zero in the first block, else from where the block before left them,
                // a00 … a54 at (r·5·filters + f·5 + d)·Count.
                ref float at = ref Unsafe.Add(ref sums, r * 5 * filters * count);
                TVector a00 = TVector.Zero, a01 = a00, a02 = a00, a03 = a00, a04 = a00;
                TVector a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00;
                TVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00;
                TVector a30 = a00, a31 = a00, a32 = a00, a33 = a00, a34 = a00;
                TVector a40 = a00, a41 = a00, a42 = a00, a43 = a00, a44 = a00;
                TVector a50 = a00, a51 = a00, a52 = a00, a53 = a00, a54 = a00;
                if (s0 > 0)
                {
                    LoadSums(ref at, out a00, out a01, out a02, out a03, out a04, taps);
                    if (filters > 1)
                    {
                        LoadSums(ref Unsafe.Add(ref at, 5 * count), out a10, out a11, out a12, out a13, out a14, taps);
                    }

                    if (filters > 2)
                    {
                        LoadSums(ref Unsafe.Add(ref at, 10 * count), out a20, out a21, out a22, out a23, out a24, taps);
                    }

                    if (filters > 3)
                    {
                        LoadSums(ref Unsafe.Add(ref at, 15 * count), out a30, out a31, out a32, out a33, out a34, taps);
                    }

                    if (filters > 4)
                    {
                        LoadSums(ref Unsafe.Add(ref at, 20 * count), out a40, out a41, out a42, out a43, out a44, taps);
                    }

                    if (filters > 5)
                    {
                        LoadSums(ref Unsafe.Add(ref at, 25 * count), out a50, out a51, out a52, out a53, out a54, taps);
                    }
                }

                // The block's samples, each one's output rows in order.
                for (int s = s0; s < s1; s++)
                {
                    ref float dyRow = ref Unsafe.Add(ref dyFirst, s * pixels.OutputSample);
                    ref float xRow = ref Unsafe.Add(ref xFirst, s * pixels.InputSample + r * shape.RowStride);
                    for (int i = 0; i < pixels.Rows; i++)
                    {
                        for (int j = 0; j < width; j += TVector.Count)
                        {
                            // One vector of output pixels: dL/dy of each filter (masked past the row's end) against the input of each tap.
                            ref float dyAt = ref Unsafe.Add(ref dyRow, j);
                            ref float xAt = ref Unsafe.Add(ref xRow, j);
                            TVector d0 = TVector.Load(ref dyAt);
                            TVector d1 = filters > 1 ? TVector.Load(ref Unsafe.AddByteOffset(ref dyAt, filterBytes)) : default;
                            TVector d2 = filters > 2 ? TVector.Load(ref Unsafe.AddByteOffset(ref dyAt, 2 * filterBytes)) : default;
                            TVector d3 = filters > 3 ? TVector.Load(ref Unsafe.AddByteOffset(ref dyAt, 3 * filterBytes)) : default;
                            TVector d4 = filters > 4 ? TVector.Load(ref Unsafe.AddByteOffset(ref dyAt, 4 * filterBytes)) : default;
                            TVector d5 = filters > 5 ? TVector.Load(ref Unsafe.AddByteOffset(ref dyAt, 5 * filterBytes)) : default;
                            if (j + TVector.Count > width)
                            {
                                d0 = TVector.Masked(d0, mask);
                                d1 = TVector.Masked(d1, mask);
                                d2 = TVector.Masked(d2, mask);
                                d3 = TVector.Masked(d3, mask);
                                d4 = TVector.Masked(d4, mask);
                                d5 = TVector.Masked(d5, mask);
                            }

                            TapColumn(TVector.Load(ref xAt), d0, d1, d2, d3, d4, d5, ref a00, ref a10, ref a20, ref a30, ref a40, ref a50, filters);
                            if (taps > 1)
                            {
                                TapColumn(TVector.Load(ref Unsafe.AddByteOffset(ref xAt, tapBytes)), d0, d1, d2, d3, d4, d5, ref a01, ref a11, ref a21, ref a31, ref a41, ref a51, filters);
                            }

                            if (taps > 2)
                            {
                                TapColumn(TVector.Load(ref Unsafe.AddByteOffset(ref xAt, 2 * tapBytes)), d0, d1, d2, d3, d4, d5, ref a02, ref a12, ref a22, ref a32, ref a42, ref a52, filters);
                            }

                            if (taps > 3)
                            {
                                TapColumn(TVector.Load(ref Unsafe.AddByteOffset(ref xAt, 3 * tapBytes)), d0, d1, d2, d3, d4, d5, ref a03, ref a13, ref a23, ref a33, ref a43, ref a53, filters);
                            }

                            if (taps > 4)
                            {
                                TapColumn(TVector.Load(ref Unsafe.AddByteOffset(ref xAt, 4 * tapBytes)), d0, d1, d2, d3, d4, d5, ref a04, ref a14, ref a24, ref a34, ref a44, ref a54, filters);
                            }
                        }

                        dyRow = ref Unsafe.Add(ref dyRow, width);
                        xRow = ref Unsafe.Add(ref xRow, pixels.InputRowStride);
                    }
                }

                if (s1 < pixels.Samples)
                {
                    // More blocks to come: the sums wait in the buffer.
                    StoreSums(ref at, a00, a01, a02, a03, a04, taps);
                    if (filters > 1)
                    {
                        StoreSums(ref Unsafe.Add(ref at, 5 * count), a10, a11, a12, a13, a14, taps);
                    }

                    if (filters > 2)
                    {
                        StoreSums(ref Unsafe.Add(ref at, 10 * count), a20, a21, a22, a23, a24, taps);
                    }

                    if (filters > 3)
                    {
                        StoreSums(ref Unsafe.Add(ref at, 15 * count), a30, a31, a32, a33, a34, taps);
                    }

                    if (filters > 4)
                    {
                        StoreSums(ref Unsafe.Add(ref at, 20 * count), a40, a41, a42, a43, a44, taps);
                    }

                    if (filters > 5)
                    {
                        StoreSums(ref Unsafe.Add(ref at, 25 * count), a50, a51, a52, a53, a54, taps);
                    }

                    continue;
                }

                // The last block: dL/dw(first + f, channel, firstRow + r, column + d) at ((first + f)·channels + channel)·kh·kw +
                // (firstRow + r)·kw + column + d.
                ref float w = ref Unsafe.Add(ref dwFirst, r * shape.KernelWidth);
                AddSums(ref w, a00, a01, a02, a03, a04, taps);
                if (filters > 1)
                {
                    AddSums(ref Unsafe.Add(ref w, weights), a10, a11, a12, a13, a14, taps);
                }

                if (filters > 2)
                {
                    AddSums(ref Unsafe.Add(ref w, 2 * weights), a20, a21, a22, a23, a24, taps);
                }

                if (filters > 3)
                {
                    AddSums(ref Unsafe.Add(ref w, 3 * weights), a30, a31, a32, a33, a34, taps);
                }

                if (filters > 4)
                {
                    AddSums(ref Unsafe.Add(ref w, 4 * weights), a40, a41, a42, a43, a44, taps);
                }

                if (filters > 5)
                {
                    AddSums(ref Unsafe.Add(ref w, 5 * weights), a50, a51, a52, a53, a54, taps);
                }
            }
        }
    }

    /// <summary>A filter's sums for <paramref name="taps"/> taps from <paramref name="from"/>, <c>Count</c> floats apart (the others zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadSums<TVector>(ref float from, out TVector s0, out TVector s1, out TVector s2, out TVector s3, out TVector s4, int taps)
        where TVector : struct, IFloatVector<TVector>
    {
        int count = TVector.Count;
        s0 = TVector.Load(ref from);
        s1 = taps > 1 ? TVector.Load(ref Unsafe.Add(ref from, count)) : default;
        s2 = taps > 2 ? TVector.Load(ref Unsafe.Add(ref from, 2 * count)) : default;
        s3 = taps > 3 ? TVector.Load(ref Unsafe.Add(ref from, 3 * count)) : default;
        s4 = taps > 4 ? TVector.Load(ref Unsafe.Add(ref from, 4 * count)) : default;
    }

    /// <summary>A filter's sums for <paramref name="taps"/> taps to <paramref name="to"/>, <c>Count</c> floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSums<TVector>(ref float to, TVector s0, TVector s1, TVector s2, TVector s3, TVector s4, int taps)
        where TVector : struct, IFloatVector<TVector>
    {
        int count = TVector.Count;
        TVector.Store(s0, ref to);
        if (taps > 1)
        {
            TVector.Store(s1, ref Unsafe.Add(ref to, count));
        }

        if (taps > 2)
        {
            TVector.Store(s2, ref Unsafe.Add(ref to, 2 * count));
        }

        if (taps > 3)
        {
            TVector.Store(s3, ref Unsafe.Add(ref to, 3 * count));
        }

        if (taps > 4)
        {
            TVector.Store(s4, ref Unsafe.Add(ref to, 4 * count));
        }
    }

    /// <summary>One tap's vector of input against each filter's dL/dy: s_f += d_f · input for f &lt; <paramref name="filters"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TapColumn<TVector>(TVector input, TVector d0, TVector d1, TVector d2, TVector d3, TVector d4, TVector d5, ref TVector s0, ref TVector s1,
        ref TVector s2, ref TVector s3, ref TVector s4, ref TVector s5, int filters)
        where TVector : struct, IFloatVector<TVector>
    {
        s0 = TVector.MultiplyAdd(d0, input, s0);
        if (filters > 1)
        {
            s1 = TVector.MultiplyAdd(d1, input, s1);
        }

        if (filters > 2)
        {
            s2 = TVector.MultiplyAdd(d2, input, s2);
        }

        if (filters > 3)
        {
            s3 = TVector.MultiplyAdd(d3, input, s3);
        }

        if (filters > 4)
        {
            s4 = TVector.MultiplyAdd(d4, input, s4);
        }

        if (filters > 5)
        {
            s5 = TVector.MultiplyAdd(d5, input, s5);
        }
    }

    /// <summary>w[d] += the lanes of s_d added up, for the <paramref name="taps"/> taps of one filter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddSums<TVector>(ref float w, TVector s0, TVector s1, TVector s2, TVector s3, TVector s4, int taps)
        where TVector : struct, IFloatVector<TVector>
    {
        w += TVector.Sum(s0);
        if (taps > 1)
        {
            Unsafe.Add(ref w, 1) += TVector.Sum(s1);
        }

        if (taps > 2)
        {
            Unsafe.Add(ref w, 2) += TVector.Sum(s2);
        }

        if (taps > 3)
        {
            Unsafe.Add(ref w, 3) += TVector.Sum(s3);
        }

        if (taps > 4)
        {
            Unsafe.Add(ref w, 4) += TVector.Sum(s4);
        }
    }

    /// <summary>
    /// The output pixels a weight-gradient tile runs over, in rows of <see cref="RowWidth"/> (a row of the output, or a whole
    /// plane compacted), output row i of a sample reading its input from i·<see cref="InputRowStride"/>; samples
    /// <see cref="OutputSample"/> floats apart in dL/dy and <see cref="InputSample"/> in the input.
    /// </summary>
    private readonly record struct PixelRows(int Samples, int OutputSample, int InputSample, int Rows, int RowWidth, int InputRowStride);
}
