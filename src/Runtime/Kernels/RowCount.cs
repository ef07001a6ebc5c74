using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("NetGen.Runtime.Tests")] // the kernel tests run every register file's tiles on any machine

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

internal readonly struct Three : IRowCount
{
    public static int Count => 3;
}

internal readonly struct Four : IRowCount
{
    public static int Count => 4;
}

internal readonly struct Five : IRowCount
{
    public static int Count => 5;
}

internal readonly struct Six : IRowCount
{
    public static int Count => 6;
}

internal readonly struct Eight : IRowCount
{
    public static int Count => 8;
}

/// <summary>
/// The vector register file a kernel's register tiles are chosen for, as a type: <see cref="ThirtyTwoRegisters"/> with
/// AVX-512 (EVEX encodes registers 16–31 at every vector width, so Vector256 and Vector128 code has them too) and on
/// Arm64, <see cref="SixteenRegisters"/> on x64 without AVX-512 (AVX2 CPUs, AVX-512 CPUs with <c>DOTNET_EnableAVX512=0</c>)
/// and on the scalar path there. The vector width does not tell it. Each public kernel picks the type once, with
/// <c>Avx512F.IsSupported || AdvSimd.Arm64.IsSupported</c> written out (hardware checks the JIT folds as it imports the
/// method, so the other branch is never imported: a property wrapping them is a call until inlined, by which time the
/// inliner has taken both branches' kernels into the caller's budget), and passes it down; the kernels pick their tile
/// shapes by comparing it with <c>typeof</c> (also folded on import). Tests pass either type on any machine, so every
/// tile shape runs wherever they do.
/// </summary>
internal interface IRegisterFile
{
}

/// <summary>16 vector registers: x64 without AVX-512.</summary>
internal readonly struct SixteenRegisters : IRegisterFile
{
}

/// <summary>32 vector registers: x64 with AVX-512, at any vector width; Arm64.</summary>
internal readonly struct ThirtyTwoRegisters : IRegisterFile
{
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
