using System;

namespace NetGen.Data;

/// <summary>
/// The order in which an epoch visits <see cref="Count"/> samples, cut into batches of <see cref="BatchSize"/>
/// (the last one shorter unless <see cref="DropLast"/>). <see cref="Shuffle"/> draws a fresh permutation from a
/// seed — the same seed always gives the same order — and <see cref="Batch"/> hands out views of it without
/// allocating.
/// </summary>
/// <example>
/// <code>
/// var order = new BatchOrder(train.Count, batchSize: 64);
/// for (int epoch = 0; epoch &lt; epochs; epoch++)
/// {
///     order.Shuffle(BatchOrder.EpochSeed(seed, epoch));
///     for (int b = 0; b &lt; order.BatchCount; b++)
///     {
///         ReadOnlySpan&lt;int&gt; batch = order.Batch(b);
///         train.Gather(batch, inputs, labels);
///         ...
///     }
/// }
/// </code>
/// </example>
public sealed class BatchOrder
{
    private readonly int[] _order;

    /// <summary>Starts in sequential order 0, 1, …, <paramref name="count"/> − 1.</summary>
    /// <param name="count">Number of samples (≥ 0).</param>
    /// <param name="batchSize">Samples per batch (≥ 1).</param>
    /// <param name="dropLast">Leave out the last batch when it is shorter than <paramref name="batchSize"/> (as PyTorch's <c>drop_last</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or <paramref name="batchSize"/> is below 1.</exception>
    public BatchOrder(int count, int batchSize, bool dropLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        _order = new int[count];
        BatchSize = batchSize;
        DropLast = dropLast;
        BatchCount = dropLast ? count / batchSize : (int)(((long)count + batchSize - 1) / batchSize);
        Reset();
    }

    /// <summary>Number of samples.</summary>
    public int Count => _order.Length;

    /// <summary>Samples per full batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether a short last batch is left out.</summary>
    public bool DropLast { get; }

    /// <summary>Number of batches per epoch.</summary>
    public int BatchCount { get; }

    /// <summary>The whole current order, every sample index exactly once.</summary>
    public ReadOnlySpan<int> Order => _order;

    /// <summary>
    /// A seed for epoch <paramref name="epoch"/> derived from a run's <paramref name="seed"/>, so that each epoch
    /// gets its own order and a run is reproducible.
    /// </summary>
    /// <param name="seed">The run's seed.</param>
    /// <param name="epoch">The epoch number.</param>
    /// <returns>A well-mixed 64-bit seed.</returns>
    public static long EpochSeed(long seed, int epoch)
    {
        var mixer = new SeededRandom(seed ^ (long)((ulong)(uint)epoch * 0xD1B54A32D192ED03UL));
        return unchecked((long)mixer.NextUInt64());
    }

    /// <summary>Puts the indices back in sequential order (for evaluation).</summary>
    public void Reset()
    {
        for (int i = 0; i < _order.Length; i++)
        {
            _order[i] = i;
        }
    }

    /// <summary>
    /// Sets the order to the permutation drawn from <paramref name="seed"/>: resets to sequential order, then
    /// shuffles with <see cref="SeededRandom.Shuffle{T}"/>. The result depends only on the seed and
    /// <see cref="Count"/>, not on earlier calls.
    /// </summary>
    /// <param name="seed">The seed for this epoch, e.g. from <see cref="EpochSeed"/>.</param>
    public void Shuffle(long seed)
    {
        Reset();
        var random = new SeededRandom(seed);
        random.Shuffle(_order.AsSpan());
    }

    /// <summary>The sample indices of batch <paramref name="batchIndex"/>, a view into <see cref="Order"/>.</summary>
    /// <param name="batchIndex">0 ≤ batchIndex &lt; <see cref="BatchCount"/>.</param>
    /// <returns><see cref="BatchSize"/> indices, fewer for a short last batch.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchIndex"/> is outside 0..<see cref="BatchCount"/> − 1.</exception>
    public ReadOnlySpan<int> Batch(int batchIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batchIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(batchIndex, BatchCount);
        int start = batchIndex * BatchSize;
        return _order.AsSpan(start, Math.Min(BatchSize, _order.Length - start));
    }
}
