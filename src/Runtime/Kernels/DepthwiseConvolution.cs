using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace NetGen.Kernels;

/// <summary>
/// A convolution in which every output plane reads only a few input planes (a depthwise convolution, PyTorch's
/// <c>Conv2d(groups=channels)</c>, reads one), computed straight from its (zero-padded) input with output pixels in the
/// vector lanes. Generated code calls it with literal shapes, for the forward pass and, on a zero-bordered copy of dL/dy
/// with the kernel turned by 180°, for dL/dx; <see cref="WeightGradient"/> gives dL/dw.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
/// <remarks>
/// <see cref="Convolution"/> keeps up to 8 filters in a register tile, each weight broadcast once and applied to the same two
/// vectors of input: with one filter per input plane there is nothing to share, and a tile would hold 2 accumulators. Here a
/// tile is one output plane's 8 vectors of pixels ("slots": each output row cut into vectors, the rows one after the other),
/// so every tap's one broadcast weight feeds 8 independent multiply-adds, each with its own load of the input (with stride 2,
/// two loads and a pick of the even lanes). Each output sums its start value (its bias, or zero), then its taps in order.
/// A slot's lanes past its row's end read the floats after it and are not stored.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DepthwiseConvolution
{
    /// <summary>
    /// y(o, i, j) = bias[o·<paramref name="biasStep"/>] + Σ_c Σ_m Σ_n w(o, c, m, n) · x(⌊o / <paramref name="multiplier"/>⌋·<paramref name="channels"/> + c,
    /// i·stride + m, j·stride + n) for o &lt; <paramref name="outputs"/>, i &lt; <paramref name="outputHeight"/>, j &lt;
    /// <paramref name="outputWidth"/>, c &lt; <paramref name="channels"/>, m &lt; <paramref name="kernelHeight"/>, n &lt;
    /// <paramref name="kernelWidth"/>; w(o, c, m, n) = w[((o·channels + c)·kernelHeight + m)·kernelWidth + n] (PyTorch's layout),
    /// x(t, u, v) = x[t·<paramref name="inputPlane"/> + u·<paramref name="inputWidth"/> + v], y(o, i, j) = y[(o·outputHeight + i)·outputWidth + j].
    /// A depthwise convolution with channel multiplier M is <c>multiplier: M, channels: 1</c>; a bias step of 0 with a
    /// reference to one zero starts every sum at zero.
    /// </summary>
    /// <remarks>
    /// <paramref name="stride"/> is 1 or 2. Reads up to <c>stride · Count − 1</c> floats past the last input float a vector
    /// starts at (lanes that are not stored), so those must be addressable: generated workspaces carry that slack. Writes only
    /// y's own floats, with masked stores (which read and write back unchanged up to <c>Count − 1</c> floats past y's last row).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Forward<TVector>(ref float weight, ref float bias, int biasStep, ref float x, ref float y, int outputs, int multiplier, int channels,
        int kernelHeight, int kernelWidth, int stride, int inputWidth, int inputPlane, int outputHeight, int outputWidth)
        where TVector : struct, IFloatVector<TVector>
    {
        var shape = new Shape(channels, kernelHeight, kernelWidth, inputWidth, inputPlane, outputHeight, outputWidth);
        switch (stride)
        {
            case 1:
                Planes<TVector, One>(ref weight, ref bias, biasStep, ref x, ref y, outputs, multiplier, shape);
                break;
            case 2:
                Planes<TVector, Two>(ref weight, ref bias, biasStep, ref x, ref y, outputs, multiplier, shape);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(stride), stride, "The depthwise kernels take a stride of 1 or 2.");
        }
    }

    /// <summary>
    /// dL/dw(o, m, n) += Σ_i Σ_j dL/dy(o, i, j) · x(⌊o / <paramref name="multiplier"/>⌋, i·stride + m, j·stride + n): a
    /// depthwise convolution's weight gradient (one input plane per output plane), w and x laid out as in
    /// <see cref="Forward"/>, dL/dy as y there.
    /// </summary>
    /// <remarks>
    /// Tiles of 4 taps (then 2, then 1) × 2 output rows keep 8 independent sums in registers; each vector of dL/dy is loaded
    /// once per tile, its lanes past the row's end zeroed, and multiplied by each tap's vector of x. Each tap's sum runs over
    /// the rows in order and is reduced across its lanes at the end: the same order whatever the thread count. Reads x and
    /// dL/dy up to <c>stride · Count − 1</c> floats past their last rows, as <see cref="Forward"/>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WeightGradient<TVector>(ref float dy, ref float x, ref float weightGradient, int outputs, int multiplier, int kernelHeight, int kernelWidth,
        int stride, int inputWidth, int inputPlane, int outputHeight, int outputWidth)
        where TVector : struct, IFloatVector<TVector>
    {
        var shape = new Shape(1, kernelHeight, kernelWidth, inputWidth, inputPlane, outputHeight, outputWidth);
        switch (stride)
        {
            case 1:
                WeightGradientPlanes<TVector, One>(ref dy, ref x, ref weightGradient, outputs, multiplier, shape);
                break;
            case 2:
                WeightGradientPlanes<TVector, Two>(ref dy, ref x, ref weightGradient, outputs, multiplier, shape);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(stride), stride, "The depthwise kernels take a stride of 1 or 2.");
        }
    }

    /// <summary>Every output plane of <see cref="Forward"/>: its slots in tiles of 8, then 4, 2 and 1.</summary>
    private static void Planes<TVector, TStride>(ref float weight, ref float bias, int biasStep, ref float x, ref float y, int outputs, int multiplier, Shape shape)
        where TVector : struct, IFloatVector<TVector>
        where TStride : struct, IRowCount
    {
        int slotsPerRow = (shape.OutputWidth + TVector.Count - 1) / TVector.Count;
        int slots = shape.OutputHeight * slotsPerRow;
        nint plane = (nint)shape.OutputHeight * shape.OutputWidth;
        for (int o = 0; o < outputs; o++)
        {
            ref float wo = ref Unsafe.Add(ref weight, (nint)o * shape.Taps);
            float start = Unsafe.Add(ref bias, (nint)o * biasStep);
            ref float xo = ref Unsafe.Add(ref x, (nint)(o / multiplier) * shape.Channels * shape.InputPlane);
            ref float yo = ref Unsafe.Add(ref y, o * plane);
            int s = 0;
            for (; s + 8 <= slots; s += 8)
            {
                Tile<TVector, Eight, TStride>(ref wo, start, ref xo, ref yo, shape, s, slotsPerRow);
            }

            if (s + 4 <= slots)
            {
                Tile<TVector, Four, TStride>(ref wo, start, ref xo, ref yo, shape, s, slotsPerRow);
                s += 4;
            }

            if (s + 2 <= slots)
            {
                Tile<TVector, Two, TStride>(ref wo, start, ref xo, ref yo, shape, s, slotsPerRow);
                s += 2;
            }

            if (s < slots)
            {
                Tile<TVector, One, TStride>(ref wo, start, ref xo, ref yo, shape, s, slotsPerRow);
            }
        }
    }

    /// <summary>
    /// <typeparamref name="TSlots"/> slots from <paramref name="first"/> of one output plane, summed over every tap (c, m, n) in
    /// order: per tap, one broadcast weight and one load of the input per slot feed one multiply-add per slot. The counts are
    /// types, so the JIT compiles one copy per tile size with the unused slots removed.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TVector, TSlots, TStride>(ref float weight, float start, ref float x, ref float y, Shape shape, int first, int slotsPerRow)
        where TVector : struct, IFloatVector<TVector>
        where TSlots : struct, IRowCount
        where TStride : struct, IRowCount
    {
        int count = TSlots.Count;
        Slot q0 = SlotAt<TVector, TStride>(first, slotsPerRow, shape), q1 = default, q2 = default, q3 = default;
        Slot q4 = default, q5 = default, q6 = default, q7 = default;
        if (count > 1)
        {
            q1 = SlotAt<TVector, TStride>(first + 1, slotsPerRow, shape);
        }

        if (count > 2)
        {
            q2 = SlotAt<TVector, TStride>(first + 2, slotsPerRow, shape);
            q3 = SlotAt<TVector, TStride>(first + 3, slotsPerRow, shape);
        }

        if (count > 4)
        {
            q4 = SlotAt<TVector, TStride>(first + 4, slotsPerRow, shape);
            q5 = SlotAt<TVector, TStride>(first + 5, slotsPerRow, shape);
            q6 = SlotAt<TVector, TStride>(first + 6, slotsPerRow, shape);
            q7 = SlotAt<TVector, TStride>(first + 7, slotsPerRow, shape);
        }

        TVector s0 = TVector.Broadcast(start), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        ref float w = ref weight;
        for (int c = 0; c < shape.Channels; c++)
        {
            for (int m = 0; m < shape.KernelHeight; m++)
            {
                ref float row = ref Unsafe.Add(ref x, (nint)c * shape.InputPlane + (nint)m * shape.InputWidth);
                for (int n = 0; n < shape.KernelWidth; n++)
                {
                    TVector wv = TVector.Broadcast(w);
                    w = ref Unsafe.Add(ref w, 1);
                    ref float tap = ref Unsafe.Add(ref row, n);
                    s0 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.Add(ref tap, q0.Input)), s0);
                    if (count > 1)
                    {
                        s1 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.Add(ref tap, q1.Input)), s1);
                    }

                    if (count > 2)
                    {
                        s2 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.Add(ref tap, q2.Input)), s2);
                        s3 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.Add(ref tap, q3.Input)), s3);
                    }

                    if (count > 4)
                    {
                        s4 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.Add(ref tap, q4.Input)), s4);
                        s5 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.Add(ref tap, q5.Input)), s5);
                        s6 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.Add(ref tap, q6.Input)), s6);
                        s7 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.Add(ref tap, q7.Input)), s7);
                    }
                }
            }
        }

        Store(s0, ref y, q0);
        if (count > 1)
        {
            Store(s1, ref y, q1);
        }

        if (count > 2)
        {
            Store(s2, ref y, q2);
            Store(s3, ref y, q3);
        }

        if (count > 4)
        {
            Store(s4, ref y, q4);
            Store(s5, ref y, q5);
            Store(s6, ref y, q6);
            Store(s7, ref y, q7);
        }
    }

    /// <summary>Every output plane of <see cref="WeightGradient"/>: its taps in tiles of 4, then 2 and 1.</summary>
    private static void WeightGradientPlanes<TVector, TStride>(ref float dy, ref float x, ref float weightGradient, int outputs, int multiplier, Shape shape)
        where TVector : struct, IFloatVector<TVector>
        where TStride : struct, IRowCount
    {
        int taps = shape.Taps;
        nint plane = (nint)shape.OutputHeight * shape.OutputWidth;
        for (int o = 0; o < outputs; o++)
        {
            ref float dyo = ref Unsafe.Add(ref dy, o * plane);
            ref float xo = ref Unsafe.Add(ref x, (nint)(o / multiplier) * shape.InputPlane);
            ref float dwo = ref Unsafe.Add(ref weightGradient, (nint)o * taps);
            int r = 0;
            for (; r + 4 <= taps; r += 4)
            {
                TapTile<TVector, Four, TStride>(ref dyo, ref xo, ref dwo, shape, r);
            }

            if (r + 2 <= taps)
            {
                TapTile<TVector, Two, TStride>(ref dyo, ref xo, ref dwo, shape, r);
                r += 2;
            }

            if (r < taps)
            {
                TapTile<TVector, One, TStride>(ref dyo, ref xo, ref dwo, shape, r);
            }
        }
    }

    /// <summary>
    /// dL/dw of <typeparamref name="TTaps"/> taps from <paramref name="first"/> (in row-major order m, n) of one output plane:
    /// two sums per tap, one for even output rows and one for odd, added and reduced across the lanes at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TapTile<TVector, TTaps, TStride>(ref float dy, ref float x, ref float weightGradient, Shape shape, int first)
        where TVector : struct, IFloatVector<TVector>
        where TTaps : struct, IRowCount
        where TStride : struct, IRowCount
    {
        int count = TTaps.Count, stride = TStride.Count, width = shape.OutputWidth;
        nint t0 = TapOffset(first, shape), t1 = 0, t2 = 0, t3 = 0;
        if (count > 1)
        {
            t1 = TapOffset(first + 1, shape);
        }

        if (count > 2)
        {
            t2 = TapOffset(first + 2, shape);
            t3 = TapOffset(first + 3, shape);
        }

        TVector a0 = TVector.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        nint inputRow = (nint)stride * shape.InputWidth;
        int i = 0;
        for (; i + 2 <= shape.OutputHeight; i += 2)
        {
            ref float d = ref Unsafe.Add(ref dy, (nint)i * width);
            ref float xr = ref Unsafe.Add(ref x, i * inputRow);
            for (int j = 0; j < width; j += TVector.Count)
            {
                TVector keep = TVector.LaneMask(0, width - j);
                TVector d0 = TVector.Masked(TVector.Load(ref Unsafe.Add(ref d, j)), keep);
                TVector d1 = TVector.Masked(TVector.Load(ref Unsafe.Add(ref d, width + j)), keep);
                ref float x0 = ref Unsafe.Add(ref xr, (nint)j * stride);
                ref float x1 = ref Unsafe.Add(ref x0, inputRow);
                a0 = TVector.MultiplyAdd(d0, Load<TVector, TStride>(ref Unsafe.Add(ref x0, t0)), a0);
                b0 = TVector.MultiplyAdd(d1, Load<TVector, TStride>(ref Unsafe.Add(ref x1, t0)), b0);
                if (count > 1)
                {
                    a1 = TVector.MultiplyAdd(d0, Load<TVector, TStride>(ref Unsafe.Add(ref x0, t1)), a1);
                    b1 = TVector.MultiplyAdd(d1, Load<TVector, TStride>(ref Unsafe.Add(ref x1, t1)), b1);
                }

                if (count > 2)
                {
                    a2 = TVector.MultiplyAdd(d0, Load<TVector, TStride>(ref Unsafe.Add(ref x0, t2)), a2);
                    b2 = TVector.MultiplyAdd(d1, Load<TVector, TStride>(ref Unsafe.Add(ref x1, t2)), b2);
                    a3 = TVector.MultiplyAdd(d0, Load<TVector, TStride>(ref Unsafe.Add(ref x0, t3)), a3);
                    b3 = TVector.MultiplyAdd(d1, Load<TVector, TStride>(ref Unsafe.Add(ref x1, t3)), b3);
                }
            }
        }

        if (i < shape.OutputHeight)
        {
            // The last row of an odd count, into the even rows' sums.
            ref float d = ref Unsafe.Add(ref dy, (nint)i * width);
            ref float xr = ref Unsafe.Add(ref x, i * inputRow);
            for (int j = 0; j < width; j += TVector.Count)
            {
                TVector d0 = TVector.Masked(TVector.Load(ref Unsafe.Add(ref d, j)), TVector.LaneMask(0, width - j));
                ref float x0 = ref Unsafe.Add(ref xr, (nint)j * stride);
                a0 = TVector.MultiplyAdd(d0, Load<TVector, TStride>(ref Unsafe.Add(ref x0, t0)), a0);
                if (count > 1)
                {
                    a1 = TVector.MultiplyAdd(d0, Load<TVector, TStride>(ref Unsafe.Add(ref x0, t1)), a1);
                }

                if (count > 2)
                {
                    a2 = TVector.MultiplyAdd(d0, Load<TVector, TStride>(ref Unsafe.Add(ref x0, t2)), a2);
                    a3 = TVector.MultiplyAdd(d0, Load<TVector, TStride>(ref Unsafe.Add(ref x0, t3)), a3);
                }
            }
        }

        ref float dw = ref Unsafe.Add(ref weightGradient, first);
        dw += TVector.Sum(TVector.Add(a0, b0));
        if (count > 1)
        {
            Unsafe.Add(ref dw, 1) += TVector.Sum(TVector.Add(a1, b1));
        }

        if (count > 2)
        {
            Unsafe.Add(ref dw, 2) += TVector.Sum(TVector.Add(a2, b2));
            Unsafe.Add(ref dw, 3) += TVector.Sum(TVector.Add(a3, b3));
        }
    }

    /// <summary>Where tap r = m·kernelWidth + n reads, from a pixel's first input float: m·inputWidth + n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static nint TapOffset(int tap, Shape shape) => (nint)(tap / shape.KernelWidth) * shape.InputWidth + tap % shape.KernelWidth;

    /// <summary>A vector of input floats <typeparamref name="TStride"/> apart: one load, or with stride 2 the even lanes of two.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVector Load<TVector, TStride>(ref float source)
        where TVector : struct, IFloatVector<TVector>
        where TStride : struct, IRowCount =>
        TStride.Count == 1
            ? TVector.Load(ref source)
            : TVector.PickEven(TVector.Load(ref source), TVector.Load(ref Unsafe.Add(ref source, TVector.Count)));

    /// <summary>Slot <paramref name="slot"/> of an output plane: the slots of row 0, then of row 1, …</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Slot SlotAt<TVector, TStride>(int slot, int slotsPerRow, Shape shape)
        where TVector : struct, IFloatVector<TVector>
        where TStride : struct, IRowCount
    {
        int i = slot / slotsPerRow, j = slot % slotsPerRow * TVector.Count;
        return new Slot(((nint)i * shape.InputWidth + j) * TStride.Count, (nint)i * shape.OutputWidth + j, Math.Min(TVector.Count, shape.OutputWidth - j));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TVector>(TVector v, ref float y, Slot slot)
        where TVector : struct, IFloatVector<TVector>
    {
        ref float destination = ref Unsafe.Add(ref y, slot.Output);
        if (slot.Lanes == TVector.Count)
        {
            TVector.Store(v, ref destination);
        }
        else
        {
            TVector.StoreLanes(v, ref destination, 0, slot.Lanes);
        }
    }

    /// <summary>A vector of output pixels of one row: where its first tap starts in its input planes, where it starts in its output plane, and its lanes to store.</summary>
    private readonly record struct Slot(nint Input, nint Output, int Lanes);

    /// <summary>
    /// The sizes a tile runs over: input planes per output (<see cref="Channels"/>), the kernel, the input's row and plane
    /// strides, and the output plane.
    /// </summary>
    private readonly record struct Shape(int Channels, int KernelHeight, int KernelWidth, int InputWidth, int InputPlane, int OutputHeight, int OutputWidth)
    {
        public int Taps => Channels * KernelHeight * KernelWidth;
    }
}
