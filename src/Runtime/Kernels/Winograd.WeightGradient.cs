using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NetGen.Kernels;

/// <summary>
/// dL/dw of a stride-1 3×3 or 5×5 convolution by Winograd's F(r×r, 2×2), the dual of the forward pass's F(2×2, r×r) with
/// the same matrices: dL/dy plays the 2×2 filter and the kernel the r×r output.
/// </summary>
/// <remarks>
/// <para>
/// Over one tile (2×2 outputs, the (r + 1)×(r + 1) input block d under them), the forward form gives
/// Σ_ξ A(ξ, i) · G(ξ, m) · (Bᵀ d B)(ξ) = d(i + m) along each axis, for every d. So the tile's share of dL/dw(m, n) =
/// Σ_i Σ_j dL/dy(i, j) · d(i + m, j + n) is Σ_ξ G(a, m) · G(b, n) · (A g Aᵀ)(ξ) · (Bᵀ d B)(ξ), ξ = (a, b), g the tile's
/// 2×2 of dL/dy. Summed over the tiles of every sample, the products become (r + 1)² matrix products
/// S(ξ) += V(ξ)ᵀ · D(ξ), [channels × tiles] · [tiles × filters], and dL/dw(k, t) = Gᵀ S(·, t, k) G once at the end
/// (<see cref="AddWeightGradient{TVector}"/>): per 4 outputs, channel and filter, 16 multiply-adds where the direct sum spends 36
/// (3×3), 36 where it spends 100 (5×5).
/// </para>
/// <para>
/// The input's transform is the forward pass's (the same gathered, zero-bordered blocks); dL/dy's is A g Aᵀ, additions and
/// doublings only. An odd output's last tile reaches one past it: dL/dy is zero there, so it adds nothing.
/// </para>
/// </remarks>
public static partial class Winograd
{
    /// <summary>
    /// Floats of the first workspace of <see cref="AccumulateWeightGradient{TVector}"/>: one sample's input channels-last with a zero
    /// border, then its dL/dy channels-last over whole tiles; the longer of the two.
    /// </summary>
    public static int WeightGradientGatheredLength(int kernel, int channels, int filters, int outputHeight, int outputWidth) =>
        Math.Max((2 * Tiles(outputHeight) + kernel - 1) * (2 * Tiles(outputWidth) + kernel - 1) * channels, 4 * Tiles(outputHeight) * Tiles(outputWidth) * filters);

    /// <summary>Floats of a transformed dL/dy for <paramref name="samples"/> samples: positions × samples·tiles × filters.</summary>
    public static int TransformedGradientLength(int kernel, int filters, int outputHeight, int outputWidth, int samples) =>
        Positions(kernel) * samples * Tiles(outputHeight) * Tiles(outputWidth) * filters;

    /// <summary>Floats of the sums S(ξ, t, k) that <see cref="AccumulateWeightGradient{TVector}"/> adds to: positions × channels × filters.</summary>
    public static int WeightSumsLength(int kernel, int channels, int filters) => Positions(kernel) * channels * filters;

    /// <summary>
    /// S(ξ, t, k) += Σ_s Σ_tiles V_s(ξ, tile, t) · D_s(ξ, tile, k) for the <paramref name="samples"/> samples from
    /// <paramref name="x"/> (channels × inputHeight × inputWidth each) and <paramref name="dy"/> (filters × outputHeight ×
    /// outputWidth each, outputHeight = inputHeight + 2·padding − kernel + 1), at sums[(ξ·channels + t)·filters + k]:
    /// V = Bᵀ d B of each input block, D = A g Aᵀ of each 2×2 of dL/dy. <paramref name="transformedInput"/> holds
    /// <see cref="TransformedLength"/> × samples floats, <paramref name="transformedGradient"/>
    /// <see cref="TransformedGradientLength"/>, <paramref name="gathered"/> <see cref="WeightGradientGatheredLength"/>.
    /// Nothing past those lengths is written; the sums of a call are added in a fixed order, so results do not depend on
    /// anything but the samples.
    /// </summary>
    public static void AccumulateWeightGradient<TVector>(ref float x, ref float dy, ref float gathered, ref float transformedInput, ref float transformedGradient,
        ref float sums, int samples, int kernel, int filters, int channels, int inputHeight, int inputWidth, int padding)
        where TVector : struct, IFloatVector<TVector>
    {
        if (kernel == 3)
        {
            AccumulateWeightGradient<TVector, F2x3>(ref x, ref dy, ref gathered, ref transformedInput, ref transformedGradient, ref sums, samples, filters, channels,
                inputHeight, inputWidth, padding);
        }
        else
        {
            AccumulateWeightGradient<TVector, F2x5>(ref x, ref dy, ref gathered, ref transformedInput, ref transformedGradient, ref sums, samples, filters, channels,
                inputHeight, inputWidth, padding);
        }
    }

