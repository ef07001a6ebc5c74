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

        protected override float TrainChunk(float[] workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients)
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
        var empty = Assert.Throws<ArgumentException>(() => engine.TrainBatch(Parameters, gradients, [], []));
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
}
