using System;
using System.Runtime.Intrinsics;
using NetGen.Kernels;
using Xunit;

namespace NetGen.Runtime.Tests.Kernels;

/// <summary>
/// The stride-2 fold writes every float of the zero-padded planes with the sum, tap after tap, of the dL/dcolumns entries
/// that land there (the same bits as adding them one by one in that order), at every vector width, and nothing past its
/// planes' slack; with dL/dcolumns of several samples side by side, from the one sample's columns alone.
/// </summary>
public sealed class ConvolutionFoldTests
{
    private const int Slack = 32;

    [Theory]
    // channels, kernel height, kernel width, padded height, padded width (the output size follows: (padded − kernel) / 2 + 1)
    [InlineData(2, 3, 3, 30, 30)]
    [InlineData(3, 3, 3, 16, 16)]
    [InlineData(1, 1, 1, 14, 14)]
    [InlineData(2, 2, 2, 9, 11)]
    [InlineData(1, 5, 5, 41, 39)]
    [InlineData(2, 3, 1, 7, 66)]
    [InlineData(1, 1, 3, 5, 5)]
    public void Fold_sums_every_tap_into_the_padded_planes(int channels, int kernelHeight, int kernelWidth, int paddedHeight, int paddedWidth)
    {
        foreach (int samples in new[] { 1, 3 })
        {
            Check<Float1>(channels, kernelHeight, kernelWidth, paddedHeight, paddedWidth, samples);
            if (Vector128.IsHardwareAccelerated)
            {
                Check<Float128>(channels, kernelHeight, kernelWidth, paddedHeight, paddedWidth, samples);
            }

            if (Vector256.IsHardwareAccelerated)
            {
                Check<Float256>(channels, kernelHeight, kernelWidth, paddedHeight, paddedWidth, samples);
            }

            if (Vector512.IsHardwareAccelerated)
            {
                Check<Float512>(channels, kernelHeight, kernelWidth, paddedHeight, paddedWidth, samples);
            }
        }
    }

    /// <summary>The fold of the last of <paramref name="samples"/> samples whose columns lie side by side in each row.</summary>
    private static void Check<TVector>(int channels, int kernelHeight, int kernelWidth, int paddedHeight, int paddedWidth, int samples)
        where TVector : struct, IFloatVector<TVector>
    {
        int outputHeight = (paddedHeight - kernelHeight) / 2 + 1, outputWidth = (paddedWidth - kernelWidth) / 2 + 1, pixels = outputHeight * outputWidth;
        int rows = channels * kernelHeight * kernelWidth, plane = paddedHeight * paddedWidth, columnsRow = samples * pixels, first = (samples - 1) * pixels;
        var random = new Random(channels * 1000 + kernelHeight * 100 + kernelWidth * 10 + paddedWidth + samples);
        float[] columns = TestValues.Uniform(random, rows * columnsRow + Slack);

        // The taps one by one, in order, into planes starting at zero.
        float[] expected = new float[channels * plane];
        for (int t = 0; t < channels; t++)
        {
            for (int u = 0; u < paddedHeight; u++)
            {
                for (int v = 0; v < paddedWidth; v++)
                {
                    float sum = 0f;
                    for (int m = 0; m < kernelHeight; m++)
                    {
                        for (int n = 0; n < kernelWidth; n++)
                        {
                            if ((u - m) % 2 == 0 && (v - n) % 2 == 0 && u >= m && v >= n && (u - m) / 2 < outputHeight && (v - n) / 2 < outputWidth)
                            {
                                sum += columns[((t * kernelHeight + m) * kernelWidth + n) * columnsRow + first + (u - m) / 2 * outputWidth + (v - n) / 2];
                            }
                        }
                    }

                    expected[t * plane + u * paddedWidth + v] = sum;
                }
            }
        }

        float[] padded = new float[channels * plane + Slack + 2 * TVector.Count];
        Array.Fill(padded, float.NaN, 0, channels * plane);
        Array.Fill(padded, 7f, channels * plane, padded.Length - channels * plane);
        Convolution.FoldStride2<TVector>(ref columns[first], ref padded[0], channels, kernelHeight, kernelWidth, outputHeight, outputWidth, paddedHeight, paddedWidth, columnsRow);
        for (int p = 0; p < channels * plane; p++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[p]) == BitConverter.SingleToInt32Bits(padded[p]), $"{typeof(TVector).Name}: padded[{p}] is {padded[p]}, expected {expected[p]}");
        }

        // Past the planes it writes at most 2·Count − 1 floats (of a last row's vectors).
        Assert.All(padded[(channels * plane + 2 * TVector.Count - 1)..], v => Assert.Equal(7f, v));
    }
}
