using System.Runtime.CompilerServices;

namespace NetGen.Kernels;

/// <summary>
/// A register tile's row count as a type: kernels take it as a generic argument, and the JIT compiles one copy of the tile
/// per count with the rows past it removed (<c>if (TRows.Count &gt; r)</c> is a constant there), so one method body serves
/// every tile size.
/// </summary>
internal interface IRowCount
{
    static abstract int Count { get; }
}

internal readonly struct One : IRowCount
{
    public static int Count => 1;
}

internal readonly struct Two : IRowCount
{
    public static int Count => 2;
}

internal readonly struct Four : IRowCount
{
    public static int Count => 4;
}

internal readonly struct Six : IRowCount
{
    public static int Count => 6;
}

internal readonly struct Eight : IRowCount
{
    public static int Count => 8;
}

/// <summary>The step shared by the register tiles of <see cref="Gemm"/> and <see cref="Convolution"/>: one row of a tile.</summary>
internal static class TileRow
{
    /// <summary>
    /// s0 += a · b0 and, when the tile has two vectors of columns (<paramref name="two"/>, a constant where the tile's column
    /// count is a type), s1 += a · b1: one broadcast value of a row (a weight, or an element of A) against the step's vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyAdd<TVector>(TVector a, TVector b0, TVector b1, ref TVector s0, ref TVector s1, bool two)
        where TVector : struct, IFloatVector<TVector>
    {
        s0 = TVector.MultiplyAdd(a, b0, s0);
        if (two)
        {
            s1 = TVector.MultiplyAdd(a, b1, s1);
        }
    }
}
