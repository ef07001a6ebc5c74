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
/// tile is one output plane's 8 rows of one vector of pixels, or 4 rows of two vectors, so every tap's one broadcast weight
/// feeds 8 independent multiply-adds, each with its own load of the input (with stride 2, two loads and a pick of the even
/// lanes). A 3×3 kernel with stride 1, the usual depthwise layer, keeps its 9 weights in registers and loads each input row
/// once per kernel column for the up to 3 output rows it feeds. Each output sums its start value (its bias, or zero), then its
/// taps in order, one multiply-add each: the bits of <see cref="Convolution.Forward{TVector}(ref float, ref float, ref float, ref float, int, int, int, int, int, int, int, int, Epilogue)"/> run filter by filter. A
/// vector's lanes past its row's end read the floats after it and are not stored, or, where the next row is written after
/// it, stored and overwritten. One call per tile size covers every plane (the tiles are written out inside it: a tile method would not be
/// inlined, and a call per tile costs as much as its 72 multiply-adds).
/// <para>
/// Measured on the 2-core AMD EPYC (Zen 5) with AVX-512, a 32×14×14 depthwise 3×3 layer with padding 1, 64 samples of one
/// plane set in cache: the forward pass about 80 µs (70–90 GFLOP/s; the direct kernel run filter by filter, about 25), dL/dw
/// about 82 µs.
/// </para>
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
    /// y's own floats: a row's last vector is stored whole where the floats after it are later rows of its plane (which are
    /// written after it), else masked (which reads and writes back unchanged up to <c>Count − 1</c> floats past y's last row).
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
    /// once per tile, its lanes past the row's end zeroed, and multiplied by each tap's vector of x. A 3×3 kernel with stride 1
    /// keeps all 9 taps' sums in registers instead and loads each input row once per kernel column. Each tap's sums run over
    /// the rows in a fixed order and are reduced across their lanes at the end: the same bits whatever the thread count. Reads
    /// x and dL/dy up to <c>stride · Count − 1</c> floats past their last rows, as <see cref="Forward"/>.
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

    /// <summary>
    /// Every output plane of <see cref="Forward"/> in register tiles: its columns of vectors two at a time, down the rows 4 at a
    /// time (then 2, 1); an odd last column alone, down the rows 8 at a time (then 4, 2, 1; a 3×3 kernel with stride 1: 8, then
    /// 6 or 4, 2, 1 in <see cref="Run3x3"/>). One call per tile size covers every plane, so a layer takes a handful of calls and
    /// no division per tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Planes<TVector, TStride>(ref float weight, ref float bias, int biasStep, ref float x, ref float y, int outputs, int multiplier, Shape shape)
        where TVector : struct, IFloatVector<TVector>
        where TStride : struct, IRowCount
    {
        int columns = (shape.OutputWidth + TVector.Count - 1) / TVector.Count, paired = columns & ~1, height = shape.OutputHeight;
        var planes = new PlaneSet(outputs, multiplier, biasStep, columns, shape.OutputWidth - (columns - 1) * TVector.Count);
        if (paired > 0)
        {
            int i = height & ~3;
            Run<TVector, Four, Two, TStride>(ref weight, ref bias, ref x, ref y, planes, shape, 0, paired, 0, i);
            if (i + 2 <= height)
            {
                Run<TVector, Two, Two, TStride>(ref weight, ref bias, ref x, ref y, planes, shape, 0, paired, i, i + 2);
                i += 2;
            }

            if (i < height)
            {
                Run<TVector, One, Two, TStride>(ref weight, ref bias, ref x, ref y, planes, shape, 0, paired, i, height);
            }
        }

        if (paired < columns)
        {
            int i = height & ~7;
            if (TStride.Count == 1 && shape.Channels == 1 && shape.KernelHeight == 3 && shape.KernelWidth == 3)
            {
                Run3x3<TVector, Eight>(ref weight, ref bias, ref x, ref y, planes, shape, paired, 0, i);
                if (i + 6 <= height)
                {
                    Run3x3<TVector, Six>(ref weight, ref bias, ref x, ref y, planes, shape, paired, i, i + 6);
                    i += 6;
                }
                else if (i + 4 <= height)
                {
                    Run3x3<TVector, Four>(ref weight, ref bias, ref x, ref y, planes, shape, paired, i, i + 4);
                    i += 4;
                }

                if (i + 2 <= height)
                {
                    Run3x3<TVector, Two>(ref weight, ref bias, ref x, ref y, planes, shape, paired, i, i + 2);
                    i += 2;
                }

                if (i < height)
                {
                    Run3x3<TVector, One>(ref weight, ref bias, ref x, ref y, planes, shape, paired, i, height);
                }

                return;
            }

            Run<TVector, Eight, One, TStride>(ref weight, ref bias, ref x, ref y, planes, shape, paired, columns, 0, i);

            if (i + 4 <= height)
            {
                Run<TVector, Four, One, TStride>(ref weight, ref bias, ref x, ref y, planes, shape, paired, columns, i, i + 4);
                i += 4;
            }

            if (i + 2 <= height)
            {
                Run<TVector, Two, One, TStride>(ref weight, ref bias, ref x, ref y, planes, shape, paired, columns, i, i + 2);
                i += 2;
            }

            if (i < height)
            {
                Run<TVector, One, One, TStride>(ref weight, ref bias, ref x, ref y, planes, shape, paired, columns, i, height);
            }
        }
    }

    /// <summary>
    /// Tiles of <typeparamref name="TRows"/> rows × <typeparamref name="TColumns"/> vectors over every output plane, columns
    /// <paramref name="firstColumn"/> … <paramref name="endColumn"/> − 1 (in vectors) and rows <paramref name="firstRow"/> …
    /// <paramref name="endRow"/> − 1. Not inlined: its tiles are, and one call runs them all.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Run<TVector, TRows, TColumns, TStride>(ref float weight, ref float bias, ref float x, ref float y, PlaneSet planes, Shape shape,
        int firstColumn, int endColumn, int firstRow, int endRow)
        where TVector : struct, IFloatVector<TVector>
        where TRows : struct, IRowCount
        where TColumns : struct, IRowCount
        where TStride : struct, IRowCount
    {
        int rows = TRows.Count;
        bool two = TColumns.Count > 1;
        nint plane = (nint)shape.OutputHeight * shape.OutputWidth, width = shape.OutputWidth;

        // Byte offsets of a tile's other rows and of a row's second vector, from its first: address modes, not arithmetic per tap.
        nint rowStep = (nint)TStride.Count * shape.InputWidth;
        nint r1 = rowStep * sizeof(float), r2 = 2 * r1, r3 = 3 * r1, r4 = 4 * r1, r5 = 5 * r1, r6 = 6 * r1, r7 = 7 * r1;
        nint second = (nint)TVector.Count * TStride.Count * sizeof(float);
        for (int o = 0; o < planes.Outputs; o++)
        {
            ref float wo = ref Unsafe.Add(ref weight, (nint)o * shape.Taps);
            TVector start = TVector.Broadcast(Unsafe.Add(ref bias, (nint)o * planes.BiasStep));
            ref float xo = ref Unsafe.Add(ref x, (nint)(o / planes.Multiplier) * shape.Channels * shape.InputPlane);
            ref float yo = ref Unsafe.Add(ref y, o * plane);
            for (int column = firstColumn; column < endColumn; column += TColumns.Count)
            {
                int lanes = column + TColumns.Count == planes.Columns ? planes.LastLanes : TVector.Count;
                ref float xc = ref Unsafe.Add(ref xo, (nint)column * TVector.Count * TStride.Count);
                ref float yc = ref Unsafe.Add(ref yo, (nint)column * TVector.Count);
                for (int i = firstRow; i < endRow; i += TRows.Count)
                {
                    // The tile of rows i … i + TRows − 1.
                    TVector s00 = start, s01 = start, s10 = start, s11 = start, s20 = start, s21 = start, s30 = start, s31 = start;
                    TVector s40 = start, s50 = start, s60 = start, s70 = start;
                    ref float w = ref wo;
                    ref float x0 = ref Unsafe.Add(ref xc, i * rowStep);
                    for (int c = 0; c < shape.Channels; c++)
                    {
                        for (int m = 0; m < shape.KernelHeight; m++)
                        {
                            ref float tap = ref Unsafe.Add(ref x0, (nint)c * shape.InputPlane + (nint)m * shape.InputWidth);
                            for (int n = 0; n < shape.KernelWidth; n++)
                            {
                                TVector wv = TVector.Broadcast(w);
                                w = ref Unsafe.Add(ref w, 1);
                                s00 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref tap), s00);
                                if (two)
                                {
                                    s01 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.AddByteOffset(ref tap, second)), s01);
                                }

                                if (rows > 1)
                                {
                                    s10 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.AddByteOffset(ref tap, r1)), s10);
                                    if (two)
                                    {
                                        s11 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.AddByteOffset(ref tap, r1 + second)), s11);
                                    }
                                }

                                if (rows > 2)
                                {
                                    s20 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.AddByteOffset(ref tap, r2)), s20);
                                    s30 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.AddByteOffset(ref tap, r3)), s30);
                                    if (two)
                                    {
                                        s21 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.AddByteOffset(ref tap, r2 + second)), s21);
                                        s31 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.AddByteOffset(ref tap, r3 + second)), s31);
                                    }
                                }

                                if (rows > 4)
                                {
                                    s40 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.AddByteOffset(ref tap, r4)), s40);
                                    s50 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.AddByteOffset(ref tap, r5)), s50);
                                    s60 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.AddByteOffset(ref tap, r6)), s60);
                                    s70 = TVector.MultiplyAdd(wv, Load<TVector, TStride>(ref Unsafe.AddByteOffset(ref tap, r7)), s70);
                                }

                                tap = ref Unsafe.Add(ref tap, 1);
                            }
                        }
                    }

                    ref float y0 = ref Unsafe.Add(ref yc, i * width);
                    StoreRow(s00, s01, ref y0, two, lanes, Spills<TVector>(planes, shape, i));
                    if (rows > 1)
                    {
                        StoreRow(s10, s11, ref Unsafe.Add(ref y0, width), two, lanes, Spills<TVector>(planes, shape, i + 1));
                    }

                    if (rows > 2)
                    {
                        StoreRow(s20, s21, ref Unsafe.Add(ref y0, 2 * width), two, lanes, Spills<TVector>(planes, shape, i + 2));
                        StoreRow(s30, s31, ref Unsafe.Add(ref y0, 3 * width), two, lanes, Spills<TVector>(planes, shape, i + 3));
                    }

                    if (rows > 4)
                    {
                        StoreRow(s40, default, ref Unsafe.Add(ref y0, 4 * width), false, lanes, Spills<TVector>(planes, shape, i + 4));
                        StoreRow(s50, default, ref Unsafe.Add(ref y0, 5 * width), false, lanes, Spills<TVector>(planes, shape, i + 5));
                        StoreRow(s60, default, ref Unsafe.Add(ref y0, 6 * width), false, lanes, Spills<TVector>(planes, shape, i + 6));
                        StoreRow(s70, default, ref Unsafe.Add(ref y0, 7 * width), false, lanes, Spills<TVector>(planes, shape, i + 7));
                    }
                }
            }
        }
    }

    /// <summary>
    /// As <see cref="Run"/> for tiles of <typeparamref name="TRows"/> rows × one vector (column <paramref name="column"/>, rows
    /// <paramref name="firstRow"/> … <paramref name="endRow"/> − 1), for the most common depthwise kernel, 3×3 with stride 1: the
    /// 9 weights stay in registers, and each of the TRows + 2 input rows a tile reads is loaded once per kernel column and used
    /// for every output row it feeds (up to 3), instead of once per output row and kernel row. Each output still sums its
    /// start value, then its taps in row-major order (input row i + m feeds output row i's kernel row m, in increasing m): the
    /// bits of <see cref="Run"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Run3x3<TVector, TRows>(ref float weight, ref float bias, ref float x, ref float y, PlaneSet planes, Shape shape, int column, int firstRow, int endRow)
        where TVector : struct, IFloatVector<TVector>
        where TRows : struct, IRowCount
    {
        int rows = TRows.Count, lanes = planes.LastLanes;
        nint plane = (nint)shape.OutputHeight * shape.OutputWidth, width = shape.OutputWidth, inputWidth = shape.InputWidth;
        for (int o = 0; o < planes.Outputs; o++)
        {
            ref float wo = ref Unsafe.Add(ref weight, (nint)o * 9);
            TVector w00 = TVector.Broadcast(wo), w01 = TVector.Broadcast(Unsafe.Add(ref wo, 1)), w02 = TVector.Broadcast(Unsafe.Add(ref wo, 2));
            TVector w10 = TVector.Broadcast(Unsafe.Add(ref wo, 3)), w11 = TVector.Broadcast(Unsafe.Add(ref wo, 4)), w12 = TVector.Broadcast(Unsafe.Add(ref wo, 5));
            TVector w20 = TVector.Broadcast(Unsafe.Add(ref wo, 6)), w21 = TVector.Broadcast(Unsafe.Add(ref wo, 7)), w22 = TVector.Broadcast(Unsafe.Add(ref wo, 8));
            var k = new Kernel3x3<TVector>(w00, w01, w02, w10, w11, w12, w20, w21, w22);
            TVector start = TVector.Broadcast(Unsafe.Add(ref bias, (nint)o * planes.BiasStep));
            ref float xc = ref Unsafe.Add(ref x, (nint)(o / planes.Multiplier) * shape.InputPlane + (nint)column * TVector.Count);
            ref float yc = ref Unsafe.Add(ref y, o * plane + (nint)column * TVector.Count);
            for (int i = firstRow; i < endRow; i += rows)
            {
                TVector s0 = start, s1 = start, s2 = start, s3 = start, s4 = start, s5 = start, s6 = start, s7 = start, none = default;
                ref float u = ref Unsafe.Add(ref xc, i * inputWidth);

                // Input row i + r feeds output rows i + r − 2 (kernel row 2), i + r − 1 (row 1) and i + r (row 0).
                k.Row(ref u, ref none, ref none, ref s0, false, false, true);
                k.Row(ref Unsafe.Add(ref u, inputWidth), ref none, ref s0, ref s1, false, true, rows > 1);
                k.Row(ref Unsafe.Add(ref u, 2 * inputWidth), ref s0, ref s1, ref s2, true, rows > 1, rows > 2);
                if (rows > 1)
                {
                    k.Row(ref Unsafe.Add(ref u, 3 * inputWidth), ref s1, ref s2, ref s3, true, rows > 2, rows > 3);
                }

                if (rows > 2)
                {
                    k.Row(ref Unsafe.Add(ref u, 4 * inputWidth), ref s2, ref s3, ref s4, true, rows > 3, rows > 4);
                }

                if (rows > 3)
                {
                    k.Row(ref Unsafe.Add(ref u, 5 * inputWidth), ref s3, ref s4, ref s5, true, rows > 4, rows > 5);
                }

                if (rows > 4)
                {
                    k.Row(ref Unsafe.Add(ref u, 6 * inputWidth), ref s4, ref s5, ref s6, true, rows > 5, rows > 6);
                }

                if (rows > 5)
                {
                    k.Row(ref Unsafe.Add(ref u, 7 * inputWidth), ref s5, ref s6, ref s7, true, rows > 6, rows > 7);
                }

                if (rows > 6)
                {
                    k.Row(ref Unsafe.Add(ref u, 8 * inputWidth), ref s6, ref s7, ref none, true, rows > 7, false);
                }

                if (rows > 7)
                {
                    k.Row(ref Unsafe.Add(ref u, 9 * inputWidth), ref s7, ref none, ref none, true, false, false);
                }

                ref float y0 = ref Unsafe.Add(ref yc, i * width);
                StoreLast(s0, ref y0, lanes, Spills<TVector>(planes, shape, i));
                if (rows > 1)
                {
                    StoreLast(s1, ref Unsafe.Add(ref y0, width), lanes, Spills<TVector>(planes, shape, i + 1));
                }

                if (rows > 2)
                {
                    StoreLast(s2, ref Unsafe.Add(ref y0, 2 * width), lanes, Spills<TVector>(planes, shape, i + 2));
                    StoreLast(s3, ref Unsafe.Add(ref y0, 3 * width), lanes, Spills<TVector>(planes, shape, i + 3));
                }

                if (rows > 4)
                {
                    StoreLast(s4, ref Unsafe.Add(ref y0, 4 * width), lanes, Spills<TVector>(planes, shape, i + 4));
                    StoreLast(s5, ref Unsafe.Add(ref y0, 5 * width), lanes, Spills<TVector>(planes, shape, i + 5));
                }

                if (rows > 6)
                {
                    StoreLast(s6, ref Unsafe.Add(ref y0, 6 * width), lanes, Spills<TVector>(planes, shape, i + 6));
                    StoreLast(s7, ref Unsafe.Add(ref y0, 7 * width), lanes, Spills<TVector>(planes, shape, i + 7));
                }
            }
        }
    }

    /// <summary>A 3×3 kernel's weights, each broadcast to a vector.</summary>
    private readonly struct Kernel3x3<TVector>(TVector w00, TVector w01, TVector w02, TVector w10, TVector w11, TVector w12, TVector w20, TVector w21, TVector w22)
        where TVector : struct, IFloatVector<TVector>
    {
        /// <summary>
        /// One input row into the output rows it feeds: kernel row 2 of <paramref name="s2"/>'s (the output row two above), row 1
        /// of <paramref name="s1"/>'s, row 0 of <paramref name="s0"/>'s, each where its flag says the tile has it; each of the
        /// row's three shifted vectors loaded once.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Row(ref float row, ref TVector s2, ref TVector s1, ref TVector s0, bool has2, bool has1, bool has0)
        {
            TVector v = TVector.Load(ref row);
            Feed(v, w20, w10, w00, ref s2, ref s1, ref s0, has2, has1, has0);
            v = TVector.Load(ref Unsafe.Add(ref row, 1));
            Feed(v, w21, w11, w01, ref s2, ref s1, ref s0, has2, has1, has0);
            v = TVector.Load(ref Unsafe.Add(ref row, 2));
            Feed(v, w22, w12, w02, ref s2, ref s1, ref s0, has2, has1, has0);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Feed(TVector v, TVector a2, TVector a1, TVector a0, ref TVector s2, ref TVector s1, ref TVector s0, bool has2, bool has1, bool has0)
        {
            if (has2)
            {
                s2 = TVector.MultiplyAdd(a2, v, s2);
            }

            if (has1)
            {
                s1 = TVector.MultiplyAdd(a1, v, s1);
            }

            if (has0)
            {
                s0 = TVector.MultiplyAdd(a0, v, s0);
            }
        }
    }

    /// <summary>One output row's one or two vectors: whole, but the last, which stores <paramref name="lanes"/> lanes (see <see cref="StoreLast"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TVector>(TVector v0, TVector v1, ref float y, bool two, int lanes, bool spills)
        where TVector : struct, IFloatVector<TVector>
    {
        if (two)
        {
            TVector.Store(v0, ref y);
            StoreLast(v1, ref Unsafe.Add(ref y, TVector.Count), lanes, spills);
        }
        else
        {
            StoreLast(v0, ref y, lanes, spills);
        }
    }

    /// <summary>
    /// A row's last vector, of which <paramref name="lanes"/> are the row's: stored whole when <paramref name="spills"/> (the
    /// floats after the row are the next row's, written later), else masked. A masked store reads its vector back first,
    /// and a row narrower than a vector starts inside the previous row's store: that read waits for the store to reach the
    /// cache (a failed store forwarding, tens of cycles), once per row: 14-pixel rows ran at a third of the speed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreLast<TVector>(TVector v, ref float destination, int lanes, bool spills)
        where TVector : struct, IFloatVector<TVector>
    {
        if (lanes == TVector.Count || spills)
        {
            TVector.Store(v, ref destination);
        }
        else
        {
            TVector.StoreLanes(v, ref destination, 0, lanes);
        }
    }

    /// <summary>
    /// Whether output row <paramref name="row"/>'s last vector may be stored whole: when each row is one vector, so the floats
    /// past it are the next rows' (which the tiles write after it, rows being done in increasing order), and the vector ends
    /// inside its plane (past which lie the next plane's first floats, written before, or the end of the output).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Spills<TVector>(PlaneSet planes, Shape shape, int row)
        where TVector : struct, IFloatVector<TVector> =>
        planes.Columns == 1 && (shape.OutputHeight - row) * shape.OutputWidth >= TVector.Count;

    /// <summary>Every output plane of <see cref="WeightGradient"/>: its taps in tiles of 4, then 2 and 1, one call of <see cref="TapRun"/> per tile size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightGradientPlanes<TVector, TStride>(ref float dy, ref float x, ref float weightGradient, int outputs, int multiplier, Shape shape)
        where TVector : struct, IFloatVector<TVector>
        where TStride : struct, IRowCount
    {
        if (TStride.Count == 1 && shape.KernelHeight == 3 && shape.KernelWidth == 3)
        {
            WeightGradient3x3<TVector>(ref dy, ref x, ref weightGradient, outputs, multiplier, shape);
            return;
        }

        int taps = shape.Taps, r = taps & ~3;
        TapRun<TVector, Four, TStride>(ref dy, ref x, ref weightGradient, outputs, multiplier, shape, 0, r);
        if (r + 2 <= taps)
        {
            TapRun<TVector, Two, TStride>(ref dy, ref x, ref weightGradient, outputs, multiplier, shape, r, r + 2);
            r += 2;
        }

        if (r < taps)
        {
            TapRun<TVector, One, TStride>(ref dy, ref x, ref weightGradient, outputs, multiplier, shape, r, taps);
        }
    }

    /// <summary>
    /// <see cref="WeightGradient"/> for a 3×3 kernel with stride 1: input row u feeds dL/dw's kernel row m through dL/dy's row
    /// u − m, so each input row's three shifted vectors are loaded once and multiplied by the (up to) three rows of dL/dy that
    /// meet it, into 9 sums, one per tap, that run down the rows in order. Rows of dL/dy before the first or after the last
    /// are zero vectors, so the loop has no branch (adding 0·x leaves a sum unchanged: x is a finite input). Each vector of
    /// dL/dy has its lanes past the row's end zeroed.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void WeightGradient3x3<TVector>(ref float dy, ref float x, ref float weightGradient, int outputs, int multiplier, Shape shape)
        where TVector : struct, IFloatVector<TVector>
    {
        int height = shape.OutputHeight, width = shape.OutputWidth;
        nint plane = (nint)height * width, inputWidth = shape.InputWidth;
        for (int o = 0; o < outputs; o++)
        {
            ref float dyo = ref Unsafe.Add(ref dy, o * plane);
            ref float xo = ref Unsafe.Add(ref x, (nint)(o / multiplier) * shape.InputPlane);
            TVector a00 = TVector.Zero, a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00, a20 = a00, a21 = a00, a22 = a00;
            for (int j = 0; j < width; j += TVector.Count)
            {
                TVector keep = TVector.LaneMask(0, width - j);
                TVector d1 = TVector.Zero, d2 = TVector.Zero; // dL/dy rows u − 1 and u − 2
                ref float xr = ref Unsafe.Add(ref xo, j);
                ref float dr = ref Unsafe.Add(ref dyo, j);
                for (int u = 0; u < height + 2; u++)
                {
                    TVector d0 = u < height ? TVector.Masked(TVector.Load(ref dr), keep) : TVector.Zero;
                    TVector v = TVector.Load(ref xr);
                    a00 = TVector.MultiplyAdd(d0, v, a00);
                    a10 = TVector.MultiplyAdd(d1, v, a10);
                    a20 = TVector.MultiplyAdd(d2, v, a20);
                    v = TVector.Load(ref Unsafe.Add(ref xr, 1));
                    a01 = TVector.MultiplyAdd(d0, v, a01);
                    a11 = TVector.MultiplyAdd(d1, v, a11);
                    a21 = TVector.MultiplyAdd(d2, v, a21);
                    v = TVector.Load(ref Unsafe.Add(ref xr, 2));
                    a02 = TVector.MultiplyAdd(d0, v, a02);
                    a12 = TVector.MultiplyAdd(d1, v, a12);
                    a22 = TVector.MultiplyAdd(d2, v, a22);
                    d2 = d1;
                    d1 = d0;
                    xr = ref Unsafe.Add(ref xr, inputWidth);
                    dr = ref Unsafe.Add(ref dr, width);
                }
            }

            ref float dw = ref Unsafe.Add(ref weightGradient, (nint)o * 9);
            dw += TVector.Sum(a00);
            Unsafe.Add(ref dw, 1) += TVector.Sum(a01);
            Unsafe.Add(ref dw, 2) += TVector.Sum(a02);
            Unsafe.Add(ref dw, 3) += TVector.Sum(a10);
            Unsafe.Add(ref dw, 4) += TVector.Sum(a11);
            Unsafe.Add(ref dw, 5) += TVector.Sum(a12);
            Unsafe.Add(ref dw, 6) += TVector.Sum(a20);
            Unsafe.Add(ref dw, 7) += TVector.Sum(a21);
            Unsafe.Add(ref dw, 8) += TVector.Sum(a22);
        }
    }

    /// <summary>
    /// dL/dw of taps <paramref name="firstTap"/> … <paramref name="endTap"/> − 1 (in row-major order m, n) of every output plane,
    /// <typeparamref name="TTaps"/> at a time: two sums per tap, one for even output rows and one for odd, added and reduced
    /// across the lanes at the end. Not inlined: one call runs every plane.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TapRun<TVector, TTaps, TStride>(ref float dy, ref float x, ref float weightGradient, int outputs, int multiplier, Shape shape, int firstTap, int endTap)
        where TVector : struct, IFloatVector<TVector>
        where TTaps : struct, IRowCount
        where TStride : struct, IRowCount
    {
        int count = TTaps.Count, stride = TStride.Count, width = shape.OutputWidth, taps = shape.Taps;
        nint plane = (nint)shape.OutputHeight * width, inputRow = (nint)stride * shape.InputWidth;
        for (int o = 0; o < outputs; o++)
        {
            ref float dyo = ref Unsafe.Add(ref dy, o * plane);
            ref float xo = ref Unsafe.Add(ref x, (nint)(o / multiplier) * shape.InputPlane);
            ref float dwo = ref Unsafe.Add(ref weightGradient, (nint)o * taps);
            for (int first = firstTap; first < endTap; first += count)
            {
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
                int i = 0;
                for (; i + 2 <= shape.OutputHeight; i += 2)
                {
                    ref float d = ref Unsafe.Add(ref dyo, (nint)i * width);
                    ref float xr = ref Unsafe.Add(ref xo, i * inputRow);
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
                    ref float d = ref Unsafe.Add(ref dyo, (nint)i * width);
                    ref float xr = ref Unsafe.Add(ref xo, i * inputRow);
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

                ref float dw = ref Unsafe.Add(ref dwo, first);
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

    /// <summary>What <see cref="Forward"/>'s tiles share besides the shape: output planes, channel multiplier, bias step, vectors per output row and the lanes of a row's last.</summary>
    private readonly record struct PlaneSet(int Outputs, int Multiplier, int BiasStep, int Columns, int LastLanes);

    /// <summary>
    /// The sizes a tile runs over: input planes per output (<see cref="Channels"/>), the kernel, the input's row and plane
    /// strides, and the output plane.
    /// </summary>
    private readonly record struct Shape(int Channels, int KernelHeight, int KernelWidth, int InputWidth, int InputPlane, int OutputHeight, int OutputWidth)
    {
        public int Taps => Channels * KernelHeight * KernelWidth;
    }
}
