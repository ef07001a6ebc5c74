using System;
using System.Linq;
using NetGen.Data;
using Xunit;

namespace NetGen.Runtime.Tests.Data;

public sealed class BatchOrderTests
{
    [Fact]
    public void Starts_sequential_and_cuts_batches_with_a_short_last_one()
    {
        var order = new BatchOrder(10, 3);

        Assert.Equal(4, order.BatchCount);
        Assert.Equal([0, 1, 2], order.Batch(0).ToArray());
        Assert.Equal([6, 7, 8], order.Batch(2).ToArray());
        Assert.Equal([9], order.Batch(3).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => order.Batch(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => order.Batch(-1));
    }

    [Theory]
    [InlineData(10, 3, false, 4)]
    [InlineData(10, 3, true, 3)]
    [InlineData(9, 3, true, 3)]
    [InlineData(9, 3, false, 3)]
    [InlineData(2, 5, true, 0)]
    [InlineData(2, 5, false, 1)]
    [InlineData(0, 5, false, 0)]
    public void Batch_count(int count, int batchSize, bool dropLast, int expected)
    {
        var order = new BatchOrder(count, batchSize, dropLast);

        Assert.Equal(expected, order.BatchCount);
        int covered = Enumerable.Range(0, order.BatchCount).Sum(b => order.Batch(b).Length);
        Assert.Equal(dropLast ? count / batchSize * batchSize : count, covered);
    }

    [Fact]
    public void Shuffle_is_a_permutation_determined_by_the_seed_alone()
    {
        var a = new BatchOrder(100, 7);
        var b = new BatchOrder(100, 7);

        a.Shuffle(42);
        b.Shuffle(1);
        b.Shuffle(2);
        b.Shuffle(42);

        Assert.Equal(Enumerable.Range(0, 100), a.Order.ToArray().Order());
        Assert.NotEqual(Enumerable.Range(0, 100), a.Order.ToArray());
        Assert.Equal(a.Order.ToArray(), b.Order.ToArray());
        b.Shuffle(43);
        Assert.NotEqual(a.Order.ToArray(), b.Order.ToArray());
    }

    [Fact]
    public void Shuffle_uses_SeededRandom_Shuffle_of_the_identity()
    {
        int[] expected = Enumerable.Range(0, 50).ToArray();
        new SeededRandom(7).Shuffle(expected.AsSpan());
        var order = new BatchOrder(50, 16);

        order.Shuffle(7);

        Assert.Equal(expected, order.Order.ToArray());
        Assert.Equal(expected[16..32], order.Batch(1).ToArray());
        Assert.Equal(expected[48..], order.Batch(3).ToArray());
    }

    [Fact]
    public void Reset_restores_sequential_order()
    {
        var order = new BatchOrder(20, 4);
        order.Shuffle(3);

        order.Reset();

        Assert.Equal(Enumerable.Range(0, 20), order.Order.ToArray());
    }

    [Fact]
    public void Epoch_seeds_differ_between_epochs_and_runs_and_are_stable()
    {
        long[] seeds = Enumerable.Range(0, 20).Select(e => BatchOrder.EpochSeed(1234, e)).ToArray();

        Assert.Equal(seeds.Length, seeds.Distinct().Count());
        Assert.Equal(seeds[3], BatchOrder.EpochSeed(1234, 3));
        Assert.NotEqual(seeds[3], BatchOrder.EpochSeed(1235, 3));
    }

    [Fact]
    public void Shuffle_and_Batch_do_not_allocate()
    {
        var order = new BatchOrder(1000, 32);
        order.Shuffle(1);
        int sum = 0;

        long before = GC.GetAllocatedBytesForCurrentThread();
        order.Shuffle(2);
        for (int b = 0; b < order.BatchCount; b++)
        {
            sum += order.Batch(b)[0];
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(sum >= 0);
    }

    [Fact]
    public void Constructor_validates()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchOrder(-1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchOrder(10, 0));
    }
}
