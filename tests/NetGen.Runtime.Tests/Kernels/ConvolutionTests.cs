using System;
using System.Runtime.Intrinsics;
using NetGen.Kernels;
using Xunit;

namespace NetGen.Runtime.Tests.Kernels;

/// <summary>
/// The direct convolution, by rows and compacted, gives at every vector width this machine accelerates the same bits as
/// unfolding the input and multiplying (<see cref="Gemm.MultiplyBias"/>), which the generated code did before, and the
/// value of a plain loop; it writes nothing outside its output (and the compacted copy nothing outside its buffer).
/// </summary>
public sealed class ConvolutionTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Slack = 32;

    /// <summary>
    /// Filters exercising, for each register file, the 8-, 6-, 4-, 2- and 1-filter tiles (32 registers: 6; 9 = 8 + 1;
    /// 15 = 8 + 6 + 1; 16 = 8 + 8; 3 = 2 + 1; 16 registers, two slots: 9 = 6 + 2 + 1; 15 = 6 + 6 + 2 + 1; 16 = 6 + 6 + 4;
    /// a last slot alone takes tiles of 8 with either); output widths
    /// of two vectors per row (28), one (14) and ragged (10, 5); an odd number of slots (3 × 5 outputs: the last slot
    /// alone); more than 128 taps (a blocked reduction in the unfolded product).
    /// </summary>
    public static TheoryData<int, int, int, int, int, int> Shapes => new()
    {
        // filters, channels, kernel, input height (padded), input width (padded), output width used by the caller
        { 6, 1, 5, 32, 32, 28 },
        { 16, 3, 5, 18, 18, 14 },
        { 15, 2, 3, 12, 12, 10 },
        { 3, 1, 3, 5, 7, 5 },
        { 9, 6, 5, 14, 14, 10 },
        { 16, 2, 3, 9, 9, 7 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Direct_convolution_matches_unfold_and_multiply_bit_for_bit(int filters, int channels, int kernel, int inputHeight, int inputWidth, int outputWidth) =>
        CheckEveryWidth(filters, channels, kernel, inputHeight, inputWidth, outputWidth, compacted: false);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Compacted_convolution_matches_unfold_and_multiply_bit_for_bit(int filters, int channels, int kernel, int inputHeight, int inputWidth, int outputWidth) =>
        CheckEveryWidth(filters, channels, kernel, inputHeight, inputWidth, outputWidth, compacted: true);

    /// <summary>Several samples in one compacted copy: each sample's output the same bits as compacting it alone, and nothing written past the outputs.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Compacted_convolution_of_several_samples_matches_one_at_a_time(int filters, int channels, int kernel, int inputHeight, int inputWidth, int outputWidth)
    {
        foreach (int samples in new[] { 2, 3 })
        {
            CheckSamples<Float1>(filters, channels, kernel, inputHeight, inputWidth, outputWidth, samples);
            if (Vector256.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd)
            {
                CheckSamples<Float256>(filters, channels, kernel, inputHeight, inputWidth, outputWidth, samples);
            }

            if (Vector512.IsHardwareAccelerated)
            {
                CheckSamples<Float512>(filters, channels, kernel, inputHeight, inputWidth, outputWidth, samples);
            }
        }
    }

    private static void CheckSamples<TVector>(int filters, int channels, int kernel, int inputHeight, int inputWidth, int outputWidth, int samples)
        where TVector : struct, IFloatVector<TVector>
    {
        int outputHeight = inputHeight - kernel + 1, pixels = outputHeight * outputWidth, plane = inputHeight * inputWidth;
        int inputStride = channels * plane + 3, outputStride = filters * pixels + 5; // gaps between the samples, never read or written
        var random = new Random(filters * 1000 + channels * 100 + kernel + samples);
        float[] weight = TestValues.Uniform(random, filters * channels * kernel * kernel);
        float[] bias = TestValues.Uniform(random, filters);
        float[] x = TestValues.Uniform(random, samples * inputStride + Slack);
        int compactedHeight = outputHeight + kernel - 1, span = (samples - 1) * compactedHeight * outputWidth + pixels;
        float[] copy = new float[samples * channels * kernel * compactedHeight * outputWidth + Slack];
        float[] products = new float[filters * span + Slack];

        float[] expected = new float[samples * outputStride + Slack];
        for (int p = 0; p < samples; p++)
        {
            Convolution.ForwardCompacted<TVector>(ref weight[0], ref bias[0], ref x[p * inputStride], ref copy[0], ref expected[p * outputStride], filters, channels, kernel, kernel, inputWidth, plane, outputHeight, outputWidth);
        }

        foreach (int registers in new[] { 0, 16, 32 })
        {
            float[] y = new float[expected.Length];
            Array.Fill(y, 7f);
            switch (registers)
            {
                case 0: Convolution.ForwardCompactedSamples<TVector>(ref weight[0], ref bias[0], ref x[0], ref copy[0], ref products[0], ref y[0], filters, channels, kernel, kernel, inputWidth, plane, outputHeight, outputWidth, samples, inputStride, outputStride, Epilogue.None); break;
                case 16: Convolution.ForwardCompactedSamples<TVector, SixteenRegisters>(ref weight[0], ref bias[0], ref x[0], ref copy[0], ref products[0], ref y[0], filters, channels, kernel, kernel, inputWidth, plane, outputHeight, outputWidth, samples, inputStride, outputStride, Epilogue.None); break;
                default: Convolution.ForwardCompactedSamples<TVector, ThirtyTwoRegisters>(ref weight[0], ref bias[0], ref x[0], ref copy[0], ref products[0], ref y[0], filters, channels, kernel, kernel, inputWidth, plane, outputHeight, outputWidth, samples, inputStride, outputStride, Epilogue.None); break;
            }

            for (int p = 0; p < samples; p++)
            {
                for (int i = 0; i < outputStride; i++)
                {
                    int at = p * outputStride + i;
                    float want = i < filters * pixels ? expected[at] : 7f; // the gap after each sample's planes stays untouched
                    Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(y[at]), $"{typeof(TVector).Name} ({registers} registers), {samples} samples: sample {p}, float {i} is {y[at]}, expected {want}");
                }
            }

            Assert.All(y[(samples * outputStride)..], v => Assert.Equal(7f, v));
        }
    }

    private void CheckEveryWidth(int filters, int channels, int kernel, int inputHeight, int inputWidth, int outputWidth, bool compacted)
    {
        int ran = 0;
        ran += Check<Float1>(filters, channels, kernel, inputHeight, inputWidth, outputWidth, compacted, "Float1");
        ran += Check<Float128Unfused>(filters, channels, kernel, inputHeight, inputWidth, outputWidth, compacted, "Float128Unfused", Vector128.IsHardwareAccelerated);
        ran += Check<Float128>(filters, channels, kernel, inputHeight, inputWidth, outputWidth, compacted, "Float128", Vector128.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd);
        ran += Check<Float256>(filters, channels, kernel, inputHeight, inputWidth, outputWidth, compacted, "Float256", Vector256.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd);
        ran += Check<Float512>(filters, channels, kernel, inputHeight, inputWidth, outputWidth, compacted, "Float512", Vector512.IsHardwareAccelerated);
        Assert.True(ran >= 1);
    }

    private int Check<TVector>(int filters, int channels, int kernel, int inputHeight, int inputWidth, int outputWidth, bool compacted, string name, bool accelerated = true)
        where TVector : struct, IFloatVector<TVector>
    {
        if (!accelerated)
        {
            output.WriteLine($"{name}: not accelerated here, not dispatched to, skipped");
            return 0;
        }

        int outputHeight = inputHeight - kernel + 1;
        Assert.True(outputWidth <= inputWidth - kernel + 1);
        int rows = channels * kernel * kernel, pixels = outputHeight * outputWidth, plane = inputHeight * inputWidth;
        var random = new Random(filters * 1000 + channels * 100 + kernel);
        float[] weight = TestValues.Uniform(random, filters * rows);
        float[] bias = TestValues.Uniform(random, filters);
        float[] x = TestValues.Uniform(random, channels * plane + Slack);

        // The unfolded input and the blocked product, as the generated code computes them without the direct kernel.
        float[] columns = new float[rows * pixels + Slack];
        for (int t = 0; t < channels; t++)
        {
            for (int m = 0; m < kernel; m++)
            {
                for (int n = 0; n < kernel; n++)
                {
                    for (int i = 0; i < outputHeight; i++)
                    {
                        for (int j = 0; j < outputWidth; j++)
                        {
                            columns[((t * kernel + m) * kernel + n) * pixels + i * outputWidth + j] = x[t * plane + (i + m) * inputWidth + j + n];
                        }
                    }
                }
            }
        }

        float[] expected = new float[filters * pixels + Slack];
        Gemm.MultiplyBias<TVector>(ref weight[0], rows, 1, ref columns[0], pixels, ref expected[0], pixels, ref bias[0], filters, rows, pixels, paddedTail: true);

        // The public kernel (this machine's register file), then each register file's tiles: all the same bits as the unfolded product.
        float[] y = new float[filters * pixels + Slack];
        if (compacted)
        {
            name += " compacted";
        }

        foreach (int registers in new[] { 0, 16, 32 })
        {
            string which = registers == 0 ? name : $"{name} ({registers} registers)";
            Array.Fill(y, float.NaN, 0, filters * pixels);
            Array.Fill(y, 7f, filters * pixels, Slack);
            if (compacted)
            {
                // The copy takes channels · kernel planes of inputHeight × outputWidth floats and Count − 1 more; past those it must not write.
                int size = channels * kernel * inputHeight * outputWidth + TVector.Count - 1;
                float[] copy = new float[size + Slack];
                Array.Fill(copy, 7f);
                switch (registers)
                {
                    case 0: Convolution.ForwardCompacted<TVector>(ref weight[0], ref bias[0], ref x[0], ref copy[0], ref y[0], filters, channels, kernel, kernel, inputWidth, plane, outputHeight, outputWidth); break;
                    case 16: Convolution.ForwardCompacted<TVector, SixteenRegisters>(ref weight[0], ref bias[0], ref x[0], ref copy[0], ref y[0], filters, channels, kernel, kernel, inputWidth, plane, outputHeight, outputWidth); break;
                    default: Convolution.ForwardCompacted<TVector, ThirtyTwoRegisters>(ref weight[0], ref bias[0], ref x[0], ref copy[0], ref y[0], filters, channels, kernel, kernel, inputWidth, plane, outputHeight, outputWidth); break;
                }

                Assert.All(copy[size..], v => Assert.Equal(7f, v));
            }
            else
            {
                switch (registers)
                {
                    case 0: Convolution.Forward<TVector>(ref weight[0], ref bias[0], ref x[0], ref y[0], filters, channels, kernel, kernel, inputWidth, plane, outputHeight, outputWidth); break;
                    case 16: Convolution.Forward<TVector, SixteenRegisters>(ref weight[0], ref bias[0], ref x[0], ref y[0], filters, channels, kernel, kernel, inputWidth, plane, outputHeight, outputWidth); break;
                    default: Convolution.Forward<TVector, ThirtyTwoRegisters>(ref weight[0], ref bias[0], ref x[0], ref y[0], filters, channels, kernel, kernel, inputWidth, plane, outputHeight, outputWidth); break;
                }
            }

            for (int p = 0; p < filters * pixels; p++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected[p]) == BitConverter.SingleToInt32Bits(y[p]), $"{which}: output {p} is {y[p]}, the unfolded product {expected[p]}");
            }

            Assert.All(y[(filters * pixels)..], v => Assert.Equal(7f, v));
        }

        // And the plain definition, to rounding.
        for (int k = 0; k < filters; k++)
        {
            for (int i = 0; i < outputHeight; i++)
            {
                for (int j = 0; j < outputWidth; j++)
                {
                    double sum = bias[k];
                    for (int t = 0; t < channels; t++)
                    {
                        for (int m = 0; m < kernel; m++)
                        {
                            for (int n = 0; n < kernel; n++)
                            {
                                sum += (double)weight[k * rows + (t * kernel + m) * kernel + n] * x[t * plane + (i + m) * inputWidth + j + n];
                            }
                        }
                    }

                    float actual = y[(k * outputHeight + i) * outputWidth + j];
                    Assert.True(Math.Abs(sum - actual) <= 1e-5 * (rows + 1), $"{name}: y({k}, {i}, {j}) is {actual}, expected {sum}");
                }
            }
        }

        output.WriteLine($"{name}: {filters} filters, {channels}×{inputHeight}×{inputWidth}, kernel {kernel}, output width {outputWidth}: checked");
        return 1;
    }
}