    private static void AccumulateWeightGradient<TVector, TForm>(ref float x, ref float dy, ref float gathered, ref float transformedInput, ref float transformedGradient,
        ref float sums, int samples, int filters, int channels, int inputHeight, int inputWidth, int padding)
        where TVector : struct, IFloatVector<TVector>
        where TForm : struct, IWinogradForm
    {
        int outputHeight = inputHeight + 2 * padding - TForm.Kernel + 1, outputWidth = inputWidth + 2 * padding - TForm.Kernel + 1;
        int tilesDown = Tiles(outputHeight), tilesAcross = Tiles(outputWidth), tiles = tilesDown * tilesAcross;
        int outputPlane = outputHeight * outputWidth;
        int reduction = samples * tiles; // the products' inner dimension: every tile of every sample

        // The samples' input blocks, as the forward pass gathers and transforms them, into their tiles' columns of V.
        TransformSamples<TVector, TForm>(ref x, ref gathered, ref transformedInput, samples, channels, inputHeight, inputWidth, padding);
        for (int s = 0; s < samples; s++)
        {
            // Each sample's dL/dy channels-last over whole tiles (zero past an odd edge), then A g Aᵀ of each tile into D.
            Gather(ref Unsafe.Add(ref dy, s * filters * outputPlane), ref gathered, filters, outputHeight, outputWidth, outputPlane, 0, 0, 2 * tilesDown, 2 * tilesAcross);
            TransformGradient<TVector, TForm>(ref gathered, ref Unsafe.Add(ref transformedGradient, s * tiles * filters), reduction * filters, filters, tilesDown,
                tilesAcross);
        }

        int positions = (TForm.Kernel + 1) * (TForm.Kernel + 1);
        WeightProducts<TVector>(ref transformedInput, ref transformedGradient, ref sums, positions, reduction, channels, filters);
    }

