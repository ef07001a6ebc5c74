using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

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
    /// in blocks of 2 vectors; the rows in register tiles of 8 with 32 vector registers, 6 with 16 (then 4, 2, 1:
    /// <see cref="Rows"/>, <see cref="Tile"/>). So a block of B is read from memory once and from L1 by every row tile, where
    /// looping over rows first would stream all of B once per tile of rows. A tile of 8 rows × 2 vectors keeps 16
    /// accumulators in registers: 2 loads and 8 broadcasts feed 16 multiply-adds, enough independent ones to keep two FMA
    /// pipes busy over their latency (a 4-row tile's 8 are not); with 16 registers 6 × 2 keeps 12 and nothing spills.
    /// Results are deterministic: each C(i, j) sums its blocks in order, whatever m, n and the register file are. For
    /// <paramref name="paddedTail"/> see the class remarks.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyAdd<TVector>(ref float a, int aRow, int aColumn, ref float b, int bRow, ref float c, int cRow, int m, int k, int n, bool paddedTail)
        where TVector : struct, IFloatVector<TVector>
    {
        float zero = 0f;
        Product<TVector>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, accumulate: true, ref zero, 0, Epilogue.None);
    }

    /// <summary>
    /// C(i, j) = Σ_p A(i, p) · B(p, j), as <see cref="MultiplyAdd"/> but written over C instead of added to it: the first
    /// reduction block starts its accumulators at zero rather than loading C, so C needs no clearing first. <paramref name="k"/> ≥ 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Multiply<TVector>(ref float a, int aRow, int aColumn, ref float b, int bRow, ref float c, int cRow, int m, int k, int n, bool paddedTail)
        where TVector : struct, IFloatVector<TVector> =>
        Multiply<TVector>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, Epilogue.None);

    /// <summary>
    /// <see cref="Multiply{TVector}(ref float, int, int, ref float, int, ref float, int, int, int, int, bool)"/>, each C(i, j)
    /// through <paramref name="epilogue"/> as the last reduction block stores it (its residual addressed like C).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Multiply<TVector>(ref float a, int aRow, int aColumn, ref float b, int bRow, ref float c, int cRow, int m, int k, int n, bool paddedTail, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
    {
        float zero = 0f;
        Product<TVector>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, accumulate: false, ref zero, 0, epilogue);
    }

    /// <summary>
    /// C(i, j) = bias(i) + Σ_p A(i, p) · B(p, j), with bias(i) = <paramref name="bias"/>[i], written over C: the first
    /// reduction block starts row i's accumulators at bias(i) (a convolution's y = b + W · columns in one pass). <paramref name="k"/> ≥ 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyBias<TVector>(ref float a, int aRow, int aColumn, ref float b, int bRow, ref float c, int cRow, ref float bias, int m, int k, int n, bool paddedTail)
        where TVector : struct, IFloatVector<TVector> =>
        Product<TVector>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, accumulate: false, ref bias, 1, Epilogue.None);

    /// <summary>
    /// <see cref="MultiplyBias{TVector}(ref float, int, int, ref float, int, ref float, int, ref float, int, int, int, bool)"/>,
    /// each C(i, j) through <paramref name="epilogue"/> as the last reduction block stores it (its residual addressed like C): a
    /// convolution with the [Add] and [ReLU] after it in one pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyBias<TVector>(ref float a, int aRow, int aColumn, ref float b, int bRow, ref float c, int cRow, ref float bias, int m, int k, int n, bool paddedTail,
        Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector> =>
        Product<TVector>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, accumulate: false, ref bias, 1, epilogue);

    /// <summary>The three products with the register file the code runs with (see <see cref="IRegisterFile"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Product<TVector>(ref float a, int aRow, int aColumn, ref float b, int bRow, ref float c, int cRow, int m, int k, int n, bool paddedTail, bool accumulate, ref float start, int startStep,
        Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
    {
        if (Avx512F.IsSupported || AdvSimd.Arm64.IsSupported)
        {
            Product<TVector, ThirtyTwoRegisters>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, accumulate, ref start, startStep, epilogue);
        }
        else
        {
            Product<TVector, SixteenRegisters>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, accumulate, ref start, startStep, epilogue);
        }
    }

    /// <summary>
    /// The three products: added to C, or written over it, each row then starting at start[i · startStep], the last reduction
    /// block storing through the epilogue; register tiles
    /// for <typeparamref name="TRegisters"/> (see <see cref="Rows"/>). The public products call it with the register file the
    /// code runs with (<see cref="Product{TVector}"/>); tests, with either.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Product<TVector, TRegisters>(ref float a, int aRow, int aColumn, ref float b, int bRow, ref float c, int cRow, int m, int k, int n, bool paddedTail, bool accumulate, ref float start, int startStep,
        Epilogue epilogue = default)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        int blocks = (k + ReductionBlock - 1) / ReductionBlock;
        int step = blocks == 0 ? 1 : (k + blocks - 1) / blocks;
        for (int p0 = 0; p0 < k; p0 += step)
        {
            int kb = Math.Min(step, k - p0);
            bool load = accumulate || p0 > 0; // the tiles start from C, or (the first block of a product written over C) from each row's start
            ref float ap = ref Unsafe.Add(ref a, p0 * aColumn);
            ref float bp = ref Unsafe.Add(ref b, p0 * bRow);
            if (p0 + kb == k && !epilogue.IsNone) // only the last block stores finished sums
            {
                BlockWith<TVector, TRegisters>(ref ap, aRow, aColumn, ref bp, bRow, ref c, cRow, m, kb, n, paddedTail, load, ref start, startStep, epilogue);
            }
            else
            {
                Block<TVector, TRegisters, Unchanged>(ref ap, aRow, aColumn, ref bp, bRow, ref c, cRow, m, kb, n, paddedTail, load, ref start, startStep, ref Unsafe.NullRef<float>());
            }
        }
    }

    /// <summary>The last reduction block of a product with an epilogue: <see cref="Block"/> with the tiles compiled for its kind.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void BlockWith<TVector, TRegisters>(ref float a, int aRow, int aColumn, ref float b, int bRow, ref float c, int cRow, int m, int k, int n, bool paddedTail,
        bool load, ref float start, int startStep, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        ref float residual = ref epilogue.Residual;
        switch (epilogue.Kind)
        {
            case EpilogueKind.Rectify:
                Block<TVector, TRegisters, Rectified>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, load, ref start, startStep, ref residual);
                break;
            case EpilogueKind.Add:
                Block<TVector, TRegisters, Added>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, load, ref start, startStep, ref residual);
                break;
            default:
                Block<TVector, TRegisters, AddedRectified>(ref a, aRow, aColumn, ref b, bRow, ref c, cRow, m, k, n, paddedTail, load, ref start, startStep, ref residual);
                break;
        }
    }

    /// <summary>
    /// One reduction block of <paramref name="kb"/> steps (A and B from its first step) over every row and column, storing
    /// through <typeparamref name="TStep"/> (its residual addressed like C).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block<TVector, TRegisters, TStep>(ref float ap, int aRow, int aColumn, ref float bp, int bRow, ref float c, int cRow, int m, int kb, int n, bool paddedTail,
        bool load, ref float start, int startStep, ref float residual)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
        where TStep : struct, IOutputStep
    {
        int j = 0;
        for (; j + 2 * TVector.Count <= n; j += 2 * TVector.Count)
        {
            Rows<TVector, TRegisters, Two, TStep>(ref ap, aRow, aColumn, ref Unsafe.Add(ref bp, j), bRow, kb, ref Unsafe.Add(ref c, j), cRow, load, ref start, startStep, m, Lanes.Whole, ref Epilogue.Advance<TStep>(ref residual, j));
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
                            ref float cc = ref Unsafe.Add(ref c, r * cRow + jj);
                            MultiplyAddColumn(ref Unsafe.Add(ref ap, r * aRow), aColumn, ref Unsafe.Add(ref bp, jj), bRow, kb, ref cc, load, Unsafe.Add(ref start, r * startStep));
                            cc = Epilogue.Apply<TStep>(cc, ref residual, r * cRow + jj);
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

            Rows<TVector, TRegisters, One, TStep>(ref ap, aRow, aColumn, ref Unsafe.Add(ref bp, at), bRow, kb, ref Unsafe.Add(ref c, at), cRow, load, ref start, startStep, m, new Lanes(first, limit), ref Epilogue.Advance<TStep>(ref residual, at));
        }
    }

    /// <summary>
    /// All <paramref name="m"/> rows × <typeparamref name="TColumns"/> vectors of columns, in register tiles chosen for
    /// <typeparamref name="TRegisters"/>: with 32 vector registers 8 rows × 2 vectors (16 accumulators, 2 loads of B and a
    /// broadcast of A: 19 registers); with 16, 6 rows × 2 vectors (12 accumulators: 15 registers; 8 × 2 there keeps 3
    /// accumulators on the stack, a load and a store on their chains every step, and ran at 40–60 % of the AVX2 FMA peak
    /// against 60–85 % for 6 × 2: benchmarks/results, KernelBenchmarks). A row's last vector of columns takes
    /// 8 rows × 1 vector with either (8 accumulators: 10 registers). The rows left over take 4, 2 and 1. The tile shape
    /// does not change any C(i, j)'s sum, so the results are the same bits with either register file.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows<TVector, TRegisters, TColumns, TStep>(ref float a, int aRow, int aColumn, ref float b, int bRow, int k, ref float c, int cRow, bool load, ref float start, int startStep, int m, Lanes lanes,
        ref float residual)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
        where TColumns : struct, IRowCount
        where TStep : struct, IOutputStep
    {
        if (typeof(TRegisters) == typeof(SixteenRegisters) && typeof(TColumns) == typeof(Two))
        {
            RowTiles<TVector, Six, TColumns, TStep>(ref a, aRow, aColumn, ref b, bRow, k, ref c, cRow, load, ref start, startStep, m, lanes, ref residual);
        }
        else
        {
            RowTiles<TVector, Eight, TColumns, TStep>(ref a, aRow, aColumn, ref b, bRow, k, ref c, cRow, load, ref start, startStep, m, lanes, ref residual);
        }
    }

    /// <summary>All <paramref name="m"/> rows: register tiles of <typeparamref name="TTile"/> rows (8 or 6), then 4, 2 and 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowTiles<TVector, TTile, TColumns, TStep>(ref float a, int aRow, int aColumn, ref float b, int bRow, int k, ref float c, int cRow, bool load, ref float start, int startStep, int m, Lanes lanes,
        ref float residual)
        where TVector : struct, IFloatVector<TVector>
        where TTile : struct, IRowCount
        where TColumns : struct, IRowCount
        where TStep : struct, IOutputStep
    {
        int i = 0;
        for (; i + TTile.Count <= m; i += TTile.Count)
        {
            Tile<TVector, TTile, TColumns, TStep>(ref a, aRow, aColumn, ref b, bRow, k, ref c, cRow, load, ref start, startStep, i, lanes, ref residual);
        }

        if (i + 4 <= m)
        {
            Tile<TVector, Four, TColumns, TStep>(ref a, aRow, aColumn, ref b, bRow, k, ref c, cRow, load, ref start, startStep, i, lanes, ref residual);
            i += 4;
        }

        if (i + 2 <= m)
        {
            Tile<TVector, Two, TColumns, TStep>(ref a, aRow, aColumn, ref b, bRow, k, ref c, cRow, load, ref start, startStep, i, lanes, ref residual);
            i += 2;
        }

        if (i < m)
        {
            Tile<TVector, One, TColumns, TStep>(ref a, aRow, aColumn, ref b, bRow, k, ref c, cRow, load, ref start, startStep, i, lanes, ref residual);
        }
    }

    /// <summary>
    /// Rows <paramref name="row"/> … <paramref name="row"/> + <typeparamref name="TRows"/> − 1 × <typeparamref name="TColumns"/>
    /// vectors of columns (2, or 1 for a row's last columns, of which <paramref name="lanes"/> are stored), over
    /// <paramref name="k"/> reduction steps: per step, one load of B per vector and one broadcast of A per row feed one
    /// multiply-add per row and vector; 8 rows × 2 vectors keep 16 accumulators, 6 × 2 12, 8 × 1 8, enough independent
    /// multiply-adds to keep two FMA pipes busy over their latency (a 4-row tile's are not). One body for every tile: the
    /// counts are types (see <see cref="IRowCount"/>), so the JIT compiles one copy per size with the unused rows and vector
    /// removed. Not inlined: it would take the inlining budget of the generated method that calls the product, leaving
    /// other kernels as calls; a call per tile of a whole reduction block costs little next to its work.
    /// </summary>
    /// <remarks>
    /// A's rows are read through three references advancing with p: row r at a0 + r·aRow for r &lt; 3, a3 + (r − 3)·aRow for
    /// r &lt; 6, a6 + (r − 6)·aRow, so every broadcast is one address mode and no index arithmetic runs per step.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TVector, TRows, TColumns, TStep>(ref float a, int aRow, int aColumn, ref float b, int bRow, int k, ref float c, int cRow, bool load, ref float start, int startStep, int row, Lanes lanes,
        ref float residual)
        where TVector : struct, IFloatVector<TVector>
        where TRows : struct, IRowCount
        where TColumns : struct, IRowCount
        where TStep : struct, IOutputStep
    {
        int count = TRows.Count, v = TVector.Count;
        bool two = TColumns.Count > 1;
        a = ref Unsafe.Add(ref a, row * aRow);
        c = ref Unsafe.Add(ref c, row * cRow);
        residual = ref Epilogue.Advance<TStep>(ref residual, row * cRow);
        start = ref Unsafe.Add(ref start, row * startStep);
        TVector s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        TVector s40 = default, s41 = default, s50 = default, s51 = default, s60 = default, s61 = default, s70 = default, s71 = default;
        Begin(ref s00, ref s01, ref c, load, start, two);
        if (count > 1)
        {
            Begin(ref s10, ref s11, ref Unsafe.Add(ref c, cRow), load, Unsafe.Add(ref start, startStep), two);
        }

        if (count > 2)
        {
            Begin(ref s20, ref s21, ref Unsafe.Add(ref c, 2 * cRow), load, Unsafe.Add(ref start, 2 * startStep), two);
            Begin(ref s30, ref s31, ref Unsafe.Add(ref c, 3 * cRow), load, Unsafe.Add(ref start, 3 * startStep), two);
        }

        if (count > 4)
        {
            Begin(ref s40, ref s41, ref Unsafe.Add(ref c, 4 * cRow), load, Unsafe.Add(ref start, 4 * startStep), two);
            Begin(ref s50, ref s51, ref Unsafe.Add(ref c, 5 * cRow), load, Unsafe.Add(ref start, 5 * startStep), two);
        }

        if (count > 6)
        {
            Begin(ref s60, ref s61, ref Unsafe.Add(ref c, 6 * cRow), load, Unsafe.Add(ref start, 6 * startStep), two);
            Begin(ref s70, ref s71, ref Unsafe.Add(ref c, 7 * cRow), load, Unsafe.Add(ref start, 7 * startStep), two);
        }

        ref float a0 = ref a;
        ref float a3 = ref Unsafe.Add(ref a, Math.Min(count - 1, 3) * aRow);
        ref float a6 = ref Unsafe.Add(ref a, Math.Min(count - 1, 6) * aRow);
        nint rowBytes = (nint)aRow * sizeof(float), columnBytes = (nint)aColumn * sizeof(float), bBytes = (nint)bRow * sizeof(float);
        ref float bp = ref b;
        for (int p = 0; p < k; p++)
        {
            TVector b0 = TVector.Load(ref bp), b1 = two ? TVector.Load(ref Unsafe.Add(ref bp, v)) : default;
            bp = ref Unsafe.AddByteOffset(ref bp, bBytes);
            TileRow.MultiplyAdd(TVector.Broadcast(a0), b0, b1, ref s00, ref s01, two);

            if (count > 1)
            {
                TileRow.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref a0, rowBytes)), b0, b1, ref s10, ref s11, two);
            }

            if (count > 2)
            {
                TileRow.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref a0, 2 * rowBytes)), b0, b1, ref s20, ref s21, two);
                TileRow.MultiplyAdd(TVector.Broadcast(a3), b0, b1, ref s30, ref s31, two);
            }

            if (count > 4)
            {
                TileRow.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref a3, rowBytes)), b0, b1, ref s40, ref s41, two);
                TileRow.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref a3, 2 * rowBytes)), b0, b1, ref s50, ref s51, two);
            }

            if (count > 6)
            {
                TileRow.MultiplyAdd(TVector.Broadcast(a6), b0, b1, ref s60, ref s61, two);
                TileRow.MultiplyAdd(TVector.Broadcast(Unsafe.AddByteOffset(ref a6, rowBytes)), b0, b1, ref s70, ref s71, two);
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

        End<TVector, TStep>(s00, s01, ref c, ref residual, two, lanes, 0);
        if (count > 1)
        {
            End<TVector, TStep>(s10, s11, ref c, ref residual, two, lanes, cRow);
        }

        if (count > 2)
        {
            End<TVector, TStep>(s20, s21, ref c, ref residual, two, lanes, 2 * cRow);
            End<TVector, TStep>(s30, s31, ref c, ref residual, two, lanes, 3 * cRow);
        }

        if (count > 4)
        {
            End<TVector, TStep>(s40, s41, ref c, ref residual, two, lanes, 4 * cRow);
            End<TVector, TStep>(s50, s51, ref c, ref residual, two, lanes, 5 * cRow);
        }

        if (count > 6)
        {
            End<TVector, TStep>(s60, s61, ref c, ref residual, two, lanes, 6 * cRow);
            End<TVector, TStep>(s70, s71, ref c, ref residual, two, lanes, 7 * cRow);
        }
    }

    /// <summary>A row's accumulators: C's values, or, in the first reduction block of a product written over C, the row's start value (zero or its bias).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Begin<TVector>(ref TVector s0, ref TVector s1, ref float c, bool load, float start, bool two)
        where TVector : struct, IFloatVector<TVector>
    {
        s0 = load ? TVector.Load(ref c) : TVector.Broadcast(start);
        if (two)
        {
            s1 = load ? TVector.Load(ref Unsafe.Add(ref c, TVector.Count)) : TVector.Broadcast(start);
        }
    }

    /// <summary>
    /// A row's accumulators into C, <paramref name="row"/> floats on, through <typeparamref name="TStep"/> (its residual
    /// addressed like C): two whole vectors, or one of which <paramref name="lanes"/> are stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void End<TVector, TStep>(TVector s0, TVector s1, ref float c, ref float residual, bool two, Lanes lanes, int row)
        where TVector : struct, IFloatVector<TVector>
        where TStep : struct, IOutputStep
    {
        s0 = Epilogue.Apply<TVector, TStep>(s0, ref residual, row);
        if (two)
        {
            s1 = Epilogue.Apply<TVector, TStep>(s1, ref residual, row + TVector.Count);
        }

        c = ref Unsafe.Add(ref c, row);
        if (two)
        {
            TVector.Store(s0, ref c);
            TVector.Store(s1, ref Unsafe.Add(ref c, TVector.Count));
        }
        else if (lanes.First == 0 && lanes.Limit >= TVector.Count)
        {
            TVector.Store(s0, ref c);
        }
        else
        {
            TVector.StoreLanes(s0, ref c, lanes.First, lanes.Limit);
        }
    }

    /// <summary>Lanes <see cref="First"/> … <see cref="Limit"/> − 1 of a vector: the ones a one-vector <see cref="Tile"/> stores.</summary>
    private readonly record struct Lanes(int First, int Limit)
    {
        /// <summary>Every lane (and what a two-vector tile, which stores whole vectors, is given).</summary>
        public static Lanes Whole => new(0, int.MaxValue);
    }
}
