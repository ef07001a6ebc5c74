using System;
using System.Collections.Generic;
using System.Runtime.Intrinsics;
using NetGen.Kernels;
using Xunit;

namespace NetGen.Runtime.Tests.Kernels;

/// <summary>
/// Winograd's F(2×2, 3×3) and F(2×2, 5×5): the weight transform is G w Gᵀ, and the forward pass is the convolution within float
/// rounding of a double-precision one, at odd sizes (odd outputs, whose last tile reaches past them; channels and filters
/// that leave vector tails; padding 0 to 2), with every vector width; any split of the tile rows gives the same bits as
/// the whole, the epilogues the same bits as the plain pass followed by the [Add] and [ReLU], and nothing is written past
/// the outputs or the workspaces' stated lengths.
/// </summary>
public sealed class WinogradTests
{
    private const float Sentinel = 1234.5f;
    private const int Slack = 64;

    /// <summary>kernel, filters, channels, input height, input width, padding.</summary>
    public static TheoryData<int, int, int, int, int, int> Shapes => new()
    {
        { 3, 16, 16, 7, 7, 1 },    // one vector of filters, 4×4 tiles over a 7×7 output
        { 3, 24, 40, 9, 5, 1 },    // vector tails in both (16 + 8 and 32 + 8 lanes)
        { 3, 17, 3, 6, 11, 0 },    // scalar tails everywhere; a 4×9 output (odd width, fewer pixels than a transpose block per row)
        { 3, 32, 32, 12, 12, 2 },  // padding 2: a 14×14 output from a 12×12 input
        { 3, 8, 9, 1, 1, 1 },      // one input pixel, one output, one tile
        { 3, 64, 48, 14, 14, 1 },  // ResNet-sized
        { 5, 64, 32, 14, 14, 2 },  // WideNet's conv2
        { 5, 24, 40, 9, 7, 2 },    // vector tails, odd output
        { 5, 17, 3, 7, 9, 0 },     // no padding: a 3×5 output; scalar tails
        { 5, 8, 5, 1, 2, 2 },      // one input row: a 1×2 output whose tile reads mostly the border
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_is_the_convolution_within_float_rounding(int kernel, int filters, int channels, int height, int width, int padding)
    {
        var random = new Random(filters * 1000 + channels * 10 + height + kernel);
        float[] weight = TestValues.Uniform(random, filters * channels * kernel * kernel);
        float[] bias = TestValues.Uniform(random, filters);
        float[] x = TestValues.Uniform(random, channels * height * width);
        int outputHeight = height + 2 * padding - kernel + 1, outputWidth = width + 2 * padding - kernel + 1;
        foreach (Func<float[]> run in Runs(weight, bias, x, kernel, filters, channels, height, width, padding))
        {
            float[] y = run();
            for (int k = 0; k < filters; k++)
            {
                for (int i = 0; i < outputHeight; i++)
                {
                    for (int j = 0; j < outputWidth; j++)
                    {
                        double sum = bias[k], magnitude = Math.Abs(bias[k]);
                        for (int t = 0; t < channels; t++)
                        {
                            for (int m = 0; m < kernel; m++)
                            {
                                for (int n = 0; n < kernel; n++)
                                {
                                    int u = i + m - padding, v = j + n - padding;
                                    if (u < 0 || u >= height || v < 0 || v >= width)
                                    {
                                        continue;
                                    }

                                    double term = (double)weight[((k * channels + t) * kernel + m) * kernel + n] * x[(t * height + u) * width + v];
                                    sum += term;
                                    magnitude += Math.Abs(term);
                                }
                            }
                        }

                        float actual = y[(k * outputHeight + i) * outputWidth + j];
                        // Float rounding of the sum of |terms| (the direct kernel's bound), with room for the 5×5 form's transforms
                        // (×5 and ×4 before the products, ¼ and 1/24 after).
                        Assert.True(Math.Abs(actual - sum) <= (kernel == 3 ? 1e-5 : 4e-5) * magnitude + 1e-6, $"y({k}, {i}, {j}) = {actual}, expected {sum}");
                    }
                }
            }
        }
    }

    /// <summary>
    /// Three samples in one call, their tiles side by side in each product, give each sample the bits of its own call, with
    /// the Add and ReLU epilogue addressed per sample; nothing is written past the workspaces or the outputs.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Samples_in_one_product_give_the_bits_of_one_at_a_time(int kernel, int filters, int channels, int height, int width, int padding)
    {
        const int samples = 3;
        var random = new Random(filters + channels * 3 + height + kernel);
        float[] weight = TestValues.Uniform(random, filters * channels * kernel * kernel);
        float[] bias = TestValues.Uniform(random, filters);
        int inputLength = channels * height * width;
        int outputHeight = height + 2 * padding - kernel + 1, outputWidth = width + 2 * padding - kernel + 1, outputLength = filters * outputHeight * outputWidth;
        float[] x = TestValues.Uniform(random, samples * inputLength);
        float[] residual = TestValues.Uniform(random, samples * outputLength + Slack);
        float[] transformedWeight = new float[Winograd.TransformedWeightLength(kernel, filters, channels)];
        Winograd.TransformWeight(weight, transformedWeight, kernel, filters, channels);
        float[] gathered = Filled(Winograd.GatheredLength(kernel, channels, filters, outputHeight, outputWidth, samples));
        float[] transformed = Filled(samples * Winograd.TransformedLength(kernel, channels, outputHeight, outputWidth));
        float[] outputs = Filled(Winograd.OutputsLength(filters, outputHeight, outputWidth));
        float[] together = Filled(samples * outputLength);
        Winograd.ForwardSamples<Float256>(ref transformedWeight[0], ref bias[0], ref x[0], ref gathered[0], ref transformed[0], ref outputs[0], ref together[0], kernel,
            filters, channels, height, width, padding, samples, new Epilogue(ref residual[0], rectifies: true));
        foreach (float[] buffer in new[] { gathered, transformed, outputs, together })
        {
            for (int i = buffer.Length - Slack; i < buffer.Length; i++)
            {
                Assert.Equal(Sentinel, buffer[i]);
            }
        }

        for (int p = 0; p < samples; p++)
        {
            float[] alone = Run<Float256>(weight, bias, x[(p * inputLength)..((p + 1) * inputLength)], kernel, filters, channels, height, width, padding,
                new Epilogue(ref residual[p * outputLength], rectifies: true));
            Assert.Equal(alone.AsSpan(0, outputLength).ToArray(), together.AsSpan(p * outputLength, outputLength).ToArray());
        }
    }

    /// <summary>kernel, filters, channels, input height, input width, padding, tile rows per part.</summary>
    [Theory]
    [InlineData(3, 24, 40, 9, 5, 1, 2)]   // 5 tile rows in parts of 2, 2, 1; the last covers one output row
    [InlineData(3, 17, 3, 6, 11, 0, 1)]   // no padding: every part's rows are inside x; scalar tails
    [InlineData(3, 32, 32, 12, 12, 2, 3)] // padding 2: the first part's band starts two rows above x
    [InlineData(5, 64, 32, 14, 14, 2, 4)] // WideNet's conv2 in two parts, 4 and 3 tile rows
    [InlineData(5, 24, 40, 9, 7, 2, 1)]   // one tile row per part, 5×5 halo of 4 rows
    [InlineData(5, 8, 5, 1, 2, 2, 1)]     // one input row, one tile row
    public void Tile_rows_split_into_parts_give_the_same_bits(int kernel, int filters, int channels, int height, int width, int padding, int grain)
    {
        var random = new Random(filters + channels + height + kernel + grain);
        float[] weight = TestValues.Uniform(random, filters * channels * kernel * kernel);
        float[] bias = TestValues.Uniform(random, filters);
        float[] x = TestValues.Uniform(random, channels * height * width);
        int outputHeight = height + 2 * padding - kernel + 1, outputWidth = width + 2 * padding - kernel + 1, outputLength = filters * outputHeight * outputWidth;
        float[] residual = TestValues.Uniform(random, outputLength + Slack);
        var epilogue = new Epilogue(ref residual[0], rectifies: true);
        float[] whole = Run<Float256>(weight, bias, x, kernel, filters, channels, height, width, padding, epilogue);

        float[] transformedWeight = new float[Winograd.TransformedWeightLength(kernel, filters, channels)];
        Winograd.TransformWeight(weight, transformedWeight, kernel, filters, channels);
        float[] parts = Filled(outputLength);
        int tilesDown = Winograd.Tiles(outputHeight);
        for (int first = (tilesDown - 1) / grain * grain; first >= 0; first -= grain) // last part first
        {
            int rows = Math.Min(grain, tilesDown - first);
            float[] gathered = Filled(Winograd.GatheredLength(kernel, channels, filters, 2 * rows, outputWidth));
            float[] transformed = Filled(Winograd.TransformedLength(kernel, channels, 2 * rows, outputWidth));
            float[] outputs = Filled(Winograd.OutputsLength(filters, 2 * rows, outputWidth));
            Winograd.ForwardRows<Float256>(ref transformedWeight[0], ref bias[0], ref x[0], ref gathered[0], ref transformed[0], ref outputs[0], ref parts[0], kernel, filters,
                channels, height, width, padding, first, rows, epilogue);
            foreach (float[] buffer in new[] { gathered, transformed, outputs, parts })
            {
                for (int i = buffer.Length - Slack; i < buffer.Length; i++)
                {
                    Assert.Equal(Sentinel, buffer[i]);
                }
            }
        }

        Assert.Equal(whole, parts);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void The_epilogue_is_the_Add_and_ReLU_after_the_plain_pass(bool adds, bool rectifies)
    {
        // A 5×9 output: a transpose block of 8 pixels runs across rows, and 45 pixels leave 5 for the scalar tail.
        const int filters = 20, channels = 16, height = 5, width = 9, padding = 1;
        var random = new Random(7);
        float[] weight = TestValues.Uniform(random, filters * channels * 9);
        float[] bias = TestValues.Uniform(random, filters);
        float[] x = TestValues.Uniform(random, channels * height * width);
        float[] residual = TestValues.Uniform(random, filters * height * width + Slack);
        float[] plain = Run<Float256>(weight, bias, x, 3, filters, channels, height, width, padding, Epilogue.None);
        Epilogue epilogue = adds ? new Epilogue(ref residual[0], rectifies) : Epilogue.Rectify;
        float[] fused = Run<Float256>(weight, bias, x, 3, filters, channels, height, width, padding, epilogue);
        for (int o = 0; o < filters * height * width; o++)
        {
            float sum = adds ? plain[o] + residual[o] : plain[o];
            Assert.Equal(rectifies ? MathF.Max(sum, 0f) : sum, fused[o]);
        }
    }

    /// <summary>The documented G of each form, from Toom-Cook over 0, 1, −1 (and 2, −2) and ∞.</summary>
    private static double[,] DocumentedG(int kernel) => kernel == 3
        ? new double[,] { { -1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } }
        : new double[,]
        {
            { 1 / 4.0, 0, 0, 0, 0 }, { -1 / 6.0, -1 / 6.0, -1 / 6.0, -1 / 6.0, -1 / 6.0 }, { -1 / 6.0, 1 / 6.0, -1 / 6.0, 1 / 6.0, -1 / 6.0 },
            { 1 / 24.0, 1 / 12.0, 1 / 6.0, 1 / 3.0, 2 / 3.0 }, { 1 / 24.0, -1 / 12.0, 1 / 6.0, -1 / 3.0, 2 / 3.0 }, { 0, 0, 0, 0, 1 },
        };

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void The_weight_transform_is_G_w_G_transposed(int kernel)
    {
        const int filters = 5, channels = 3;
        int alpha = kernel + 1;
        float[] weight = TestValues.Uniform(new Random(11), filters * channels * kernel * kernel);
        float[] transformed = new float[Winograd.TransformedWeightLength(kernel, filters, channels) + 1];
        transformed[^1] = Sentinel;
        Winograd.TransformWeight(weight, transformed, kernel, filters, channels);
        double[,] g = DocumentedG(kernel);
        for (int k = 0; k < filters; k++)
        {
            for (int t = 0; t < channels; t++)
            {
                for (int a = 0; a < alpha; a++)
                {
                    for (int b = 0; b < alpha; b++)
                    {
                        double u = 0;
                        for (int m = 0; m < kernel; m++)
                        {
                            for (int n = 0; n < kernel; n++)
                            {
                                u += g[a, m] * weight[((k * channels + t) * kernel + m) * kernel + n] * g[b, n];
                            }
                        }

                        Assert.Equal((float)u, transformed[((alpha * a + b) * channels + t) * filters + k], 6);
                    }
                }
            }
        }

        Assert.Equal(Sentinel, transformed[^1]);
        Assert.Throws<ArgumentException>(() => Winograd.TransformWeight(weight.AsSpan(1), new float[transformed.Length], kernel, filters, channels));
        Assert.Throws<ArgumentException>(() => Winograd.TransformWeight(weight, new float[transformed.Length - 2], kernel, filters, channels));
        Assert.Throws<ArgumentOutOfRangeException>(() => Winograd.TransformWeight(weight, transformed, 4, filters, channels));
    }

    /// <summary>The turned weight's transform, made straight from the weight, is the transform of the weight turned first, bit for bit.</summary>
    [Theory]
    [InlineData(3, 13, 21)] // 13 filters of the turned convolution (the weight's channels): 8, 4 and 1 in the lanes
    [InlineData(5, 9, 6)]
    [InlineData(3, 1, 2)]
    public void The_turned_weight_transform_is_the_transform_of_the_turned_weight(int kernel, int filters, int channels)
    {
        int taps = kernel * kernel;
        float[] weight = TestValues.Uniform(new Random(kernel + filters), channels * filters * taps); // channels × filters × r × r
        float[] turned = new float[weight.Length];
        for (int t = 0; t < filters; t++)
        {
            for (int k = 0; k < channels; k++)
            {
                for (int tap = 0; tap < taps; tap++)
                {
                    turned[(t * channels + k) * taps + tap] = weight[(k * filters + t) * taps + taps - 1 - tap];
                }
            }
        }

        float[] expected = new float[Winograd.TransformedWeightLength(kernel, filters, channels)];
        Winograd.TransformWeight(turned, expected, kernel, filters, channels);
        float[] actual = new float[expected.Length];
        Winograd.TransformTurnedWeight(weight, actual, kernel, filters, channels);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void Filters_transformed_in_vector_lanes_give_the_bits_of_one_at_a_time(int kernel)
    {
        const int filters = 13, channels = 2; // eight in the lanes of 512-bit vectors (where accelerated), then four, then one alone
        int positions = Winograd.Positions(kernel), taps = kernel * kernel;
        float[] weight = TestValues.Uniform(new Random(kernel), filters * channels * taps);
        float[] together = new float[Winograd.TransformedWeightLength(kernel, filters, channels)];
        Winograd.TransformWeight(weight, together, kernel, filters, channels);
        for (int k = 0; k < filters; k++)
        {
            float[] alone = new float[Winograd.TransformedWeightLength(kernel, 1, channels)];
            Winograd.TransformWeight(weight.AsSpan(k * channels * taps, channels * taps), alone, kernel, 1, channels);
            for (int i = 0; i < positions * channels; i++)
            {
                Assert.Equal(alone[i], together[i * filters + k]);
            }
        }
    }

    /// <summary>The pass with every vector width this machine accelerates, and the scalar one.</summary>
    private static Func<float[]>[] Runs(float[] weight, float[] bias, float[] x, int kernel, int filters, int channels, int height, int width, int padding)
    {
        var runs = new System.Collections.Generic.List<Func<float[]>>
        {
            () => Run<Float1>(weight, bias, x, kernel, filters, channels, height, width, padding, Epilogue.None),
        };
        if (Vector256.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd)
        {
            runs.Add(() => Run<Float256>(weight, bias, x, kernel, filters, channels, height, width, padding, Epilogue.None));
        }

        if (Vector512.IsHardwareAccelerated)
        {
            runs.Add(() => Run<Float512>(weight, bias, x, kernel, filters, channels, height, width, padding, Epilogue.None));
        }

        return runs.ToArray();
    }

    /// <summary>
    /// dL/dw by F(r×r, 2×2), summed over 3 samples in two calls (2 samples, then 1) and added to a gradient already holding
    /// values, is Σ_s Σ_i Σ_j dL/dy(k, i, j) · x(t, i + m − p, j + n − p) within float rounding, with every vector width; no
    /// workspace is written past its stated length.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Weight_gradient_is_the_sum_over_samples_within_float_rounding(int kernel, int filters, int channels, int height, int width, int padding)
    {
        const int samples = 3;
        var random = new Random(filters * 1000 + channels * 10 + height + kernel + 7);
        int outputHeight = height + 2 * padding - kernel + 1, outputWidth = width + 2 * padding - kernel + 1, taps = kernel * kernel;
        float[] x = TestValues.Uniform(random, samples * channels * height * width);
        float[] dy = TestValues.Uniform(random, samples * filters * outputHeight * outputWidth);
        float[] start = TestValues.Uniform(random, filters * channels * taps);
        var runs = new List<Func<float[]>>
        {
            () => WeightGradient<Float1>(x, dy, start, kernel, filters, channels, height, width, padding),
            () => WeightGradient<Float128>(x, dy, start, kernel, filters, channels, height, width, padding),
            () => WeightGradient<Float256>(x, dy, start, kernel, filters, channels, height, width, padding),
        };
        if (Vector512.IsHardwareAccelerated)
        {
            runs.Add(() => WeightGradient<Float512>(x, dy, start, kernel, filters, channels, height, width, padding));
        }

        foreach (Func<float[]> run in runs)
        {
            float[] dw = run();
            for (int k = 0; k < filters; k++)
            {
                for (int t = 0; t < channels; t++)
                {
                    for (int m = 0; m < kernel; m++)
                    {
                        for (int n = 0; n < kernel; n++)
                        {
                            int at = ((k * channels + t) * kernel + m) * kernel + n;
                            double sum = start[at], magnitude = Math.Abs(start[at]);
                            for (int s = 0; s < samples; s++)
                            {
                                for (int i = 0; i < outputHeight; i++)
                                {
                                    for (int j = 0; j < outputWidth; j++)
                                    {
                                        int u = i + m - padding, v = j + n - padding;
                                        if (u < 0 || u >= height || v < 0 || v >= width)
                                        {
                                            continue;
                                        }

                                        double term = (double)dy[((s * filters + k) * outputHeight + i) * outputWidth + j] * x[((s * channels + t) * height + u) * width + v];
                                        sum += term;
                                        magnitude += Math.Abs(term);
                                    }
                                }
                            }

                            // As the forward pass's bound: the transforms add (and scale by up to 5) before the products.
                            Assert.True(Math.Abs(dw[at] - sum) <= (kernel == 3 ? 1e-5 : 4e-5) * magnitude + 1e-6, $"dL/dw({k}, {t}, {m}, {n}) = {dw[at]}, expected {sum}");
                        }
                    }
                }
            }
        }
    }

    /// <summary>The weight gradient's two calls (samples 0–1, then 2) into sums from zero, then added to <paramref name="start"/>.</summary>
    private static float[] WeightGradient<TVector>(float[] x, float[] dy, float[] start, int kernel, int filters, int channels, int height, int width, int padding)
        where TVector : struct, IFloatVector<TVector>
    {
        int outputHeight = height + 2 * padding - kernel + 1, outputWidth = width + 2 * padding - kernel + 1;
        float[] gathered = Filled(Winograd.WeightGradientGatheredLength(kernel, channels, filters, outputHeight, outputWidth));
        float[] transformedInput = Filled(2 * Winograd.TransformedLength(kernel, channels, outputHeight, outputWidth));
        float[] transformedGradient = Filled(Winograd.TransformedGradientLength(kernel, filters, outputHeight, outputWidth, 2));
        float[] sums = Filled(Winograd.WeightSumsLength(kernel, channels, filters));
        Array.Clear(sums, 0, sums.Length - Slack);
        Winograd.AccumulateWeightGradient<TVector>(ref x[0], ref dy[0], ref gathered[0], ref transformedInput[0], ref transformedGradient[0], ref sums[0], 2, kernel, filters,
            channels, height, width, padding);
        Winograd.AccumulateWeightGradient<TVector>(ref x[2 * channels * height * width], ref dy[2 * filters * outputHeight * outputWidth], ref gathered[0],
            ref transformedInput[0], ref transformedGradient[0], ref sums[0], 1, kernel, filters, channels, height, width, padding);
        foreach (float[] buffer in new[] { gathered, transformedInput, transformedGradient, sums })
        {
            for (int i = buffer.Length - Slack; i < buffer.Length; i++)
            {
                Assert.Equal(Sentinel, buffer[i]);
            }
        }

        float[] dw = (float[])start.Clone();
        Winograd.AddWeightGradient<TVector>(sums.AsSpan(0, sums.Length - Slack), dw, kernel, filters, channels);
        return dw;
    }

    /// <summary>
    /// One call, with workspaces of exactly their stated lengths (then sentinels) and y's floats followed by sentinels;
    /// checks that none of the sentinels changed and returns y.
    /// </summary>
    private static float[] Run<TVector>(float[] weight, float[] bias, float[] x, int kernel, int filters, int channels, int height, int width, int padding, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
    {
        int outputHeight = height + 2 * padding - kernel + 1, outputWidth = width + 2 * padding - kernel + 1;
        float[] transformedWeight = new float[Winograd.TransformedWeightLength(kernel, filters, channels)];
        Winograd.TransformWeight(weight, transformedWeight, kernel, filters, channels);
        float[] gathered = Filled(Winograd.GatheredLength(kernel, channels, filters, outputHeight, outputWidth));
        float[] transformed = Filled(Winograd.TransformedLength(kernel, channels, outputHeight, outputWidth));
        float[] outputs = Filled(Winograd.OutputsLength(filters, outputHeight, outputWidth));
        float[] y = Filled(filters * outputHeight * outputWidth);
        Winograd.Forward<TVector>(ref transformedWeight[0], ref bias[0], ref x[0], ref gathered[0], ref transformed[0], ref outputs[0], ref y[0], kernel, filters, channels,
            height, width, padding, epilogue);
        foreach (float[] buffer in new[] { gathered, transformed, outputs, y })
        {
            for (int i = buffer.Length - Slack; i < buffer.Length; i++)
            {
                Assert.Equal(Sentinel, buffer[i]);
            }
        }

        return y;
    }

    /// <summary><paramref name="length"/> floats of <see cref="Sentinel"/> and <see cref="Slack"/> more.</summary>
    private static float[] Filled(int length)
    {
        float[] values = new float[length + Slack];
        Array.Fill(values, Sentinel);
        return values;
    }
}
