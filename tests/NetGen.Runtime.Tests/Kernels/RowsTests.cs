using System;
using NetGen.Kernels;
using Xunit;

namespace NetGen.Runtime.Tests.Kernels;

public sealed class RowsTests
{
    [Theory]
    [InlineData(3, 5, 7, 1)] // rows narrower than every vector: masked stores, and float by float where a span ends
    [InlineData(2, 4, 14, 1)] // ResNetBN's block3_conv1 padding
    [InlineData(4, 3, 16, 1)] // as wide as a vector of 16
    [InlineData(2, 6, 28, 2)] // wider: whole vectors, the last overlapping
    [InlineData(1, 2, 37, 3)]
    public void Copy_rows_moves_every_row_into_the_middle_of_its_padded_planes_and_back_writing_nothing_else(int planes, int rows, int width, int padding)
    {
        CheckCopyRows<Float1>(planes, rows, width, padding);
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            CheckCopyRows<Float256>(planes, rows, width, padding);
        }

        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            CheckCopyRows<Float512>(planes, rows, width, padding);
        }
    }

    [Fact]
    public void Copy_rows_rejects_spans_shorter_than_its_sizes()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => Rows.CopyRows<Float1>(new float[11], 4, 12, new float[100], 6, 36, 1, 3, 4));
        Assert.Equal("source", exception.ParamName);
        exception = Assert.Throws<ArgumentOutOfRangeException>(() => Rows.CopyRows<Float1>(new float[24], 4, 12, new float[15], 6, 36, 2, 3, 4));
        Assert.Equal("destination", exception.ParamName);
    }

    /// <summary>Planes of rows <paramref name="width"/> wide into the middle of zero-padded ones and back, the spans exactly as long as the copies need.</summary>
    private static void CheckCopyRows<TVector>(int planes, int rows, int width, int padding)
        where TVector : struct, IFloatVector<TVector>
    {
        int paddedWidth = width + 2 * padding, paddedPlane = (rows + 2 * padding) * paddedWidth, offset = padding * paddedWidth + padding;
        float[] x = new float[planes * rows * width];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = i + 0.25f;
        }

        float[] padded = new float[planes * paddedPlane];
        Rows.CopyRows<TVector>(x, width, rows * width, padded.AsSpan(offset), paddedWidth, paddedPlane, planes, rows, width);
        for (int t = 0; t < planes; t++)
        {
            for (int u = 0; u < rows + 2 * padding; u++)
            {
                for (int v = 0; v < paddedWidth; v++)
                {
                    bool inside = u >= padding && u < rows + padding && v >= padding && v < width + padding;
                    float expected = inside ? x[(t * rows + u - padding) * width + v - padding] : 0f;
                    Assert.True(expected == padded[t * paddedPlane + u * paddedWidth + v], $"{typeof(TVector).Name}: padded({t}, {u}, {v}) is {padded[t * paddedPlane + u * paddedWidth + v]}, expected {expected}");
                }
            }
        }

        float[] back = new float[x.Length];
        Rows.CopyRows<TVector>(padded.AsSpan(offset), paddedWidth, paddedPlane, back, width, rows * width, planes, rows, width);
        Assert.Equal(x, back);
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(3, 5, 5, 3)]
    [InlineData(8, 17, 20, 16)]
    [InlineData(33, 600, 600, 48)]
    [InlineData(13, 7, 9, 13)]
    public void Transpose_moves_every_element_and_writes_nothing_else(int rows, int columns, int sourceRow, int destinationRow)
    {
        float[] source = new float[(rows - 1) * sourceRow + columns];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = i + 0.5f;
        }

        float[] destination = new float[(columns - 1) * destinationRow + rows + 8];
        Array.Fill(destination, -1f);
        Rows.Transpose(source, sourceRow, rows, columns, destination, destinationRow);
        for (int c = 0; c < columns; c++)
        {
            for (int r = 0; r < destinationRow && c * destinationRow + r < destination.Length; r++)
            {
                float expected = r < rows ? source[r * sourceRow + c] : -1f;
                Assert.Equal(expected, destination[c * destinationRow + r]);
            }
        }

        Assert.All(destination[((columns - 1) * destinationRow + rows)..], v => Assert.Equal(-1f, v));
    }

    [Theory]
    [InlineData(3, 5, 5, 3)]
    [InlineData(800, 64, 64, 800)]
    [InlineData(9, 4, 6, 11)]
    public void TransposeAdd_adds_every_element_and_writes_nothing_else(int rows, int columns, int sourceRow, int destinationRow)
    {
        float[] source = new float[(rows - 1) * sourceRow + columns];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = i % 97;
        }

        float[] destination = new float[(columns - 1) * destinationRow + rows + 8];
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = 1000f + i;
        }

        Rows.TransposeAdd(source, sourceRow, rows, columns, destination, destinationRow);
        for (int i = 0; i < destination.Length; i++)
        {
            int c = i / destinationRow, r = i % destinationRow;
            float expected = 1000f + i + (r < rows && c < columns ? source[r * sourceRow + c] : 0f);
            Assert.Equal(expected, destination[i]);
        }
    }

    [Fact]
    public void Transpose_rejects_a_destination_too_short()
    {
        float[] source = new float[12];
        Assert.Throws<ArgumentOutOfRangeException>(() => Rows.Transpose(source, 4, 3, 4, new float[10], 3));
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 4, 20)]
    [InlineData(128, 4, 49)]
    [InlineData(5, 2, 17)]
    public void Unstack_gives_each_sample_its_rows(int rows, int samples, int width)
    {
        float[] source = new float[rows * samples * width];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = i + 0.5f;
        }

        Array.Resize(ref source, source.Length + 15); // the slack a row's last vector reads
        float[] destination = new float[rows * samples * width + 15];
        destination.AsSpan().Fill(-1f);
        Rows.Unstack<Float1>(source, rows, samples, width, destination, Epilogue.None);
        Rows.Unstack<Float256>(source, rows, samples, width, destination, Epilogue.None);
        for (int p = 0; p < samples; p++)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int q = 0; q < width; q++)
                {
                    Assert.Equal(source[(r * samples + p) * width + q], destination[(p * rows + r) * width + q]);
                }
            }
        }

        Assert.All(destination.AsSpan(rows * samples * width).ToArray(), v => Assert.Equal(-1f, v)); // nothing past the samples
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(128, 4, 49)]
    [InlineData(5, 2, 17)]
    public void Stack_puts_the_samples_side_by_side_and_Unstack_undoes_it(int rows, int samples, int width)
    {
        float[] source = new float[rows * samples * width];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = i + 0.25f;
        }

        float[] stacked = new float[source.Length + 5];
        stacked.AsSpan().Fill(-1f);
        Rows.Stack(source, rows, samples, width, stacked);
        for (int p = 0; p < samples; p++)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int q = 0; q < width; q++)
                {
                    Assert.Equal(source[(p * rows + r) * width + q], stacked[(r * samples + p) * width + q]);
                }
            }
        }

        Assert.All(stacked.AsSpan(source.Length).ToArray(), v => Assert.Equal(-1f, v));
        float[] back = new float[source.Length + 15];
        Array.Resize(ref stacked, source.Length + 15);
        Rows.Unstack<Float256>(stacked, rows, samples, width, back, Epilogue.None);
        Assert.Equal(source, back[..source.Length]);
    }

    [Fact]
    public void Unstack_and_Stack_reject_spans_shorter_than_the_sizes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Rows.Unstack<Float256>(new float[23 + 7], 3, 4, 2, new float[24 + 7], Epilogue.None));
        Assert.Throws<ArgumentOutOfRangeException>(() => Rows.Unstack<Float256>(new float[24 + 7], 3, 4, 2, new float[23 + 7], Epilogue.None));
        Assert.Throws<ArgumentOutOfRangeException>(() => Rows.Stack(new float[23], 3, 4, 2, new float[24]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Rows.Stack(new float[24], 3, 4, 2, new float[23]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(14)]
    [InlineData(16)]
    [InlineData(33)]
    public void CopyEven_takes_every_other_float_at_every_vector_width(int n)
    {
        CheckCopyEven<Float1>(n);
        CheckCopyEven<Float128>(n);
        CheckCopyEven<Float256>(n);
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            CheckCopyEven<Float512>(n);
        }
    }

    private static void CheckCopyEven<TVector>(int n)
        where TVector : struct, IFloatVector<TVector>
    {
        // Room for the reads (2·Count − 1 past the last float taken) and the writes (Count − 1 past n) of the last vector.
        float[] source = new float[2 * n + 2 * TVector.Count];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = i + 0.25f;
        }

        float[] destination = new float[n + TVector.Count];
        Rows.CopyEven<TVector>(ref source[0], ref destination[0], n);
        for (int j = 0; j < n; j++)
        {
            Assert.Equal(source[2 * j], destination[j]);
        }
    }
}
