using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NetGen.Kernels;

/// <summary>
/// A 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, 2015): each 2×2 block of
/// outputs ("tile") of a filter is Aᵀ [Σ_t (G w(k, t) Gᵀ) ⊙ (Bᵀ d(t) B)] A, where d(t) is the 4×4 block of input channel t
/// under it. The 16 element-wise products summed over the channels are 16 matrix products (one per position ξ of the
/// 4×4 transformed tile), [tiles × channels] · [channels × filters], which <see cref="Gemm"/> runs in its register tiles:
/// 16 multiply-adds per 4 outputs and channel where the direct convolution spends 36, so a layer with many channels and
/// filters does 2.25 × fewer. For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
/// <remarks>
/// <para>
/// The transforms (Lavin and Gray's matrices; ξ = 4a + b indexes a 4×4 tile):
/// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1].
/// The weight's transform U(ξ, t, k) = (G w(k, t) Gᵀ)(ξ) is made once per weight (<see cref="TransformWeight"/>), in double
/// precision and rounded once. The input's and the output's take only additions and subtractions.
/// </para>
/// <para>
/// One sample's pass (<see cref="Forward{TVector}"/>): (1) the input is copied channels-last into a zero-bordered buffer,
/// <c>gathered</c>(u, v, t), so a vector of channels is one load; (2) each tile's 16 transformed values, a vector of
/// channels at a time, go to <c>transformed</c>(ξ, tile, t); (3) 16 products M(ξ) = V(ξ) · U(ξ) into <c>products</c>(ξ, tile,
/// k), which reuses <c>gathered</c>'s memory; (4) each tile's outputs, a vector of filters at a time, plus the bias, go
/// channels-last into <c>outputs</c>, and (5) are copied out to y's planes, through the epilogue. Steps 3 to 5 can be
/// split by filters across threads (<see cref="Prepare{TVector}"/>, <see cref="Multiply{TVector}"/>).
/// </para>
/// <para>
/// The sums differ from the direct convolution's by rounding (the transforms add before they multiply), by about as
/// much as a different order of the same sums: the tests bound them against a double-precision reference. Results do not
/// depend on the thread count: each sample is computed alone, in the same order.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Winograd
{
    /// <summary>Positions ξ of a transformed 4×4 tile: the number of products per sample.</summary>
    public const int Positions = 16;

    /// <summary>Tiles (2 outputs each) along a side of <paramref name="output"/> outputs.</summary>
    public static int Tiles(int output) => (output + 1) / 2;

    /// <summary>
    /// Floats of the first workspace of <see cref="Forward{TVector}"/> for <paramref name="samples"/> samples: their
    /// channels-last zero-bordered inputs, then the 16 products; the longer of the two.
    /// </summary>
    public static int GatheredLength(int channels, int filters, int outputHeight, int outputWidth, int samples) =>
        samples * Math.Max((2 * Tiles(outputHeight) + 2) * (2 * Tiles(outputWidth) + 2) * channels,
            Positions * Tiles(outputHeight) * Tiles(outputWidth) * filters);

    /// <summary>Floats of the second workspace of <see cref="Forward{TVector}"/> for <paramref name="samples"/> samples: the transformed inputs.</summary>
    public static int TransformedLength(int channels, int outputHeight, int outputWidth, int samples) =>
        samples * Positions * Tiles(outputHeight) * Tiles(outputWidth) * channels;

    /// <summary>Floats of the third workspace of <see cref="Forward{TVector}"/> for <paramref name="samples"/> samples: the outputs, channels-last, over whole tiles.</summary>
    public static int OutputsLength(int filters, int outputHeight, int outputWidth, int samples) =>
        samples * 4 * Tiles(outputHeight) * Tiles(outputWidth) * filters;

    /// <summary>Floats of a transformed weight: 16 positions × channels × filters.</summary>
    public static int TransformedWeightLength(int filters, int channels) => Positions * channels * filters;

    /// <summary>
    /// U(ξ, t, k) = Σ_m Σ_n G(a, m) · w(k, t, m, n) · G(b, n), ξ = 4a + b, at transformed[(ξ·channels + t)·filters + k], for the
    /// weight w in PyTorch's layout (filters × channels × 3 × 3).
    /// </summary>
    public static void TransformWeight(ReadOnlySpan<float> weight, Span<float> transformed, int filters, int channels)
    {
        int length = filters * channels * 9;
        if (weight.Length < length)
        {
            throw new ArgumentException($"Expected a weight of {filters}×{channels}×3×3 = {length} floats, got {weight.Length}.", nameof(weight));
        }

        if (transformed.Length < TransformedWeightLength(filters, channels))
        {
            throw new ArgumentException($"Expected room for {TransformedWeightLength(filters, channels)} floats, got {transformed.Length}.", nameof(transformed));
        }

        Span<double> gw = stackalloc double[12]; // G · w(k, t), 4 × 3
        for (int k = 0; k < filters; k++)
        {
            for (int t = 0; t < channels; t++)
            {
                ReadOnlySpan<float> w = weight.Slice((k * channels + t) * 9, 9);
                for (int n = 0; n < 3; n++)
                {
                    double w0 = w[n], w1 = w[3 + n], w2 = w[6 + n];
                    gw[n] = w0;
                    gw[3 + n] = 0.5 * (w0 + w1 + w2);
                    gw[6 + n] = 0.5 * (w0 - w1 + w2);
                    gw[9 + n] = w2;
                }

                for (int a = 0; a < 4; a++)
                {
                    double g0 = gw[3 * a], g1 = gw[3 * a + 1], g2 = gw[3 * a + 2];
                    int row = 4 * a * channels + t;
                    transformed[(row + 0 * channels) * filters + k] = (float)g0;
                    transformed[(row + 1 * channels) * filters + k] = (float)(0.5 * (g0 + g1 + g2));
                    transformed[(row + 2 * channels) * filters + k] = (float)(0.5 * (g0 - g1 + g2));
                    transformed[(row + 3 * channels) * filters + k] = (float)g2;
                }
            }
        }
    }

    /// <summary>
    /// y(k, i, j) = bias(k) + Σ_t Σ_m Σ_n w(k, t, m, n) · x(t, i + m − padding, j + n − padding) (x zero outside), for
    /// <paramref name="samples"/> samples, sample p's x at x + p·<paramref name="inputStride"/> and its y at y +
    /// p·<paramref name="outputStride"/>: x is channels × inputHeight × inputWidth, y filters × outputHeight × outputWidth with
    /// outputHeight = inputHeight + 2·padding − 2; <paramref name="transformedWeight"/> from <see cref="TransformWeight"/>.
    /// Each output goes through <paramref name="epilogue"/> (its residual addressed like y) as it is stored. The workspaces
    /// hold <see cref="GatheredLength"/>, <see cref="TransformedLength"/> and <see cref="OutputsLength"/> floats; nothing past
    /// y's own floats is written. The samples' tiles are rows of the same 16 products, so each product reads the
    /// transformed weight once for all of them; the sums are the same bits whatever <paramref name="samples"/> is, and the
    /// same as <see cref="Prepare{TVector}"/> then <see cref="Multiply{TVector}"/> over any split of the filters.
    /// </summary>
    public static void Forward<TVector>(ref float transformedWeight, ref float bias, ref float x, ref float gathered, ref float transformed, ref float outputs, ref float y,
        int filters, int channels, int inputHeight, int inputWidth, int padding, int samples, int inputStride, int outputStride, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
    {
        Prepare<TVector>(ref x, ref gathered, ref transformed, channels, inputHeight, inputWidth, padding, samples, inputStride);
        Multiply<TVector>(ref transformedWeight, ref bias, ref transformed, ref gathered, ref outputs, ref y, filters, 0, filters, channels, inputHeight, inputWidth, padding,
            samples, outputStride, epilogue);
    }

    /// <summary>
    /// The first half of <see cref="Forward{TVector}"/>, which every part of a split of its filters reads: each sample's input
    /// channels-last into <paramref name="gathered"/>, then its tiles' Bᵀ d B into <paramref name="transformed"/> (tile r of
    /// sample p is row p·tiles + r of each position's product).
    /// </summary>
    public static void Prepare<TVector>(ref float x, ref float gathered, ref float transformed, int channels, int inputHeight, int inputWidth, int padding,
        int samples, int inputStride)
        where TVector : struct, IFloatVector<TVector>
    {
        int outputHeight = inputHeight + 2 * padding - 2, outputWidth = inputWidth + 2 * padding - 2;
        int tilesDown = Tiles(outputHeight), tilesAcross = Tiles(outputWidth), tiles = tilesDown * tilesAcross, all = samples * tiles;
        int width = 2 * tilesAcross + 2, cells = (2 * tilesDown + 2) * width * channels; // gathered's row in cells of `channels` floats; one sample's floats
        for (int p = 0; p < samples; p++)
        {
            Gather(ref Unsafe.Add(ref x, p * inputStride), ref Unsafe.Add(ref gathered, p * cells), channels, inputHeight, inputWidth, padding, 2 * tilesDown + 2, width);
        }

        for (int p = 0; p < samples; p++)
        {
            TransformInput<TVector>(ref Unsafe.Add(ref gathered, p * cells), ref Unsafe.Add(ref transformed, p * tiles * channels), all * channels, channels, tilesDown, tilesAcross, width);
        }
    }

    /// <summary>
    /// The second half of <see cref="Forward{TVector}"/>, after <see cref="Prepare{TVector}"/>, for filters
    /// <paramref name="first"/> … <paramref name="first"/> + <paramref name="units"/> − 1 of <paramref name="filters"/>: their
    /// columns of the 16 products M(ξ) = V(ξ) · U(ξ) into <paramref name="products"/> (<see cref="GatheredLength"/> floats,
    /// which may be the first workspace: <see cref="Prepare{TVector}"/> is done with it), then bias + Aᵀ M A channels-last into
    /// <paramref name="outputs"/>, then y's planes of those filters. Parts over other filters may run at the same time: each
    /// writes only its own columns and planes.
    /// </summary>
    public static void Multiply<TVector>(ref float transformedWeight, ref float bias, ref float transformed, ref float products, ref float outputs, ref float y,
        int filters, int first, int units, int channels, int inputHeight, int inputWidth, int padding, int samples, int outputStride, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
    {
        int outputHeight = inputHeight + 2 * padding - 2, outputWidth = inputWidth + 2 * padding - 2;
        int tilesDown = Tiles(outputHeight), tilesAcross = Tiles(outputWidth), tiles = tilesDown * tilesAcross, all = samples * tiles;
        for (int xi = 0; xi < Positions; xi++)
        {
            Gemm.Multiply<TVector>(ref Unsafe.Add(ref transformed, xi * all * channels), channels, 1,
                ref Unsafe.Add(ref transformedWeight, xi * channels * filters + first), filters,
                ref Unsafe.Add(ref products, xi * all * filters + first), filters, all, channels, units, paddedTail: false);
        }

        int plane = outputHeight * outputWidth;
        for (int p = 0; p < samples; p++)
        {
            ref float sampleOutputs = ref Unsafe.Add(ref outputs, p * 4 * tiles * filters + first);
            TransformOutput<TVector>(ref Unsafe.Add(ref products, p * tiles * filters + first), all * filters, ref Unsafe.Add(ref bias, first), ref sampleOutputs, filters, units, tilesDown, tilesAcross);
            int offset = p * outputStride + first * plane;
            CopyOut(ref sampleOutputs, ref Unsafe.Add(ref y, offset), filters, units, outputHeight, outputWidth, 2 * tilesAcross, epilogue, offset);
        }
    }

    /// <summary>gathered(u, v, t) = x(t, u − padding, v − padding), zero outside x, at gathered[(u·width + v)·channels + t].</summary>
    private static void Gather(ref float x, ref float gathered, int channels, int inputHeight, int inputWidth, int padding, int height, int width)
    {
        // The border: whole rows above and below x, and the cells left and right of each of x's rows.
        for (int u = 0; u < height; u++)
        {
            ref float row = ref Unsafe.Add(ref gathered, u * width * channels);
            if (u < padding || u >= padding + inputHeight)
            {
                MemoryMarshal.CreateSpan(ref row, width * channels).Clear();
                continue;
            }

            int right = Math.Min(width, padding + inputWidth); // the first cell past x's row
            MemoryMarshal.CreateSpan(ref row, padding * channels).Clear();
            MemoryMarshal.CreateSpan(ref Unsafe.Add(ref row, right * channels), (width - right) * channels).Clear();
        }

        // The inside: a transpose of x's channels × pixels (pixel q = u·inputWidth + v, read as one run) into the cells,
        // in blocks of 8 channels × 8 pixels.
        int plane = inputHeight * inputWidth;
        int q = 0;
        if (Avx.IsSupported)
        {
            for (; q + 8 <= plane; q += 8)
            {
                int t = 0;
                for (; t + 8 <= channels; t += 8)
                {
                    ref float from = ref Unsafe.Add(ref x, t * plane + q);
                    Transpose(
                        Vector256.LoadUnsafe(ref from), Vector256.LoadUnsafe(ref Unsafe.Add(ref from, plane)),
                        Vector256.LoadUnsafe(ref Unsafe.Add(ref from, 2 * plane)), Vector256.LoadUnsafe(ref Unsafe.Add(ref from, 3 * plane)),
                        Vector256.LoadUnsafe(ref Unsafe.Add(ref from, 4 * plane)), Vector256.LoadUnsafe(ref Unsafe.Add(ref from, 5 * plane)),
                        Vector256.LoadUnsafe(ref Unsafe.Add(ref from, 6 * plane)), Vector256.LoadUnsafe(ref Unsafe.Add(ref from, 7 * plane)),
                        out Vector256<float> p0, out Vector256<float> p1, out Vector256<float> p2, out Vector256<float> p3,
                        out Vector256<float> p4, out Vector256<float> p5, out Vector256<float> p6, out Vector256<float> p7);
                    p0.StoreUnsafe(ref Cell(ref gathered, q, t, inputWidth, padding, width, channels));
                    p1.StoreUnsafe(ref Cell(ref gathered, q + 1, t, inputWidth, padding, width, channels));
                    p2.StoreUnsafe(ref Cell(ref gathered, q + 2, t, inputWidth, padding, width, channels));
                    p3.StoreUnsafe(ref Cell(ref gathered, q + 3, t, inputWidth, padding, width, channels));
                    p4.StoreUnsafe(ref Cell(ref gathered, q + 4, t, inputWidth, padding, width, channels));
                    p5.StoreUnsafe(ref Cell(ref gathered, q + 5, t, inputWidth, padding, width, channels));
                    p6.StoreUnsafe(ref Cell(ref gathered, q + 6, t, inputWidth, padding, width, channels));
                    p7.StoreUnsafe(ref Cell(ref gathered, q + 7, t, inputWidth, padding, width, channels));
                }

                for (; t < channels; t++)
                {
                    for (int p = q; p < q + 8; p++)
                    {
                        Cell(ref gathered, p, t, inputWidth, padding, width, channels) = Unsafe.Add(ref x, t * plane + p);
                    }
                }
            }
        }

        for (; q < plane; q++)
        {
            for (int t = 0; t < channels; t++)
            {
                Cell(ref gathered, q, t, inputWidth, padding, width, channels) = Unsafe.Add(ref x, t * plane + q);
            }
        }

    }

    /// <summary>Where input pixel q's channel t goes in <c>gathered</c>: cell (u + padding, v + padding), q = u·inputWidth + v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Cell(ref float gathered, int q, int t, int inputWidth, int padding, int width, int channels)
    {
        int u = q / inputWidth, v = q - u * inputWidth;
        return ref Unsafe.Add(ref gathered, ((u + padding) * width + v + padding) * channels + t);
    }

    /// <summary>The transpose of the 8 × 8 matrix whose rows are r0 … r7, as rows c0 … c7 (unpack, shuffle, then swap halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
        out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7)
    {
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        c0 = Avx.Permute2x128(s0, s4, 0x20);
        c1 = Avx.Permute2x128(s1, s5, 0x20);
        c2 = Avx.Permute2x128(s2, s6, 0x20);
        c3 = Avx.Permute2x128(s3, s7, 0x20);
        c4 = Avx.Permute2x128(s0, s4, 0x31);
        c5 = Avx.Permute2x128(s1, s5, 0x31);
        c6 = Avx.Permute2x128(s2, s6, 0x31);
        c7 = Avx.Permute2x128(s3, s7, 0x31);
    }

    /// <summary>V(ξ, tile, t) = (Bᵀ d B)(ξ) for each tile's 4×4 input block d, at transformed[ξ·position + tile·channels + t].</summary>
    private static void TransformInput<TVector>(ref float gathered, ref float transformed, int position, int channels, int tilesDown, int tilesAcross, int width)
        where TVector : struct, IFloatVector<TVector>
    {
        int row = width * channels;
        for (int ti = 0; ti < tilesDown; ti++)
        {
            for (int tj = 0; tj < tilesAcross; tj++)
            {
                ref float block = ref Unsafe.Add(ref gathered, (2 * ti * width + 2 * tj) * channels);
                ref float to = ref Unsafe.Add(ref transformed, (ti * tilesAcross + tj) * channels);
                int t = 0;
                for (; t + TVector.Count <= channels; t += TVector.Count)
                {
                    InputTile<TVector>(ref Unsafe.Add(ref block, t), row, channels, ref Unsafe.Add(ref to, t), position);
                }

                for (; t < channels; t++)
                {
                    InputTile<Float1>(ref Unsafe.Add(ref block, t), row, channels, ref Unsafe.Add(ref to, t), position);
                }
            }
        }
    }

    /// <summary>One tile's Bᵀ d B for a vector of channels: d(a, b) at block[a·row + b·cell], result (ξ) at to[ξ·position].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputTile<TVector>(ref float block, int row, int cell, ref float to, int position)
        where TVector : struct, IFloatVector<TVector>
    {
        // Columns first, e = Bᵀ d: one column b of d gives column b of e (written out, so that all 16 stay in registers).
        InputColumn(ref block, row, out TVector e00, out TVector e10, out TVector e20, out TVector e30);
        InputColumn(ref Unsafe.Add(ref block, cell), row, out TVector e01, out TVector e11, out TVector e21, out TVector e31);
        InputColumn(ref Unsafe.Add(ref block, 2 * cell), row, out TVector e02, out TVector e12, out TVector e22, out TVector e32);
        InputColumn(ref Unsafe.Add(ref block, 3 * cell), row, out TVector e03, out TVector e13, out TVector e23, out TVector e33);

        // Then each row of e times B.
        InputRow(e00, e01, e02, e03, ref to, position);
        InputRow(e10, e11, e12, e13, ref Unsafe.Add(ref to, 4 * position), position);
        InputRow(e20, e21, e22, e23, ref Unsafe.Add(ref to, 8 * position), position);
        InputRow(e30, e31, e32, e33, ref Unsafe.Add(ref to, 12 * position), position);
    }

    /// <summary>Bᵀ times a column d0 … d3 (at column[a·row]): (d0 − d2, d1 + d2, d2 − d1, d1 − d3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputColumn<TVector>(ref float column, int row, out TVector e0, out TVector e1, out TVector e2, out TVector e3)
        where TVector : struct, IFloatVector<TVector>
    {
        TVector d0 = TVector.Load(ref column);
        TVector d1 = TVector.Load(ref Unsafe.Add(ref column, row));
        TVector d2 = TVector.Load(ref Unsafe.Add(ref column, 2 * row));
        TVector d3 = TVector.Load(ref Unsafe.Add(ref column, 3 * row));
        e0 = TVector.Subtract(d0, d2);
        e1 = TVector.Add(d1, d2);
        e2 = TVector.Subtract(d2, d1);
        e3 = TVector.Subtract(d1, d3);
    }

    /// <summary>A row e of Bᵀ d times B: (e0 − e2, e1 + e2, e2 − e1, e1 − e3), to positions 0 … 3 from <paramref name="to"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputRow<TVector>(TVector e0, TVector e1, TVector e2, TVector e3, ref float to, int position)
        where TVector : struct, IFloatVector<TVector>
    {
        TVector.Store(TVector.Subtract(e0, e2), ref to);
        TVector.Store(TVector.Add(e1, e2), ref Unsafe.Add(ref to, position));
        TVector.Store(TVector.Subtract(e2, e1), ref Unsafe.Add(ref to, 2 * position));
        TVector.Store(TVector.Subtract(e1, e3), ref Unsafe.Add(ref to, 3 * position));
    }

    /// <summary>
    /// Each tile's outputs bias(k) + (Aᵀ M A)(a, b) at outputs[((2·ti + a)·(2·tilesAcross) + 2·tj + b)·filters + k]: the
    /// covered outputs, channels-last, for filters k &lt; <paramref name="units"/> (of a row of <paramref name="filters"/>).
    /// </summary>
    private static void TransformOutput<TVector>(ref float products, int position, ref float bias, ref float outputs, int filters, int units, int tilesDown, int tilesAcross)
        where TVector : struct, IFloatVector<TVector>
    {
        int row = 2 * tilesAcross * filters;
        for (int ti = 0; ti < tilesDown; ti++)
        {
            for (int tj = 0; tj < tilesAcross; tj++)
            {
                ref float from = ref Unsafe.Add(ref products, (ti * tilesAcross + tj) * filters);
                ref float to = ref Unsafe.Add(ref outputs, (2 * ti * 2 * tilesAcross + 2 * tj) * filters);
                int k = 0;
                for (; k + TVector.Count <= units; k += TVector.Count)
                {
                    OutputTile<TVector>(ref Unsafe.Add(ref from, k), position, ref Unsafe.Add(ref bias, k), ref Unsafe.Add(ref to, k), row, filters);
                }

                for (; k < units; k++)
                {
                    OutputTile<Float1>(ref Unsafe.Add(ref from, k), position, ref Unsafe.Add(ref bias, k), ref Unsafe.Add(ref to, k), row, filters);
                }
            }
        }
    }

    /// <summary>One tile's bias + Aᵀ M A for a vector of filters: M(ξ) at from[ξ·position], output (a, b) at to[a·row + b·cell].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputTile<TVector>(ref float from, int position, ref float bias, ref float to, int row, int cell)
        where TVector : struct, IFloatVector<TVector>
    {
        // Rows first, p = Aᵀ M: one column s of M gives column s of p.
        OutputColumn(ref from, 4 * position, out TVector p00, out TVector p10);
        OutputColumn(ref Unsafe.Add(ref from, position), 4 * position, out TVector p01, out TVector p11);
        OutputColumn(ref Unsafe.Add(ref from, 2 * position), 4 * position, out TVector p02, out TVector p12);
        OutputColumn(ref Unsafe.Add(ref from, 3 * position), 4 * position, out TVector p03, out TVector p13);

        // Then each row of p times A, plus the bias.
        TVector b = TVector.Load(ref bias);
        TVector.Store(TVector.Add(b, TVector.Add(TVector.Add(p00, p01), p02)), ref to);
        TVector.Store(TVector.Add(b, TVector.Subtract(TVector.Subtract(p01, p02), p03)), ref Unsafe.Add(ref to, cell));
        TVector.Store(TVector.Add(b, TVector.Add(TVector.Add(p10, p11), p12)), ref Unsafe.Add(ref to, row));
        TVector.Store(TVector.Add(b, TVector.Subtract(TVector.Subtract(p11, p12), p13)), ref Unsafe.Add(ref to, row + cell));
    }

    /// <summary>Aᵀ times a column m0 … m3 (at column[a·step]): (m0 + m1 + m2, m1 − m2 − m3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputColumn<TVector>(ref float column, int step, out TVector p0, out TVector p1)
        where TVector : struct, IFloatVector<TVector>
    {
        TVector m0 = TVector.Load(ref column);
        TVector m1 = TVector.Load(ref Unsafe.Add(ref column, step));
        TVector m2 = TVector.Load(ref Unsafe.Add(ref column, 2 * step));
        TVector m3 = TVector.Load(ref Unsafe.Add(ref column, 3 * step));
        p0 = TVector.Add(TVector.Add(m0, m1), m2);
        p1 = TVector.Subtract(TVector.Subtract(m1, m2), m3);
    }

    /// <summary>
    /// y(k, i, j) = epilogue(outputs[(i·width + j)·filters + k]) for k &lt; <paramref name="units"/> and the outputs inside y
    /// (a tile may reach one past its edge), the epilogue's residual from <paramref name="offset"/> on.
    /// </summary>
    private static void CopyOut(ref float outputs, ref float y, int filters, int units, int outputHeight, int outputWidth, int width, Epilogue epilogue, int offset)
    {
        ref float residual = ref Unsafe.IsNullRef(ref epilogue.Residual) ? ref epilogue.Residual : ref Unsafe.Add(ref epilogue.Residual, offset);
        switch (epilogue.Kind)
        {
            case EpilogueKind.None:
                CopyOut<Unchanged>(ref outputs, ref y, ref residual, filters, units, outputHeight, outputWidth, width);
                break;
            case EpilogueKind.Rectify:
                CopyOut<Rectified>(ref outputs, ref y, ref residual, filters, units, outputHeight, outputWidth, width);
                break;
            case EpilogueKind.Add:
                CopyOut<Added>(ref outputs, ref y, ref residual, filters, units, outputHeight, outputWidth, width);
                break;
            default:
                CopyOut<AddedRectified>(ref outputs, ref y, ref residual, filters, units, outputHeight, outputWidth, width);
                break;
        }
    }

    /// <summary>
    /// <see cref="CopyOut(ref float, ref float, int, int, int, int, int, Epilogue, int)"/> with the epilogue a type: a transpose of the
    /// covered pixels × filters into y's filters × pixels (pixel q = i·outputWidth + j, written as one run), in blocks of 8
    /// pixels × 8 filters.
    /// </summary>
    private static void CopyOut<TStep>(ref float outputs, ref float y, ref float residual, int filters, int units, int outputHeight, int outputWidth, int width)
        where TStep : struct, IOutputStep
    {
        int plane = outputHeight * outputWidth;
        int q = 0;
        if (Avx.IsSupported)
        {
            for (; q + 8 <= plane; q += 8)
            {
                int k = 0;
                for (; k + 8 <= units; k += 8)
                {
                    Transpose(
                        Vector256.LoadUnsafe(ref Output(ref outputs, q, k, outputWidth, width, filters)),
                        Vector256.LoadUnsafe(ref Output(ref outputs, q + 1, k, outputWidth, width, filters)),
                        Vector256.LoadUnsafe(ref Output(ref outputs, q + 2, k, outputWidth, width, filters)),
                        Vector256.LoadUnsafe(ref Output(ref outputs, q + 3, k, outputWidth, width, filters)),
                        Vector256.LoadUnsafe(ref Output(ref outputs, q + 4, k, outputWidth, width, filters)),
                        Vector256.LoadUnsafe(ref Output(ref outputs, q + 5, k, outputWidth, width, filters)),
                        Vector256.LoadUnsafe(ref Output(ref outputs, q + 6, k, outputWidth, width, filters)),
                        Vector256.LoadUnsafe(ref Output(ref outputs, q + 7, k, outputWidth, width, filters)),
                        out Vector256<float> f0, out Vector256<float> f1, out Vector256<float> f2, out Vector256<float> f3,
                        out Vector256<float> f4, out Vector256<float> f5, out Vector256<float> f6, out Vector256<float> f7);
                    nint o = k * plane + q;
                    Store<TStep>(f0, ref y, ref residual, o);
                    Store<TStep>(f1, ref y, ref residual, o + plane);
                    Store<TStep>(f2, ref y, ref residual, o + 2 * plane);
                    Store<TStep>(f3, ref y, ref residual, o + 3 * plane);
                    Store<TStep>(f4, ref y, ref residual, o + 4 * plane);
                    Store<TStep>(f5, ref y, ref residual, o + 5 * plane);
                    Store<TStep>(f6, ref y, ref residual, o + 6 * plane);
                    Store<TStep>(f7, ref y, ref residual, o + 7 * plane);
                }

                for (; k < units; k++)
                {
                    for (int p = q; p < q + 8; p++)
                    {
                        StoreOne<TStep>(Output(ref outputs, p, k, outputWidth, width, filters), ref y, ref residual, k * plane + p);
                    }
                }
            }
        }

        for (; q < plane; q++)
        {
            for (int k = 0; k < units; k++)
            {
                StoreOne<TStep>(Output(ref outputs, q, k, outputWidth, width, filters), ref y, ref residual, k * plane + q);
            }
        }
    }

    /// <summary>Output pixel q's filter k in the channels-last outputs: cell (i, j), q = i·outputWidth + j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Output(ref float outputs, int q, int k, int outputWidth, int width, int filters)
    {
        int i = q / outputWidth, j = q - i * outputWidth;
        return ref Unsafe.Add(ref outputs, (i * width + j) * filters + k);
    }

    /// <summary>8 outputs from y + o on, through the epilogue <typeparamref name="TStep"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<TStep>(Vector256<float> sum, ref float y, ref float residual, nint o)
        where TStep : struct, IOutputStep
    {
        if (TStep.AddsResidual)
        {
            sum += Vector256.LoadUnsafe(ref Unsafe.Add(ref residual, o));
        }

        if (TStep.Rectifies)
        {
            sum = Vector256.Max(sum, Vector256<float>.Zero);
        }

        sum.StoreUnsafe(ref Unsafe.Add(ref y, o));
    }

    /// <summary>One output at y + o, through the epilogue <typeparamref name="TStep"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne<TStep>(float sum, ref float y, ref float residual, nint o)
        where TStep : struct, IOutputStep
    {
        if (TStep.AddsResidual)
        {
            sum += Unsafe.Add(ref residual, o);
        }

        if (TStep.Rectifies)
        {
            sum = Math.Max(sum, 0f);
        }

        Unsafe.Add(ref y, o) = sum;
    }
}
