using System;
using System.Runtime.Intrinsics;
using NetGen.Kernels;
using Xunit;

namespace NetGen.Runtime.Tests.Kernels;

/// <summary>
/// The depthwise kernels against plain loops in double precision, at every vector width this machine accelerates: the
/// forward sum (one input plane per output, or several as for dL/dx), with stride 1 and 2, with and without a bias, and the
/// weight gradient; neither writes outside its output.
/// </summary>
public sealed class DepthwiseConvolutionTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Slack = 40;

    /// <summary>
    /// Output planes, multiplier, input planes per output, kernel, stride and input size: tiles of 8, 4, 2 and 1 rows (an
    /// output plane of 15 rows of one vector), of 8 and 6 (14 rows: the 3×3 tiles), 4 rows of two vectors, rows wider than one
    /// vector (37, 16), narrower (7, 3), one output pixel, a 1×4 kernel, several input planes per output (as dL/dx).
    /// </summary>
    public static TheoryData<int, int, int, int, int, int, int, int> Shapes => new()
    {
        // outputs, multiplier, channels, kernel height, kernel width, stride, input height, input width
        { 4, 1, 1, 3, 3, 1, 17, 16 },
        { 6, 2, 1, 3, 3, 1, 9, 39 },
        { 3, 3, 1, 5, 5, 2, 15, 12 },
        { 5, 1, 1, 2, 3, 2, 8, 7 },
        { 3, 1, 2, 3, 3, 1, 6, 5 },
        { 2, 1, 3, 1, 4, 1, 4, 4 },
        { 2, 2, 1, 3, 3, 1, 3, 3 },
        { 3, 1, 1, 3, 3, 1, 16, 9 },
        { 2, 1, 1, 3, 3, 1, 30, 18 },
        { 4, 2, 2, 3, 3, 1, 12, 12 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_matches_the_definition(int outputs, int multiplier, int channels, int kh, int kw, int stride, int height, int width)
    {
        int ran = 0;
        foreach (bool bias in new[] { true, false })
        {
            ran += Forward<Float1>(outputs, multiplier, channels, kh, kw, stride, height, width, bias, "Float1");
            ran += Forward<Float128Unfused>(outputs, multiplier, channels, kh, kw, stride, height, width, bias, "Float128Unfused", Vector128.IsHardwareAccelerated);
            ran += Forward<Float128>(outputs, multiplier, channels, kh, kw, stride, height, width, bias, "Float128", Vector128.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd);
            ran += Forward<Float256>(outputs, multiplier, channels, kh, kw, stride, height, width, bias, "Float256", Vector256.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd);
            ran += Forward<Float512>(outputs, multiplier, channels, kh, kw, stride, height, width, bias, "Float512", Vector512.IsHardwareAccelerated);
        }

        Assert.True(ran >= 2);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void WeightGradient_matches_the_definition(int outputs, int multiplier, int channels, int kh, int kw, int stride, int height, int width)
    {
        if (channels != 1)
        {
            return; // the weight gradient is a depthwise convolution's: one input plane per output
        }

        int ran = 0;
        ran += WeightGradient<Float1>(outputs, multiplier, kh, kw, stride, height, width, "Float1");
        ran += WeightGradient<Float128Unfused>(outputs, multiplier, kh, kw, stride, height, width, "Float128Unfused", Vector128.IsHardwareAccelerated);
        ran += WeightGradient<Float128>(outputs, multiplier, kh, kw, stride, height, width, "Float128", Vector128.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd);
        ran += WeightGradient<Float256>(outputs, multiplier, kh, kw, stride, height, width, "Float256", Vector256.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd);
        ran += WeightGradient<Float512>(outputs, multiplier, kh, kw, stride, height, width, "Float512", Vector512.IsHardwareAccelerated);
        Assert.True(ran >= 1);
    }

    [Fact]
    public void A_stride_other_than_1_or_2_is_refused()
    {
        float[] buffer = new float[64];
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            DepthwiseConvolution.Forward<Float1>(ref buffer[0], ref buffer[0], 0, ref buffer[0], ref buffer[0], 1, 1, 1, 1, 1, 3, 4, 16, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            DepthwiseConvolution.WeightGradient<Float1>(ref buffer[0], ref buffer[0], ref buffer[0], 1, 1, 1, 1, 3, 4, 16, 2, 2));
    }

    private int Forward<TVector>(int outputs, int multiplier, int channels, int kh, int kw, int stride, int height, int width, bool hasBias, string name, bool accelerated = true)
        where TVector : struct, IFloatVector<TVector>
    {
        if (!accelerated)
        {
            output.WriteLine($"{name}: not accelerated here, skipped");
            return 0;
        }

        int outHeight = (height - kh) / stride + 1, outWidth = (width - kw) / stride + 1, plane = height * width, pixels = outHeight * outWidth;
        int inputPlanes = outputs / multiplier * channels;
        var random = new Random(outputs * 1000 + multiplier * 100 + kh * 10 + stride);
        float[] weight = TestValues.Uniform(random, outputs * channels * kh * kw);
        float[] bias = TestValues.Uniform(random, outputs);
        float[] x = TestValues.Uniform(random, inputPlanes * plane + Slack);
        float zero = 0f;

        float[] y = new float[outputs * pixels + Slack];
        Array.Fill(y, float.NaN, 0, outputs * pixels);
        Array.Fill(y, 7f, outputs * pixels, Slack);
        if (hasBias)
        {
            DepthwiseConvolution.Forward<TVector>(ref weight[0], ref bias[0], 1, ref x[0], ref y[0], outputs, multiplier, channels, kh, kw, stride, width, plane, outHeight, outWidth);
        }
        else
        {
            DepthwiseConvolution.Forward<TVector>(ref weight[0], ref zero, 0, ref x[0], ref y[0], outputs, multiplier, channels, kh, kw, stride, width, plane, outHeight, outWidth);
        }

        for (int o = 0; o < outputs; o++)
        {
            for (int i = 0; i < outHeight; i++)
            {
                for (int j = 0; j < outWidth; j++)
                {
                    double sum = hasBias ? bias[o] : 0;
                    for (int c = 0; c < channels; c++)
                    {
                        for (int m = 0; m < kh; m++)
                        {
                            for (int n = 0; n < kw; n++)
                            {
                                sum += (double)weight[((o * channels + c) * kh + m) * kw + n] * x[(o / multiplier * channels + c) * plane + (i * stride + m) * width + j * stride + n];
                            }
                        }
                    }

                    float actual = y[(o * outHeight + i) * outWidth + j];
                    Assert.True(Math.Abs(sum - actual) <= 1e-5 * (channels * kh * kw + 1), $"{name}: y({o}, {i}, {j}) is {actual}, expected {sum}");
                }
            }
        }

        Assert.All(y[(outputs * pixels)..], v => Assert.Equal(7f, v));

        if (stride == 1)
        {
            // The same bits as the direct convolution run filter by filter (each: start, then its taps in order).
            float[] direct = new float[outputs * pixels + Slack];
            for (int o = 0; o < outputs; o++)
            {
                Convolution.Forward<TVector>(ref weight[o * channels * kh * kw], ref hasBias ? ref bias[o] : ref zero, ref x[o / multiplier * channels * plane],
                    ref direct[o * pixels], 1, channels, kh, kw, width, plane, outHeight, outWidth);
            }

            for (int p = 0; p < outputs * pixels; p++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(direct[p]) == BitConverter.SingleToInt32Bits(y[p]), $"{name}: output {p} is {y[p]}, the direct kernel's {direct[p]}");
            }
        }

        output.WriteLine($"{name}: {outputs} outputs (×{multiplier}, {channels} planes each), {kh}×{kw} stride {stride} on {height}×{width}{(hasBias ? "" : ", no bias")}: checked");
        return 1;
    }

    private int WeightGradient<TVector>(int outputs, int multiplier, int kh, int kw, int stride, int height, int width, string name, bool accelerated = true)
        where TVector : struct, IFloatVector<TVector>
    {
        if (!accelerated)
        {
            return 0;
        }

        int outHeight = (height - kh) / stride + 1, outWidth = (width - kw) / stride + 1, plane = height * width, pixels = outHeight * outWidth;
        var random = new Random(outputs * 1000 + multiplier * 100 + kh * 10 + stride + 1);
        float[] dy = TestValues.Uniform(random, outputs * pixels + Slack);
        float[] x = TestValues.Uniform(random, outputs / multiplier * plane + Slack);
        float[] start = TestValues.Uniform(random, outputs * kh * kw);
        float[] dw = new float[outputs * kh * kw + Slack];
        Array.Copy(start, dw, start.Length);
        Array.Fill(dw, 7f, start.Length, Slack);
        DepthwiseConvolution.WeightGradient<TVector>(ref dy[0], ref x[0], ref dw[0], outputs, multiplier, kh, kw, stride, width, plane, outHeight, outWidth);

        for (int o = 0; o < outputs; o++)
        {
            for (int m = 0; m < kh; m++)
            {
                for (int n = 0; n < kw; n++)
                {
                    double sum = start[(o * kh + m) * kw + n];
                    for (int i = 0; i < outHeight; i++)
                    {
                        for (int j = 0; j < outWidth; j++)
                        {
                            sum += (double)dy[(o * outHeight + i) * outWidth + j] * x[o / multiplier * plane + (i * stride + m) * width + j * stride + n];
                        }
                    }

                    float actual = dw[(o * kh + m) * kw + n];
                    Assert.True(Math.Abs(sum - actual) <= 1e-5 * (pixels + 1), $"{name}: dw({o}, {m}, {n}) is {actual}, expected {sum}");
                }
            }
        }

        Assert.All(dw[start.Length..], v => Assert.Equal(7f, v));
        output.WriteLine($"{name}: dL/dw of {outputs} outputs (×{multiplier}), {kh}×{kw} stride {stride} on {height}×{width}: checked");
        return 1;
    }
}
