using System;
using NetGen.Training;
using Xunit;

namespace NetGen.Runtime.Tests.Training;

/// <summary>The batch argument checks of <see cref="BatchEngine{TWorkspace}"/>, on a trivial engine (2 inputs, 3 classes, 4 parameters).</summary>
public sealed class BatchEngineArgumentTests
{
    private sealed class CountingEngine() : BatchEngine<float[]>(inputLength: 2, outputLength: 3, parameterCount: 4)
    {
        protected override float[] CreateWorkspace(int capacity) => new float[capacity];

        protected override float TrainChunk(int stage, float[] workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients, int first)
        {
            gradients[0] += labels.Length;
            return labels.Length;
        }

        protected override void ForwardChunk(float[] workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, Span<float> probabilities) =>
            probabilities.Fill(0.25f);
    }

    private static readonly float[] Parameters = new float[4];

    [Fact]
    public void TrainBatch_names_the_expected_and_the_actual_input_length_and_a_bad_label()
    {
        var engine = new CountingEngine();
        var gradients = new float[4];

        var length = Assert.Throws<ArgumentException>(() => engine.TrainBatch(Parameters, gradients, new float[5], [0, 1, 2]));
        var empty = Assert.Throws<ArgumentException>(() => engine.TrainBatch(Parameters, gradients, [], ReadOnlySpan<int>.Empty));
        var label = Assert.Throws<ArgumentOutOfRangeException>(() => engine.TrainBatch(Parameters, gradients, new float[6], [0, 3, 1]));

        Assert.Equal("inputs", length.ParamName);
        Assert.Contains("Expected 3 × 2 = 6 floats in 'inputs' for 3 samples in 'labels', got 5.", length.Message, StringComparison.Ordinal);
        Assert.Equal("labels", empty.ParamName);
        Assert.Contains("labels[1] = 3 is not a class from 0 to 2", label.Message, StringComparison.Ordinal);
        Assert.Equal(new float[4], gradients);
        Assert.Equal(1f, engine.TrainBatch(Parameters, gradients, new float[6], [0, 2, 1]));
        Assert.Equal(1f, gradients[0]);
    }

    [Theory]
    [InlineData(4, 9)] // 2 samples of inputs, 3 rows of probabilities
    [InlineData(6, 8)] // probabilities not a whole number of rows
    [InlineData(0, 0)] // empty batch
    public void ForwardBatch_names_both_lengths(int inputs, int probabilities)
    {
        var engine = new CountingEngine();

        var e = Assert.Throws<ArgumentException>(() => engine.ForwardBatch(Parameters, new float[inputs], new float[probabilities]));

        Assert.Equal("probabilities", e.ParamName);
        Assert.Contains($"got {inputs} and {probabilities}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PredictBatch_names_the_expected_and_the_actual_input_length()
    {
        var engine = new CountingEngine();

        var length = Assert.Throws<ArgumentException>(() => engine.PredictBatch(Parameters, new float[5], new int[2]));
        var empty = Assert.Throws<ArgumentException>(() => engine.PredictBatch(Parameters, new float[2], []));

        Assert.Equal("inputs", length.ParamName);
        Assert.Contains("Expected 2 × 2 = 4 floats in 'inputs' for 2 samples in 'predictions', got 5.", length.Message, StringComparison.Ordinal);
        Assert.Equal("predictions", empty.ParamName);
        var predictions = new int[2];
        engine.PredictBatch(Parameters, new float[4], predictions);
        Assert.Equal([0, 0], predictions);
    }

    /// <summary>
    /// Parameters 0…5, where [2, 5) is a batch-gradient range computed in 3 items: the chunks add 1 per sample everywhere,
    /// each item writes its parameter's batch sum (count · (10 + item), plus the first sample of the last chunk, which the
    /// chunks pass on), and all of it is divided by the batch size.
    /// </summary>
    private sealed class BatchGradientEngine(int chunkSize) : BatchEngine<float[]>(inputLength: 1, outputLength: 2, parameterCount: 6, [new ParameterRange(2, 3)], batchGradientItems: 3, chunkSize)
    {
        private readonly int[] _firsts = new int[64];

        public int Prepared { get; private set; }

        protected override float[] CreateWorkspace(int capacity) => new float[capacity];

        protected override void PrepareBatch(int count) => Prepared = count;

        protected override float TrainChunk(int stage, float[] workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients, int first)
        {
            for (int i = 0; i < gradients.Length; i++)
            {
                gradients[i] += labels.Length;
            }

            _firsts[first / ChunkSize] = first;
            return labels.Length;
        }

        protected override void ForwardChunk(float[] workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, Span<float> probabilities) =>
            probabilities.Fill(0.5f);

        protected override ParameterRange ComputeBatchGradient(int item, int count, Span<float> gradients)
        {
            gradients[2 + item] = count * (10 + item) + _firsts[(count - 1) / ChunkSize]; // a sum over the batch, which the engine turns into the mean
            return new ParameterRange(2 + item, 1);
        }
    }

    [Theory]
    [InlineData(1, BatchEngine<float[]>.DefaultChunkSize)]
    [InlineData(2, BatchEngine<float[]>.DefaultChunkSize)]
    [InlineData(1, 5)]
    [InlineData(2, 5)]
    public void Batch_gradient_ranges_are_left_out_of_the_chunks_and_written_by_the_batch_items(int threads, int chunkSize)
    {
        var engine = new BatchGradientEngine(chunkSize) { DegreeOfParallelism = threads };
        Assert.Equal(chunkSize, engine.ChunkSize);
        float[] gradients = [9, 9, 9, 9, 9, 9];
        int count = 2 * chunkSize + 3; // three chunks, the last one short

        engine.TrainBatch(new float[6], gradients, new float[count], new int[count]);

        int lastFirst = 2 * chunkSize;
        Assert.Equal(count, engine.Prepared);
        Assert.Equal([1f, 1f, (count * 10f + lastFirst) / count, (count * 11f + lastFirst) / count, (count * 12f + lastFirst) / count, 1f], gradients);
    }

    [Fact]
    public void Batch_gradient_ranges_out_of_order_or_outside_the_parameters_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new RangesEngine([new ParameterRange(3, 2), new ParameterRange(1, 1)]));
        Assert.Throws<ArgumentException>(() => new RangesEngine([new ParameterRange(1, 3), new ParameterRange(3, 1)]));
        Assert.Throws<ArgumentException>(() => new RangesEngine([new ParameterRange(5, 2)]));
        _ = new RangesEngine([new ParameterRange(0, 2), new ParameterRange(2, 4)]);
    }

    [Fact]
    public void A_chunk_size_below_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchGradientEngine(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchGradientEngine(-16));
    }

    private sealed class RangesEngine(ParameterRange[] ranges) : BatchEngine<float[]>(inputLength: 1, outputLength: 2, parameterCount: 6, ranges, batchGradientItems: 1)
    {
        protected override float[] CreateWorkspace(int capacity) => new float[capacity];

        protected override float TrainChunk(int stage, float[] workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients, int first) => 0;

        protected override void ForwardChunk(float[] workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, Span<float> probabilities)
        {
        }
    }
}
