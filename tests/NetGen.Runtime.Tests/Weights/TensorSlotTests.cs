using System;
using NetGen.Weights;
using Xunit;

namespace NetGen.Runtime.Tests.Weights;

public sealed class TensorSlotTests
{
    [Fact]
    public void Length_is_the_product_of_the_shape()
    {
        int[] shape = [6, 1, 5, 5];
        var slot = new TensorSlot("conv1.weight", shape, 10);
        shape[0] = 99;

        Assert.Equal("conv1.weight", slot.Name);
        Assert.Equal([6, 1, 5, 5], slot.Shape.ToArray());
        Assert.Equal(150, slot.Length);
        Assert.Equal(10, slot.Offset);
        Assert.Equal(160, slot.End);
        Assert.Equal(1, new TensorSlot("scalar", [], 0).Length);
        Assert.Equal(0, new TensorSlot("empty", [3, 0], 0).Length);
        Assert.Equal("conv1.weight [6, 1, 5, 5] at 10", slot.ToString());
    }

    [Fact]
    public void Constructor_validates()
    {
        Assert.Throws<ArgumentException>(() => new TensorSlot("", [1], 0));
        Assert.Throws<ArgumentException>(() => new TensorSlot("__metadata__", [1], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TensorSlot("x", [2, -1], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TensorSlot("x", [2], -1));
        Assert.Throws<ArgumentException>(() => new TensorSlot("x", [65536, 65536], 0));
        Assert.Throws<ArgumentException>(() => new TensorSlot("x", [10], int.MaxValue - 5));
    }
}
