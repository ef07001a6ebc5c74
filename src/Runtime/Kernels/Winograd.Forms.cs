using System.Runtime.CompilerServices;

namespace NetGen.Kernels;

/// <summary>
/// One of <see cref="Winograd"/>'s forms F(2×2, r×r): its kernel width r and its input and output transforms of one tile
/// for a vector of channels or filters (the type parameter, so that each is compiled into its loop). Internal: the
/// generated code names the kernel width.
/// </summary>
internal interface IWinogradForm
{
    /// <summary>r: the kernel's height and width. A tile is (r + 1) × (r + 1) inputs, 2 × 2 outputs.</summary>
    static abstract int Kernel { get; }

    /// <summary>One tile's Bᵀ d B: d(a, b) at block[a·row + b·cell], result (ξ = (r + 1)·a + b) at to[ξ·position].</summary>
    static abstract void InputTile<TVector>(ref float block, int row, int cell, ref float to, int position)
        where TVector : struct, IFloatVector<TVector>;

    /// <summary>One tile's bias + Aᵀ M A: M(ξ) at from[ξ·position], output (a, b) at to[a·row + b·cell].</summary>
    static abstract void OutputTile<TVector>(ref float from, int position, ref float bias, ref float to, int row, int cell)
        where TVector : struct, IFloatVector<TVector>;

    /// <summary>
    /// One 2×2 block g of dL/dy's A g Aᵀ (the dual form F(r×r, 2×2) for dL/dw): g(i, j) at block[i·row + j·cell], result
    /// (ξ = (r + 1)·a + b) at to[ξ·position].
    /// </summary>
    static abstract void GradientTile<TVector>(ref float block, int row, int cell, ref float to, int position)
        where TVector : struct, IFloatVector<TVector>;
}

/// <summary>What both forms do last with a tile.</summary>
internal static class WinogradTile
{
    /// <summary>A tile's 2×2 outputs plus the bias: output (a, b) at to[a·row + b·cell].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TVector>(ref float bias, TVector y00, TVector y01, TVector y10, TVector y11, ref float to, int row, int cell)
        where TVector : struct, IFloatVector<TVector>
    {
        TVector b = TVector.Load(ref bias);
        TVector.Store(TVector.Add(b, y00), ref to);
        TVector.Store(TVector.Add(b, y01), ref Unsafe.Add(ref to, cell));
        TVector.Store(TVector.Add(b, y10), ref Unsafe.Add(ref to, row));
        TVector.Store(TVector.Add(b, y11), ref Unsafe.Add(ref to, row + cell));
    }
}

