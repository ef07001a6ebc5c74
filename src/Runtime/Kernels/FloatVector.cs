using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace NetGen.Kernels;

/// <summary>
/// A SIMD vector of floats of one fixed width, as a type parameter: generated kernels are written once,
/// generic over it, and the JIT compiles one specialized copy per width (<see cref="Float512"/>,
/// <see cref="Float256"/>, <see cref="Float128"/>, and the scalar <see cref="Float1"/>). Every member is a
/// single hardware instruction or a few, inlined.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
/// <typeparam name="TSelf">The implementing vector type.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IFloatVector<TSelf>
    where TSelf : struct, IFloatVector<TSelf>
{
    /// <summary>Lanes in the vector.</summary>
    static abstract int Count { get; }

    /// <summary>All lanes zero.</summary>
    static abstract TSelf Zero { get; }

    /// <summary>All lanes equal to <paramref name="value"/>.</summary>
    static abstract TSelf Broadcast(float value);

    /// <summary>Reads <see cref="Count"/> floats starting at <paramref name="source"/>.</summary>
    static abstract TSelf Load(ref float source);

    /// <summary>Writes all lanes starting at <paramref name="destination"/>.</summary>
    static abstract void Store(TSelf value, ref float destination);

    /// <summary>Writes lanes <c>first ≤ l &lt; limit</c>; the other floats of the vector are read and written back unchanged, so all <see cref="Count"/> must be addressable.</summary>
    static abstract void StoreLanes(TSelf value, ref float destination, int first, int limit);

    /// <summary>a · b + c: fused (one rounding) in every type but <see cref="Float128Unfused"/> and <see cref="Float1"/>.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>Lane-wise sum.</summary>
    static abstract TSelf Add(TSelf a, TSelf b);

    /// <summary>Lane-wise difference, a − b.</summary>
    static abstract TSelf Subtract(TSelf a, TSelf b);

    /// <summary>Lane-wise product, a · b (rounded on its own: never fused with an addition).</summary>
    static abstract TSelf Multiply(TSelf a, TSelf b);

    /// <summary>The sum of the lanes.</summary>
    static abstract float Sum(TSelf value);

    /// <summary>Lane-wise <c>a &gt; b ? ifGreater : otherwise</c>, without branches; a NaN compares as not greater.</summary>
    static abstract TSelf SelectGreater(TSelf a, TSelf b, TSelf ifGreater, TSelf otherwise);

    /// <summary>
    /// A lane mask for <see cref="Masked"/>: all bits set in the lanes <c>first ≤ l &lt; limit</c>, zero in the others (either bound may lie
    /// outside 0…<see cref="Count"/>).
    /// </summary>
    static abstract TSelf LaneMask(int first, int limit);

    /// <summary>Lane-wise bitwise and: with a <see cref="LaneMask"/>, keeps the masked lanes of <paramref name="value"/> and zeroes the others.</summary>
    static abstract TSelf Masked(TSelf value, TSelf mask);

    /// <summary>The even lanes of <paramref name="low"/> then of <paramref name="high"/>: lane l is lane 2l of the 2·<see cref="Count"/> floats low, high (a stride-2 pick).</summary>
    static abstract TSelf PickEven(TSelf low, TSelf high);

    /// <summary>Lane-wise maximum as <c>TensorPrimitives.Max</c> and <c>MathF.Max</c>: NaN if either is NaN, and +0 above −0.</summary>
    static abstract TSelf Max(TSelf a, TSelf b);

    /// <summary>Lane-wise <c>a == b ? ifEqual : otherwise</c>, without branches.</summary>
    static abstract TSelf SelectEqual(TSelf a, TSelf b, TSelf ifEqual, TSelf otherwise);

    /// <summary>a0 b0 a1 b1 … from the lower halves of <paramref name="a"/> and <paramref name="b"/>: the first <see cref="Count"/> floats of the two interleaved (the inverse of <see cref="PickEven"/>).</summary>
    static abstract TSelf InterleaveLower(TSelf a, TSelf b);

    /// <summary>The same from the upper halves: the last <see cref="Count"/> floats of <paramref name="a"/> and <paramref name="b"/> interleaved.</summary>
    static abstract TSelf InterleaveUpper(TSelf a, TSelf b);
}

