using System;
using System.Linq;
using System.Runtime.Intrinsics;
using NetGen.Kernels;
using Xunit;

namespace NetGen.Runtime.Tests.Kernels;

/// <summary>
/// The lane operations the generated layers use beyond arithmetic, at every width this machine accelerates, bit for bit
/// (negative zero, infinities and NaN included): <see cref="IFloatVector{TSelf}.LaneMask"/> with
/// <see cref="IFloatVector{TSelf}.Masked"/> (the stride-1 col2im) and <see cref="IFloatVector{TSelf}.PickEven"/> (stride-2 pooling).
/// </summary>
public sealed class FloatVectorTests
{
    [Fact]
    public void Masked_keeps_the_lanes_of_the_mask_and_zeroes_the_others_at_every_accelerated_width()
    {
        int ran = Check<Float1>();
        ran += Vector128.IsHardwareAccelerated ? Check<Float128Unfused>() + Check<Float128>() : 0;
        ran += Vector256.IsHardwareAccelerated ? Check<Float256>() : 0;
        ran += Vector512.IsHardwareAccelerated ? Check<Float512>() : 0;
        Assert.True(ran >= 1);
    }

    [Fact]
    public void PickEven_takes_every_second_float_of_two_vectors_at_every_accelerated_width()
    {
        int ran = CheckPickEven<Float1>();
        ran += Vector128.IsHardwareAccelerated ? CheckPickEven<Float128Unfused>() + CheckPickEven<Float128>() : 0;
        ran += Vector256.IsHardwareAccelerated ? CheckPickEven<Float256>() : 0;
        ran += Vector512.IsHardwareAccelerated ? CheckPickEven<Float512>() : 0;
        Assert.True(ran >= 1);
    }

    [Fact]
    public void Interleave_and_SelectEqual_at_every_accelerated_width()
    {
        int ran = CheckInterleave<Float1>();
        ran += Vector128.IsHardwareAccelerated ? CheckInterleave<Float128Unfused>() + CheckInterleave<Float128>() : 0;
        ran += Vector256.IsHardwareAccelerated ? CheckInterleave<Float256>() : 0;
        ran += Vector512.IsHardwareAccelerated ? CheckInterleave<Float512>() : 0;
        Assert.True(ran >= 1);
    }

    private static int CheckInterleave<TVector>()
        where TVector : struct, IFloatVector<TVector>
    {
        int count = TVector.Count;
        float[] a = new float[count], b = new float[count], result = new float[2 * count];
        for (int l = 0; l < count; l++)
        {
            a[l] = l == 0 ? float.NaN : 100 + l;
            b[l] = l == 0 ? -0f : 200 + l;
        }

        TVector va = TVector.Load(ref a[0]), vb = TVector.Load(ref b[0]);
        TVector.Store(TVector.InterleaveLower(va, vb), ref result[0]);
        TVector.Store(TVector.InterleaveUpper(va, vb), ref result[count]);
        for (int l = 0; l < count; l++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(a[l]) == BitConverter.SingleToInt32Bits(result[2 * l]), $"{typeof(TVector).Name}: float {2 * l} is {result[2 * l]}, not a[{l}]");
            Assert.True(BitConverter.SingleToInt32Bits(b[l]) == BitConverter.SingleToInt32Bits(result[2 * l + 1]), $"{typeof(TVector).Name}: float {2 * l + 1} is {result[2 * l + 1]}, not b[{l}]");
        }

        // PickEven undoes it.
        float[] back = new float[count];
        TVector.Store(TVector.PickEven(TVector.Load(ref result[0]), TVector.Load(ref result[count])), ref back[0]);
        Assert.Equal(a.Select(BitConverter.SingleToInt32Bits), back.Select(BitConverter.SingleToInt32Bits));

        // SelectEqual: lanes equal to 102 (only lane 2, if there is one) take b, the others a; NaN equals nothing.
        TVector.Store(TVector.SelectEqual(va, TVector.Broadcast(102f), vb, va), ref back[0]);
        for (int l = 0; l < count; l++)
        {
            float expected = l == 2 ? b[l] : a[l];
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(back[l]), $"{typeof(TVector).Name}: SelectEqual lane {l} is {back[l]}");
        }

        return 1;
    }

    private static int CheckPickEven<TVector>()
        where TVector : struct, IFloatVector<TVector>
    {
        int count = TVector.Count;
        float[] values = new float[2 * count];
        float[] special = [float.NaN, -0f, float.NegativeInfinity, 7f];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = i < special.Length ? special[i] : 100 + i;
        }

        float[] result = new float[count];
        TVector.Store(TVector.PickEven(TVector.Load(ref values[0]), TVector.Load(ref values[count])), ref result[0]);
        for (int l = 0; l < count; l++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(values[2 * l]) == BitConverter.SingleToInt32Bits(result[l]), $"{typeof(TVector).Name}: lane {l} is {result[l]}, not {values[2 * l]}");
        }

        return 1;
    }

    [Fact]
    public void StoreLanes_writes_only_its_lanes_at_every_accelerated_width()
    {
        int ran = CheckStoreLanes<Float1>();
        ran += Vector128.IsHardwareAccelerated ? CheckStoreLanes<Float128Unfused>() + CheckStoreLanes<Float128>() : 0;
        ran += Vector256.IsHardwareAccelerated ? CheckStoreLanes<Float256>() : 0;
        ran += Vector512.IsHardwareAccelerated ? CheckStoreLanes<Float512>() : 0;
        Assert.True(ran >= 1);
    }

    private static int CheckStoreLanes<TVector>()
        where TVector : struct, IFloatVector<TVector>
    {
        int count = TVector.Count;
        TVector value = TVector.Broadcast(7f);
        float[] destination = new float[count];
        for (int first = -2; first <= count + 1; first++)
        {
            for (int limit = first; limit <= count + 2; limit++)
            {
                Array.Fill(destination, -1f);
                TVector.StoreLanes(value, ref destination[0], first, limit);
                for (int l = 0; l < count; l++)
                {
                    Assert.Equal(first <= l && l < limit ? 7f : -1f, destination[l]);
                }
            }
        }

        return 1;
    }

    private static int Check<TVector>()
        where TVector : struct, IFloatVector<TVector>
    {
        int count = TVector.Count;
        float[] values = new float[count];
        float[] special = [-0f, float.PositiveInfinity, float.NaN, -3.5f, 1e-45f];
        for (int l = 0; l < count; l++)
        {
            values[l] = l < special.Length ? special[l] : l + 0.25f;
        }

        TVector vector = TVector.Load(ref values[0]);
        float[] result = new float[count];
        for (int first = -20; first <= 20; first++)
        {
            for (int limit = first - 2; limit <= 22; limit++)
            {
                TVector.Store(TVector.Masked(vector, TVector.LaneMask(first, limit)), ref result[0]);
                for (int l = 0; l < count; l++)
                {
                    int expected = first <= l && l < limit ? BitConverter.SingleToInt32Bits(values[l]) : 0;
                    Assert.True(expected == BitConverter.SingleToInt32Bits(result[l]), $"{typeof(TVector).Name}, lanes [{first}, {limit}): lane {l} is {result[l]}");
                }
            }
        }

        return 1;
    }
}
