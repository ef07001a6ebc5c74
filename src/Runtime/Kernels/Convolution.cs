using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace NetGen.Kernels;

/// <summary>
/// A stride-1 convolution computed straight from its (zero-padded) input, without unfolding it first (im2col): the
/// matrix product of <see cref="Gemm.MultiplyBias{TVector}(ref float, int, int, ref float, int, ref float, int, ref float, int, int, int, bool, Epilogue)"/> with the unfolded input's rows read in place. Generated code calls
/// it with literal shapes.
/// </summary>
/// <remarks>
/// Row r = (t, m, n) of the unfolded input, at output pixel (i, j), is input(t, i + m, j + n): along j, a contiguous run
/// of the input. So a vector of output pixels of one row, for one tap, is one load from the input, and a register tile
/// of filters × 2 such vectors runs over the taps like a tile of <see cref="Gemm"/> over its reduction. Each output row
/// is cut into vectors ("slots"); a tile takes two slots, in order (the two halves of a row, or two rows when a row is one
/// vector), or a last slot alone. A slot's lanes past the row's end read the next floats of the input and are not stored.
/// For rows narrower than a vector, <see cref="ForwardCompacted{TVector}(ref float, ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/> first copies the input so that slots run on across
/// the rows and fill every lane. Every output sums
/// bias, then its taps in order with one multiply-add each, exactly as <see cref="Gemm.MultiplyBias{TVector}(ref float, int, int, ref float, int, ref float, int, ref float, int, int, int, bool, Epilogue)"/> on the unfolded
/// input does: the results are the same bits.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static partial class Convolution
{
    /// <summary>
    /// y(k, i, j) = bias(k) + Σ_t Σ_m Σ_n w(k, t, m, n) · x(t, i + m, j + n), for k &lt; <paramref name="filters"/>, i &lt;
    /// <paramref name="outputHeight"/>, j &lt; <paramref name="outputWidth"/>, t &lt; <paramref name="channels"/>, m &lt;
    /// <paramref name="kernelHeight"/>, n &lt; <paramref name="kernelWidth"/>; w in PyTorch's layout (filters × channels ×
    /// kernelHeight × kernelWidth), x(t, u, v) = x[t·<paramref name="inputPlane"/> + u·<paramref name="inputWidth"/> + v]
    /// (with padding, the zero-padded copy), y(k, i, j) = y[(k·outputHeight + i)·outputWidth + j].
    /// </summary>
    /// <remarks>
    /// Reads up to <c>Count − 1</c> floats past the last input row a vector starts in (lanes that are not stored), so
    /// those must be addressable: generated workspaces carry that slack. Writes only y's own floats, with masked stores
    /// (which read and write back unchanged the rest of a vector, up to <c>Count − 1</c> floats past y's last row).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Forward<TVector>(ref float weight, ref float bias, ref float x, ref float y, int filters, int channels, int kernelHeight, int kernelWidth,
        int inputWidth, int inputPlane, int outputHeight, int outputWidth)
        where TVector : struct, IFloatVector<TVector> =>
        Forward<TVector>(ref weight, ref bias, ref x, ref y, filters, channels, kernelHeight, kernelWidth, inputWidth, inputPlane, outputHeight, outputWidth, Epilogue.None);

    /// <summary><see cref="Forward{TVector}(ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int)"/>, each output through <paramref name="epilogue"/> as it is stored (its residual addressed like y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Forward<TVector>(ref float weight, ref float bias, ref float x, ref float y, int filters, int channels, int kernelHeight, int kernelWidth,
        int inputWidth, int inputPlane, int outputHeight, int outputWidth, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
    {
        if (Avx512F.IsSupported || AdvSimd.Arm64.IsSupported) // 32 vector registers (see IRegisterFile)
        {
            Forward<TVector, ThirtyTwoRegisters>(ref weight, ref bias, ref x, ref y, filters, channels, kernelHeight, kernelWidth, inputWidth, inputPlane, outputHeight, outputWidth, epilogue);
        }
        else
        {
            Forward<TVector, SixteenRegisters>(ref weight, ref bias, ref x, ref y, filters, channels, kernelHeight, kernelWidth, inputWidth, inputPlane, outputHeight, outputWidth, epilogue);
        }
    }

    /// <summary><see cref="Forward{TVector}(ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/> with register tiles for <typeparamref name="TRegisters"/> (see <see cref="Filters"/>); tests call it with either.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Forward<TVector, TRegisters>(ref float weight, ref float bias, ref float x, ref float y, int filters, int channels, int kernelHeight, int kernelWidth,
        int inputWidth, int inputPlane, int outputHeight, int outputWidth, Epilogue epilogue = default)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        var shape = new Shape(channels, kernelHeight, kernelWidth, inputWidth, inputPlane, 1, outputHeight * outputWidth);
        Convolve<TVector, TRegisters>(ref weight, ref bias, ref x, ref y, filters, shape, outputHeight, outputWidth, inputWidth, epilogue);
    }

    /// <summary>
    /// As <see cref="Forward{TVector}(ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/>, for output rows narrower than a vector: the input is first copied into
    /// <paramref name="compacted"/>, one plane per (channel t, kernel column n) holding x(t, u, j + n) at u·outputWidth + j
    /// for every input row u and output column j. There the output pixels' reads for one tap are contiguous across the rows
    /// (pixel q = i·outputWidth + j reads plane (t, n) at q + m·outputWidth), so every vector of output pixels is full
    /// however narrow the rows: LeNet-5's conv2 (10 × 10 pixels) takes 7 vectors of 16 per filter and tap instead of 10.
    /// </summary>
    /// <remarks>
    /// <paramref name="compacted"/> holds channels · kernelWidth · (outputHeight + kernelHeight − 1) · outputWidth floats and
    /// <c>Count − 1</c> more, which it writes and reads as lanes that are not stored. Reads x as <see cref="Forward{TVector}(ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/> does
    /// (up to <c>Count − 1</c> floats past the last input row a vector starts in), writes y as it does. Same bits.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ForwardCompacted<TVector>(ref float weight, ref float bias, ref float x, ref float compacted, ref float y, int filters, int channels,
        int kernelHeight, int kernelWidth, int inputWidth, int inputPlane, int outputHeight, int outputWidth)
        where TVector : struct, IFloatVector<TVector> =>
        ForwardCompacted<TVector>(ref weight, ref bias, ref x, ref compacted, ref y, filters, channels, kernelHeight, kernelWidth, inputWidth, inputPlane, outputHeight, outputWidth,
            Epilogue.None);

    /// <summary><see cref="ForwardCompacted{TVector}(ref float, ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int)"/>, each output through <paramref name="epilogue"/> as it is stored (its residual addressed like y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ForwardCompacted<TVector>(ref float weight, ref float bias, ref float x, ref float compacted, ref float y, int filters, int channels,
        int kernelHeight, int kernelWidth, int inputWidth, int inputPlane, int outputHeight, int outputWidth, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
    {
        if (Avx512F.IsSupported || AdvSimd.Arm64.IsSupported) // 32 vector registers (see IRegisterFile)
        {
            ForwardCompacted<TVector, ThirtyTwoRegisters>(ref weight, ref bias, ref x, ref compacted, ref y, filters, channels, kernelHeight, kernelWidth, inputWidth, inputPlane, outputHeight, outputWidth, epilogue);
        }
        else
        {
            ForwardCompacted<TVector, SixteenRegisters>(ref weight, ref bias, ref x, ref compacted, ref y, filters, channels, kernelHeight, kernelWidth, inputWidth, inputPlane, outputHeight, outputWidth, epilogue);
        }
    }

    /// <summary><see cref="ForwardCompacted{TVector}(ref float, ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/> with register tiles for <typeparamref name="TRegisters"/> (see <see cref="Filters"/>); tests call it with either.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ForwardCompacted<TVector, TRegisters>(ref float weight, ref float bias, ref float x, ref float compacted, ref float y, int filters, int channels,
        int kernelHeight, int kernelWidth, int inputWidth, int inputPlane, int outputHeight, int outputWidth, Epilogue epilogue = default)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        Compact<TVector>(ref x, ref compacted, channels, kernelHeight, kernelWidth, inputWidth, inputPlane, outputHeight, outputWidth);
        FromCompacted<TVector, TRegisters>(ref weight, ref bias, ref compacted, ref y, filters, channels, kernelHeight, kernelWidth, outputHeight, outputWidth, epilogue);
    }

    /// <summary>
    /// <see cref="ForwardCompacted{TVector}(ref float, ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/> for <paramref name="samples"/> samples at once, for outputs so small that one
    /// sample's plane leaves most of a vector empty: each compacted plane (t, n) holds the samples' rows one after another,
    /// so a vector of output pixels runs on from one sample into the next (7 × 7 pixels: 4 vectors of 16 per sample, 49
    /// lanes used of 64; two samples, 7 vectors, 98 of 112). The filters' planes, (samples − 1) · (outputHeight +
    /// kernelHeight − 1) · outputWidth + outputHeight · outputWidth floats each, go to <paramref name="products"/>; each
    /// sample's pixels are then copied out to y. Same bits as <see cref="ForwardCompacted{TVector}(ref float, ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/> per sample.
    /// </summary>
    /// <remarks>
    /// Sample p's input is x + p · <paramref name="inputStride"/> (read as <see cref="Forward{TVector}(ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/> reads x), its output y +
    /// p · <paramref name="outputStride"/> (filters planes of outputHeight · outputWidth floats; a plane's last vector rewrites
    /// up to <c>Count − 1</c> floats past it unchanged, and reads as many past it in the epilogue's residual).
    /// <paramref name="compacted"/> holds channels · kernelWidth · samples · (outputHeight + kernelHeight − 1) · outputWidth floats
    /// and <c>Count − 1</c> more; <paramref name="products"/> filters times the span above and <c>Count − 1</c> more.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ForwardCompactedSamples<TVector>(ref float weight, ref float bias, ref float x, ref float compacted, ref float products, ref float y, int filters,
        int channels, int kernelHeight, int kernelWidth, int inputWidth, int inputPlane, int outputHeight, int outputWidth, int samples, int inputStride, int outputStride,
        Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
    {
        if (Avx512F.IsSupported || AdvSimd.Arm64.IsSupported) // 32 vector registers (see IRegisterFile)
        {
            ForwardCompactedSamples<TVector, ThirtyTwoRegisters>(ref weight, ref bias, ref x, ref compacted, ref products, ref y, filters, channels, kernelHeight, kernelWidth,
                inputWidth, inputPlane, outputHeight, outputWidth, samples, inputStride, outputStride, epilogue);
        }
        else
        {
            ForwardCompactedSamples<TVector, SixteenRegisters>(ref weight, ref bias, ref x, ref compacted, ref products, ref y, filters, channels, kernelHeight, kernelWidth,
                inputWidth, inputPlane, outputHeight, outputWidth, samples, inputStride, outputStride, epilogue);
        }
    }

    /// <summary><see cref="ForwardCompactedSamples{TVector}"/> with register tiles for <typeparamref name="TRegisters"/>; tests call it with either.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ForwardCompactedSamples<TVector, TRegisters>(ref float weight, ref float bias, ref float x, ref float compacted, ref float products, ref float y,
        int filters, int channels, int kernelHeight, int kernelWidth, int inputWidth, int inputPlane, int outputHeight, int outputWidth, int samples, int inputStride,
        int outputStride, Epilogue epilogue = default)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        int height = CompactedHeight(outputHeight, kernelHeight);
        CompactRows<TVector>(ref x, ref compacted, channels, kernelWidth, inputWidth, inputPlane, height, outputWidth, samples, inputStride);
        var shape = CompactedShape(channels, kernelHeight, kernelWidth, outputHeight, outputWidth, samples);
        Convolve<TVector, TRegisters>(ref weight, ref bias, ref compacted, ref products, filters, shape, 1, shape.OutputPlane, 0, Epilogue.None); // every sample's planes as one row
        Rows.CopyOut<TVector>(ref products, shape.OutputPlane, height * outputWidth, ref y, filters, samples, outputHeight * outputWidth, outputStride, epilogue);
    }

    /// <summary>
    /// Floats per filter in the products of <see cref="ForwardCompactedSamples{TVector}"/>: from the first sample's
    /// first pixel to the last sample's last.
    /// </summary>
    private static int SampleSpan(int samples, int outputHeight, int outputWidth, int kernelHeight) =>
        (samples - 1) * CompactedHeight(outputHeight, kernelHeight) * outputWidth + outputHeight * outputWidth;

    /// <summary>
    /// The copy <see cref="ForwardCompacted{TVector}(ref float, ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/> makes first, alone: channels · kernelWidth planes of (outputHeight +
    /// kernelHeight − 1) × outputWidth floats, plane (t, n) holding x(t, u, j + n) at u·outputWidth + j; x as there.
    /// </summary>
    /// <remarks>Writes up to <c>Count − 1</c> floats past the planes (lanes of the last row's vector), and reads x as <see cref="Forward{TVector}(ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/> does.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Compact<TVector>(ref float x, ref float compacted, int channels, int kernelHeight, int kernelWidth, int inputWidth, int inputPlane, int outputHeight,
        int outputWidth)
        where TVector : struct, IFloatVector<TVector> =>
        CompactRows<TVector>(ref x, ref compacted, channels, kernelWidth, inputWidth, inputPlane, CompactedHeight(outputHeight, kernelHeight), outputWidth, samples: 1, inputStride: 0);

    private static int CompactedHeight(int outputHeight, int kernelHeight) => outputHeight + kernelHeight - 1;

    /// <summary>
    /// The compacted copy as the kernels read it: plane (t, n) holding each of <paramref name="samples"/> samples'
    /// <see cref="CompactedHeight"/> × outputWidth floats one after another, kernel row m one output row on, so output pixel q
    /// reads plane (t, n) at q + m·outputWidth; each filter's output spans <see cref="SampleSpan"/> floats.
    /// </summary>
    private static Shape CompactedShape(int channels, int kernelHeight, int kernelWidth, int outputHeight, int outputWidth, int samples = 1)
    {
        int tapPlane = samples * CompactedHeight(outputHeight, kernelHeight) * outputWidth;
        return new Shape(channels, kernelHeight, kernelWidth, outputWidth, kernelWidth * tapPlane, tapPlane, SampleSpan(samples, outputHeight, outputWidth, kernelHeight));
    }

    /// <summary>The second step of <see cref="ForwardCompacted{TVector}(ref float, ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/>: every filter over the compacted copy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FromCompacted<TVector, TRegisters>(ref float weight, ref float bias, ref float compacted, ref float y, int filters, int channels,
        int kernelHeight, int kernelWidth, int outputHeight, int outputWidth, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        var shape = CompactedShape(channels, kernelHeight, kernelWidth, outputHeight, outputWidth);
        Convolve<TVector, TRegisters>(ref weight, ref bias, ref compacted, ref y, filters, shape, 1, shape.OutputPlane, 0, epilogue); // the whole plane as one row
    }

    /// <summary>
    /// Every filter over the output's <paramref name="rows"/> rows of <paramref name="rowWidth"/> pixels, each cut into
    /// vectors ("slots"), two slots per tile in order, a last one alone; output row i starts at i·<paramref name="inputRowStride"/>
    /// in a channel of the input. Without an epilogue inlined, as the kernels were before there were epilogues; with one, a
    /// call that picks the tiles compiled for it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Convolve<TVector, TRegisters>(ref float weight, ref float bias, ref float x, ref float y, int filters, Shape shape, int rows, int rowWidth, int inputRowStride,
        Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        if (epilogue.IsNone)
        {
            Slots<TVector, TRegisters, Unchanged>(ref weight, ref bias, ref x, ref y, filters, shape, rows, rowWidth, inputRowStride, ref Unsafe.NullRef<float>());
        }
        else
        {
            ConvolveWith<TVector, TRegisters>(ref weight, ref bias, ref x, ref y, filters, shape, rows, rowWidth, inputRowStride, epilogue);
        }
    }

    /// <summary><see cref="Convolve"/> with an epilogue: the slots with tiles compiled for its kind.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void ConvolveWith<TVector, TRegisters>(ref float weight, ref float bias, ref float x, ref float y, int filters, Shape shape, int rows, int rowWidth,
        int inputRowStride, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        ref float residual = ref epilogue.Residual;
        switch (epilogue.Kind)
        {
            case EpilogueKind.Rectify:
                Slots<TVector, TRegisters, Rectified>(ref weight, ref bias, ref x, ref y, filters, shape, rows, rowWidth, inputRowStride, ref residual);
                break;
            case EpilogueKind.Add:
                Slots<TVector, TRegisters, Added>(ref weight, ref bias, ref x, ref y, filters, shape, rows, rowWidth, inputRowStride, ref residual);
                break;
            default:
                Slots<TVector, TRegisters, AddedRectified>(ref weight, ref bias, ref x, ref y, filters, shape, rows, rowWidth, inputRowStride, ref residual);
                break;
        }
    }

    /// <summary>The slots of <see cref="Convolve"/>, every tile storing through <typeparamref name="TStep"/> (its residual addressed like y).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Slots<TVector, TRegisters, TStep>(ref float weight, ref float bias, ref float x, ref float y, int filters, Shape shape, int rows, int rowWidth,
        int inputRowStride, ref float residual)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
        where TStep : struct, IOutputStep
    {
        int slotsPerRow = (rowWidth + TVector.Count - 1) / TVector.Count;
        int slots = rows * slotsPerRow;
        int s = 0;
        for (; s + 2 <= slots; s += 2)
        {
            Filters<TVector, TRegisters, Two, TStep>(ref weight, ref bias, ref x, ref y, shape, filters, SlotAt<TVector>(s, slotsPerRow, inputRowStride, rowWidth, rows), SlotAt<TVector>(s + 1, slotsPerRow, inputRowStride, rowWidth, rows), ref residual);
        }

        if (s < slots)
        {
            Filters<TVector, TRegisters, One, TStep>(ref weight, ref bias, ref x, ref y, shape, filters, SlotAt<TVector>(s, slotsPerRow, inputRowStride, rowWidth, rows), default, ref residual);
        }
    }

    /// <summary>Slot <paramref name="slot"/> of <see cref="Convolve"/>: the slots of row 0, then of row 1, …</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Slot SlotAt<TVector>(int slot, int slotsPerRow, int inputRowStride, int rowWidth, int rows)
        where TVector : struct, IFloatVector<TVector>
    {
        int i = slot / slotsPerRow, j = slot % slotsPerRow * TVector.Count, output = i * rowWidth + j;
        int lanes = Math.Min(TVector.Count, rowWidth - j);
        return new Slot(i * inputRowStride + j, output, lanes, Exact: lanes < TVector.Count && output + TVector.Count > rows * rowWidth);
    }

    /// <summary>
    /// The copy of <see cref="ForwardCompacted{TVector}(ref float, ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/> and <see cref="ForwardCompactedSamples{TVector}"/>: in each plane
    /// (t, n), the samples' rows one after another, sample p's from x + p · <paramref name="inputStride"/>; rows in order, whole
    /// vectors, each row's last vector overwritten by the next row.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void CompactRows<TVector>(ref float x, ref float compacted, int channels, int kernelWidth, int inputWidth, int inputPlane, int height,
        int outputWidth, int samples, int inputStride)
        where TVector : struct, IFloatVector<TVector>
    {
        ref float destination = ref compacted;
        for (int t = 0; t < channels; t++)
        {
            for (int n = 0; n < kernelWidth; n++)
            {
                for (int p = 0; p < samples; p++)
                {
                    ref float source = ref Unsafe.Add(ref x, p * inputStride + t * inputPlane + n);
                    for (int u = 0; u < height; u++)
                    {
                        for (int j = 0; j < outputWidth; j += TVector.Count)
                        {
                            TVector.Store(TVector.Load(ref Unsafe.Add(ref source, j)), ref Unsafe.Add(ref destination, j));
                        }

                        source = ref Unsafe.Add(ref source, inputWidth);
                        destination = ref Unsafe.Add(ref destination, outputWidth);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Every filter over one or two slots, in register tiles chosen for <typeparamref name="TRegisters"/>: with 32 vector
    /// registers 8 filters × 2 slots (16 accumulators, 2 input loads and a broadcast weight: 19 registers); with 16,
    /// 6 filters × 2 slots (12 accumulators: 15 registers; 8 × 2 would keep accumulators on the stack). A last slot alone takes 8 filters with
    /// either (8 accumulators: 10 registers). The rest as 6 (LeNet-5's conv1: one pass over the input instead of two), 4,
    /// 2 and 1. The tile shape does not change any output's sum: the same bits with either register file.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Filters<TVector, TRegisters, TSlots, TStep>(ref float weight, ref float bias, ref float x, ref float y, Shape shape, int filters, Slot slot0, Slot slot1,
        ref float residual)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
        where TSlots : struct, IRowCount
        where TStep : struct, IOutputStep
    {
        if (typeof(TRegisters) == typeof(SixteenRegisters) && typeof(TSlots) == typeof(Two))
        {
            FilterTiles<TVector, Six, TSlots, TStep>(ref weight, ref bias, ref x, ref y, shape, filters, slot0, slot1, ref residual);
        }
        else
        {
            FilterTiles<TVector, Eight, TSlots, TStep>(ref weight, ref bias, ref x, ref y, shape, filters, slot0, slot1, ref residual);
        }
    }

    /// <summary>Every filter: tiles of <typeparamref name="TTile"/> filters (8 or 6), then the rest as 6 (after tiles of 8), 4, 2 and 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FilterTiles<TVector, TTile, TSlots, TStep>(ref float weight, ref float bias, ref float x, ref float y, Shape shape, int filters, Slot slot0, Slot slot1,
        ref float residual)
        where TVector : struct, IFloatVector<TVector>
        where TTile : struct, IRowCount
        where TSlots : struct, IRowCount
        where TStep : struct, IOutputStep
    {
        int k = 0;
        for (; k + TTile.Count <= filters; k += TTile.Count)
        {
            Tile<TVector, TTile, TSlots, TStep>(ref weight, ref bias, ref x, ref y, shape, k, slot0, slot1, ref residual);
        }

        if (TTile.Count > 6 && k + 6 <= filters)
        {
            Tile<TVector, Six, TSlots, TStep>(ref weight, ref bias, ref x, ref y, shape, k, slot0, slot1, ref residual);
            k += 6;
        }
        else if (k + 4 <= filters)
        {
            Tile<TVector, Four, TSlots, TStep>(ref weight, ref bias, ref x, ref y, shape, k, slot0, slot1, ref residual);
            k += 4;
        }

        if (k + 2 <= filters)
        {
            Tile<TVector, Two, TSlots, TStep>(ref weight, ref bias, ref x, ref y, shape, k, slot0, slot1, ref residual);
            k += 2;
        }

        if (k < filters)
        {
            Tile<TVector, One, TSlots, TStep>(ref weight, ref bias, ref x, ref y, shape, k, slot0, slot1, ref residual);
        }
    }

    /// <summary>
    /// <typeparamref name="TRows"/> filters from <paramref name="first"/> × <typeparamref name="TSlots"/> slots (1 or 2),
    /// summed over every tap (t, m, n) in order: per tap, one load of the input per slot and one broadcast weight per filter
    /// feed one multiply-add per filter and slot; up to 16 accumulators (12 in the tiles for 16 registers). The counts are
    /// types, so the JIT compiles one copy per tile size with the unused filters and slot removed. Not inlined: one call
    /// runs every tap.
    /// </summary>
    /// <remarks>
    /// The weights of filters 0–2, 3–5 and 6–7 are read through three references advancing with the taps, a filter's
    /// weights <c>rows</c> floats apart (1 or 2 rows from one of the three: an address mode, no index arithmetic per tap);
    /// the input through one reference per slot, advancing by <see cref="Shape.TapStride"/> per kernel column.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TVector, TRows, TSlots, TStep>(ref float weight, ref float bias, ref float x, ref float y, Shape shape, int first, Slot slot0, Slot slot1,
        ref float residual)
        where TVector : struct, IFloatVector<TVector>
        where TRows : struct, IRowCount
        where TSlots : struct, IRowCount
        where TStep : struct, IOutputStep
    {
        int count = TRows.Count, rows = shape.Rows, plane = shape.OutputPlane;
        bool two = TSlots.Count > 1;
        bias = ref Unsafe.Add(ref bias, first);
        y = ref Unsafe.Add(ref y, first * plane);
        residual = ref Epilogue.Advance<TStep>(ref residual, first * plane);
        TVector s00 = TVector.Broadcast(bias), s01 = s00;
        TVector s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        TVector s40 = default, s41 = default, s50 = default, s51 = default, s60 = default, s61 = default, s70 = default, s71 = default;
        if (count > 1)
        {
            s10 = TVector.Broadcast(Unsafe.Add(ref bias, 1));
            s11 = s10;
        }

        if (count > 2)
        {
            s20 = TVector.Broadcast(Unsafe.Add(ref bias, 2));
            s21 = s20;
            s30 = TVector.Broadcast(Unsafe.Add(ref bias, 3));
            s31 = s30;
        }

        if (count > 4)
        {
            s40 = TVector.Broadcast(Unsafe.Add(ref bias, 4));
            s41 = s40;
            s50 = TVector.Broadcast(Unsafe.Add(ref bias, 5));
            s51 = s50;
        }

        if (count > 6)
        {
            s60 = TVector.Broadcast(Unsafe.Add(ref bias, 6));
            s61 = s60;
            s70 = TVector.Broadcast(Unsafe.Add(ref bias, 7));
            s71 = s70;
        }

        // Tap r of filter first + f is w[f·rows + r], r advancing with the taps.
        ref float w0 = ref Unsafe.Add(ref weight, first * rows);
        ref float w3 = ref Unsafe.Add(ref w0, Math.Min(count - 1, 3) * rows);
        ref float w6 = ref Unsafe.Add(ref w0, Math.Min(count - 1, 6) * rows);
        nint filterBytes = (nint)rows * sizeof(float), tapBytes = (nint)shape.TapStride * sizeof(float);
        for (int t = 0; t < shape.Channels; t++)
        {
            for (int m = 0; m < shape.KernelHeight; m++)
            {
                ref float x0 = ref Unsafe.Add(ref x, t * shape.ChannelStride + m * shape.RowStride + slot0.Input);
                ref float x1 = ref Unsafe.Add(ref x, t * shape.ChannelStride + m * shape.RowStride + slot1.Input);
                for (int n = 0; n < shape.KernelWidth; n++)
                {
                    TVector b0 = TVector.Load(ref x0), b1 = two ? TVector.Load(ref x1) : default;
                    x0 = ref Unsafe.AddByteOffset(ref x0, tapBytes);
                    x1 = ref Unsafe.AddByteOffset(ref x1, tapBytes);

                    TileRow.MultiplyAdd(TVector.Broadcast(w0), b0, b1, ref s00, ref s01, two);

                    if (count > 1)
                    {
                        TileRow.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref w0, filterBytes)), b0, b1, ref s10, ref s11, two);
                    }

                    if (count > 2)
                    {
                        TileRow.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref w0, 2 * filterBytes)), b0, b1, ref s20, ref s21, two);
                        TileRow.MultiplyAdd(TVector.Broadcast(w3), b0, b1, ref s30, ref s31, two);
                    }

                    if (count > 4)
                    {
                        TileRow.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref w3, filterBytes)), b0, b1, ref s40, ref s41, two);
                        TileRow.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref w3, 2 * filterBytes)), b0, b1, ref s50, ref s51, two);
                    }

                    if (count > 6)
                    {
                        TileRow.MultiplyAdd(TVector.Broadcast(w6), b0, b1, ref s60, ref s61, two);
                        TileRow.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref w6, filterBytes)), b0, b1, ref s70, ref s71, two);
                    }

                    w0 = ref Unsafe.Add(ref w0, 1);
                    if (count > 3)
                    {
                        w3 = ref Unsafe.Add(ref w3, 1);
                    }

                    if (count > 6)
                    {
                        w6 = ref Unsafe.Add(ref w6, 1);
                    }
                }
            }
        }

        Store<TVector, TStep>(s00, s01, ref y, ref residual, slot0, slot1, 0);
        if (count > 1)
        {
            Store<TVector, TStep>(s10, s11, ref y, ref residual, slot0, slot1, plane);
        }

        if (count > 2)
        {
            Store<TVector, TStep>(s20, s21, ref y, ref residual, slot0, slot1, 2 * plane);
            Store<TVector, TStep>(s30, s31, ref y, ref residual, slot0, slot1, 3 * plane);
        }

        if (count > 4)
        {
            Store<TVector, TStep>(s40, s41, ref y, ref residual, slot0, slot1, 4 * plane);
            Store<TVector, TStep>(s50, s51, ref y, ref residual, slot0, slot1, 5 * plane);
        }

        if (count > 6)
        {
            Store<TVector, TStep>(s60, s61, ref y, ref residual, slot0, slot1, 6 * plane);
            Store<TVector, TStep>(s70, s71, ref y, ref residual, slot0, slot1, 7 * plane);
        }
    }

    /// <summary>
    /// One filter's slots into its output plane, <paramref name="plane"/> floats from y, through <typeparamref name="TStep"/>
    /// (its residual addressed like y): whole vectors, or the lanes inside the row or plane (none for an absent second slot).
    /// </summary>
    /// <remarks>
    /// The slots come <c>in</c>: inlined 16 times into a tile, copies of them take <see cref="Tile"/> past the JIT's 1,024 tracked
    /// locals, and its loop then moves accumulators between registers (23 copies per 16 multiply-adds instead of 9, a 16 → 16
    /// 28×28 convolution at about 105 GFLOP/s instead of 170).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TVector, TStep>(TVector v0, TVector v1, ref float y, ref float residual, in Slot slot0, in Slot slot1, int plane)
        where TVector : struct, IFloatVector<TVector>
        where TStep : struct, IOutputStep
    {
        StoreSlot(Epilogue.Apply<TVector, TStep>(v0, ref residual, plane + slot0.Output), ref Unsafe.Add(ref y, plane + slot0.Output), in slot0);
        if (slot1.Lanes > 0)
        {
            StoreSlot(Epilogue.Apply<TVector, TStep>(v1, ref residual, plane + slot1.Output), ref Unsafe.Add(ref y, plane + slot1.Output), in slot1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSlot<TVector>(TVector v, ref float destination, in Slot slot)
        where TVector : struct, IFloatVector<TVector>
    {
        if (slot.Lanes == TVector.Count)
        {
            TVector.Store(v, ref destination);
        }
        else if (!slot.Exact)
        {
            TVector.StoreLanes(v, ref destination, 0, slot.Lanes);
        }
        else
        {
            StoreExact(v, ref destination, slot.Lanes);
        }
    }

    /// <summary>
    /// The first <paramref name="lanes"/> lanes of <paramref name="v"/>, and nothing past them: a plane's last vector, whose
    /// other lanes would fall on the next filter's plane, which another thread may be writing (a split forward pass).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // a call here would make the tile keep its accumulators across it
    private static void StoreExact<TVector>(TVector v, ref float destination, int lanes)
        where TVector : struct, IFloatVector<TVector>
    {
        Lanes16 buffer = default;
        TVector.Store(v, ref buffer[0]);
        for (int l = 0; l < lanes; l++)
        {
            Unsafe.Add(ref destination, l) = buffer[l];
        }
    }

    /// <summary>Room for the lanes of the widest vector.</summary>
    [InlineArray(16)]
    private struct Lanes16
    {
        private float _lane;
    }

    /// <summary>A vector of output pixels (of one row, or with <see cref="ForwardCompacted{TVector}(ref float, ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/> of the plane): where its first tap starts in a channel of the input and where it starts in a filter's output plane, and its lanes to store.</summary>
    /// <remarks><see cref="Exact"/>: the vector reaches past the filter's output plane, so only its own lanes may be written.</remarks>
    private readonly record struct Slot(int Input, int Output, int Lanes, bool Exact = false);

    /// <summary>
    /// The convolution's sizes a tile runs over, and the input's strides: from one channel to the next, from one kernel row to
    /// the next, and from one kernel column to the next (1 in the input itself, a plane of the compacted copy); <see cref="Rows"/>
    /// taps per filter, <see cref="OutputPlane"/> floats per filter's output.
    /// </summary>
    private readonly record struct Shape(int Channels, int KernelHeight, int KernelWidth, int RowStride, int ChannelStride, int TapStride, int OutputPlane)
    {
        public int Rows => Channels * KernelHeight * KernelWidth;
    }
}