/// <summary>
/// F(2×2, 3×3) over the points 0, 1, −1 and ∞: Bᵀ = [−1 0 1 0; 0 1 1 0; 0 −1 1 0; 0 −1 0 1],
/// G = [−1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 1]. Additions only, besides G.
/// </summary>
internal readonly struct F2x3 : IWinogradForm
{
    /// <summary>G, 4 × 3.</summary>
    public static readonly double[,] G = { { -1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } };

    public static int Kernel => 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputTile<TVector>(ref float block, int row, int cell, ref float to, int position)
        where TVector : struct, IFloatVector<TVector>
    {
        // Columns first, e = Bᵀ d: one column b of d gives column b of e (written out, so that all 16 stay in registers).
        Column(ref block, row, out TVector e00, out TVector e10, out TVector e20, out TVector e30);
        Column(ref Unsafe.Add(ref block, cell), row, out TVector e01, out TVector e11, out TVector e21, out TVector e31);
        Column(ref Unsafe.Add(ref block, 2 * cell), row, out TVector e02, out TVector e12, out TVector e22, out TVector e32);
        Column(ref Unsafe.Add(ref block, 3 * cell), row, out TVector e03, out TVector e13, out TVector e23, out TVector e33);

        // Then each row of e times B.
        Row(e00, e01, e02, e03, ref to, position);
        Row(e10, e11, e12, e13, ref Unsafe.Add(ref to, 4 * position), position);
        Row(e20, e21, e22, e23, ref Unsafe.Add(ref to, 8 * position), position);
        Row(e30, e31, e32, e33, ref Unsafe.Add(ref to, 12 * position), position);
    }

    /// <summary>Bᵀ times a column d0 … d3 (at column[a·row]): (d2 − d0, d1 + d2, d2 − d1, d3 − d1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Column<TVector>(ref float column, int row, out TVector e0, out TVector e1, out TVector e2, out TVector e3)
        where TVector : struct, IFloatVector<TVector>
    {
        TVector d0 = TVector.Load(ref column);
        TVector d1 = TVector.Load(ref Unsafe.Add(ref column, row));
        TVector d2 = TVector.Load(ref Unsafe.Add(ref column, 2 * row));
        TVector d3 = TVector.Load(ref Unsafe.Add(ref column, 3 * row));
        Transform(d0, d1, d2, d3, out e0, out e1, out e2, out e3);
    }

    /// <summary>A row e of Bᵀ d times B, to positions 0 … 3 from <paramref name="to"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row<TVector>(TVector e0, TVector e1, TVector e2, TVector e3, ref float to, int position)
        where TVector : struct, IFloatVector<TVector>
    {
        Transform(e0, e1, e2, e3, out TVector v0, out TVector v1, out TVector v2, out TVector v3);
        TVector.Store(v0, ref to);
        TVector.Store(v1, ref Unsafe.Add(ref to, position));
        TVector.Store(v2, ref Unsafe.Add(ref to, 2 * position));
        TVector.Store(v3, ref Unsafe.Add(ref to, 3 * position));
    }

    /// <summary>Bᵀ times (d0, d1, d2, d3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transform<TVector>(TVector d0, TVector d1, TVector d2, TVector d3, out TVector e0, out TVector e1, out TVector e2, out TVector e3)
        where TVector : struct, IFloatVector<TVector>
    {
        e0 = TVector.Subtract(d2, d0);
        e1 = TVector.Add(d1, d2);
        e2 = TVector.Subtract(d2, d1);
        e3 = TVector.Subtract(d3, d1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputTile<TVector>(ref float from, int position, ref float bias, ref float to, int row, int cell)
        where TVector : struct, IFloatVector<TVector>
    {
        // Rows first, p = Aᵀ M: one column s of M gives column s of p; then each row of p times A, plus the bias.
        OutputColumn(ref from, 4 * position, out TVector p00, out TVector p10);
        OutputColumn(ref Unsafe.Add(ref from, position), 4 * position, out TVector p01, out TVector p11);
        OutputColumn(ref Unsafe.Add(ref from, 2 * position), 4 * position, out TVector p02, out TVector p12);
        OutputColumn(ref Unsafe.Add(ref from, 3 * position), 4 * position, out TVector p03, out TVector p13);
        Output(p00, p01, p02, p03, out TVector y00, out TVector y01);
        Output(p10, p11, p12, p13, out TVector y10, out TVector y11);
        WinogradTile.Store(ref bias, y00, y01, y10, y11, ref to, row, cell);
    }

    /// <summary>Aᵀ times a column m0 … m3 (at column[a·step]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputColumn<TVector>(ref float column, int step, out TVector p0, out TVector p1)
        where TVector : struct, IFloatVector<TVector>
    {
        Output(TVector.Load(ref column), TVector.Load(ref Unsafe.Add(ref column, step)), TVector.Load(ref Unsafe.Add(ref column, 2 * step)),
            TVector.Load(ref Unsafe.Add(ref column, 3 * step)), out p0, out p1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GradientTile<TVector>(ref float block, int row, int cell, ref float to, int position)
        where TVector : struct, IFloatVector<TVector>
    {
        // e = A g (4 × 2), one column of g at a time; then each row of e times Aᵀ.
        Expand(TVector.Load(ref block), TVector.Load(ref Unsafe.Add(ref block, row)), out TVector e00, out TVector e10, out TVector e20, out TVector e30);
        Expand(TVector.Load(ref Unsafe.Add(ref block, cell)), TVector.Load(ref Unsafe.Add(ref block, row + cell)), out TVector e01, out TVector e11, out TVector e21,
            out TVector e31);
        ExpandRow(e00, e01, ref to, position);
        ExpandRow(e10, e11, ref Unsafe.Add(ref to, 4 * position), position);
        ExpandRow(e20, e21, ref Unsafe.Add(ref to, 8 * position), position);
        ExpandRow(e30, e31, ref Unsafe.Add(ref to, 12 * position), position);
    }

    /// <summary>A row (e0, e1) of A g times Aᵀ, to positions 0 … 3 from <paramref name="to"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ExpandRow<TVector>(TVector e0, TVector e1, ref float to, int position)
        where TVector : struct, IFloatVector<TVector>
    {
        Expand(e0, e1, out TVector v0, out TVector v1, out TVector v2, out TVector v3);
        TVector.Store(v0, ref to);
        TVector.Store(v1, ref Unsafe.Add(ref to, position));
        TVector.Store(v2, ref Unsafe.Add(ref to, 2 * position));
        TVector.Store(v3, ref Unsafe.Add(ref to, 3 * position));
    }

    /// <summary>A times (g0, g1): (g0, g0 + g1, g0 − g1, g1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Expand<TVector>(TVector g0, TVector g1, out TVector e0, out TVector e1, out TVector e2, out TVector e3)
        where TVector : struct, IFloatVector<TVector>
    {
        e0 = g0;
        e1 = TVector.Add(g0, g1);
        e2 = TVector.Subtract(g0, g1);
        e3 = g1;
    }

    /// <summary>Aᵀ times (m0, m1, m2, m3): (m0 + m1 + m2, m1 − m2 + m3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output<TVector>(TVector m0, TVector m1, TVector m2, TVector m3, out TVector p0, out TVector p1)
        where TVector : struct, IFloatVector<TVector>
    {
        p0 = TVector.Add(TVector.Add(m0, m1), m2);
        p1 = TVector.Add(TVector.Subtract(m1, m2), m3);
    }
}

/// <summary>
/// F(2×2, 5×5) over the points 0, 1, −1, 2, −2 and ∞:
/// Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
/// G = [¼ 0 0 0 0; −⅙ −⅙ −⅙ −⅙ −⅙; −⅙ ⅙ −⅙ ⅙ −⅙; 1/24 1/12 ⅙ ⅓ ⅔; 1/24 −1/12 ⅙ −⅓ ⅔; 0 0 0 0 1],
/// Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 1].
/// </summary>
internal readonly struct F2x5 : IWinogradForm
{
    /// <summary>G, 6 × 5.</summary>
    public static readonly double[,] G =
    {
        { 0.25, 0, 0, 0, 0 },
        { -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6 },
        { -1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6 },
        { 1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3 },
        { 1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3 },
        { 0, 0, 0, 0, 1 },
    };

    public static int Kernel => 5;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputTile<TVector>(ref float block, int row, int cell, ref float to, int position)
        where TVector : struct, IFloatVector<TVector>
    {
        // Columns first, e = Bᵀ d, one column of 6 at a time into a tile-sized scratch of vectors; then each row of e times B.
        // 36 vectors do not fit in the registers, so the columns go through the stack (L1) rather than spill at random.
        Tile<TVector> e = default;
        for (int b = 0; b < 6; b++)
        {
            ref float column = ref Unsafe.Add(ref block, b * cell);
            Transform(TVector.Load(ref column), TVector.Load(ref Unsafe.Add(ref column, row)), TVector.Load(ref Unsafe.Add(ref column, 2 * row)),
                TVector.Load(ref Unsafe.Add(ref column, 3 * row)), TVector.Load(ref Unsafe.Add(ref column, 4 * row)), TVector.Load(ref Unsafe.Add(ref column, 5 * row)),
                out e[b], out e[6 + b], out e[12 + b], out e[18 + b], out e[24 + b], out e[30 + b]);
        }

        for (int a = 0; a < 6; a++)
        {
            Transform(e[6 * a], e[6 * a + 1], e[6 * a + 2], e[6 * a + 3], e[6 * a + 4], e[6 * a + 5],
                out TVector v0, out TVector v1, out TVector v2, out TVector v3, out TVector v4, out TVector v5);
            ref float at = ref Unsafe.Add(ref to, 6 * a * position);
            TVector.Store(v0, ref at);
            TVector.Store(v1, ref Unsafe.Add(ref at, position));
            TVector.Store(v2, ref Unsafe.Add(ref at, 2 * position));
            TVector.Store(v3, ref Unsafe.Add(ref at, 3 * position));
            TVector.Store(v4, ref Unsafe.Add(ref at, 4 * position));
            TVector.Store(v5, ref Unsafe.Add(ref at, 5 * position));
        }
    }

    /// <summary>
    /// Bᵀ times (d0 … d5): 4d0 − 5d2 + d4; (d4 − 4d2) ± (d3 − 4d1); (d4 − d2) ± 2(d3 − d1); 4d1 − 5d3 + d5 — in 12 operations.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transform<TVector>(TVector d0, TVector d1, TVector d2, TVector d3, TVector d4, TVector d5,
        out TVector e0, out TVector e1, out TVector e2, out TVector e3, out TVector e4, out TVector e5)
        where TVector : struct, IFloatVector<TVector>
    {
        TVector four = TVector.Broadcast(4f), minusFour = TVector.Broadcast(-4f), minusFive = TVector.Broadcast(-5f);
        e0 = TVector.MultiplyAdd(four, d0, TVector.MultiplyAdd(minusFive, d2, d4));
        TVector t1 = TVector.MultiplyAdd(minusFour, d2, d4), t2 = TVector.MultiplyAdd(minusFour, d1, d3);
        e1 = TVector.Add(t1, t2);
        e2 = TVector.Subtract(t1, t2);
        TVector t3 = TVector.Subtract(d4, d2), t5 = TVector.Subtract(d3, d1), t4 = TVector.Add(t5, t5);
        e3 = TVector.Add(t3, t4);
        e4 = TVector.Subtract(t3, t4);
        e5 = TVector.MultiplyAdd(four, d1, TVector.MultiplyAdd(minusFive, d3, d5));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputTile<TVector>(ref float from, int position, ref float bias, ref float to, int row, int cell)
        where TVector : struct, IFloatVector<TVector>
    {
        // Rows first, p = Aᵀ M (2 × 6): each column s of M gives column s of p; then each row of p times A, plus the bias.
        OutputColumn(ref from, position, out TVector p00, out TVector p10);
        OutputColumn(ref Unsafe.Add(ref from, position), position, out TVector p01, out TVector p11);
        OutputColumn(ref Unsafe.Add(ref from, 2 * position), position, out TVector p02, out TVector p12);
        OutputColumn(ref Unsafe.Add(ref from, 3 * position), position, out TVector p03, out TVector p13);
        OutputColumn(ref Unsafe.Add(ref from, 4 * position), position, out TVector p04, out TVector p14);
        OutputColumn(ref Unsafe.Add(ref from, 5 * position), position, out TVector p05, out TVector p15);
        Output(p00, p01, p02, p03, p04, p05, out TVector y00, out TVector y01);
        Output(p10, p11, p12, p13, p14, p15, out TVector y10, out TVector y11);
        WinogradTile.Store(ref bias, y00, y01, y10, y11, ref to, row, cell);
    }

    /// <summary>Aᵀ times column s of M: M(6a + s) at column[6a·position].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputColumn<TVector>(ref float column, int position, out TVector p0, out TVector p1)
        where TVector : struct, IFloatVector<TVector>
    {
        int step = 6 * position;
        Output(TVector.Load(ref column), TVector.Load(ref Unsafe.Add(ref column, step)), TVector.Load(ref Unsafe.Add(ref column, 2 * step)),
            TVector.Load(ref Unsafe.Add(ref column, 3 * step)), TVector.Load(ref Unsafe.Add(ref column, 4 * step)), TVector.Load(ref Unsafe.Add(ref column, 5 * step)),
            out p0, out p1);
    }

    /// <summary>Aᵀ times (m0 … m5): (m0 + m1 + m2 + m3 + m4, m1 − m2 + 2(m3 − m4) + m5).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Output<TVector>(TVector m0, TVector m1, TVector m2, TVector m3, TVector m4, TVector m5, out TVector p0, out TVector p1)
        where TVector : struct, IFloatVector<TVector>
    {
        p0 = TVector.Add(TVector.Add(TVector.Add(m0, m1), TVector.Add(m2, m3)), m4);
        p1 = TVector.Add(TVector.MultiplyAdd(TVector.Broadcast(2f), TVector.Subtract(m3, m4), TVector.Subtract(m1, m2)), m5);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GradientTile<TVector>(ref float block, int row, int cell, ref float to, int position)
        where TVector : struct, IFloatVector<TVector>
    {
        // e = A g (6 × 2), one column of g at a time; then each row of e times Aᵀ.
        Expand(TVector.Load(ref block), TVector.Load(ref Unsafe.Add(ref block, row)),
            out TVector e00, out TVector e10, out TVector e20, out TVector e30, out TVector e40, out TVector e50);
        Expand(TVector.Load(ref Unsafe.Add(ref block, cell)), TVector.Load(ref Unsafe.Add(ref block, row + cell)),
            out TVector e01, out TVector e11, out TVector e21, out TVector e31, out TVector e41, out TVector e51);
        ExpandRow(e00, e01, ref to, position);
        ExpandRow(e10, e11, ref Unsafe.Add(ref to, 6 * position), position);
        ExpandRow(e20, e21, ref Unsafe.Add(ref to, 12 * position), position);
        ExpandRow(e30, e31, ref Unsafe.Add(ref to, 18 * position), position);
        ExpandRow(e40, e41, ref Unsafe.Add(ref to, 24 * position), position);
        ExpandRow(e50, e51, ref Unsafe.Add(ref to, 30 * position), position);
    }

    /// <summary>A row (e0, e1) of A g times Aᵀ, to positions 0 … 5 from <paramref name="to"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ExpandRow<TVector>(TVector e0, TVector e1, ref float to, int position)
        where TVector : struct, IFloatVector<TVector>
    {
        Expand(e0, e1, out TVector v0, out TVector v1, out TVector v2, out TVector v3, out TVector v4, out TVector v5);
        TVector.Store(v0, ref to);
        TVector.Store(v1, ref Unsafe.Add(ref to, position));
        TVector.Store(v2, ref Unsafe.Add(ref to, 2 * position));
        TVector.Store(v3, ref Unsafe.Add(ref to, 3 * position));
        TVector.Store(v4, ref Unsafe.Add(ref to, 4 * position));
        TVector.Store(v5, ref Unsafe.Add(ref to, 5 * position));
    }

    /// <summary>A times (g0, g1): (g0, g0 + g1, g0 − g1, g0 + 2g1, g0 − 2g1, g1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Expand<TVector>(TVector g0, TVector g1, out TVector e0, out TVector e1, out TVector e2, out TVector e3, out TVector e4, out TVector e5)
        where TVector : struct, IFloatVector<TVector>
    {
        TVector twice = TVector.Add(g1, g1);
        e0 = g0;
        e1 = TVector.Add(g0, g1);
        e2 = TVector.Subtract(g0, g1);
        e3 = TVector.Add(g0, twice);
        e4 = TVector.Subtract(g0, twice);
        e5 = g1;
    }

    /// <summary>The 36 vectors of a tile between its two passes.</summary>
    [InlineArray(36)]
    private struct Tile<TVector>
        where TVector : struct
    {
        private TVector _element;
    }
}