    /// <summary>S(ξ)(t, k) += Σ_r V(ξ, r, t) · D(ξ, r, k): V(ξ)ᵀ read in place (its rows the channels, one float apart).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void WeightProducts<TVector>(ref float transformedInput, ref float transformedGradient, ref float sums, int positions, int reduction, int channels,
        int filters)
        where TVector : struct, IFloatVector<TVector>
    {
        for (int xi = 0; xi < positions; xi++)
        {
            Gemm.MultiplyAdd<TVector>(ref Unsafe.Add(ref transformedInput, xi * reduction * channels), 1, channels,
                ref Unsafe.Add(ref transformedGradient, xi * reduction * filters), filters, ref Unsafe.Add(ref sums, xi * channels * filters), filters,
                channels, reduction, filters, paddedTail: false);
        }
    }

    /// <summary>D(ξ, r, k) = (A g(r, k) Aᵀ)(ξ) for each tile r, at transformed[ξ·position + r·filters + k], from dL/dy channels-last.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TransformGradient<TVector, TForm>(ref float gathered, ref float transformed, int position, int filters, int tilesDown, int tilesAcross)
        where TVector : struct, IFloatVector<TVector>
        where TForm : struct, IWinogradForm
    {
        int row = 2 * tilesAcross * filters;
        for (int ti = 0; ti < tilesDown; ti++)
        {
            for (int tj = 0; tj < tilesAcross; tj++)
            {
                ref float block = ref Unsafe.Add(ref gathered, (2 * ti * 2 * tilesAcross + 2 * tj) * filters);
                ref float to = ref Unsafe.Add(ref transformed, (ti * tilesAcross + tj) * filters);
                int k = 0;
                for (; k + TVector.Count <= filters; k += TVector.Count)
                {
                    TForm.GradientTile<TVector>(ref Unsafe.Add(ref block, k), row, filters, ref Unsafe.Add(ref to, k), position);
                }

                for (; k < filters; k++)
                {
                    TForm.GradientTile<Float1>(ref Unsafe.Add(ref block, k), row, filters, ref Unsafe.Add(ref to, k), position);
                }
            }
        }
    }

    /// <summary>
    /// dL/dw(k, t, m, n) += Σ_a Σ_b G(a, m) · S((r + 1)·a + b, t, k) · G(b, n) for every filter k and channel t: the sums of
    /// <see cref="AccumulateWeightGradient{TVector}"/> turned into the kernel's r×r and added to dL/dw in PyTorch's layout
    /// (filters × channels × r × r), a vector of filters at a time (Gᵀ S, then (Gᵀ S) G, with fused multiply-adds).
    /// </summary>
    public static void AddWeightGradient<TVector>(ReadOnlySpan<float> sums, Span<float> weightGradient, int kernel, int filters, int channels)
        where TVector : struct, IFloatVector<TVector>
    {
        if (!Supports(kernel))
        {
            throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "Winograd's forms here take 3×3 and 5×5 kernels.");
        }

        int length = filters * channels * kernel * kernel;
        if (sums.Length < WeightSumsLength(kernel, channels, filters))
        {
            throw new ArgumentException($"Expected {WeightSumsLength(kernel, channels, filters)} sums, got {sums.Length}.", nameof(sums));
        }

        if (weightGradient.Length < length)
        {
            throw new ArgumentException($"Expected a weight gradient of {filters}×{channels}×{kernel}×{kernel} = {length} floats, got {weightGradient.Length}.",
                nameof(weightGradient));
        }

        if (kernel == 3)
        {
            AddWeightGradient<TVector, F2x3>(sums, weightGradient, filters, channels);
        }
        else
        {
            AddWeightGradient<TVector, F2x5>(sums, weightGradient, filters, channels);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void AddWeightGradient<TVector, TForm>(ReadOnlySpan<float> sums, Span<float> weightGradient, int filters, int channels)
        where TVector : struct, IFloatVector<TVector>
        where TForm : struct, IWinogradForm
    {
        int kernel = TForm.Kernel, alpha = kernel + 1, taps = kernel * kernel, plane = channels * filters;
        double[,] form = kernel == 3 ? F2x3.G : F2x5.G;
        Span<float> columns = stackalloc float[kernel * alpha]; // Gᵀ, flat: column m of G at columns[m·α]
        for (int m = 0; m < kernel; m++)
        {
            for (int a = 0; a < alpha; a++)
            {
                columns[m * alpha + a] = (float)form[a, m];
            }
        }

        ref float g0 = ref MemoryMarshal.GetReference(columns);

        // Per block of filters and channel t: (Gᵀ S)(m, b) into half, then ((Gᵀ S) G)(m, n) into kernels, each a run of
        // filters long (vectors of filters multiplied by one G at a time); then each filter's r×r added to dL/dw.
        Span<float> half = stackalloc float[kernel * alpha * FilterBlock];
        Span<float> kernels = stackalloc float[taps * FilterBlock];
        ref float s0 = ref MemoryMarshal.GetReference(sums);
        ref float half0 = ref MemoryMarshal.GetReference(half);
        ref float kernels0 = ref MemoryMarshal.GetReference(kernels);
        for (int k0 = 0; k0 < filters; k0 += FilterBlock)
        {
            int count = Math.Min(FilterBlock, filters - k0);
            for (int t = 0; t < channels; t++)
            {
                ref float from = ref Unsafe.Add(ref s0, t * filters + k0);
                for (int m = 0; m < kernel; m++)
                {
                    for (int b = 0; b < alpha; b++)
                    {
                        ref float to = ref Unsafe.Add(ref half0, (m * alpha + b) * FilterBlock);
                        Combine<TVector>(ref Unsafe.Add(ref from, b * plane), alpha * plane, ref Unsafe.Add(ref g0, m * alpha), alpha, ref to, count);
                    }
                }

                for (int m = 0; m < kernel; m++)
                {
                    for (int n = 0; n < kernel; n++)
                    {
                        ref float to = ref Unsafe.Add(ref kernels0, (m * kernel + n) * FilterBlock);
                        Combine<TVector>(ref Unsafe.Add(ref half0, m * alpha * FilterBlock), FilterBlock, ref Unsafe.Add(ref g0, n * alpha), alpha, ref to, count);
                    }
                }

                AddKernels(ref kernels0, ref Unsafe.Add(ref MemoryMarshal.GetReference(weightGradient), (k0 * channels + t) * taps), taps, channels * taps, count);
            }
        }
    }

    /// <summary>
    /// to[k·<paramref name="filter"/> + tap] += kernels[tap·FilterBlock + k] for k &lt; <paramref name="count"/>, tap &lt;
    /// <paramref name="taps"/>: the block's kernels, filters along the rows, added to dL/dw's (filter-major) kernels, 8 taps
    /// × 8 filters at a time by a transpose.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddKernels(ref float kernels, ref float to, int taps, int filter, int count)
    {
        int k = 0;
        if (Avx.IsSupported)
        {
            for (; k + 8 <= count; k += 8)
            {
                int tap = 0;
                for (; tap + 8 <= taps; tap += 8)
                {
                    ref float from = ref Unsafe.Add(ref kernels, tap * FilterBlock + k);
                    Transpose(
                        Vector256.LoadUnsafe(ref from), Vector256.LoadUnsafe(ref Unsafe.Add(ref from, FilterBlock)),
                        Vector256.LoadUnsafe(ref Unsafe.Add(ref from, 2 * FilterBlock)), Vector256.LoadUnsafe(ref Unsafe.Add(ref from, 3 * FilterBlock)),
                        Vector256.LoadUnsafe(ref Unsafe.Add(ref from, 4 * FilterBlock)), Vector256.LoadUnsafe(ref Unsafe.Add(ref from, 5 * FilterBlock)),
                        Vector256.LoadUnsafe(ref Unsafe.Add(ref from, 6 * FilterBlock)), Vector256.LoadUnsafe(ref Unsafe.Add(ref from, 7 * FilterBlock)),
                        out Vector256<float> f0, out Vector256<float> f1, out Vector256<float> f2, out Vector256<float> f3,
                        out Vector256<float> f4, out Vector256<float> f5, out Vector256<float> f6, out Vector256<float> f7);
                    ref float at = ref Unsafe.Add(ref to, k * filter + tap);
                    AddTo(f0, ref at);
                    AddTo(f1, ref Unsafe.Add(ref at, filter));
                    AddTo(f2, ref Unsafe.Add(ref at, 2 * filter));
                    AddTo(f3, ref Unsafe.Add(ref at, 3 * filter));
                    AddTo(f4, ref Unsafe.Add(ref at, 4 * filter));
                    AddTo(f5, ref Unsafe.Add(ref at, 5 * filter));
                    AddTo(f6, ref Unsafe.Add(ref at, 6 * filter));
                    AddTo(f7, ref Unsafe.Add(ref at, 7 * filter));
                }

                for (; tap < taps; tap++)
                {
                    for (int j = k; j < k + 8; j++)
                    {
                        Unsafe.Add(ref to, j * filter + tap) += Unsafe.Add(ref kernels, tap * FilterBlock + j);
                    }
                }
            }
        }

        for (; k < count; k++)
        {
            for (int tap = 0; tap < taps; tap++)
            {
                Unsafe.Add(ref to, k * filter + tap) += Unsafe.Add(ref kernels, tap * FilterBlock + k);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo(Vector256<float> value, ref float at) => (Vector256.LoadUnsafe(ref at) + value).StoreUnsafe(ref at);

    /// <summary>Filters per block of <see cref="AddWeightGradient{TVector}"/>'s scratch.</summary>
    private const int FilterBlock = 64;

    /// <summary>
    /// to[k] = Σ_a g[a] · from[a·<paramref name="step"/> + k] for k &lt; <paramref name="count"/>, a &lt; <paramref name="alpha"/>:
    /// one column g of G against α runs of filters, a vector at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Combine<TVector>(ref float from, int step, ref float g, int alpha, ref float to, int count)
        where TVector : struct, IFloatVector<TVector>
    {
        int k = 0;
        for (; k + TVector.Count <= count; k += TVector.Count)
        {
            TVector sum = TVector.Zero;
            for (int a = 0; a < alpha; a++)
            {
                sum = TVector.MultiplyAdd(TVector.Broadcast(Unsafe.Add(ref g, a)), TVector.Load(ref Unsafe.Add(ref from, a * step + k)), sum);
            }

            TVector.Store(sum, ref Unsafe.Add(ref to, k));
        }

        for (; k < count; k++)
        {
            float sum = 0;
            for (int a = 0; a < alpha; a++)
            {
                sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref g, a), Unsafe.Add(ref from, a * step + k), sum);
            }

            Unsafe.Add(ref to, k) = sum;
        }
    }
}
