using System;
using System.Runtime.Intrinsics;
using NetGen.Kernels;
using Xunit;

namespace NetGen.Runtime.Tests.Kernels;

/// <summary>
/// A kernel with an epilogue stores exactly what the plain kernel followed by the [Add] and [ReLU] passes would:
/// max(sum + residual, 0), sum + residual or max(sum, 0), bit for bit, at every accelerated width and with either register
/// file; only its outputs are written, and only the last reduction block of a blocked product applies it.
/// </summary>
public sealed class EpilogueTests
{
    private const int Slack = 32;

    /// <summary>The three epilogues the generator emits: (adds the residual, rectifies).</summary>
    public static TheoryData<bool, bool> Kinds => new() { { true, true }, { true, false }, { false, true } };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Blocked_products_apply_the_epilogue_once_after_the_last_reduction_block(bool residual, bool rectifies)
    {
        // m, k, n: every tile height of both register files, a reduction of 3 blocks (300) and of 1, rows of 1 to 3 vectors
        // and ragged tails; n < 8 without padded tails takes the one-column path.
        foreach ((int m, int k, int n) in new[] { (16, 300, 48), (15, 130, 40), (7, 9, 17), (3, 5, 5), (9, 144, 49) })
        {
            foreach (bool paddedTail in new[] { false, true })
            {
                CheckProduct<Float1, ThirtyTwoRegisters>(m, k, n, paddedTail, residual, rectifies);
                if (Vector256.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd)
                {
                    CheckProduct<Float256, SixteenRegisters>(m, k, n, paddedTail, residual, rectifies);
                    CheckProduct<Float256, ThirtyTwoRegisters>(m, k, n, paddedTail, residual, rectifies);
                }

                if (Vector512.IsHardwareAccelerated)
                {
                    CheckProduct<Float512, SixteenRegisters>(m, k, n, paddedTail, residual, rectifies);
                    CheckProduct<Float512, ThirtyTwoRegisters>(m, k, n, paddedTail, residual, rectifies);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Direct_and_compacted_convolutions_apply_the_epilogue_as_they_store(bool residual, bool rectifies)
    {
        // filters, channels, kernel, padded input height and width, output width: two vectors per row, one, ragged rows, and
        // an odd slot count.
        foreach ((int filters, int channels, int kernel, int height, int width, int outputWidth) in new[] { (16, 3, 5, 18, 18, 14), (15, 2, 3, 12, 12, 10), (9, 6, 5, 14, 14, 10), (3, 1, 3, 5, 7, 5) })
        {
            CheckConvolution<Float1>(filters, channels, kernel, height, width, outputWidth, residual, rectifies);
            if (Vector256.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd)
            {
                CheckConvolution<Float256>(filters, channels, kernel, height, width, outputWidth, residual, rectifies);
            }

            if (Vector512.IsHardwareAccelerated)
            {
                CheckConvolution<Float512>(filters, channels, kernel, height, width, outputWidth, residual, rectifies);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Unstack_applies_the_epilogue_to_each_sample(bool residual, bool rectifies)
    {
        foreach ((int rows, int samples, int width) in new[] { (3, 4, 20), (128, 4, 49), (5, 2, 17), (2, 3, 1) })
        {
            var random = new Random(rows * 100 + width);
            int length = rows * samples * width;
            float[] source = TestValues.Uniform(random, length + Slack);
            float[] r = TestValues.Uniform(random, length + Slack);
            float[] plain = Filled(length + Slack);
            float[] fused = Filled(length + Slack);
            Rows.Unstack<Float256>(source, rows, samples, width, plain, Epilogue.None);
            Rows.Unstack<Float256>(source, rows, samples, width, fused, Of(ref r[0], residual, rectifies));
            AssertEpilogue(plain, fused, r, length, residual, rectifies, $"Unstack {rows}×{samples}×{width}");
        }
    }

    /// <summary>The four epilogues, the plain store included: (adds the residual, rectifies).</summary>
    public static TheoryData<bool, bool> AllKinds => new() { { true, true }, { true, false }, { false, true }, { false, false } };

    [Theory]
    [MemberData(nameof(AllKinds))]
    public void The_product_with_pixels_as_rows_copied_out_has_the_bits_of_the_product_with_filters_as_rows(bool residual, bool rectifies)
    {
        // filters, rows summed over (one reduction block and three), pixels: a tile of 8 pixels and a last one of 1, fewer
        // than 8, more than one tile of filters.
        foreach ((int filters, int k, int pixels) in new[] { (16, 300, 49), (32, 9, 13), (48, 130, 7), (16, 576, 36) })
        {
            CheckPixelRows<Float1, ThirtyTwoRegisters>(filters, k, pixels, residual, rectifies);
            if (Vector256.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd)
            {
                CheckPixelRows<Float256, SixteenRegisters>(filters, k, pixels, residual, rectifies);
            }

            if (Vector512.IsHardwareAccelerated)
            {
                CheckPixelRows<Float512, ThirtyTwoRegisters>(filters, k, pixels, residual, rectifies);
            }
        }
    }

    [Fact]
    public void Transpose_out_rejects_spans_shorter_than_its_sizes()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => Rows.TransposeOut(new float[20], 4, 6, new float[24], Epilogue.None));
        Assert.Equal("source", exception.ParamName);
        exception = Assert.Throws<ArgumentOutOfRangeException>(() => Rows.TransposeOut(new float[24], 4, 6, new float[23], Epilogue.None));
        Assert.Equal("destination", exception.ParamName);
    }

    /// <summary>
    /// y = b + W · columns stored through the epilogue, against yᵀ = columnsᵀ · Wᵀ added to rows of the bias, then
    /// <see cref="Rows.TransposeOut"/> through the same epilogue (what a convolution's inference form with pixels as rows does).
    /// </summary>
    private static void CheckPixelRows<TVector, TRegisters>(int filters, int k, int pixels, bool residual, bool rectifies)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        var random = new Random(filters * 10_000 + k * 10 + pixels);
        float[] weight = TestValues.Uniform(random, filters * k);
        float[] columns = TestValues.Uniform(random, k * pixels + Slack);
        float[] bias = TestValues.Uniform(random, filters);
        float[] r = TestValues.Uniform(random, filters * pixels + Slack);
        float[] transposedWeight = new float[k * filters];
        Rows.Transpose(weight, k, filters, k, transposedWeight, filters);
        Epilogue epilogue = residual ? new Epilogue(ref r[0], rectifies) : rectifies ? Epilogue.Rectify : Epilogue.None;
        float[] expected = Filled(filters * pixels + Slack);
        Gemm.Product<TVector, TRegisters>(ref weight[0], k, 1, ref columns[0], pixels, ref expected[0], pixels, filters, k, pixels, paddedTail: true,
            accumulate: false, ref bias[0], 1, epilogue);
        float[] products = new float[pixels * filters];
        for (int q = 0; q < pixels; q++)
        {
            bias.CopyTo(products, q * filters);
        }

        float zero = 0f;
        Gemm.Product<TVector, TRegisters>(ref columns[0], 1, pixels, ref transposedWeight[0], filters, ref products[0], filters, pixels, k, filters, paddedTail: false,
            accumulate: true, ref zero, 0);
        float[] actual = Filled(filters * pixels + Slack);
        Rows.TransposeOut(products, pixels, filters, actual, epilogue);
        for (int i = 0; i < actual.Length; i++)
        {
            float want = i < filters * pixels ? expected[i] : 7f;
            Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{typeof(TVector).Name}, {typeof(TRegisters).Name}: {filters} filters, {k} rows, {pixels} pixels: float {i} is {actual[i]}, expected {want}");
        }
    }

    private static void CheckProduct<TVector, TRegisters>(int m, int k, int n, bool paddedTail, bool residual, bool rectifies)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        var random = new Random(m * 10_000 + k * 10 + n);
        float[] a = TestValues.Uniform(random, m * k);
        float[] b = TestValues.Uniform(random, k * n + Slack);
        float[] bias = TestValues.Uniform(random, m);
        float[] r = TestValues.Uniform(random, m * n + Slack);
        float[] plain = Filled(m * n + Slack);
        float[] fused = Filled(m * n + Slack);
        Gemm.Product<TVector, TRegisters>(ref a[0], k, 1, ref b[0], n, ref plain[0], n, m, k, n, paddedTail, accumulate: false, ref bias[0], 1);
        Gemm.Product<TVector, TRegisters>(ref a[0], k, 1, ref b[0], n, ref fused[0], n, m, k, n, paddedTail, accumulate: false, ref bias[0], 1, Of(ref r[0], residual, rectifies));
        AssertEpilogue(plain, fused, r, m * n, residual, rectifies, $"{typeof(TVector).Name}, {typeof(TRegisters).Name}: {m}×{k}×{n}, paddedTail {paddedTail}");
    }

    private static void CheckConvolution<TVector>(int filters, int channels, int kernel, int height, int width, int outputWidth, bool residual, bool rectifies)
        where TVector : struct, IFloatVector<TVector>
    {
        int outputHeight = height - kernel + 1, outputs = filters * outputHeight * outputWidth, plane = height * width;
        var random = new Random(filters * 1000 + channels * 10 + kernel);
        float[] weight = TestValues.Uniform(random, filters * channels * kernel * kernel);
        float[] bias = TestValues.Uniform(random, filters);
        float[] x = TestValues.Uniform(random, 3 * channels * plane + Slack);
        float[] r = TestValues.Uniform(random, 3 * outputs + Slack);
        float[] compacted = new float[3 * channels * kernel * height * outputWidth + Slack];
        float[] products = new float[filters * 3 * height * outputWidth + Slack];
        string what = $"{typeof(TVector).Name}: {filters} filters, {channels} channels, {kernel}×{kernel}, {outputHeight}×{outputWidth}";
        for (int kind = 0; kind < 5; kind++)
        {
            float[] plain = Filled(3 * outputs + Slack);
            float[] fused = Filled(3 * outputs + Slack);
            Epilogue epilogue = Of(ref r[0], residual, rectifies);
            switch (kind)
            {
                case 0:
                    Convolution.Forward<TVector, SixteenRegisters>(ref weight[0], ref bias[0], ref x[0], ref plain[0], filters, channels, kernel, kernel, width, plane, outputHeight, outputWidth);
                    Convolution.Forward<TVector, SixteenRegisters>(ref weight[0], ref bias[0], ref x[0], ref fused[0], filters, channels, kernel, kernel, width, plane, outputHeight, outputWidth, epilogue);
                    break;
                case 1:
                    Convolution.Forward<TVector, ThirtyTwoRegisters>(ref weight[0], ref bias[0], ref x[0], ref plain[0], filters, channels, kernel, kernel, width, plane, outputHeight, outputWidth);
                    Convolution.Forward<TVector, ThirtyTwoRegisters>(ref weight[0], ref bias[0], ref x[0], ref fused[0], filters, channels, kernel, kernel, width, plane, outputHeight, outputWidth, epilogue);
                    break;
                case 2:
                    Convolution.ForwardCompacted<TVector, SixteenRegisters>(ref weight[0], ref bias[0], ref x[0], ref compacted[0], ref plain[0], filters, channels, kernel, kernel, width, plane, outputHeight, outputWidth);
                    Convolution.ForwardCompacted<TVector, SixteenRegisters>(ref weight[0], ref bias[0], ref x[0], ref compacted[0], ref fused[0], filters, channels, kernel, kernel, width, plane, outputHeight, outputWidth, epilogue);
                    break;
                case 3:
                    Convolution.ForwardCompacted<TVector, ThirtyTwoRegisters>(ref weight[0], ref bias[0], ref x[0], ref compacted[0], ref plain[0], filters, channels, kernel, kernel, width, plane, outputHeight, outputWidth);
                    Convolution.ForwardCompacted<TVector, ThirtyTwoRegisters>(ref weight[0], ref bias[0], ref x[0], ref compacted[0], ref fused[0], filters, channels, kernel, kernel, width, plane, outputHeight, outputWidth, epilogue);
                    break;
                default:
                    // three samples in one compacted copy, their outputs one after another
                    Convolution.ForwardCompactedSamples<TVector>(ref weight[0], ref bias[0], ref x[0], ref compacted[0], ref products[0], ref plain[0], filters, channels, kernel, kernel, width, plane, outputHeight, outputWidth, 3, channels * plane, outputs, Epilogue.None);
                    Convolution.ForwardCompactedSamples<TVector>(ref weight[0], ref bias[0], ref x[0], ref compacted[0], ref products[0], ref fused[0], filters, channels, kernel, kernel, width, plane, outputHeight, outputWidth, 3, channels * plane, outputs, epilogue);
                    AssertEpilogue(plain, fused, r, 3 * outputs, residual, rectifies, $"{what}, 3 samples");
                    continue;
            }

            AssertEpilogue(plain, fused, r, outputs, residual, rectifies, $"{what}, kernel {kind}");
        }
    }

    private static Epilogue Of(ref float residual, bool adds, bool rectifies) =>
        adds ? new Epilogue(ref residual, rectifies) : Epilogue.Rectify;

    private static float[] Filled(int length)
    {
        float[] values = new float[length];
        Array.Fill(values, 7f);
        return values;
    }

    /// <summary>fused[i] is the epilogue of plain[i] for the first <paramref name="outputs"/> floats, bit for bit, and untouched (7) past them.</summary>
    private static void AssertEpilogue(float[] plain, float[] fused, float[] residual, int outputs, bool adds, bool rectifies, string what)
    {
        for (int i = 0; i < fused.Length; i++)
        {
            float expected = i >= outputs ? 7f : Step(plain[i], residual[i], adds, rectifies);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(fused[i]), $"{what}: float {i} is {fused[i]}, expected {expected}");
        }
    }

    private static float Step(float sum, float residual, bool adds, bool rectifies)
    {
        float y = adds ? sum + residual : sum;
        return rectifies ? float.Max(y, 0f) : y;
    }
}
