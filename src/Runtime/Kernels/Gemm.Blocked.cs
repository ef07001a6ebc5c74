using System;
using System.Runtime.CompilerServices;

namespace NetGen.Kernels;

public static partial class Gemm
{
    /// <summary>The reduction is cut into blocks of at most this many steps, so that a block of B (this × 2 vectors) stays in L1.</summary>
    public const int ReductionBlock = 128;

    /// <summary>
    /// C(i, j) += Σ_p A(i, p) · B(p, j) for i &lt; <paramref name="m"/>, j &lt; <paramref name="n"/>, p &lt; <paramref name="k"/>, where
    /// A(i, p) = a[i·aRow + p·aColumn], B(p, j) = b[p·bRow + j], C(i, j) = c[i·cRow + j]: the whole product, blocked for the caches.
    /// </summary>
    /// <remarks>
    /// The loops, outermost first: the reduction in equal blocks of at most <see cref="ReductionBlock"/> steps; the columns
    /// in blocks of 2 vectors; the rows in register tiles of 8 (then 4, 2, 1: <see cref="Tile2"/>). So a block of B is read from memory once
    /// and from L1 by every row tile, where looping over rows first would stream all of B once per 8 rows. A tile of
    /// 8 rows × 2 vectors keeps 16 accumulators in registers: 2 loads and 8 broadcasts feed 16 multiply-adds, enough
    /// independent ones to keep two FMA pipes busy over their latency (a 4-row tile's 8 are not). Results are
    /// deterministic: each C(i, j) sums its blocks in order, whatever m and n are. For <paramref name="paddedTail"/> see
    /// the class remarks.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyAdd<TVector>(ref float a, int aRow, int aColumn, ref float b, int bRow, ref float c, int cRow, int m, int k, int n, bool paddedTail)
        where TVector : struct, IFloatVector<TVector>
    {
        float zero = 0f;
        Product<TVector>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, accumulate: true, ref zero, 0);
    }

    /// <summary>
    /// C(i, j) = Σ_p A(i, p) · B(p, j), as <see cref="MultiplyAdd"/> but written over C instead of added to it: the first
    /// reduction block starts its accumulators at zero rather than loading C, so C needs no clearing first. <paramref name="k"/> ≥ 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Multiply<TVector>(ref float a, int aRow, int aColumn, ref float b, int bRow, ref float c, int cRow, int m, int k, int n, bool paddedTail)
        where TVector : struct, IFloatVector<TVector>
    {
        float zero = 0f;
        Product<TVector>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, accumulate: false, ref zero, 0);
    }

    /// <summary>
    /// C(i, j) = bias(i) + Σ_p A(i, p) · B(p, j), with bias(i) = <paramref name="bias"/>[i], written over C: the first
    /// reduction block starts row i's accumulators at bias(i) (a convolution's y = b + W · columns in one pass). <paramref name="k"/> ≥ 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyBias<TVector>(ref float a, int aRow, int aColumn, ref float b, int bRow, ref float c, int cRow, ref float bias, int m, int k, int n, bool paddedTail)
        where TVector : struct, IFloatVector<TVector> =>
        Product<TVector>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, accumulate: false, ref bias, 1);

    /// <summary>The three products: added to C, or written over it, each row then starting at start[i · startStep].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Product<TVector>(ref float a, int aRow, int aColumn, ref float b, int bRow, ref float c, int cRow, int m, int k, int n, bool paddedTail, bool accumulate, ref float start, int startStep)
        where TVector : struct, IFloatVector<TVector>
    {
        int blocks = (k + ReductionBlock - 1) / ReductionBlock;
        int step = blocks == 0 ? 1 : (k + blocks - 1) / blocks;
        for (int p0 = 0; p0 < k; p0 += step)
        {
            int kb = Math.Min(step, k - p0);
            bool load = accumulate || p0 > 0; // the tiles start from C, or (the first block of a product written over C) from each row's start
            ref float ap = ref Unsafe.Add(ref a, p0 * aColumn);
            ref float bp = ref Unsafe.Add(ref b, p0 * bRow);
            int j = 0;
            for (; j + 2 * TVector.Count <= n; j += 2 * TVector.Count)
            {
                ref float bj = ref Unsafe.Add(ref bp, j);
                ref float cj = ref Unsafe.Add(ref c, j);
                int i = 0;
                for (; i + 8 <= m; i += 8)
                {
                    Tile2<TVector, Eight>(ref ap, aRow, aColumn, ref bj, bRow, kb, ref cj, cRow, load, ref start, startStep, i);
                }

                if (i + 4 <= m)
                {
                    Tile2<TVector, Four>(ref ap, aRow, aColumn, ref bj, bRow, kb, ref cj, cRow, load, ref start, startStep, i);
                    i += 4;
                }

                if (i + 2 <= m)
                {
                    Tile2<TVector, Two>(ref ap, aRow, aColumn, ref bj, bRow, kb, ref cj, cRow, load, ref start, startStep, i);
                    i += 2;
                }

                if (i < m)
                {
                    Tile2<TVector, One>(ref ap, aRow, aColumn, ref bj, bRow, kb, ref cj, cRow, load, ref start, startStep, i);
                }
            }

            for (; j < n; j += TVector.Count)
            {
                // Lanes first … limit − 1 of the vector at column `at` are this block's columns j … n − 1.
                int left = n - j, at = j, first = 0, limit = left;
                if (left < TVector.Count && !paddedTail)
                {
                    if (n < TVector.Count)
                    {
                        for (int r = 0; r < m; r++)
                        {
                            for (int jj = j; jj < n; jj++)
                            {
                                MultiplyAddColumn(ref Unsafe.Add(ref ap, r * aRow), aColumn, ref Unsafe.Add(ref bp, jj), bRow, kb, ref Unsafe.Add(ref c, r * cRow + jj), load, Unsafe.Add(ref start, r * startStep));
                            }
                        }

                        break;
                    }

                    // No slack past the rows: the row's last whole vector instead, which ends at its last column. Its first
                    // Count − left lanes (columns already done) are computed again and not stored.
                    at = n - TVector.Count;
                    first = TVector.Count - left;
                    limit = TVector.Count;
                }

                ref float bj = ref Unsafe.Add(ref bp, at);
                ref float cj = ref Unsafe.Add(ref c, at);
                var lanes = new Lanes(first, limit);
                int i = 0;
                for (; i + 8 <= m; i += 8)
                {
                    Tile1<TVector, Eight>(ref ap, aRow, aColumn, ref bj, bRow, kb, ref cj, cRow, load, ref start, startStep, i, lanes);
                }

                if (i + 4 <= m)
                {
                    Tile1<TVector, Four>(ref ap, aRow, aColumn, ref bj, bRow, kb, ref cj, cRow, load, ref start, startStep, i, lanes);
                    i += 4;
                }

                if (i + 2 <= m)
                {
                    Tile1<TVector, Two>(ref ap, aRow, aColumn, ref bj, bRow, kb, ref cj, cRow, load, ref start, startStep, i, lanes);
                    i += 2;
                }

                if (i < m)
                {
                    Tile1<TVector, One>(ref ap, aRow, aColumn, ref bj, bRow, kb, ref cj, cRow, load, ref start, startStep, i, lanes);
                }
            }
        }
    }

    /// <summary>
    /// Rows <paramref name="row"/> … <paramref name="row"/> + <typeparamref name="TRows"/> − 1 × 2 vectors of columns, over
    /// <paramref name="k"/> reduction steps: per step, 2 loads of B and one broadcast of A per row feed 2 multiply-adds per
    /// row; 8 rows keep 16 accumulators, enough independent multiply-adds to keep two FMA pipes busy over their latency. One
    /// body for the 8-, 4-, 2- and 1-row tiles (the row count is a type, see <see cref="IRowCount"/>). Not inlined: it would
    /// take the inlining budget of the generated method that calls the product, leaving other kernels as calls; a call
    /// per tile of a whole reduction block costs little next to its work.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile2<TVector, TRows>(ref float a, int aRow, int aColumn, ref float b, int bRow, int k, ref float c, int cRow, bool load, ref float start, int startStep, int row)
        where TVector : struct, IFloatVector<TVector>
        where TRows : struct, IRowCount
    {
        int count = TRows.Count, v = TVector.Count;
        a = ref Unsafe.Add(ref a, row * aRow);
        c = ref Unsafe.Add(ref c, row * cRow);
        start = ref Unsafe.Add(ref start, row * startStep);
        TVector s00 = Start<TVector>(ref c, load, start), s01 = Start<TVector>(ref Unsafe.Add(ref c, v), load, start);
        TVector s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        TVector s40 = default, s41 = default, s50 = default, s51 = default, s60 = default, s61 = default, s70 = default, s71 = default;
        if (count > 1)
        {
            s10 = Start<TVector>(ref Unsafe.Add(ref c, cRow), load, Unsafe.Add(ref start, startStep));
            s11 = Start<TVector>(ref Unsafe.Add(ref c, cRow + v), load, Unsafe.Add(ref start, startStep));
        }

        if (count > 2)
        {
            s20 = Start<TVector>(ref Unsafe.Add(ref c, 2 * cRow), load, Unsafe.Add(ref start, 2 * startStep));
            s21 = Start<TVector>(ref Unsafe.Add(ref c, 2 * cRow + v), load, Unsafe.Add(ref start, 2 * startStep));
            s30 = Start<TVector>(ref Unsafe.Add(ref c, 3 * cRow), load, Unsafe.Add(ref start, 3 * startStep));
            s31 = Start<TVector>(ref Unsafe.Add(ref c, 3 * cRow + v), load, Unsafe.Add(ref start, 3 * startStep));
        }

        if (count > 4)
        {
            s40 = Start<TVector>(ref Unsafe.Add(ref c, 4 * cRow), load, Unsafe.Add(ref start, 4 * startStep));
            s41 = Start<TVector>(ref Unsafe.Add(ref c, 4 * cRow + v), load, Unsafe.Add(ref start, 4 * startStep));
            s50 = Start<TVector>(ref Unsafe.Add(ref c, 5 * cRow), load, Unsafe.Add(ref start, 5 * startStep));
            s51 = Start<TVector>(ref Unsafe.Add(ref c, 5 * cRow + v), load, Unsafe.Add(ref start, 5 * startStep));
            s60 = Start<TVector>(ref Unsafe.Add(ref c, 6 * cRow), load, Unsafe.Add(ref start, 6 * startStep));
            s61 = Start<TVector>(ref Unsafe.Add(ref c, 6 * cRow + v), load, Unsafe.Add(ref start, 6 * startStep));
            s70 = Start<TVector>(ref Unsafe.Add(ref c, 7 * cRow), load, Unsafe.Add(ref start, 7 * startStep));
            s71 = Start<TVector>(ref Unsafe.Add(ref c, 7 * cRow + v), load, Unsafe.Add(ref start, 7 * startStep));
        }

        // Row r of A at the current p: a0 + r·aRow for r < 3, a3 + (r − 3)·aRow for r < 6, a6 + (r − 6)·aRow: three references
        // advancing with p, so every broadcast is one address mode and no index arithmetic runs per step.
        ref float a0 = ref a;
        ref float a3 = ref Unsafe.Add(ref a, Math.Min(count - 1, 3) * aRow);
        ref float a6 = ref Unsafe.Add(ref a, Math.Min(count - 1, 6) * aRow);
        nint rowBytes = (nint)aRow * sizeof(float), columnBytes = (nint)aColumn * sizeof(float), bBytes = (nint)bRow * sizeof(float);
        ref float bp = ref b;
        for (int p = 0; p < k; p++)
        {
            TVector b0 = TVector.Load(ref bp), b1 = TVector.Load(ref Unsafe.Add(ref bp, v));
            bp = ref Unsafe.AddByteOffset(ref bp, bBytes);
            TVector x = TVector.Broadcast(a0);
            s00 = TVector.MultiplyAdd(x, b0, s00);
            s01 = TVector.MultiplyAdd(x, b1, s01);
            if (count > 1)
            {
                x = TVector.Broadcast(Unsafe.AddByteOffset(ref a0, rowBytes));
                s10 = TVector.MultiplyAdd(x, b0, s10);
                s11 = TVector.MultiplyAdd(x, b1, s11);
            }

            if (count > 2)
            {
                x = TVector.Broadcast(Unsafe.AddByteOffset(ref a0, 2 * rowBytes));
                s20 = TVector.MultiplyAdd(x, b0, s20);
                s21 = TVector.MultiplyAdd(x, b1, s21);
                x = TVector.Broadcast(a3);
                s30 = TVector.MultiplyAdd(x, b0, s30);
                s31 = TVector.MultiplyAdd(x, b1, s31);
            }

            if (count > 4)
            {
                x = TVector.Broadcast(Unsafe.AddByteOffset(ref a3, rowBytes));
                s40 = TVector.MultiplyAdd(x, b0, s40);
                s41 = TVector.MultiplyAdd(x, b1, s41);
                x = TVector.Broadcast(Unsafe.AddByteOffset(ref a3, 2 * rowBytes));
                s50 = TVector.MultiplyAdd(x, b0, s50);
                s51 = TVector.MultiplyAdd(x, b1, s51);
                x = TVector.Broadcast(a6);
                s60 = TVector.MultiplyAdd(x, b0, s60);
                s61 = TVector.MultiplyAdd(x, b1, s61);
                x = TVector.Broadcast(Unsafe.AddByteOffset(ref a6, rowBytes));
                s70 = TVector.MultiplyAdd(x, b0, s70);
                s71 = TVector.MultiplyAdd(x, b1, s71);
            }

            a0 = ref Unsafe.AddByteOffset(ref a0, columnBytes);
            if (count > 3)
            {
                a3 = ref Unsafe.AddByteOffset(ref a3, columnBytes);
            }

            if (count > 6)
            {
                a6 = ref Unsafe.AddByteOffset(ref a6, columnBytes);
            }
        }

        TVector.Store(s00, ref c);
        TVector.Store(s01, ref Unsafe.Add(ref c, v));
        if (count > 1)
        {
            TVector.Store(s10, ref Unsafe.Add(ref c, cRow));
            TVector.Store(s11, ref Unsafe.Add(ref c, cRow + v));
        }

        if (count > 2)
        {
            TVector.Store(s20, ref Unsafe.Add(ref c, 2 * cRow));
            TVector.Store(s21, ref Unsafe.Add(ref c, 2 * cRow + v));
            TVector.Store(s30, ref Unsafe.Add(ref c, 3 * cRow));
            TVector.Store(s31, ref Unsafe.Add(ref c, 3 * cRow + v));
        }

        if (count > 4)
        {
            TVector.Store(s40, ref Unsafe.Add(ref c, 4 * cRow));
            TVector.Store(s41, ref Unsafe.Add(ref c, 4 * cRow + v));
            TVector.Store(s50, ref Unsafe.Add(ref c, 5 * cRow));
            TVector.Store(s51, ref Unsafe.Add(ref c, 5 * cRow + v));
            TVector.Store(s60, ref Unsafe.Add(ref c, 6 * cRow));
            TVector.Store(s61, ref Unsafe.Add(ref c, 6 * cRow + v));
            TVector.Store(s70, ref Unsafe.Add(ref c, 7 * cRow));
            TVector.Store(s71, ref Unsafe.Add(ref c, 7 * cRow + v));
        }
    }

    /// <summary>
    /// Rows <paramref name="row"/> … <paramref name="row"/> + <typeparamref name="TRows"/> − 1 × 1 vector of columns (a row's
    /// last columns, fewer than 2 vectors), of which <paramref name="lanes"/> are stored: as <see cref="Tile2"/> with one
    /// vector, 8 rows keeping 8 accumulators (a 4-row tile's 4 leave the FMA pipes waiting on their latency).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile1<TVector, TRows>(ref float a, int aRow, int aColumn, ref float b, int bRow, int k, ref float c, int cRow, bool load, ref float start, int startStep, int row, Lanes lanes)
        where TVector : struct, IFloatVector<TVector>
        where TRows : struct, IRowCount
    {
        int count = TRows.Count;
        a = ref Unsafe.Add(ref a, row * aRow);
        c = ref Unsafe.Add(ref c, row * cRow);
        start = ref Unsafe.Add(ref start, row * startStep);
        TVector s0 = Start<TVector>(ref c, load, start);
        TVector s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        if (count > 1)
        {
            s1 = Start<TVector>(ref Unsafe.Add(ref c, cRow), load, Unsafe.Add(ref start, startStep));
        }

        if (count > 2)
        {
            s2 = Start<TVector>(ref Unsafe.Add(ref c, 2 * cRow), load, Unsafe.Add(ref start, 2 * startStep));
            s3 = Start<TVector>(ref Unsafe.Add(ref c, 3 * cRow), load, Unsafe.Add(ref start, 3 * startStep));
        }

        if (count > 4)
        {
            s4 = Start<TVector>(ref Unsafe.Add(ref c, 4 * cRow), load, Unsafe.Add(ref start, 4 * startStep));
            s5 = Start<TVector>(ref Unsafe.Add(ref c, 5 * cRow), load, Unsafe.Add(ref start, 5 * startStep));
            s6 = Start<TVector>(ref Unsafe.Add(ref c, 6 * cRow), load, Unsafe.Add(ref start, 6 * startStep));
            s7 = Start<TVector>(ref Unsafe.Add(ref c, 7 * cRow), load, Unsafe.Add(ref start, 7 * startStep));
        }

        // A's rows as in Tile2: three references advancing with p.
        ref float a0 = ref a;
        ref float a3 = ref Unsafe.Add(ref a, Math.Min(count - 1, 3) * aRow);
        ref float a6 = ref Unsafe.Add(ref a, Math.Min(count - 1, 6) * aRow);
        nint rowBytes = (nint)aRow * sizeof(float), columnBytes = (nint)aColumn * sizeof(float), bBytes = (nint)bRow * sizeof(float);
        ref float bp = ref b;
        for (int p = 0; p < k; p++)
        {
            TVector b0 = TVector.Load(ref bp);
            bp = ref Unsafe.AddByteOffset(ref bp, bBytes);
            s0 = TVector.MultiplyAdd(TVector.Broadcast(a0), b0, s0);
            if (count > 1)
            {
                s1 = TVector.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref a0, rowBytes)), b0, s1);
            }

            if (count > 2)
            {
                s2 = TVector.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref a0, 2 * rowBytes)), b0, s2);
                s3 = TVector.MultiplyAdd(TVector.Broadcast(a3), b0, s3);
            }

            if (count > 4)
            {
                s4 = TVector.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref a3, rowBytes)), b0, s4);
                s5 = TVector.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref a3, 2 * rowBytes)), b0, s5);
                s6 = TVector.MultiplyAdd(TVector.Broadcast(a6), b0, s6);
                s7 = TVector.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref a6, rowBytes)), b0, s7);
            }

            a0 = ref Unsafe.AddByteOffset(ref a0, columnBytes);
            if (count > 3)
            {
                a3 = ref Unsafe.AddByteOffset(ref a3, columnBytes);
            }

            if (count > 6)
            {
                a6 = ref Unsafe.AddByteOffset(ref a6, columnBytes);
            }
        }

        StoreLanes(s0, ref c, lanes);
        if (count > 1)
        {
            StoreLanes(s1, ref Unsafe.Add(ref c, cRow), lanes);
        }

        if (count > 2)
        {
            StoreLanes(s2, ref Unsafe.Add(ref c, 2 * cRow), lanes);
            StoreLanes(s3, ref Unsafe.Add(ref c, 3 * cRow), lanes);
        }

        if (count > 4)
        {
            StoreLanes(s4, ref Unsafe.Add(ref c, 4 * cRow), lanes);
            StoreLanes(s5, ref Unsafe.Add(ref c, 5 * cRow), lanes);
            StoreLanes(s6, ref Unsafe.Add(ref c, 6 * cRow), lanes);
            StoreLanes(s7, ref Unsafe.Add(ref c, 7 * cRow), lanes);
        }
    }

    /// <summary>Lanes <see cref="First"/> … <see cref="Limit"/> − 1 of a vector: the ones <see cref="Tile1"/> stores.</summary>
    private readonly record struct Lanes(int First, int Limit);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreLanes<TVector>(TVector value, ref float c, Lanes lanes)
        where TVector : struct, IFloatVector<TVector>
    {
        if (lanes.First == 0 && lanes.Limit >= TVector.Count)
        {
            TVector.Store(value, ref c);
        }
        else
        {
            TVector.StoreLanes(value, ref c, lanes.First, lanes.Limit);
        }
    }

    /// <summary>A tile's accumulator: C's value, or, in the first reduction block of a product written over C, the row's start value (zero or its bias).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Start<TVector>(ref float c, bool load, float start)
        where TVector : struct, IFloatVector<TVector> =>
        load ? TVector.Load(ref c) : TVector.Broadcast(start);
}
