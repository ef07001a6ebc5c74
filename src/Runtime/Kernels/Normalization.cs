using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace NetGen.Kernels;

/// <summary>
/// A BatchNorm's per-plane passes in one sweep each: the same subtractions, products and sums, each rounded to float in
/// the same order, as the <c>TensorPrimitives</c> calls they replace (no fused multiply-adds), so the same bits, with
/// one read of each input and one write of the output instead of one per step.
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
    public static void Normalize(ReadOnlySpan<float> x, float mean, float scale, float shift, Span<float> y)
    {
        if (y.Length < x.Length)
        {
            throw new ArgumentException($"Expected room for {x.Length} floats, got {y.Length}.", nameof(y));
        }

        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float y0 = ref MemoryMarshal.GetReference(y);
        int i = 0, n = x.Length;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> m = Vector512.Create(mean), s = Vector512.Create(scale), b = Vector512.Create(shift);
            for (; i + Vector512<float>.Count <= n; i += Vector512<float>.Count)
            {
                (((Vector512.LoadUnsafe(ref x0, (nuint)i) - m) * s) + b).StoreUnsafe(ref y0, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> m = Vector256.Create(mean), s = Vector256.Create(scale), b = Vector256.Create(shift);
            for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
            {
                (((Vector256.LoadUnsafe(ref x0, (nuint)i) - m) * s) + b).StoreUnsafe(ref y0, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> m = Vector128.Create(mean), s = Vector128.Create(scale), b = Vector128.Create(shift);
            for (; i + Vector128<float>.Count <= n; i += Vector128<float>.Count)
            {
                (((Vector128.LoadUnsafe(ref x0, (nuint)i) - m) * s) + b).StoreUnsafe(ref y0, (nuint)i);
            }
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
    public static void InputGradient(ReadOnlySpan<float> x, float mean, float slope, float shift, ReadOnlySpan<float> dy, float factor, Span<float> dx)
    {
        if (dy.Length < x.Length || dx.Length < x.Length)
        {
            throw new ArgumentException($"Expected dL/dy and dL/dx of {x.Length} floats or more, got {dy.Length} and {dx.Length}.", dy.Length < x.Length ? nameof(dy) : nameof(dx));
        }

        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float g0 = ref MemoryMarshal.GetReference(dy);
        ref float d0 = ref MemoryMarshal.GetReference(dx);
        int i = 0, n = x.Length;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> m = Vector512.Create(mean), s = Vector512.Create(slope), b = Vector512.Create(shift), k = Vector512.Create(factor);
            for (; i + Vector512<float>.Count <= n; i += Vector512<float>.Count)
            {
                ((Vector512.LoadUnsafe(ref g0, (nuint)i) * k) + (((Vector512.LoadUnsafe(ref x0, (nuint)i) - m) * s) + b)).StoreUnsafe(ref d0, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> m = Vector256.Create(mean), s = Vector256.Create(slope), b = Vector256.Create(shift), k = Vector256.Create(factor);
            for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
            {
                ((Vector256.LoadUnsafe(ref g0, (nuint)i) * k) + (((Vector256.LoadUnsafe(ref x0, (nuint)i) - m) * s) + b)).StoreUnsafe(ref d0, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> m = Vector128.Create(mean), s = Vector128.Create(slope), b = Vector128.Create(shift), k = Vector128.Create(factor);
            for (; i + Vector128<float>.Count <= n; i += Vector128<float>.Count)
            {
                ((Vector128.LoadUnsafe(ref g0, (nuint)i) * k) + (((Vector128.LoadUnsafe(ref x0, (nuint)i) - m) * s) + b)).StoreUnsafe(ref d0, (nuint)i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref d0, i) = (Unsafe.Add(ref g0, i) * factor) + (((Unsafe.Add(ref x0, i) - mean) * slope) + shift);
        }
    }
}
