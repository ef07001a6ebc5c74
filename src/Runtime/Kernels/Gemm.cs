using System;
using System.Runtime.CompilerServices;

namespace NetGen.Kernels;

/// <summary>
/// Matrix products for generated layers: <see cref="MultiplyAdd"/> (C += A·B, blocked for the caches), <see cref="Multiply"/>
/// and <see cref="MultiplyBias"/> (the same written over C, from zero or from each row's bias) and <see cref="Dot"/>
/// (C += A·Bᵀ, dot products along rows), all around register-blocked micro-kernels. Generated code calls them with
/// literal shapes and strides; they are inlined there, so the JIT sees those literals as constants. Matrices are
/// addressed by a reference to their first element and element strides, so any row-major or transposed view
/// of a buffer can be passed without copying.
/// </summary>
/// <remarks>
/// <c>paddedTail</c>: when the number of columns is not a multiple of the vector width, the last partial vector
/// of each row is handled with a masked store that reads and rewrites (unchanged) up to <c>Count − 1</c> floats
/// past the row's end, in B and C; pass true only when those floats are addressable (generated workspaces
/// carry that slack). Otherwise a row's last columns are its last whole vector, which stays inside the row (its first
/// lanes, columns already done, are computed again and not stored), or, for rows shorter than a vector, one float at a time.
/// </remarks>
public static partial class Gemm
{
    /// <summary>
    /// C(i, j) += Σ_p A(i, p) · B(j, p) (dot products along contiguous rows) for i &lt; <paramref name="m"/> and j &lt; <paramref name="n"/>,
    /// where A(i, p) = a[i·aRow + p], B(j, p) = b[j·bRow + p], C(i, j) = c[i·cRow + j·cColumn]: rows in tiles of 4
    /// (<see cref="DotRows4"/>), the rows left over two and one at a time (<see cref="DotRowsLeft"/>); when B has more rows than A, over
    /// blocks of 4 rows of B, so that the larger operand is read from memory once. Every dot product is accumulated
    /// the same way whichever kernel computes it (one vector, the masked tail vector, then its lanes).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot<TVector>(ref float a, int aRow, ref float b, int bRow, int k, ref float c, int cRow, int cColumn, int m, int n)
        where TVector : struct, IFloatVector<TVector>
    {
        // If A has as many rows as B or more, all of B at once: each tile of A's rows is read from memory once and B, the
        // smaller, from L1. Otherwise blocks of 4 rows of B: B is read from memory once and A, the smaller, from L1.
        // (One call site, so that the kernels are inlined once: generated methods stay within the JIT's inlining budget.)
        int block = n <= m ? n : 4;
        for (int j = 0; j < n; j += block)
        {
            DotColumns<TVector>(ref a, aRow, ref Unsafe.Add(ref b, j * bRow), bRow, k, ref Unsafe.Add(ref c, j * cColumn), cRow, cColumn, m, Math.Min(block, n - j));
        }
    }

    /// <summary>The product of <see cref="Dot"/> over all of A's rows for the <paramref name="n"/> rows of B: rows in tiles of 4, then <see cref="DotRowsLeft"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotColumns<TVector>(ref float a, int aRow, ref float b, int bRow, int k, ref float c, int cRow, int cColumn, int m, int n)
        where TVector : struct, IFloatVector<TVector>
    {
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            DotRows4<TVector>(ref Unsafe.Add(ref a, i * aRow), aRow, ref b, bRow, k, ref Unsafe.Add(ref c, i * cRow), cRow, cColumn, n);
        }

