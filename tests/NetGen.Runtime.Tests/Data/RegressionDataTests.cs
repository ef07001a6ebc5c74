using System;
using NetGen.Data;
using Xunit;

namespace NetGen.Runtime.Tests.Data;

public class RegressionDataTests
{
    // Three samples of two inputs and their rows of three targets: sample i's values are i·10 + k and i·100 + k.
    private static RegressionData Three() =>
        new([0, 1, 10, 11, 20, 21], [0, 1, 2, 100, 101, 102, 200, 201, 202], inputLength: 2);

    [Fact]
    public void The_lengths_follow_from_the_arrays()
    {
        RegressionData data = Three();
        Assert.Equal(3, data.Count);
        Assert.Equal(2, data.InputLength);
        Assert.Equal(3, data.TargetLength);
        Assert.Equal([10f, 11f], data.Input(1).ToArray());
        Assert.Equal([200f, 201f, 202f], data.Target(2).ToArray());
        Assert.Equal(0, new RegressionData([], [], 4).Count);
    }

    [Fact]
    public void Gather_copies_the_named_samples_in_order()
    {
        RegressionData data = Three();
        var inputs = new float[3 * 2];
        var targets = new float[3 * 3];
        data.Gather([2, 0], inputs, targets);
        Assert.Equal([20f, 21f, 0f, 1f, 0f, 0f], inputs);
        Assert.Equal([200f, 201f, 202f, 0f, 1f, 2f, 0f, 0f, 0f], targets);
    }

    [Fact]
    public void Bad_arguments_throw_naming_the_parameter()
    {
        RegressionData data = Three();
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => new RegressionData(new float[5], new float[3], 2)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => new RegressionData(new float[6], new float[4], 2)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => new RegressionData(new float[6], [], 2)).ParamName);
        Assert.Equal("inputLength", Assert.Throws<ArgumentOutOfRangeException>(() => new RegressionData([], [], 0)).ParamName);
        Assert.Equal("index", Assert.Throws<ArgumentOutOfRangeException>(() => data.Target(3)).ParamName);
        Assert.Equal("indices", Assert.Throws<ArgumentOutOfRangeException>(() => data.Gather([3], new float[2], new float[3])).ParamName);
        Assert.Equal("inputs", Assert.Throws<ArgumentException>(() => data.Gather([0, 1], new float[3], new float[6])).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => data.Gather([0, 1], new float[4], new float[5])).ParamName);
    }
}
