using System;
using Xunit;

namespace NetGen.Runtime.Tests;

public sealed class RandomArgumentTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void NextInt32_rejects_an_empty_range(int maxExclusive)
    {
        var random = new SeededRandom(1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => random.NextInt32(maxExclusive));

        Assert.Equal("maxExclusive", e.ParamName);
        Assert.Equal(0, new SeededRandom(1).NextInt32(1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void HeUniform_rejects_a_fan_in_below_1_without_drawing(int fanIn)
    {
        float[] weights = [7f, 7f];
        var random = new SeededRandom(5);
        var untouched = new SeededRandom(5);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ParameterInitializer.HeUniform(weights, fanIn, ref random));

        Assert.Equal("fanIn", e.ParamName);
        Assert.Equal([7f, 7f], weights);
        Assert.Equal(untouched.NextUInt64(), random.NextUInt64());
    }
}
