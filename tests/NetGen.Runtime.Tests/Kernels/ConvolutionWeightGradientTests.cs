using System;
using System.Runtime.Intrinsics;
using NetGen.Kernels;
using Xunit;

namespace NetGen.Runtime.Tests.Kernels;

/// <summary>
/// The direct weight gradient, from the inputs by rows and from their compacted copies, adds to dL/dw the double-precision
/// sum over samples and output pixels (to rounding), at every vector width this machine accelerates and with either register
/// file's tiles, which give the same bits; it writes nothing but dL/dw's own floats.
/// </summary>
public sealed class ConvolutionWeightGradientTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Slack = 32;

    /// <summary>
    /// Filter counts for every tile and its rest (32 registers: 4 + 2 + 1 in 7 for kernels 4 or more wide, 4 × 4 in 16;
    /// for kernels up to 3 wide 6 + 1 in 7, 6 + 2 + 1 in 9, 6 + 4 + 1 in 11, 6 + 6 + 4 in 16; 16 registers: 2s for kernel
    /// widths of 4 or more, 3s for 3); kernel widths of 1, 2, 3, 5 and 7 (a run of 5 then 2); output widths of two vectors
    /// per row (28), one and a part (20), one (14), ragged (10, 7); one and several samples, in one block or several.
    /// </summary>
    public static TheoryData<int, int, int, int, int, int, int> Shapes => new()
    {
        // samples, filters, channels, kernel height, kernel width, output height, output width
        { 3, 6, 1, 5, 5, 28, 28 },
        { 2, 16, 6, 5, 5, 10, 10 },
        { 1, 7, 3, 3, 3, 7, 7 },
        { 4, 9, 2, 3, 3, 14, 14 },
        { 2, 5, 2, 7, 7, 6, 20 },
        { 3, 3, 4, 3, 5, 5, 9 },
        { 1, 1, 1, 1, 3, 4, 17 },
        { 7, 16, 6, 5, 5, 10, 10 },  // LeNet-5's conv2 over 7 samples: blocks of 3 (+ 3 + 1) samples, sums kept between them
        { 3, 3, 1, 17, 2, 3, 5 },    // 17 kernel rows: a call for 16, then one for the last
        { 2, 16, 5, 3, 3, 28, 28 },  // the residual networks' 16-filter 3×3 layers: 6 + 6 + 4, over two blocks of samples
        { 3, 11, 2, 2, 3, 9, 13 },   // 6 + 4 + 1 over a 2×3 kernel
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Weight_gradient_by_rows_is_the_sum_over_samples_and_pixels(int samples, int filters, int channels, int kernelHeight, int kernelWidth, int outputHeight, int outputWidth) =>
        CheckEveryWidth(samples, filters, channels, kernelHeight, kernelWidth, outputHeight, outputWidth, compacted: false);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Weight_gradient_from_compacted_copies_is_the_sum_over_samples_and_pixels(int samples, int filters, int channels, int kernelHeight, int kernelWidth, int outputHeight, int outputWidth) =>
        CheckEveryWidth(samples, filters, channels, kernelHeight, kernelWidth, outputHeight, outputWidth, compacted: true);

    private void CheckEveryWidth(int samples, int filters, int channels, int kernelHeight, int kernelWidth, int outputHeight, int outputWidth, bool compacted)
    {
        int ran = 0;
        ran += Check<Float1>(samples, filters, channels, kernelHeight, kernelWidth, outputHeight, outputWidth, compacted, "Float1");
        ran += Check<Float128>(samples, filters, channels, kernelHeight, kernelWidth, outputHeight, outputWidth, compacted, "Float128", Vector128.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd);
        ran += Check<Float256>(samples, filters, channels, kernelHeight, kernelWidth, outputHeight, outputWidth, compacted, "Float256", Vector256.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd);
        ran += Check<Float512>(samples, filters, channels, kernelHeight, kernelWidth, outputHeight, outputWidth, compacted, "Float512", Vector512.IsHardwareAccelerated);
        Assert.True(ran >= 1);
    }

    private int Check<TVector>(int samples, int filters, int channels, int kernelHeight, int kernelWidth, int outputHeight, int outputWidth, bool compacted, string name,
        bool accelerated = true)
        where TVector : struct, IFloatVector<TVector>
    {
        if (!accelerated)
        {
            output.WriteLine($"{name}: not accelerated here, not dispatched to, skipped");
            return 0;
        }

        // Inputs two columns wider than the taps need (a padded copy's stride), dL/dy with a gap between samples.
        int inputHeight = outputHeight + kernelHeight - 1, inputWidth = outputWidth + kernelWidth + 1, plane = inputHeight * inputWidth;
        int inputSample = channels * plane + 3, pixels = outputHeight * outputWidth, outputSample = filters * pixels + 5, rows = channels * kernelHeight * kernelWidth;
        var random = new Random(samples * 7919 + filters * 1000 + channels * 100 + kernelHeight * 10 + kernelWidth + outputWidth);
        float[] x = TestValues.Uniform(random, samples * inputSample + Slack);
        float[] dy = TestValues.Uniform(random, samples * outputSample + Slack);
        float[] start = TestValues.Uniform(random, filters * rows);

        // The compacted copies, sample after sample, as the generated backward pass makes them.
        int compactedSample = channels * kernelWidth * inputHeight * outputWidth;
        float[] copies = new float[samples * compactedSample + Slack];
        for (int s = 0; s < samples; s++)
        {
            Convolution.Compact<TVector>(ref x[s * inputSample], ref copies[s * compactedSample], channels, kernelHeight, kernelWidth, inputWidth, plane, outputHeight, outputWidth);
        }

        float[]? first = null;
        foreach (int registers in new[] { 0, 16, 32 })
        {
            string which = (registers == 0 ? name : $"{name} ({registers} registers)") + (compacted ? " compacted" : "");
            float[] dw = new float[filters * rows + Slack];
            start.CopyTo(dw, 0);
            Array.Fill(dw, 7f, filters * rows, Slack);
            if (compacted)
            {
                switch (registers)
                {
                    case 0: Convolution.WeightGradientCompacted<TVector>(ref dy[0], outputSample, ref copies[0], compactedSample, ref dw[0], samples, filters, channels, kernelHeight, kernelWidth, outputHeight, outputWidth); break;
                    case 16: Convolution.WeightGradientCompacted<TVector, SixteenRegisters>(ref dy[0], outputSample, ref copies[0], compactedSample, ref dw[0], samples, filters, channels, kernelHeight, kernelWidth, outputHeight, outputWidth); break;
                    default: Convolution.WeightGradientCompacted<TVector, ThirtyTwoRegisters>(ref dy[0], outputSample, ref copies[0], compactedSample, ref dw[0], samples, filters, channels, kernelHeight, kernelWidth, outputHeight, outputWidth); break;
                }
            }
            else
            {
                switch (registers)
                {
                    case 0: Convolution.WeightGradient<TVector>(ref dy[0], outputSample, ref x[0], inputSample, ref dw[0], samples, filters, channels, kernelHeight, kernelWidth, inputWidth, plane, outputHeight, outputWidth); break;
                    case 16: Convolution.WeightGradient<TVector, SixteenRegisters>(ref dy[0], outputSample, ref x[0], inputSample, ref dw[0], samples, filters, channels, kernelHeight, kernelWidth, inputWidth, plane, outputHeight, outputWidth); break;
                    default: Convolution.WeightGradient<TVector, ThirtyTwoRegisters>(ref dy[0], outputSample, ref x[0], inputSample, ref dw[0], samples, filters, channels, kernelHeight, kernelWidth, inputWidth, plane, outputHeight, outputWidth); break;
                }
            }

            Assert.All(dw[(filters * rows)..], v => Assert.Equal(7f, v));
            if (first is null)
            {
                first = dw;
                continue;
            }

            for (int p = 0; p < filters * rows; p++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(first[p]) == BitConverter.SingleToInt32Bits(dw[p]), $"{which}: dL/dw[{p}] is {dw[p]}, the public kernel's {first[p]}");
            }
        }

        // The definition in double precision.
        for (int k = 0; k < filters; k++)
        {
            for (int t = 0; t < channels; t++)
            {
                for (int m = 0; m < kernelHeight; m++)
                {
                    for (int n = 0; n < kernelWidth; n++)
                    {
                        int at = k * rows + (t * kernelHeight + m) * kernelWidth + n;
                        double sum = start[at];
                        for (int s = 0; s < samples; s++)
                        {
                            for (int i = 0; i < outputHeight; i++)
                            {
                                for (int j = 0; j < outputWidth; j++)
                                {
                                    sum += (double)dy[s * outputSample + (k * outputHeight + i) * outputWidth + j] * x[s * inputSample + t * plane + (i + m) * inputWidth + j + n];
                                }
                            }
                        }

                        Assert.True(Math.Abs(sum - first![at]) <= 1e-6 * (samples * pixels + 1), $"{name}: dL/dw({k}, {t}, {m}, {n}) is {first[at]}, expected {sum}");
                    }
                }
            }
        }

        output.WriteLine($"{name}{(compacted ? " compacted" : "")}: {samples} samples, {filters} filters, {channels} channels, kernel {kernelHeight}×{kernelWidth}, output {outputHeight}×{outputWidth}: checked");
        return 1;
    }
}
