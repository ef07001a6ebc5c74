using System;
using System.Numerics.Tensors;
using NetGen.Kernels;
using Xunit;

namespace NetGen.Runtime.Tests.Kernels;

/// <summary>
/// BatchNorm's one-sweep plane passes against the TensorPrimitives calls they replace: the same bits at every length (whole
/// vectors, and the float-by-float tail) and every vector type this machine runs, in place too, and nothing written past
/// the plane.
/// </summary>
public sealed class NormalizationTests
{
    public static TheoryData<int> Lengths => [0, 1, 3, 15, 16, 17, 33, 49, 196, 784, 1001];

    private static float[] Values(int length, int seed, float offset)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)(random.NextDouble() * 3 - offset);
        }

        return values;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Normalize_gives_the_bits_of_subtract_multiply_add(int length)
    {
        CheckNormalize<Float1>(length);
        CheckNormalize<Float128Unfused>(length);
        if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
        {
            CheckNormalize<Float128>(length);
        }

        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            CheckNormalize<Float256>(length);
        }

        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            CheckNormalize<Float512>(length);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void InputGradient_gives_the_bits_of_subtract_multiply_add_and_multiply_add(int length)
    {
        CheckInputGradient<Float1>(length);
        CheckInputGradient<Float128Unfused>(length);
        if (System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated)
        {
            CheckInputGradient<Float128>(length);
        }

        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            CheckInputGradient<Float256>(length);
        }

        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            CheckInputGradient<Float512>(length);
        }
    }

    private static void CheckNormalize<TVector>(int length)
        where TVector : struct, IFloatVector<TVector>
    {
        float[] x = Values(length, length, 1.1f);
        const float mean = 0.3721f, scale = 1.739f, shift = -0.0613f;
        var expected = new float[length];
        TensorPrimitives.Subtract(x, mean, expected);
        TensorPrimitives.Multiply(expected, scale, expected);
        TensorPrimitives.Add(expected, shift, expected);

        var y = new float[length + 5];
        y.AsSpan(length).Fill(-7f);
        Normalization.Normalize<TVector>(x, mean, scale, shift, y);
        Assert.True(expected.AsSpan().SequenceEqual(y.AsSpan(0, length)), $"{typeof(TVector).Name}: other bits");
        Assert.All(y[length..], v => Assert.Equal(-7f, v));

        Normalization.Normalize<TVector>(x, mean, scale, shift, x); // in place
        Assert.True(expected.AsSpan().SequenceEqual(x), $"{typeof(TVector).Name}: other bits in place");
    }

    private static void CheckInputGradient<TVector>(int length)
        where TVector : struct, IFloatVector<TVector>
    {
        float[] x = Values(length, length + 1, 1.3f), dy = Values(length, length + 2, 1.5f);
        const float mean = -0.218f, slope = -0.6093f, shift = 0.0419f, factor = 1.2077f;
        var expected = new float[length];
        TensorPrimitives.Subtract(x, mean, expected);
        TensorPrimitives.Multiply(expected, slope, expected);
        TensorPrimitives.Add(expected, shift, expected);
        TensorPrimitives.MultiplyAdd(dy, factor, expected, expected);

        var dx = new float[length + 5];
        dx.AsSpan(length).Fill(-7f);
        Normalization.InputGradient<TVector>(x, mean, slope, shift, dy, factor, dx);
        Assert.True(expected.AsSpan().SequenceEqual(dx.AsSpan(0, length)), $"{typeof(TVector).Name}: other bits");
        Assert.All(dx[length..], v => Assert.Equal(-7f, v));

        Normalization.InputGradient<TVector>(x, mean, slope, shift, dy, factor, dy); // over dL/dy
        Assert.True(expected.AsSpan().SequenceEqual(dy), $"{typeof(TVector).Name}: other bits in place");
    }

    [Fact]
    public void Short_outputs_are_rejected_with_their_names()
    {
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => Normalization.Normalize<Float1>(new float[4], 0, 1, 0, new float[3])).ParamName);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => Normalization.InputGradient<Float1>(new float[4], 0, 1, 0, new float[3], 1, new float[4])).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => Normalization.InputGradient<Float1>(new float[4], 0, 1, 0, new float[4], 1, new float[3])).ParamName);
    }
}
