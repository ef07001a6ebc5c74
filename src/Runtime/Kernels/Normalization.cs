using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NetGen.Kernels;

/// <summary>
/// A BatchNorm's per-plane passes in one sweep each: the same subtractions, products and sums, each rounded to float in
/// the same order, as the <c>TensorPrimitives</c> calls they replace (no fused multiply-adds), so the same bits whatever
/// the vector type, with one read of each input and one write of the output instead of one per step.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Normalization
{
    /// <summary>
    /// y[i] = ((x[i] − <paramref name="mean"/>) · <paramref name="scale"/>) + <paramref name="shift"/>: a plane normalized
    /// and given its γ and β (as <c>TensorPrimitives</c>' Subtract, Multiply and Add in turn). y may be x.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the generated BatchNorm pass, optimized from its first call
    public static void Normalize<TVector>(ReadOnlySpan<float> x, float mean, float scale, float shift, Span<float> y)
        where TVector : struct, IFloatVector<TVector>
    {
        if (y.Length < x.Length)
        {
            throw new ArgumentException($"Expected room for {x.Length} floats, got {y.Length}.", nameof(y));
        }

        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        TVector m = TVector.Broadcast(mean), s = TVector.Broadcast(scale), b = TVector.Broadcast(shift);
        int i = 0, n = x.Length;
        for (; i + TVector.Count <= n; i += TVector.Count)
        {
            TVector.Store(TVector.Add(TVector.Multiply(TVector.Subtract(TVector.Load(ref Unsafe.Add(ref x0, i)), m), s), b), ref Unsafe.Add(ref y0, i));
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref y0, i) = ((Unsafe.Add(ref x0, i) - mean) * scale) + shift;
        }
    }

    /// <summary>
    /// dx[i] = (dy[i] · <paramref name="factor"/>) + (((x[i] − <paramref name="mean"/>) · <paramref name="slope"/>) +
    /// <paramref name="shift"/>): a BatchNorm's dL/dx of a plane (as <c>TensorPrimitives</c>' Subtract, Multiply, Add and
    /// MultiplyAdd(dy, factor, ·) in turn). dx may be x or dy.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="dy"/> or <paramref name="dx"/> is shorter than <paramref name="x"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // likewise
    public static void InputGradient<TVector>(ReadOnlySpan<float> x, float mean, float slope, float shift, ReadOnlySpan<float> dy, float factor, Span<float> dx)
        where TVector : struct, IFloatVector<TVector>
    {
        if (dy.Length < x.Length || dx.Length < x.Length)
        {
            throw new ArgumentException($"Expected dL/dy and dL/dx of {x.Length} floats or more, got {dy.Length} and {dx.Length}.", dy.Length < x.Length ? nameof(dy) : nameof(dx));
        }

        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float g0 = ref MemoryMarshal.GetReference(dy);
        ref float d0 = ref MemoryMarshal.GetReference(dx);
        TVector m = TVector.Broadcast(mean), s = TVector.Broadcast(slope), b = TVector.Broadcast(shift), k = TVector.Broadcast(factor);
        int i = 0, n = x.Length;
        for (; i + TVector.Count <= n; i += TVector.Count)
        {
            TVector fromX = TVector.Add(TVector.Multiply(TVector.Subtract(TVector.Load(ref Unsafe.Add(ref x0, i)), m), s), b);
            TVector.Store(TVector.Add(TVector.Multiply(TVector.Load(ref Unsafe.Add(ref g0, i)), k), fromX), ref Unsafe.Add(ref d0, i));
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref d0, i) = (Unsafe.Add(ref g0, i) * factor) + (((Unsafe.Add(ref x0, i) - mean) * slope) + shift);
        }
    }
}