/// <summary>
/// 16 floats (AVX-512).
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Float512 : IFloatVector<Float512>
{
    private readonly Vector512<float> _v;

    private Float512(Vector512<float> v) => _v = v;

    /// <inheritdoc/>
    public static int Count => Vector512<float>.Count;

    /// <inheritdoc/>
    public static Float512 Zero => default;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 Broadcast(float value) => new(Vector512.Create(value));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 Load(ref float source) => new(Vector512.LoadUnsafe(ref source));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Float512 value, ref float destination) => value._v.StoreUnsafe(ref destination);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreLanes(Float512 value, ref float destination, int first, int limit)
    {
        Vector512<float> mask = LaneMask(first, limit)._v;
        Vector512.ConditionalSelect(mask, value._v, Vector512.LoadUnsafe(ref destination)).StoreUnsafe(ref destination);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 MultiplyAdd(Float512 a, Float512 b, Float512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 Add(Float512 a, Float512 b) => new(a._v + b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 Subtract(Float512 a, Float512 b) => new(a._v - b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 Multiply(Float512 a, Float512 b) => new(a._v * b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Float512 value) => Vector512.Sum(value._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 SelectGreater(Float512 a, Float512 b, Float512 ifGreater, Float512 otherwise) =>
        new(Vector512.ConditionalSelect(Vector512.GreaterThan(a._v, b._v), ifGreater._v, otherwise._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 LaneMask(int first, int limit) =>
        new((Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(first)) & Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(limit))).AsSingle());

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 Masked(Float512 value, Float512 mask) => new(Vector512.BitwiseAnd(value._v, mask._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 PickEven(Float512 low, Float512 high) =>
        new(Avx512F.PermuteVar16x32x2(low._v, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), high._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 Max(Float512 a, Float512 b) => new(Vector512.Max(a._v, b._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 SelectEqual(Float512 a, Float512 b, Float512 ifEqual, Float512 otherwise) =>
        new(Vector512.ConditionalSelect(Vector512.Equals(a._v, b._v), ifEqual._v, otherwise._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 InterleaveLower(Float512 a, Float512 b) =>
        new(Avx512F.PermuteVar16x32x2(a._v, Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), b._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float512 InterleaveUpper(Float512 a, Float512 b) =>
        new(Avx512F.PermuteVar16x32x2(a._v, Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), b._v));
}

/// <summary>
/// 8 floats (AVX2 with FMA). Generated code uses it only where <see cref="VectorWidth.HasFusedMultiplyAdd"/>: without FMA in
/// hardware <c>Vector256.FusedMultiplyAdd</c> is emulated.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Float256 : IFloatVector<Float256>
{
    private readonly Vector256<float> _v;

    private Float256(Vector256<float> v) => _v = v;

    /// <summary>The vector <paramref name="v"/>, for kernels that shuffle with <c>Vector256</c> and then store through an epilogue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Float256 Of(Vector256<float> v) => new(v);

    /// <inheritdoc/>
    public static int Count => Vector256<float>.Count;

    /// <inheritdoc/>
    public static Float256 Zero => default;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 Broadcast(float value) => new(Vector256.Create(value));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 Load(ref float source) => new(Vector256.LoadUnsafe(ref source));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Float256 value, ref float destination) => value._v.StoreUnsafe(ref destination);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreLanes(Float256 value, ref float destination, int first, int limit)
    {
        Vector256<float> mask = LaneMask(first, limit)._v;
        Vector256.ConditionalSelect(mask, value._v, Vector256.LoadUnsafe(ref destination)).StoreUnsafe(ref destination);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 MultiplyAdd(Float256 a, Float256 b, Float256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 Add(Float256 a, Float256 b) => new(a._v + b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 Subtract(Float256 a, Float256 b) => new(a._v - b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 Multiply(Float256 a, Float256 b) => new(a._v * b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Float256 value) => Vector256.Sum(value._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 SelectGreater(Float256 a, Float256 b, Float256 ifGreater, Float256 otherwise) =>
        new(Vector256.ConditionalSelect(Vector256.GreaterThan(a._v, b._v), ifGreater._v, otherwise._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 LaneMask(int first, int limit) =>
        new((Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(first)) & Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(limit))).AsSingle());

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 Masked(Float256 value, Float256 mask) => new(Vector256.BitwiseAnd(value._v, mask._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 PickEven(Float256 low, Float256 high)
    {
        // Per 128-bit half: low0 low2 high0 high2 | low4 low6 high4 high6; then the 64-bit pairs in the order 0, 2, 1, 3.
        Vector256<float> halves = Avx.Shuffle(low._v, high._v, 0b10_00_10_00);
        return new(Avx2.Permute4x64(halves.AsDouble(), 0b11_01_10_00).AsSingle());
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 Max(Float256 a, Float256 b) => new(Vector256.Max(a._v, b._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 SelectEqual(Float256 a, Float256 b, Float256 ifEqual, Float256 otherwise) =>
        new(Vector256.ConditionalSelect(Vector256.Equals(a._v, b._v), ifEqual._v, otherwise._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 InterleaveLower(Float256 a, Float256 b) =>
        new(Avx.Permute2x128(Avx.UnpackLow(a._v, b._v), Avx.UnpackHigh(a._v, b._v), 0x20)); // a0 b0 a1 b1 | a2 b2 a3 b3

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float256 InterleaveUpper(Float256 a, Float256 b) =>
        new(Avx.Permute2x128(Avx.UnpackLow(a._v, b._v), Avx.UnpackHigh(a._v, b._v), 0x31)); // a4 b4 a5 b5 | a6 b6 a7 b7
}

/// <summary>
/// 4 floats with fused multiply-add (x86 with FMA, Arm NEON). Without FMA in hardware generated code uses
/// <see cref="Float128Unfused"/> instead.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Float128 : IFloatVector<Float128>
{
    private readonly Vector128<float> _v;

    private Float128(Vector128<float> v) => _v = v;

    /// <inheritdoc/>
    public static int Count => Vector128<float>.Count;

    /// <inheritdoc/>
    public static Float128 Zero => default;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 Broadcast(float value) => new(Vector128.Create(value));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 Load(ref float source) => new(Vector128.LoadUnsafe(ref source));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Float128 value, ref float destination) => value._v.StoreUnsafe(ref destination);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreLanes(Float128 value, ref float destination, int first, int limit)
    {
        Vector128<float> mask = LaneMask(first, limit)._v;
        Vector128.ConditionalSelect(mask, value._v, Vector128.LoadUnsafe(ref destination)).StoreUnsafe(ref destination);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 MultiplyAdd(Float128 a, Float128 b, Float128 c) => new(Vector128.FusedMultiplyAdd(a._v, b._v, c._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 Add(Float128 a, Float128 b) => new(a._v + b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 Subtract(Float128 a, Float128 b) => new(a._v - b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 Multiply(Float128 a, Float128 b) => new(a._v * b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Float128 value) => Vector128.Sum(value._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 SelectGreater(Float128 a, Float128 b, Float128 ifGreater, Float128 otherwise) =>
        new(Vector128.ConditionalSelect(Vector128.GreaterThan(a._v, b._v), ifGreater._v, otherwise._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 LaneMask(int first, int limit) =>
        new((Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create(first)) & Vector128.LessThan(Vector128<int>.Indices, Vector128.Create(limit))).AsSingle());

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 Masked(Float128 value, Float128 mask) => new(Vector128.BitwiseAnd(value._v, mask._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 PickEven(Float128 low, Float128 high) => new(FloatVector128.PickEven(low._v, high._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 Max(Float128 a, Float128 b) => new(Vector128.Max(a._v, b._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 SelectEqual(Float128 a, Float128 b, Float128 ifEqual, Float128 otherwise) =>
        new(Vector128.ConditionalSelect(Vector128.Equals(a._v, b._v), ifEqual._v, otherwise._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 InterleaveLower(Float128 a, Float128 b) => new(FloatVector128.InterleaveLower(a._v, b._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128 InterleaveUpper(Float128 a, Float128 b) => new(FloatVector128.InterleaveUpper(a._v, b._v));
}

/// <summary>
/// 4 floats, multiplying then adding (two roundings): for x86 CPUs without FMA (before Haswell) and NativeAOT builds for an
/// instruction set without it (x86-64-v2, the default), where <c>Vector128.FusedMultiplyAdd</c> would be emulated one lane
/// at a time. Choosing this type in the generated dispatch, not testing for FMA inside the kernels, keeps the kernels
/// free of run-time checks: in a NativeAOT build such a check is a call in the innermost loop.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Float128Unfused : IFloatVector<Float128Unfused>
{
    private readonly Vector128<float> _v;

    private Float128Unfused(Vector128<float> v) => _v = v;

    /// <inheritdoc/>
    public static int Count => Vector128<float>.Count;

    /// <inheritdoc/>
    public static Float128Unfused Zero => default;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused Broadcast(float value) => new(Vector128.Create(value));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused Load(ref float source) => new(Vector128.LoadUnsafe(ref source));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Float128Unfused value, ref float destination) => value._v.StoreUnsafe(ref destination);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreLanes(Float128Unfused value, ref float destination, int first, int limit)
    {
        Vector128<float> mask = LaneMask(first, limit)._v;
        Vector128.ConditionalSelect(mask, value._v, Vector128.LoadUnsafe(ref destination)).StoreUnsafe(ref destination);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused MultiplyAdd(Float128Unfused a, Float128Unfused b, Float128Unfused c) => new((a._v * b._v) + c._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused Add(Float128Unfused a, Float128Unfused b) => new(a._v + b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused Subtract(Float128Unfused a, Float128Unfused b) => new(a._v - b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused Multiply(Float128Unfused a, Float128Unfused b) => new(a._v * b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Float128Unfused value) => Vector128.Sum(value._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused SelectGreater(Float128Unfused a, Float128Unfused b, Float128Unfused ifGreater, Float128Unfused otherwise) =>
        new(Vector128.ConditionalSelect(Vector128.GreaterThan(a._v, b._v), ifGreater._v, otherwise._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused LaneMask(int first, int limit) =>
        new((Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create(first)) & Vector128.LessThan(Vector128<int>.Indices, Vector128.Create(limit))).AsSingle());

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused Masked(Float128Unfused value, Float128Unfused mask) => new(Vector128.BitwiseAnd(value._v, mask._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused PickEven(Float128Unfused low, Float128Unfused high) => new(FloatVector128.PickEven(low._v, high._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused Max(Float128Unfused a, Float128Unfused b) => new(Vector128.Max(a._v, b._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused SelectEqual(Float128Unfused a, Float128Unfused b, Float128Unfused ifEqual, Float128Unfused otherwise) =>
        new(Vector128.ConditionalSelect(Vector128.Equals(a._v, b._v), ifEqual._v, otherwise._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused InterleaveLower(Float128Unfused a, Float128Unfused b) => new(FloatVector128.InterleaveLower(a._v, b._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float128Unfused InterleaveUpper(Float128Unfused a, Float128Unfused b) => new(FloatVector128.InterleaveUpper(a._v, b._v));
}

/// <summary>
/// One float: the scalar path, correct on any hardware (and what runs with <c>DOTNET_EnableHWIntrinsic=0</c>).
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct Float1 : IFloatVector<Float1>
{
    private readonly float _v;

    private Float1(float v) => _v = v;

    /// <inheritdoc/>
    public static int Count => 1;

    /// <inheritdoc/>
    public static Float1 Zero => default;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 Broadcast(float value) => new(value);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 Load(ref float source) => new(source);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Float1 value, ref float destination) => destination = value._v;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreLanes(Float1 value, ref float destination, int first, int limit)
    {
        if (first <= 0 && limit > 0)
        {
            destination = value._v;
        }
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 MultiplyAdd(Float1 a, Float1 b, Float1 c) => new((a._v * b._v) + c._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 Add(Float1 a, Float1 b) => new(a._v + b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 Subtract(Float1 a, Float1 b) => new(a._v - b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 Multiply(Float1 a, Float1 b) => new(a._v * b._v);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Float1 value) => value._v;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 SelectGreater(Float1 a, Float1 b, Float1 ifGreater, Float1 otherwise) => a._v > b._v ? ifGreater : otherwise;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 LaneMask(int first, int limit) => new(first <= 0 && limit > 0 ? BitConverter.Int32BitsToSingle(-1) : 0f);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 Masked(Float1 value, Float1 mask) =>
        new(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(value._v) & BitConverter.SingleToInt32Bits(mask._v)));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 PickEven(Float1 low, Float1 high) => low;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 Max(Float1 a, Float1 b) => new(MathF.Max(a._v, b._v));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 SelectEqual(Float1 a, Float1 b, Float1 ifEqual, Float1 otherwise) => a._v == b._v ? ifEqual : otherwise;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 InterleaveLower(Float1 a, Float1 b) => a;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float1 InterleaveUpper(Float1 a, Float1 b) => b;
}

/// <summary>The 128-bit lane operations shared by <see cref="Float128"/> and <see cref="Float128Unfused"/>.</summary>
internal static class FloatVector128
{
    /// <summary>low0 low2 high0 high2: one shuffle on x86 and Arm64 (the tests are constants to the JIT).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> PickEven(Vector128<float> low, Vector128<float> high)
    {
        if (Sse.IsSupported)
        {
            return Sse.Shuffle(low, high, 0b10_00_10_00);
        }

        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.UnzipEven(low, high);
        }

        return Vector128.Create(low.GetElement(0), low.GetElement(2), high.GetElement(0), high.GetElement(2));
    }

    /// <summary>a0 b0 a1 b1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> InterleaveLower(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported)
        {
            return Sse.UnpackLow(a, b);
        }

        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.ZipLow(a, b);
        }

        return Vector128.Create(a.GetElement(0), b.GetElement(0), a.GetElement(1), b.GetElement(1));
    }

    /// <summary>a2 b2 a3 b3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> InterleaveUpper(Vector128<float> a, Vector128<float> b)
    {
        if (Sse.IsSupported)
        {
            return Sse.UnpackHigh(a, b);
        }

        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.ZipHigh(a, b);
        }

        return Vector128.Create(a.GetElement(2), b.GetElement(2), a.GetElement(3), b.GetElement(3));
    }
}
