using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NetGen.Kernels;

/// <summary>
/// A stride-1 convolution with a 3×3 or 5×5 kernel by Winograd's minimal filtering F(2×2, r×r) (Lavin and Gray, 2015):
/// each 2×2 block of outputs ("tile") of a filter is Aᵀ [Σ_t (G w(k, t) Gᵀ) ⊙ (Bᵀ d(t) B)] A, where d(t) is the
/// (r + 1)×(r + 1) block of input channel t under it. The element-wise products summed over the channels are (r + 1)²
/// matrix products, one per position ξ of the transformed tile, [tiles × channels] · [channels × filters], which
/// <see cref="Gemm"/> runs in its register tiles: per 4 outputs and channel, 16 multiply-adds where the direct 3×3
/// convolution spends 36 (2.25 × fewer), 36 where the 5×5 one spends 100 (2.78 × fewer). For use by code that the NetGen
/// source generator emits; not intended to be called directly.
/// </summary>
/// <remarks>
/// <para>
/// The transforms are Toom-Cook's over the points 0, 1, −1 (F(2×2, 3×3)) and 0, 1, −1, 2, −2 (F(2×2, 5×5)), and ∞
/// (<see cref="F2x3"/>, <see cref="F2x5"/> give the matrices). The weight's transform U(ξ, t, k) = (G w(k, t) Gᵀ)(ξ) is
/// made once per weight (<see cref="TransformWeight"/>), in double precision and rounded once. The input's and the
/// output's take additions and multiplications by small integers.
/// </para>
/// <para>
/// One sample's pass (<see cref="Forward{TVector}"/>): (1) the input is copied channels-last into a zero-bordered buffer,
/// <c>gathered</c>(u, v, t), so a vector of channels is one load; (2) each tile's transformed values, a vector of
/// channels at a time, go to <c>transformed</c>(ξ, tile, t); (3) the products M(ξ) = V(ξ) · U(ξ) into <c>products</c>(ξ,
/// tile, k), which reuses <c>gathered</c>'s memory; (4) each tile's outputs, a vector of filters at a time, plus the bias,
/// go channels-last into <c>outputs</c>, and (5) are copied out to y's planes, through the epilogue. A band of tile rows
/// runs the same steps over its rows alone (<see cref="ForwardRows{TVector}"/>), which is how a pass splits across threads.
/// </para>
/// <para>
/// The sums differ from the direct convolution's by rounding (the transforms add before they multiply; F(2×2, 5×5)'s
/// also scale by up to 5): the tests bound them against a double-precision reference. Results do not depend on the
/// thread count: each sample is computed alone, in the same order.
/// </para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class Winograd
{
    /// <summary>Whether a kernel of <paramref name="kernel"/> × <paramref name="kernel"/> has a Winograd form here: 3 or 5.</summary>
    public static bool Supports(int kernel) => kernel is 3 or 5;

    /// <summary>Positions ξ of a transformed tile for a <paramref name="kernel"/>-wide kernel, (kernel + 1)²: the products per sample.</summary>
    public static int Positions(int kernel) => (kernel + 1) * (kernel + 1);

    /// <summary>Tiles (2 outputs each) along a side of <paramref name="output"/> outputs.</summary>
    public static int Tiles(int output) => (output + 1) / 2;

    /// <summary>
    /// Floats of the first workspace of <see cref="Forward{TVector}"/> for one sample: its channels-last zero-bordered input,
    /// then the products; the longer of the two.
    /// </summary>
    public static int GatheredLength(int kernel, int channels, int filters, int outputHeight, int outputWidth) =>
        GatheredLength(kernel, channels, filters, outputHeight, outputWidth, samples: 1);

    /// <summary>
    /// Floats of the first workspace of <see cref="ForwardSamples{TVector}"/> for <paramref name="samples"/> samples: one sample's
    /// channels-last zero-bordered input, then all the samples' products; the longer of the two.
    /// </summary>
    public static int GatheredLength(int kernel, int channels, int filters, int outputHeight, int outputWidth, int samples) =>
        Math.Max((2 * Tiles(outputHeight) + kernel - 1) * (2 * Tiles(outputWidth) + kernel - 1) * channels,
            Positions(kernel) * samples * Tiles(outputHeight) * Tiles(outputWidth) * filters);

    /// <summary>Floats of the second workspace of <see cref="Forward{TVector}"/> for one sample: the transformed input.</summary>
    public static int TransformedLength(int kernel, int channels, int outputHeight, int outputWidth) =>
        Positions(kernel) * Tiles(outputHeight) * Tiles(outputWidth) * channels;

    /// <summary>Floats of the third workspace of <see cref="Forward{TVector}"/> for one sample: the outputs, channels-last, over whole tiles.</summary>
    public static int OutputsLength(int filters, int outputHeight, int outputWidth) => 4 * Tiles(outputHeight) * Tiles(outputWidth) * filters;

    /// <summary>Floats of a transformed weight: positions × channels × filters.</summary>
    public static int TransformedWeightLength(int kernel, int filters, int channels) => Positions(kernel) * channels * filters;

    /// <summary>
    /// U(ξ, t, k) = Σ_m Σ_n G(a, m) · w(k, t, m, n) · G(b, n), ξ = (kernel + 1)·a + b, at transformed[(ξ·channels + t)·filters +
    /// k], for the weight w in PyTorch's layout (filters × channels × kernel × kernel); G in double precision.
    /// </summary>
    public static void TransformWeight(ReadOnlySpan<float> weight, Span<float> transformed, int kernel, int filters, int channels) =>
        Transform(weight, transformed, kernel, filters, channels, turned: false);

    /// <summary>
    /// <see cref="TransformWeight"/> of the weight turned for dL/dx, without making it: w'(k, t, m, n) = w(t, k, r − 1 − m,
    /// r − 1 − n), each kernel turned by 180° and the filter and channel axes swapped, where w is a convolution's weight
    /// (<paramref name="channels"/> × <paramref name="filters"/> × r × r: the turned convolution's filters are w's channels).
    /// The same bits as turning w first.
    /// </summary>
    public static void TransformTurnedWeight(ReadOnlySpan<float> weight, Span<float> transformed, int kernel, int filters, int channels) =>
        Transform(weight, transformed, kernel, filters, channels, turned: true);

    /// <summary>
    /// The transform of w' (k, t, tap) = weight[k·filterStride + t·channelStride + tap'], tap' = tap, or (turned) r² − 1 − tap
    /// with the strides swapped.
    /// </summary>
    private static void Transform(ReadOnlySpan<float> weight, Span<float> transformed, int kernel, int filters, int channels, bool turned)
    {
        if (!Supports(kernel))
        {
            throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Winograd's forms here take 3×3 and 5×5 kernels.");
        }

        int taps = kernel * kernel, length = filters * channels * taps;
        if (weight.Length < length)
        {
            throw new ArgumentException($"Expected a weight of {filters}×{channels}×{kernel}×{kernel} = {length} floats, got {weight.Length}.", nameof(weight));
        }

        if (transformed.Length < TransformedWeightLength(kernel, filters, channels))
        {
            throw new ArgumentException($"Expected room for {TransformedWeightLength(kernel, filters, channels)} floats, got {transformed.Length}.", nameof(transformed));
        }

        double[,] form = kernel == 3 ? F2x3.G : F2x5.G;
        int alpha = kernel + 1;
        var at = new TapIndex(taps, turned ? taps : channels * taps, turned ? filters * taps : taps, turned);
        Span<double> g = stackalloc double[alpha * kernel]; // G, flat
        for (int a = 0; a < alpha; a++)
        {
            for (int m = 0; m < kernel; m++)
            {
                g[a * kernel + m] = form[a, m];
            }
        }

        // Eight or four filters at a time, one in each lane (the same sums in the same order as one at a time, so the same
        // bits): their taps, then G · w, then (G · w) · Gᵀ, each position's results stored side by side.
        Span<Vector256<double>> w4 = stackalloc Vector256<double>[taps];
        Span<Vector256<double>> gw4 = stackalloc Vector256<double>[alpha * kernel];
        Span<double> gw = stackalloc double[alpha * kernel];
        Span<float> w1 = stackalloc float[taps];
        Span<Vector512<double>> g8 = stackalloc Vector512<double>[alpha * kernel];
        Span<Vector512<double>> w8 = stackalloc Vector512<double>[taps];
        Span<Vector512<double>> gw8 = stackalloc Vector512<double>[alpha * kernel];
        for (int i = 0; i < g8.Length; i++)
        {
            g8[i] = Vector512.Create(g[i]);
        }

        for (int t = 0; t < channels; t++)
        {
            int k = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; k + 8 <= filters; k += 8)
                {
                    TransformEight(weight, transformed, g8, w8, gw8, at, kernel, channels, filters, t, k);
                }
            }

            for (; k + 4 <= filters; k += 4)
            {
                for (int tap = 0; tap < taps; tap++)
                {
                    w4[tap] = Vector256.Create(weight[at.Of(k, t, tap)], weight[at.Of(k + 1, t, tap)], weight[at.Of(k + 2, t, tap)], weight[at.Of(k + 3, t, tap)]);
                }

                for (int a = 0; a < alpha; a++)
                {
                    for (int n = 0; n < kernel; n++)
                    {
                        Vector256<double> sum = Vector256<double>.Zero;
                        for (int m = 0; m < kernel; m++)
                        {
                            sum += Vector256.Create(g[a * kernel + m]) * w4[m * kernel + n];
                        }

                        gw4[a * kernel + n] = sum;
                    }
                }

                for (int a = 0; a < alpha; a++)
                {
                    for (int b = 0; b < alpha; b++)
                    {
                        Vector256<double> sum = Vector256<double>.Zero;
                        for (int n = 0; n < kernel; n++)
                        {
                            sum += gw4[a * kernel + n] * Vector256.Create(g[b * kernel + n]);
                        }

                        Vector256.Narrow(sum, sum).GetLower().CopyTo(transformed.Slice(((a * alpha + b) * channels + t) * filters + k, 4));
                    }
                }
            }

            for (; k < filters; k++)
            {
                for (int tap = 0; tap < taps; tap++)
                {
                    w1[tap] = weight[at.Of(k, t, tap)];
                }

                for (int a = 0; a < alpha; a++)
                {
                    for (int n = 0; n < kernel; n++)
                    {
                        double sum = 0;
                        for (int m = 0; m < kernel; m++)
                        {
                            sum += g[a * kernel + m] * w1[m * kernel + n];
                        }

                        gw[a * kernel + n] = sum;
                    }
                }

                for (int a = 0; a < alpha; a++)
                {
                    for (int b = 0; b < alpha; b++)
                    {
                        double sum = 0;
                        for (int n = 0; n < kernel; n++)
                        {
                            sum += gw[a * kernel + n] * g[b * kernel + n];
                        }

                        transformed[((a * alpha + b) * channels + t) * filters + k] = (float)sum;
                    }
                }
            }
        }
    }

    /// <summary>
    /// <see cref="TransformWeight"/> for filters k … k + 7 of channel t, one in each lane of 512-bit vectors of doubles:
    /// each lane's sums are those of one filter alone, in the same order (products and sums rounded one by one, no fused
    /// multiply-adds), so the same bits.
    /// </summary>
    private static void TransformEight(ReadOnlySpan<float> weight, Span<float> transformed, ReadOnlySpan<Vector512<double>> g, Span<Vector512<double>> w,
        Span<Vector512<double>> gw, TapIndex at, int kernel, int channels, int filters, int t, int k)
    {
        int taps = kernel * kernel, alpha = kernel + 1, filter = at.FilterStride;
        ReadOnlySpan<float> from = weight.Slice(at.Of(k, t, 0) - at.Tap(0), 7 * filter + taps);
        for (int tap = 0; tap < taps; tap++)
        {
            int i = at.Tap(tap);
            w[tap] = Vector512.Create(from[i], from[filter + i], from[2 * filter + i], from[3 * filter + i],
                from[4 * filter + i], from[5 * filter + i], from[6 * filter + i], from[7 * filter + i]);
        }

        for (int a = 0; a < alpha; a++)
        {
            for (int n = 0; n < kernel; n++)
            {
                Vector512<double> sum = Vector512<double>.Zero;
                for (int m = 0; m < kernel; m++)
                {
                    sum += g[a * kernel + m] * w[m * kernel + n];
                }

                gw[a * kernel + n] = sum;
            }
        }

        for (int a = 0; a < alpha; a++)
        {
            for (int b = 0; b < alpha; b++)
            {
                Vector512<double> sum = Vector512<double>.Zero;
                for (int n = 0; n < kernel; n++)
                {
                    sum += gw[a * kernel + n] * g[b * kernel + n];
                }

                Vector512.Narrow(sum, sum).GetLower().CopyTo(transformed.Slice(((a * alpha + b) * channels + t) * filters + k, 8));
            }
        }
    }

    /// <summary>Where tap <c>tap</c> of filter k's kernel over channel t is in a weight read plain or turned (see <see cref="Transform"/>).</summary>
    private readonly record struct TapIndex(int Taps, int FilterStride, int ChannelStride, bool Turned)
    {
        public int Tap(int tap) => Turned ? Taps - 1 - tap : tap;

        public int Of(int k, int t, int tap) => k * FilterStride + t * ChannelStride + Tap(tap);
    }

    /// <summary>
    /// y(k, i, j) = bias(k) + Σ_t Σ_m Σ_n w(k, t, m, n) · x(t, i + m − padding, j + n − padding) (x zero outside), m, n &lt;
    /// <paramref name="kernel"/>, for one sample: x is channels × inputHeight × inputWidth, y filters × outputHeight ×
    /// outputWidth with outputHeight = inputHeight + 2·padding − kernel + 1; <paramref name="transformedWeight"/> from
    /// <see cref="TransformWeight"/>. Each output goes through <paramref name="epilogue"/> (its residual addressed like y) as
    /// it is stored. The workspaces hold <see cref="GatheredLength(int, int, int, int, int)"/>, <see cref="TransformedLength"/> and
    /// <see cref="OutputsLength"/> floats; nothing past y's own floats is written.
    /// </summary>
    public static void Forward<TVector>(ref float transformedWeight, ref float bias, ref float x, ref float gathered, ref float transformed, ref float outputs, ref float y,
        int kernel, int filters, int channels, int inputHeight, int inputWidth, int padding, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector> =>
        ForwardRows<TVector>(ref transformedWeight, ref bias, ref x, ref gathered, ref transformed, ref outputs, ref y, kernel, filters, channels, inputHeight, inputWidth,
            padding, 0, Tiles(inputHeight + 2 * padding - kernel + 1), epilogue);

    /// <summary>
    /// <see cref="Forward{TVector}"/> over tile rows <paramref name="firstTileRow"/> … <paramref name="firstTileRow"/> +
    /// <paramref name="tileRows"/> − 1 only (output rows 2·firstTileRow … 2·(firstTileRow + tileRows) − 1 that y has): the part of
    /// a pass split across threads by rows, which reads only the input rows under its tiles and writes only its rows of y's
    /// planes. The workspaces hold the lengths <see cref="GatheredLength(int, int, int, int, int)"/>, <see cref="TransformedLength"/> and
    /// <see cref="OutputsLength"/> give for 2·<paramref name="tileRows"/> output rows; parts over other rows may run at the
    /// same time with workspaces of their own. Each output gets the same bits as from <see cref="Forward{TVector}"/>.
    /// </summary>
    public static void ForwardRows<TVector>(ref float transformedWeight, ref float bias, ref float x, ref float gathered, ref float transformed, ref float outputs, ref float y,
        int kernel, int filters, int channels, int inputHeight, int inputWidth, int padding, int firstTileRow, int tileRows, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
    {
        if (kernel == 3)
        {
            ForwardRows<TVector, F2x3>(ref transformedWeight, ref bias, ref x, ref gathered, ref transformed, ref outputs, ref y, filters, channels, inputHeight, inputWidth,
                padding, firstTileRow, tileRows, epilogue);
        }
        else
        {
            ForwardRows<TVector, F2x5>(ref transformedWeight, ref bias, ref x, ref gathered, ref transformed, ref outputs, ref y, filters, channels, inputHeight, inputWidth,
                padding, firstTileRow, tileRows, epilogue);
        }
    }

    /// <summary>
    /// <see cref="Forward{TVector}"/> for <paramref name="samples"/> samples at once (x's one after another, y's likewise, the
    /// epilogue's residual addressed like y), their tiles side by side in each position's product: [samples·tiles × channels]
    /// · [channels × filters], so that a plane of few tiles (a 7×7 output has 16) reads the transformed weight once for all
    /// of them. The workspaces hold <see cref="GatheredLength(int, int, int, int, int, int)"/>, <see cref="TransformedLength"/>
    /// × samples and <see cref="OutputsLength"/> floats. Each output gets the same bits as from <see cref="Forward{TVector}"/>.
    /// </summary>
    public static void ForwardSamples<TVector>(ref float transformedWeight, ref float bias, ref float x, ref float gathered, ref float transformed, ref float outputs,
        ref float y, int kernel, int filters, int channels, int inputHeight, int inputWidth, int padding, int samples, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
    {
        if (kernel == 3)
        {
            ForwardSamples<TVector, F2x3>(ref transformedWeight, ref bias, ref x, ref gathered, ref transformed, ref outputs, ref y, filters, channels, inputHeight,
                inputWidth, padding, samples, epilogue);
        }
        else
        {
            ForwardSamples<TVector, F2x5>(ref transformedWeight, ref bias, ref x, ref gathered, ref transformed, ref outputs, ref y, filters, channels, inputHeight,
                inputWidth, padding, samples, epilogue);
        }
    }

    private static void ForwardSamples<TVector, TForm>(ref float transformedWeight, ref float bias, ref float x, ref float gathered, ref float transformed, ref float outputs,
        ref float y, int filters, int channels, int inputHeight, int inputWidth, int padding, int samples, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
        where TForm : struct, IWinogradForm
    {
        int outputHeight = inputHeight + 2 * padding - TForm.Kernel + 1, outputWidth = inputWidth + 2 * padding - TForm.Kernel + 1;
        int tilesDown = Tiles(outputHeight), tilesAcross = Tiles(outputWidth), tiles = tilesDown * tilesAcross, rows = samples * tiles;
        int outputPlane = outputHeight * outputWidth, outputLength = filters * outputPlane;

        // 1–2. Each sample's zero-bordered input, channels-last, and its tiles' V = Bᵀ d B, sample p's tiles at rows p·tiles….
        TransformSamples<TVector, TForm>(ref x, ref gathered, ref transformed, samples, channels, inputHeight, inputWidth, padding);

        // 3. The products M(ξ) = V(ξ) · U(ξ) over every sample's tiles at once, into gathered (done with).
        Products<TVector>(ref transformedWeight, ref transformed, ref gathered, (TForm.Kernel + 1) * (TForm.Kernel + 1), rows, channels, filters);

        // 4–5. Each sample's bias + Aᵀ M A into outputs, then copied out to its planes through the epilogue.
        for (int p = 0; p < samples; p++)
        {
            TransformOutput<TVector, TForm>(ref Unsafe.Add(ref gathered, p * tiles * filters), rows * filters, ref bias, ref outputs, filters, tilesDown, tilesAcross);
            CopyOut(ref outputs, ref Unsafe.Add(ref y, p * outputLength), filters, outputHeight, outputWidth, outputPlane, 2 * tilesAcross, epilogue, p * outputLength);
        }
    }

    private static void ForwardRows<TVector, TForm>(ref float transformedWeight, ref float bias, ref float x, ref float gathered, ref float transformed, ref float outputs,
        ref float y, int filters, int channels, int inputHeight, int inputWidth, int padding, int firstTileRow, int tileRows, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
        where TForm : struct, IWinogradForm
    {
        int outputHeight = inputHeight + 2 * padding - TForm.Kernel + 1, outputWidth = inputWidth + 2 * padding - TForm.Kernel + 1;
        int tilesAcross = Tiles(outputWidth), tiles = tileRows * tilesAcross;
        int height = 2 * tileRows + TForm.Kernel - 1, width = 2 * tilesAcross + TForm.Kernel - 1;

        // 1. The band's rows of the zero-bordered input: gathered row u is the whole pass's row 2·firstTileRow + u, input row
        //    2·firstTileRow + u − padding.
        int start = 2 * firstTileRow - padding;
        int first = Math.Max(0, start), end = Math.Min(inputHeight, start + height);
        Gather(ref Unsafe.Add(ref x, first * inputWidth), ref gathered, channels, Math.Max(0, end - first), inputWidth, inputHeight * inputWidth, first - start, padding,
            height, width);

        // 2–4. V = Bᵀ d B of each tile; the products M(ξ) = V(ξ) · U(ξ), over gathered (done with); bias + Aᵀ M A into outputs.
        TransformInput<TVector, TForm>(ref gathered, ref transformed, tiles * channels, channels, tileRows, tilesAcross, width);
        Products<TVector>(ref transformedWeight, ref transformed, ref gathered, (TForm.Kernel + 1) * (TForm.Kernel + 1), tiles, channels, filters);
        TransformOutput<TVector, TForm>(ref gathered, tiles * filters, ref bias, ref outputs, filters, tileRows, tilesAcross);

        // 5. The band's output rows that y has, into its planes through the epilogue.
        int row = 2 * firstTileRow, offset = row * outputWidth;
        CopyOut(ref outputs, ref Unsafe.Add(ref y, offset), filters, Math.Min(2 * tileRows, outputHeight - row), outputWidth, outputHeight * outputWidth, 2 * tilesAcross,
            epilogue, offset);
    }

    /// <summary>
    /// V for <paramref name="samples"/> samples (x's one after another) side by side: each sample's input gathered
    /// channels-last with its zero border, then its tiles transformed into rows p·tiles … of each position's
    /// [samples·tiles × channels] block of <paramref name="transformed"/>.
    /// </summary>
    private static void TransformSamples<TVector, TForm>(ref float x, ref float gathered, ref float transformed, int samples, int channels, int inputHeight,
        int inputWidth, int padding)
        where TVector : struct, IFloatVector<TVector>
        where TForm : struct, IWinogradForm
    {
        int outputHeight = inputHeight + 2 * padding - TForm.Kernel + 1, outputWidth = inputWidth + 2 * padding - TForm.Kernel + 1;
        int tilesDown = Tiles(outputHeight), tilesAcross = Tiles(outputWidth), tiles = tilesDown * tilesAcross;
        int height = 2 * tilesDown + TForm.Kernel - 1, width = 2 * tilesAcross + TForm.Kernel - 1, plane = inputHeight * inputWidth;
        for (int p = 0; p < samples; p++)
        {
            Gather(ref Unsafe.Add(ref x, p * channels * plane), ref gathered, channels, inputHeight, inputWidth, plane, padding, padding, height, width);
            TransformInput<TVector, TForm>(ref gathered, ref Unsafe.Add(ref transformed, p * tiles * channels), samples * tiles * channels, channels, tilesDown,
                tilesAcross, width);
        }
    }

    /// <summary>V(ξ, r, t) = (Bᵀ d(r, t) B)(ξ) for each tile r, at transformed[ξ·position + r·channels + t].</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TransformInput<TVector, TForm>(ref float gathered, ref float transformed, int position, int channels, int tilesDown, int tilesAcross, int width)
        where TVector : struct, IFloatVector<TVector>
        where TForm : struct, IWinogradForm
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
                    TForm.InputTile<TVector>(ref Unsafe.Add(ref block, t), row, channels, ref Unsafe.Add(ref to, t), position);
                }

                for (; t < channels; t++)
                {
                    TForm.InputTile<Float1>(ref Unsafe.Add(ref block, t), row, channels, ref Unsafe.Add(ref to, t), position);
                }
            }
        }
    }

    /// <summary>M(ξ)(r, k) = Σ_t V(ξ, r, t) · U(ξ, t, k) for ξ &lt; positions, tiles r &lt; <paramref name="tiles"/> and every filter k.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Products<TVector>(ref float transformedWeight, ref float transformed, ref float products, int positions, int tiles, int channels, int filters)
        where TVector : struct, IFloatVector<TVector>
    {
        for (int xi = 0; xi < positions; xi++)
        {
            Gemm.Multiply<TVector>(ref Unsafe.Add(ref transformed, xi * tiles * channels), channels, 1, ref Unsafe.Add(ref transformedWeight, xi * channels * filters), filters,
                ref Unsafe.Add(ref products, xi * tiles * filters), filters, tiles, channels, filters, paddedTail: false);
        }
    }

    /// <summary>
    /// bias(k) + (Aᵀ M A)(a, b) of each tile (ti, tj), for every filter k, channels-last
    /// at outputs[((2·ti + a)·(2·tilesAcross) + 2·tj + b)·filters + k].
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutput<TVector, TForm>(ref float products, int position, ref float bias, ref float outputs, int filters, int tilesDown, int tilesAcross)
        where TVector : struct, IFloatVector<TVector>
        where TForm : struct, IWinogradForm
    {
        int row = 2 * tilesAcross * filters;
        for (int ti = 0; ti < tilesDown; ti++)
        {
            for (int tj = 0; tj < tilesAcross; tj++)
            {
                ref float from = ref Unsafe.Add(ref products, (ti * tilesAcross + tj) * filters);
                ref float to = ref Unsafe.Add(ref outputs, (2 * ti * 2 * tilesAcross + 2 * tj) * filters);
                int k = 0;
                for (; k + TVector.Count <= filters; k += TVector.Count)
                {
                    TForm.OutputTile<TVector>(ref Unsafe.Add(ref from, k), position, ref Unsafe.Add(ref bias, k), ref Unsafe.Add(ref to, k), row, filters);
                }

                for (; k < filters; k++)
                {
                    TForm.OutputTile<Float1>(ref Unsafe.Add(ref from, k), position, ref Unsafe.Add(ref bias, k), ref Unsafe.Add(ref to, k), row, filters);
                }
            }
        }
    }

    /// <summary>
    /// gathered(u, v, t) = x(t, u − top, v − padding), zero outside x's <paramref name="rows"/> rows, at gathered[(u·width + v)·channels
    /// + t], for u &lt; <paramref name="height"/>: x's channel planes are <paramref name="plane"/> floats apart (a band of
    /// rows of a larger input, or the whole of it with <paramref name="top"/> = padding).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Gather(ref float x, ref float gathered, int channels, int rows, int inputWidth, int plane, int top, int padding, int height, int width)
    {
        // The border: whole rows above and below x, and the cells left and right of each of x's rows.
        for (int u = 0; u < height; u++)
        {
            ref float row = ref Unsafe.Add(ref gathered, u * width * channels);
            if (u < top || u >= top + rows)
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
        int pixels = rows * inputWidth;
        int q = 0;
        if (Avx.IsSupported)
        {
            for (; q + 8 <= pixels; q += 8)
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
                    p0.StoreUnsafe(ref Cell(ref gathered, q, t, inputWidth, top, padding, width, channels));
                    p1.StoreUnsafe(ref Cell(ref gathered, q + 1, t, inputWidth, top, padding, width, channels));
                    p2.StoreUnsafe(ref Cell(ref gathered, q + 2, t, inputWidth, top, padding, width, channels));
                    p3.StoreUnsafe(ref Cell(ref gathered, q + 3, t, inputWidth, top, padding, width, channels));
                    p4.StoreUnsafe(ref Cell(ref gathered, q + 4, t, inputWidth, top, padding, width, channels));
                    p5.StoreUnsafe(ref Cell(ref gathered, q + 5, t, inputWidth, top, padding, width, channels));
                    p6.StoreUnsafe(ref Cell(ref gathered, q + 6, t, inputWidth, top, padding, width, channels));
                    p7.StoreUnsafe(ref Cell(ref gathered, q + 7, t, inputWidth, top, padding, width, channels));
                }

                for (; t < channels; t++)
                {
                    for (int p = q; p < q + 8; p++)
                    {
                        Cell(ref gathered, p, t, inputWidth, top, padding, width, channels) = Unsafe.Add(ref x, t * plane + p);
                    }
                }
            }
        }

        for (; q < pixels; q++)
        {
            for (int t = 0; t < channels; t++)
            {
                Cell(ref gathered, q, t, inputWidth, top, padding, width, channels) = Unsafe.Add(ref x, t * plane + q);
            }
        }
    }

    /// <summary>Where input pixel q's channel t goes in <c>gathered</c>: cell (u + top, v + padding), q = u·inputWidth + v.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Cell(ref float gathered, int q, int t, int inputWidth, int top, int padding, int width, int channels)
    {
        int u = q / inputWidth, v = q - u * inputWidth;
        return ref Unsafe.Add(ref gathered, ((u + top) * width + v + padding) * channels + t);
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

    /// <summary>
    /// y(k, i, j) = epilogue(outputs[(i·width + j)·filters + k]) for every filter k, i &lt; <paramref name="rows"/>
    /// and j &lt; <paramref name="outputWidth"/> (a tile may reach one past y's edge), y's planes <paramref name="plane"/> floats
    /// apart, the epilogue's residual from <paramref name="offset"/> on.
    /// </summary>
    private static void CopyOut(ref float outputs, ref float y, int filters, int rows, int outputWidth, int plane, int width, Epilogue epilogue, int offset)
    {
        ref float residual = ref epilogue.Residual;
        switch (epilogue.Kind)
        {
            case EpilogueKind.None:
                CopyOut<Unchanged>(ref outputs, ref y, ref residual, offset, filters, rows, outputWidth, plane, width);
                break;
            case EpilogueKind.Rectify:
                CopyOut<Rectified>(ref outputs, ref y, ref residual, offset, filters, rows, outputWidth, plane, width);
                break;
            case EpilogueKind.Add:
                CopyOut<Added>(ref outputs, ref y, ref residual, offset, filters, rows, outputWidth, plane, width);
                break;
            default:
                CopyOut<AddedRectified>(ref outputs, ref y, ref residual, offset, filters, rows, outputWidth, plane, width);
                break;
        }
    }

    /// <summary>
    /// <see cref="CopyOut(ref float, ref float, int, int, int, int, int, Epilogue, int)"/> with the epilogue a type: a transpose of the
    /// covered pixels × filters into y's filters × pixels (pixel q = i·outputWidth + j, written as one run), in blocks of 8
    /// pixels × 8 filters.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void CopyOut<TStep>(ref float outputs, ref float y, ref float residual, int offset, int filters, int rows, int outputWidth, int plane, int width)
        where TStep : struct, IOutputStep
    {
        residual = ref Epilogue.Advance<TStep>(ref residual, offset);
        int pixels = rows * outputWidth;
        int q = 0;
        if (Avx.IsSupported)
        {
            for (; q + 8 <= pixels; q += 8)
            {
                int k = 0;
                for (; k + 8 <= filters; k += 8)
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

                for (; k < filters; k++)
                {
                    for (int p = q; p < q + 8; p++)
                    {
                        StoreOne<TStep>(Output(ref outputs, p, k, outputWidth, width, filters), ref y, ref residual, k * plane + p);
                    }
                }
            }
        }

        for (; q < pixels; q++)
        {
            for (int k = 0; k < filters; k++)
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
        where TStep : struct, IOutputStep =>
        Float256.Store(Epilogue.Apply<Float256, TStep>(Float256.Of(sum), ref residual, o), ref Unsafe.Add(ref y, o));

    /// <summary>One output at y + o, through the epilogue <typeparamref name="TStep"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne<TStep>(float sum, ref float y, ref float residual, nint o)
        where TStep : struct, IOutputStep =>
        Unsafe.Add(ref y, o) = Epilogue.Apply<TStep>(sum, ref residual, o);
}