        if (i < m)
        {
            DotRowsLeft<TVector>(ref Unsafe.Add(ref a, i * aRow), aRow, ref b, bRow, k, ref Unsafe.Add(ref c, i * cRow), cRow, cColumn, m - i, n);
        }
    }

    /// <summary>
    /// The 1 to 3 rows left over from the 4-row tiles: two at a time (<see cref="DotRows2"/>), then one (<see cref="DotRow"/>).
    /// Not inlined: inlined next to the 4-row tiles it would take the inlining budget of the generated method that calls
    /// <see cref="Dot"/>, leaving other kernels as calls.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void DotRowsLeft<TVector>(ref float a, int aRow, ref float b, int bRow, int k, ref float c, int cRow, int cColumn, int rows, int n)
        where TVector : struct, IFloatVector<TVector>
    {
        if (rows >= 2)
        {
            DotRows2<TVector>(ref a, aRow, ref b, bRow, k, ref c, cRow, cColumn, n);
            a = ref Unsafe.Add(ref a, 2 * aRow);
            c = ref Unsafe.Add(ref c, 2 * cRow);
            rows -= 2;
        }

        if (rows == 1)
        {
            DotRow<TVector>(ref a, ref b, bRow, k, ref c, cColumn, n);
        }
    }

    /// <summary>
    /// Two rows of <see cref="DotRows4"/>: C(i, j) += Σ_k A(i, k) · B(j, k) for i = 0, 1, 4 columns j at a time (8 independent
    /// accumulators, each row of B loaded once for both rows of A), then one. Each dot product is accumulated exactly as
    /// in the 4-row tiles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotRows2<TVector>(ref float a, int aRow, ref float b, int bRow, int k, ref float c, int cRow, int cColumn, int n)
        where TVector : struct, IFloatVector<TVector>
    {
        ref float a1 = ref Unsafe.Add(ref a, aRow);
        int j = 0;
        for (; j + 4 <= n; j += 4)
        {
            ref float b0 = ref Unsafe.Add(ref b, j * bRow);
            ref float b1 = ref Unsafe.Add(ref b0, bRow);
            ref float b2 = ref Unsafe.Add(ref b0, 2 * bRow);
            ref float b3 = ref Unsafe.Add(ref b0, 3 * bRow);
            TVector s00 = TVector.Zero, s01 = TVector.Zero, s02 = TVector.Zero, s03 = TVector.Zero;
            TVector s10 = TVector.Zero, s11 = TVector.Zero, s12 = TVector.Zero, s13 = TVector.Zero;
            int p = 0;
            for (; p + TVector.Count <= k; p += TVector.Count)
            {
                TVector x0 = TVector.Load(ref Unsafe.Add(ref a, p)), x1 = TVector.Load(ref Unsafe.Add(ref a1, p));
                TVector y = TVector.Load(ref Unsafe.Add(ref b0, p));
                s00 = TVector.MultiplyAdd(x0, y, s00);
                s10 = TVector.MultiplyAdd(x1, y, s10);
                y = TVector.Load(ref Unsafe.Add(ref b1, p));
                s01 = TVector.MultiplyAdd(x0, y, s01);
                s11 = TVector.MultiplyAdd(x1, y, s11);
                y = TVector.Load(ref Unsafe.Add(ref b2, p));
                s02 = TVector.MultiplyAdd(x0, y, s02);
                s12 = TVector.MultiplyAdd(x1, y, s12);
                y = TVector.Load(ref Unsafe.Add(ref b3, p));
                s03 = TVector.MultiplyAdd(x0, y, s03);
                s13 = TVector.MultiplyAdd(x1, y, s13);
            }

            if (VectorTail<TVector>(k))
            {
                TVector mask = TailMask<TVector>(k);
                TVector x0 = LoadTail(ref a, k, mask), x1 = LoadTail(ref a1, k, mask);
                TVector y = LoadTail(ref b0, k, mask);
                s00 = TVector.MultiplyAdd(x0, y, s00);
                s10 = TVector.MultiplyAdd(x1, y, s10);
                y = LoadTail(ref b1, k, mask);
                s01 = TVector.MultiplyAdd(x0, y, s01);
                s11 = TVector.MultiplyAdd(x1, y, s11);
                y = LoadTail(ref b2, k, mask);
                s02 = TVector.MultiplyAdd(x0, y, s02);
                s12 = TVector.MultiplyAdd(x1, y, s12);
                y = LoadTail(ref b3, k, mask);
                s03 = TVector.MultiplyAdd(x0, y, s03);
                s13 = TVector.MultiplyAdd(x1, y, s13);
                p = k;
            }

            ref float cj = ref Unsafe.Add(ref c, j * cColumn);
            ref float cj1 = ref Unsafe.Add(ref cj, cRow);
            cj += TVector.Sum(s00) + Tail(ref a, ref b0, p, k);
            Unsafe.Add(ref cj, cColumn) += TVector.Sum(s01) + Tail(ref a, ref b1, p, k);
            Unsafe.Add(ref cj, 2 * cColumn) += TVector.Sum(s02) + Tail(ref a, ref b2, p, k);
            Unsafe.Add(ref cj, 3 * cColumn) += TVector.Sum(s03) + Tail(ref a, ref b3, p, k);
            cj1 += TVector.Sum(s10) + Tail(ref a1, ref b0, p, k);
            Unsafe.Add(ref cj1, cColumn) += TVector.Sum(s11) + Tail(ref a1, ref b1, p, k);
            Unsafe.Add(ref cj1, 2 * cColumn) += TVector.Sum(s12) + Tail(ref a1, ref b2, p, k);
            Unsafe.Add(ref cj1, 3 * cColumn) += TVector.Sum(s13) + Tail(ref a1, ref b3, p, k);
        }

        if (j < n)
        {
            DotRow<TVector>(ref a, ref Unsafe.Add(ref b, j * bRow), bRow, k, ref Unsafe.Add(ref c, j * cColumn), cColumn, n - j);
            DotRow<TVector>(ref a1, ref Unsafe.Add(ref b, j * bRow), bRow, k, ref Unsafe.Add(ref c, cRow + j * cColumn), cColumn, n - j);
        }
    }

    /// <summary>
    /// C(i, j) += Σ_k A(i, k) · B(j, k) (dot products along contiguous rows) for rows i = 0…3 and j &lt; <paramref name="n"/>,
    /// where A(i, k) = a[i·aRow + k], B(j, k) = b[j·bRow + k], C(i, j) = c[i·cRow + j·cColumn]. A tile of 4 × 4 dot products
    /// is accumulated in 16 vectors, then each is summed across its lanes: 8 loads feed 16 multiply-adds; the 1 to 3
    /// columns left over go one at a time (<see cref="DotRow"/> with A and B swapped). The k tail is one more vector: the
    /// rows' last Count floats, masked to the lanes not summed yet (or, for rows shorter than a vector, one float at a
    /// time), so nothing past a row is read. Not inlined: inlined into the generated method that calls <see cref="Dot"/>,
    /// it would take that method's inlining budget, leaving other kernels as calls.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void DotRows4<TVector>(ref float a, int aRow, ref float b, int bRow, int k, ref float c, int cRow, int cColumn, int n)
        where TVector : struct, IFloatVector<TVector>
    {
        ref float a0 = ref a;
        ref float a1 = ref Unsafe.Add(ref a, aRow);
        ref float a2 = ref Unsafe.Add(ref a, 2 * aRow);
        ref float a3 = ref Unsafe.Add(ref a, 3 * aRow);
        int j = 0;
        for (; j + 4 <= n; j += 4)
        {
            ref float b0 = ref Unsafe.Add(ref b, j * bRow);
            ref float b1 = ref Unsafe.Add(ref b0, bRow);
            ref float b2 = ref Unsafe.Add(ref b0, 2 * bRow);
            ref float b3 = ref Unsafe.Add(ref b0, 3 * bRow);
            TVector s00 = TVector.Zero, s01 = TVector.Zero, s02 = TVector.Zero, s03 = TVector.Zero;
            TVector s10 = TVector.Zero, s11 = TVector.Zero, s12 = TVector.Zero, s13 = TVector.Zero;
            TVector s20 = TVector.Zero, s21 = TVector.Zero, s22 = TVector.Zero, s23 = TVector.Zero;
            TVector s30 = TVector.Zero, s31 = TVector.Zero, s32 = TVector.Zero, s33 = TVector.Zero;
            int p = 0;
            for (; p + TVector.Count <= k; p += TVector.Count)
            {
                TVector y0 = TVector.Load(ref Unsafe.Add(ref b0, p)), y1 = TVector.Load(ref Unsafe.Add(ref b1, p));
                TVector y2 = TVector.Load(ref Unsafe.Add(ref b2, p)), y3 = TVector.Load(ref Unsafe.Add(ref b3, p));
                TVector x = TVector.Load(ref Unsafe.Add(ref a0, p));
                s00 = TVector.MultiplyAdd(x, y0, s00);
                s01 = TVector.MultiplyAdd(x, y1, s01);
                s02 = TVector.MultiplyAdd(x, y2, s02);
                s03 = TVector.MultiplyAdd(x, y3, s03);
                x = TVector.Load(ref Unsafe.Add(ref a1, p));
                s10 = TVector.MultiplyAdd(x, y0, s10);
                s11 = TVector.MultiplyAdd(x, y1, s11);
                s12 = TVector.MultiplyAdd(x, y2, s12);
                s13 = TVector.MultiplyAdd(x, y3, s13);
                x = TVector.Load(ref Unsafe.Add(ref a2, p));
                s20 = TVector.MultiplyAdd(x, y0, s20);
                s21 = TVector.MultiplyAdd(x, y1, s21);
                s22 = TVector.MultiplyAdd(x, y2, s22);
                s23 = TVector.MultiplyAdd(x, y3, s23);
                x = TVector.Load(ref Unsafe.Add(ref a3, p));
                s30 = TVector.MultiplyAdd(x, y0, s30);
                s31 = TVector.MultiplyAdd(x, y1, s31);
                s32 = TVector.MultiplyAdd(x, y2, s32);
                s33 = TVector.MultiplyAdd(x, y3, s33);
            }

            if (VectorTail<TVector>(k))
            {
                TVector mask = TailMask<TVector>(k);
                TVector y0 = LoadTail(ref b0, k, mask), y1 = LoadTail(ref b1, k, mask);
                TVector y2 = LoadTail(ref b2, k, mask), y3 = LoadTail(ref b3, k, mask);
                TVector x = LoadTail(ref a0, k, mask);
                s00 = TVector.MultiplyAdd(x, y0, s00);
                s01 = TVector.MultiplyAdd(x, y1, s01);
                s02 = TVector.MultiplyAdd(x, y2, s02);
                s03 = TVector.MultiplyAdd(x, y3, s03);
                x = LoadTail(ref a1, k, mask);
                s10 = TVector.MultiplyAdd(x, y0, s10);
                s11 = TVector.MultiplyAdd(x, y1, s11);
                s12 = TVector.MultiplyAdd(x, y2, s12);
                s13 = TVector.MultiplyAdd(x, y3, s13);
                x = LoadTail(ref a2, k, mask);
                s20 = TVector.MultiplyAdd(x, y0, s20);
                s21 = TVector.MultiplyAdd(x, y1, s21);
                s22 = TVector.MultiplyAdd(x, y2, s22);
                s23 = TVector.MultiplyAdd(x, y3, s23);
                x = LoadTail(ref a3, k, mask);
                s30 = TVector.MultiplyAdd(x, y0, s30);
                s31 = TVector.MultiplyAdd(x, y1, s31);
                s32 = TVector.MultiplyAdd(x, y2, s32);
                s33 = TVector.MultiplyAdd(x, y3, s33);
                p = k;
            }

            ref float cj = ref Unsafe.Add(ref c, j * cColumn);
            ref float c1 = ref Unsafe.Add(ref cj, cRow);
            ref float c2 = ref Unsafe.Add(ref cj, 2 * cRow);
            ref float c3 = ref Unsafe.Add(ref cj, 3 * cRow);
            cj += TVector.Sum(s00) + Tail(ref a0, ref b0, p, k);
            Unsafe.Add(ref cj, cColumn) += TVector.Sum(s01) + Tail(ref a0, ref b1, p, k);
            Unsafe.Add(ref cj, 2 * cColumn) += TVector.Sum(s02) + Tail(ref a0, ref b2, p, k);
            Unsafe.Add(ref cj, 3 * cColumn) += TVector.Sum(s03) + Tail(ref a0, ref b3, p, k);
            c1 += TVector.Sum(s10) + Tail(ref a1, ref b0, p, k);
            Unsafe.Add(ref c1, cColumn) += TVector.Sum(s11) + Tail(ref a1, ref b1, p, k);
            Unsafe.Add(ref c1, 2 * cColumn) += TVector.Sum(s12) + Tail(ref a1, ref b2, p, k);
            Unsafe.Add(ref c1, 3 * cColumn) += TVector.Sum(s13) + Tail(ref a1, ref b3, p, k);
            c2 += TVector.Sum(s20) + Tail(ref a2, ref b0, p, k);
            Unsafe.Add(ref c2, cColumn) += TVector.Sum(s21) + Tail(ref a2, ref b1, p, k);
            Unsafe.Add(ref c2, 2 * cColumn) += TVector.Sum(s22) + Tail(ref a2, ref b2, p, k);
            Unsafe.Add(ref c2, 3 * cColumn) += TVector.Sum(s23) + Tail(ref a2, ref b3, p, k);
            c3 += TVector.Sum(s30) + Tail(ref a3, ref b0, p, k);
            Unsafe.Add(ref c3, cColumn) += TVector.Sum(s31) + Tail(ref a3, ref b1, p, k);
            Unsafe.Add(ref c3, 2 * cColumn) += TVector.Sum(s32) + Tail(ref a3, ref b2, p, k);
            Unsafe.Add(ref c3, 3 * cColumn) += TVector.Sum(s33) + Tail(ref a3, ref b3, p, k);
        }

        for (; j < n; j++)
        {
            // The 1 to 3 columns of B left over, each against the 4 rows: the same 4 dot products as one row against 4
            // columns, with A and B swapped (a · b = b · a, each accumulated in the same order).
            DotRow<TVector>(ref Unsafe.Add(ref b, j * bRow), ref a, aRow, k, ref Unsafe.Add(ref c, j * cColumn), cRow, 4);
        }
    }

    /// <summary>
    /// One row of <see cref="DotRows4"/>: C(0, j) += Σ_k A(0, k) · B(j, k), for the rows left over, 4 columns j at a time (4
    /// independent accumulators, so the multiply-adds do not wait on each other), then one. Each dot product is accumulated
    /// exactly as in the 4-row tiles (one vector, the masked tail vector, then its lanes), so a result does not depend on
    /// which kernel computed it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotRow<TVector>(ref float a, ref float b, int bRow, int k, ref float c, int cColumn, int n)
        where TVector : struct, IFloatVector<TVector>
    {
        int j = 0;
        for (; j + 4 <= n; j += 4)
        {
            ref float b0 = ref Unsafe.Add(ref b, j * bRow);
            ref float b1 = ref Unsafe.Add(ref b0, bRow);
            ref float b2 = ref Unsafe.Add(ref b0, 2 * bRow);
            ref float b3 = ref Unsafe.Add(ref b0, 3 * bRow);
            TVector s0 = TVector.Zero, s1 = TVector.Zero, s2 = TVector.Zero, s3 = TVector.Zero;
            int p = 0;
            for (; p + TVector.Count <= k; p += TVector.Count)
            {
                TVector x = TVector.Load(ref Unsafe.Add(ref a, p));
                s0 = TVector.MultiplyAdd(x, TVector.Load(ref Unsafe.Add(ref b0, p)), s0);
                s1 = TVector.MultiplyAdd(x, TVector.Load(ref Unsafe.Add(ref b1, p)), s1);
                s2 = TVector.MultiplyAdd(x, TVector.Load(ref Unsafe.Add(ref b2, p)), s2);
                s3 = TVector.MultiplyAdd(x, TVector.Load(ref Unsafe.Add(ref b3, p)), s3);
            }

            if (VectorTail<TVector>(k))
            {
                TVector mask = TailMask<TVector>(k);
                TVector x = LoadTail(ref a, k, mask);
                s0 = TVector.MultiplyAdd(x, LoadTail(ref b0, k, mask), s0);
                s1 = TVector.MultiplyAdd(x, LoadTail(ref b1, k, mask), s1);
                s2 = TVector.MultiplyAdd(x, LoadTail(ref b2, k, mask), s2);
                s3 = TVector.MultiplyAdd(x, LoadTail(ref b3, k, mask), s3);
                p = k;
            }

            ref float cj = ref Unsafe.Add(ref c, j * cColumn);
            cj += TVector.Sum(s0) + Tail(ref a, ref b0, p, k);
            Unsafe.Add(ref cj, cColumn) += TVector.Sum(s1) + Tail(ref a, ref b1, p, k);
            Unsafe.Add(ref cj, 2 * cColumn) += TVector.Sum(s2) + Tail(ref a, ref b2, p, k);
            Unsafe.Add(ref cj, 3 * cColumn) += TVector.Sum(s3) + Tail(ref a, ref b3, p, k);
        }

        for (; j < n; j++)
        {
            ref float bj = ref Unsafe.Add(ref b, j * bRow);
            TVector sum = TVector.Zero;
            int p = 0;
            for (; p + TVector.Count <= k; p += TVector.Count)
            {
                sum = TVector.MultiplyAdd(TVector.Load(ref Unsafe.Add(ref a, p)), TVector.Load(ref Unsafe.Add(ref bj, p)), sum);
            }

            if (VectorTail<TVector>(k))
            {
                TVector mask = TailMask<TVector>(k);
                sum = TVector.MultiplyAdd(LoadTail(ref a, k, mask), LoadTail(ref bj, k, mask), sum);
                p = k;
            }

            Unsafe.Add(ref c, j * cColumn) += TVector.Sum(sum) + Tail(ref a, ref bj, p, k);
        }
    }

    /// <summary>
    /// The k tail as one more vector: when the rows are at least a vector long and k is not a multiple of it, the last
    /// <see cref="IFloatVector{TSelf}.Count"/> floats of both rows, masked to the lanes not yet summed (reading stays inside the
    /// rows). Zero when there is no tail.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector TailMask<TVector>(int k)
        where TVector : struct, IFloatVector<TVector> =>
        TVector.LaneMask(TVector.Count - k % TVector.Count, TVector.Count);

    /// <summary>Whether the k tail is summed as a masked vector (<see cref="TailMask"/>) rather than one float at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool VectorTail<TVector>(int k)
        where TVector : struct, IFloatVector<TVector> =>
        k % TVector.Count != 0 && k >= TVector.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector LoadTail<TVector>(ref float row, int k, TVector mask)
        where TVector : struct, IFloatVector<TVector> =>
        TVector.Masked(TVector.Load(ref Unsafe.Add(ref row, k - TVector.Count)), mask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail(ref float x, ref float y, int from, int k)
    {
        float sum = 0;
        for (int p = from; p < k; p++)
        {
            sum += Unsafe.Add(ref x, p) * Unsafe.Add(ref y, p);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyAddColumn(ref float a, int aColumn, ref float b, int bRow, int k, ref float c, bool load, float start)
    {
        float sum = load ? c : start;
        for (int p = 0; p < k; p++)
        {
            sum += Unsafe.Add(ref a, p * aColumn) * Unsafe.Add(ref b, p * bRow);
        }

        c = sum;
    }
}
