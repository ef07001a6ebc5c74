using System;
using System.Runtime.CompilerServices;

namespace NetGen.Kernels;

/// <summary>
/// A stride-1 convolution computed straight from its (zero-padded) input, without unfolding it first (im2col): the
/// matrix product of <see cref="Gemm.MultiplyBias"/> with the unfolded input's rows read in place. Generated code calls
/// it with literal shapes.
/// </summary>
/// <remarks>
/// Row r = (t, m, n) of the unfolded input, at output pixel (i, j), is input(t, i + m, j + n): along j, a contiguous run
/// of the input. So a vector of output pixels of one row, for one tap, is one load from the input, and a register tile
/// of filters × 2 such vectors runs over the taps like a tile of <see cref="Gemm"/> over its reduction. Each output row
/// is cut into vectors ("slots"); a tile takes two slots, in order (the two halves of a row, or two rows when a row is one
/// vector). A slot's lanes past the row's end read the next floats of the input and are not stored. Every output sums
/// bias, then its taps in order with one multiply-add each, exactly as <see cref="Gemm.MultiplyBias"/> on the unfolded
/// input does: the results are the same bits.
/// </remarks>
public static class Convolution
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
        where TVector : struct, IFloatVector<TVector>
    {
        var shape = new Shape(channels, kernelHeight, kernelWidth, inputWidth, inputPlane, outputHeight * outputWidth);
        int slotsPerRow = (outputWidth + TVector.Count - 1) / TVector.Count;
        int slots = outputHeight * slotsPerRow;
        for (int s = 0; s < slots; s += 2)
        {
            // The tile's two slots; a last slot alone goes twice and is stored once.
            int first = s, second = Math.Min(s + 1, slots - 1);
            int i0 = first / slotsPerRow, j0 = first % slotsPerRow * TVector.Count;
            int i1 = second / slotsPerRow, j1 = second % slotsPerRow * TVector.Count;
            var slot0 = new Slot(i0 * inputWidth + j0, i0 * outputWidth + j0, Math.Min(TVector.Count, outputWidth - j0));
            var slot1 = new Slot(i1 * inputWidth + j1, i1 * outputWidth + j1, second == first ? 0 : Math.Min(TVector.Count, outputWidth - j1));
            int k = 0;
            for (; k + 8 <= filters; k += 8)
            {
                Tile<TVector, Eight>(ref weight, ref bias, ref x, ref y, shape, k, slot0, slot1);
            }

            if (k + 6 <= filters)
            {
                Tile<TVector, Six>(ref weight, ref bias, ref x, ref y, shape, k, slot0, slot1);
                k += 6;
            }
            else if (k + 4 <= filters)
            {
                Tile<TVector, Four>(ref weight, ref bias, ref x, ref y, shape, k, slot0, slot1);
                k += 4;
            }

            if (k + 2 <= filters)
            {
                Tile<TVector, Two>(ref weight, ref bias, ref x, ref y, shape, k, slot0, slot1);
                k += 2;
            }

            if (k < filters)
            {
                Tile<TVector, One>(ref weight, ref bias, ref x, ref y, shape, k, slot0, slot1);
            }
        }
    }

    /// <summary>
    /// <typeparamref name="TRows"/> filters from <paramref name="first"/> × 2 slots, summed over every tap (t, m, n) in
    /// order: per tap, 2 loads of the input and one broadcast weight per filter feed 2 multiply-adds per filter; up to 16
    /// accumulators. Filters go 8 at a time,
    /// then the rest as 6 (LeNet-5's conv1: one pass over the input instead of two), 4, 2 and 1. The row count is a type,
    /// so the JIT compiles one copy per tile size with the unused filters removed. Not inlined: one call runs every tap.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TVector, TRows>(ref float weight, ref float bias, ref float x, ref float y, Shape shape, int first, Slot slot0, Slot slot1)
        where TVector : struct, IFloatVector<TVector>
        where TRows : struct, IRowCount
    {
        int count = TRows.Count, rows = shape.Rows, plane = shape.OutputPlane;
        bias = ref Unsafe.Add(ref bias, first);
        y = ref Unsafe.Add(ref y, first * plane);
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

        ref float w = ref Unsafe.Add(ref weight, first * rows); // tap r of filter first + f: w[f·rows + r], r advancing with the taps
        for (int t = 0; t < shape.Channels; t++)
        {
            for (int m = 0; m < shape.KernelHeight; m++)
            {
                ref float row0 = ref Unsafe.Add(ref x, t * shape.InputPlane + m * shape.InputWidth + slot0.Input);
                ref float row1 = ref Unsafe.Add(ref x, t * shape.InputPlane + m * shape.InputWidth + slot1.Input);
                for (int n = 0; n < shape.KernelWidth; n++)
                {
                    TVector b0 = TVector.Load(ref Unsafe.Add(ref row0, n)), b1 = TVector.Load(ref Unsafe.Add(ref row1, n));
                    TVector a = TVector.Broadcast(w);
                    s00 = TVector.MultiplyAdd(a, b0, s00);
                    s01 = TVector.MultiplyAdd(a, b1, s01);
                    if (count > 1)
                    {
                        a = TVector.Broadcast(Unsafe.Add(ref w, rows));
                        s10 = TVector.MultiplyAdd(a, b0, s10);
                        s11 = TVector.MultiplyAdd(a, b1, s11);
                    }

                    if (count > 2)
                    {
                        a = TVector.Broadcast(Unsafe.Add(ref w, 2 * rows));
                        s20 = TVector.MultiplyAdd(a, b0, s20);
                        s21 = TVector.MultiplyAdd(a, b1, s21);
                        a = TVector.Broadcast(Unsafe.Add(ref w, 3 * rows));
                        s30 = TVector.MultiplyAdd(a, b0, s30);
                        s31 = TVector.MultiplyAdd(a, b1, s31);
                    }

                    if (count > 4)
                    {
                        a = TVector.Broadcast(Unsafe.Add(ref w, 4 * rows));
                        s40 = TVector.MultiplyAdd(a, b0, s40);
                        s41 = TVector.MultiplyAdd(a, b1, s41);
                        a = TVector.Broadcast(Unsafe.Add(ref w, 5 * rows));
                        s50 = TVector.MultiplyAdd(a, b0, s50);
                        s51 = TVector.MultiplyAdd(a, b1, s51);
                    }

                    if (count > 6)
                    {
                        a = TVector.Broadcast(Unsafe.Add(ref w, 6 * rows));
                        s60 = TVector.MultiplyAdd(a, b0, s60);
                        s61 = TVector.MultiplyAdd(a, b1, s61);
                        a = TVector.Broadcast(Unsafe.Add(ref w, 7 * rows));
                        s70 = TVector.MultiplyAdd(a, b0, s70);
                        s71 = TVector.MultiplyAdd(a, b1, s71);
                    }

                    w = ref Unsafe.Add(ref w, 1);
                }
            }
        }

        Store(s00, s01, ref y, slot0, slot1);
        if (count > 1)
        {
            Store(s10, s11, ref Unsafe.Add(ref y, plane), slot0, slot1);
        }

        if (count > 2)
        {
            Store(s20, s21, ref Unsafe.Add(ref y, 2 * plane), slot0, slot1);
            Store(s30, s31, ref Unsafe.Add(ref y, 3 * plane), slot0, slot1);
        }

        if (count > 4)
        {
            Store(s40, s41, ref Unsafe.Add(ref y, 4 * plane), slot0, slot1);
            Store(s50, s51, ref Unsafe.Add(ref y, 5 * plane), slot0, slot1);
        }

        if (count > 6)
        {
            Store(s60, s61, ref Unsafe.Add(ref y, 6 * plane), slot0, slot1);
            Store(s70, s71, ref Unsafe.Add(ref y, 7 * plane), slot0, slot1);
        }
    }

    /// <summary>One filter's two slots into its output plane: whole vectors, or the lanes inside the row (none for a repeated last slot).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TVector>(TVector v0, TVector v1, ref float y, Slot slot0, Slot slot1)
        where TVector : struct, IFloatVector<TVector>
    {
        StoreSlot(v0, ref Unsafe.Add(ref y, slot0.Output), slot0.Lanes);
        if (slot1.Lanes > 0)
        {
            StoreSlot(v1, ref Unsafe.Add(ref y, slot1.Output), slot1.Lanes);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSlot<TVector>(TVector v, ref float destination, int lanes)
        where TVector : struct, IFloatVector<TVector>
    {
        if (lanes == TVector.Count)
        {
            TVector.Store(v, ref destination);
        }
        else
        {
            TVector.StoreLanes(v, ref destination, 0, lanes);
        }
    }

    /// <summary>A vector of output pixels of one row: where it starts in a channel of the input and in a filter's output plane, and its lanes inside the row.</summary>
    private readonly record struct Slot(int Input, int Output, int Lanes);

    /// <summary>The convolution's sizes a tile runs over (see <see cref="Forward"/>); <see cref="Rows"/> taps per filter, <see cref="OutputPlane"/> floats per filter's output.</summary>
    private readonly record struct Shape(int Channels, int KernelHeight, int KernelWidth, int InputWidth, int InputPlane, int OutputPlane)
    {
        public int Rows => Channels * KernelHeight * KernelWidth;
    }
}
