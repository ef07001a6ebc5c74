using System;
using NetGen.Kernels;
using Xunit;

namespace NetGen.Runtime.Tests.Kernels;

public sealed class RowsTests
{
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
