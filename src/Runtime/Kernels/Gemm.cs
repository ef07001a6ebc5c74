using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace NetGen.Kernels;

/// <summary>
/// Matrix products for generated layers: <see cref="MultiplyAdd"/> (C += A·B, blocked for the caches), <see cref="Multiply{TVector}(ref float, int, int, ref float, int, ref float, int, int, int, int, bool, Epilogue)"/>
/// and <see cref="MultiplyBias{TVector}(ref float, int, int, ref float, int, ref float, int, ref float, int, int, int, bool, Epilogue)"/> (the same written over C, from zero or from each row's bias) and <see cref="Dot{TVector}"/>
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
    /// where A(i, p) = a[i·aRow + p], B(j, p) = b[j·bRow + p], C(i, j) = c[i·cRow + j·cColumn]: rows in tiles of 4 with 32
    /// vector registers, of 2 with 16 (<see cref="DotTile"/>), the rows left over two and one at a time; when B has more rows than A, over
    /// blocks of 4 rows of B, so that the larger operand is read from memory once. Every dot product is accumulated
    /// the same way whichever kernel computes it (one vector, the masked tail vector, then its lanes).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot<TVector>(ref float a, int aRow, ref float b, int bRow, int k, ref float c, int cRow, int cColumn, int m, int n)
        where TVector : struct, IFloatVector<TVector>
    {
        if (Avx512F.IsSupported || AdvSimd.Arm64.IsSupported) // 32 vector registers (see IRegisterFile)
        {
            Dot<TVector, ThirtyTwoRegisters>(ref a, aRow, ref b, bRow, k, ref c, cRow, cColumn, m, n);
        }
        else
        {
            Dot<TVector, SixteenRegisters>(ref a, aRow, ref b, bRow, k, ref c, cRow, cColumn, m, n);
        }
    }

    /// <summary><see cref="Dot{TVector}"/> with register tiles for <typeparamref name="TRegisters"/> (see <see cref="DotColumns"/>); tests call it with either.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Dot<TVector, TRegisters>(ref float a, int aRow, ref float b, int bRow, int k, ref float c, int cRow, int cColumn, int m, int n)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        // If A has as many rows as B or more, all of B at once: each tile of A's rows is read from memory once and B, the
        // smaller, from L1. Otherwise blocks of 4 rows of B: B is read from memory once and A, the smaller, from L1.
        // (One call site, so that the kernels are inlined once: generated methods stay within the JIT's inlining budget.)
        int block = n <= m ? n : 4;
        for (int j = 0; j < n; j += block)
        {
            DotColumns<TVector, TRegisters>(ref a, aRow, ref Unsafe.Add(ref b, j * bRow), bRow, k, ref Unsafe.Add(ref c, j * cColumn), cRow, cColumn, m, Math.Min(block, n - j));
        }
    }

    /// <summary>
    /// The product of <see cref="Dot{TVector}"/> over all of A's rows for the <paramref name="n"/> rows of B: the columns in
    /// groups of 4, their rows in tiles of 4 with 32 vector registers (16 accumulators, 4 loads of B's rows and one of A's:
    /// 21 registers), of 2 with 16 (8 accumulators: 13 registers; 4 × 4 would spill, and 3 × 4 needs 17), then 2, then 1;
    /// then each of the 1 to 3 columns left over against all of A's rows, as one row (B's) against <paramref name="m"/>
    /// columns (A's rows): a · b = b · a, accumulated in the same order, so a result does not depend on which tile computed
    /// it (nor on the register file), and a single column (a one-sample forward pass) takes one call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void DotColumns<TVector, TRegisters>(ref float a, int aRow, ref float b, int bRow, int k, ref float c, int cRow, int cColumn, int m, int n)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        int groups = n & ~3;
        if (groups > 0)
        {
            int i = 0;
            if (typeof(TRegisters) == typeof(ThirtyTwoRegisters))
            {
                for (; i + 4 <= m; i += 4)
                {
                    DotTile<TVector, Four>(ref Unsafe.Add(ref a, i * aRow), aRow, ref b, bRow, k, ref Unsafe.Add(ref c, i * cRow), cRow, cColumn, groups);
                }
            }
            else
            {
                for (; i + 2 <= m; i += 2)
                {
                    DotTile<TVector, Two>(ref Unsafe.Add(ref a, i * aRow), aRow, ref b, bRow, k, ref Unsafe.Add(ref c, i * cRow), cRow, cColumn, groups);
                }
            }

            if (i + 2 <= m)
            {
                DotTile<TVector, Two>(ref Unsafe.Add(ref a, i * aRow), aRow, ref b, bRow, k, ref Unsafe.Add(ref c, i * cRow), cRow, cColumn, groups);
                i += 2;
            }

            if (i < m)
            {
                DotTile<TVector, One>(ref Unsafe.Add(ref a, i * aRow), aRow, ref b, bRow, k, ref Unsafe.Add(ref c, i * cRow), cRow, cColumn, groups);
            }
        }

        for (int j = groups; j < n; j++)
        {
            DotTile<TVector, One>(ref Unsafe.Add(ref b, j * bRow), 0, ref a, aRow, k, ref Unsafe.Add(ref c, j * cColumn), 0, cRow, m);
        }
    }

    /// <summary>
    /// C(i, j) += Σ_p A(i, p) · B(j, p) (dot products along contiguous rows) for rows i &lt; <typeparamref name="TRows"/> (4, 2
    /// or 1) and j &lt; <paramref name="n"/>, where A(i, p) = a[i·aRow + p], B(j, p) = b[j·bRow + p], C(i, j) =
    /// c[i·cRow + j·cColumn]. Columns 4 at a time: the tile's dot products accumulate in one vector each (16 for 4 rows: 8
    /// loads feed 16 multiply-adds), then each is summed across its lanes; a one-row tile takes the 1 to 3 columns left
    /// over one dot product at a time (the callers give multi-row tiles whole groups). The k tail is one more vector: the rows' last Count floats, masked
    /// to the lanes not summed yet (or, for rows shorter than a vector, one float at a time), so nothing past a row is read.
    /// Every dot product is accumulated the same way (one vector, the masked tail vector, then its lanes), whichever tile
    /// computes it. One body for every row count: the count is a type (see <see cref="IRowCount"/>). Not inlined: inlined
    /// into the generated method that calls <see cref="Dot{TVector}"/>, the tiles would take that method's inlining budget, leaving
    /// other kernels as calls.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void DotTile<TVector, TRows>(ref float a, int aRow, ref float b, int bRow, int k, ref float c, int cRow, int cColumn, int n)
        where TVector : struct, IFloatVector<TVector>
        where TRows : struct, IRowCount
    {
        int rows = TRows.Count;
        ref float a0 = ref a;
        ref float a1 = ref Unsafe.Add(ref a, Math.Min(rows - 1, 1) * aRow);
        ref float a2 = ref Unsafe.Add(ref a, Math.Min(rows - 1, 2) * aRow);
        ref float a3 = ref Unsafe.Add(ref a, Math.Min(rows - 1, 3) * aRow);
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
                Accumulate(TVector.Load(ref Unsafe.Add(ref a0, p)), y0, y1, y2, y3, ref s00, ref s01, ref s02, ref s03);
                if (rows > 1)
                {
                    Accumulate(TVector.Load(ref Unsafe.Add(ref a1, p)), y0, y1, y2, y3, ref s10, ref s11, ref s12, ref s13);
                }

                if (rows > 2)
                {
                    Accumulate(TVector.Load(ref Unsafe.Add(ref a2, p)), y0, y1, y2, y3, ref s20, ref s21, ref s22, ref s23);
                    Accumulate(TVector.Load(ref Unsafe.Add(ref a3, p)), y0, y1, y2, y3, ref s30, ref s31, ref s32, ref s33);
                }
            }

            if (VectorTail<TVector>(k))
            {
                TVector mask = TailMask<TVector>(k);
                TVector y0 = LoadTail(ref b0, k, mask), y1 = LoadTail(ref b1, k, mask), y2 = LoadTail(ref b2, k, mask), y3 = LoadTail(ref b3, k, mask);
                Accumulate(LoadTail(ref a0, k, mask), y0, y1, y2, y3, ref s00, ref s01, ref s02, ref s03);
                if (rows > 1)
                {
                    Accumulate(LoadTail(ref a1, k, mask), y0, y1, y2, y3, ref s10, ref s11, ref s12, ref s13);
                }

                if (rows > 2)
                {
                    Accumulate(LoadTail(ref a2, k, mask), y0, y1, y2, y3, ref s20, ref s21, ref s22, ref s23);
                    Accumulate(LoadTail(ref a3, k, mask), y0, y1, y2, y3, ref s30, ref s31, ref s32, ref s33);
                }

                p = k;
            }

            ref float cj = ref Unsafe.Add(ref c, j * cColumn);
            AddSums(ref a0, ref b0, ref b1, ref b2, ref b3, p, k, s00, s01, s02, s03, ref cj, cColumn);
            if (rows > 1)
            {
                AddSums(ref a1, ref b0, ref b1, ref b2, ref b3, p, k, s10, s11, s12, s13, ref Unsafe.Add(ref cj, cRow), cColumn);
            }

            if (rows > 2)
            {
                AddSums(ref a2, ref b0, ref b1, ref b2, ref b3, p, k, s20, s21, s22, s23, ref Unsafe.Add(ref cj, 2 * cRow), cColumn);
                AddSums(ref a3, ref b0, ref b1, ref b2, ref b3, p, k, s30, s31, s32, s33, ref Unsafe.Add(ref cj, 3 * cRow), cColumn);
            }
        }

        for (; j < n; j++)
        {
            // Columns one at a time: only a one-row tile has any (see DotColumns).
            ref float bj = ref Unsafe.Add(ref b, j * bRow);
            ref float cj = ref Unsafe.Add(ref c, j * cColumn);
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

            cj += TVector.Sum(sum) + Tail(ref a, ref bj, p, k);
        }
    }

    /// <summary>One row of A against 4 rows of B: s_j += x · y_j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<TVector>(TVector x, TVector y0, TVector y1, TVector y2, TVector y3, ref TVector s0, ref TVector s1, ref TVector s2, ref TVector s3)
        where TVector : struct, IFloatVector<TVector>
    {
        s0 = TVector.MultiplyAdd(x, y0, s0);
        s1 = TVector.MultiplyAdd(x, y1, s1);
        s2 = TVector.MultiplyAdd(x, y2, s2);
        s3 = TVector.MultiplyAdd(x, y3, s3);
    }

    /// <summary>One row's 4 dot products into C: each accumulator summed across its lanes, plus the k tail left to single floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddSums<TVector>(ref float a, ref float b0, ref float b1, ref float b2, ref float b3, int p, int k, TVector s0, TVector s1, TVector s2, TVector s3, ref float c, int cColumn)
        where TVector : struct, IFloatVector<TVector>
    {
        c += TVector.Sum(s0) + Tail(ref a, ref b0, p, k);
        Unsafe.Add(ref c, cColumn) += TVector.Sum(s1) + Tail(ref a, ref b1, p, k);
        Unsafe.Add(ref c, 2 * cColumn) += TVector.Sum(s2) + Tail(ref a, ref b2, p, k);
        Unsafe.Add(ref c, 3 * cColumn) += TVector.Sum(s3) + Tail(ref a, ref b3, p, k);
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
