using System;
using System.Collections.Generic;
using NetGen.Training;
using Xunit;

namespace NetGen.Runtime.Tests.Training;

/// <summary>
/// Training in stages (what a BatchNorm needs): every chunk runs a stage before any runs the next, each chunk keeps its own
/// workspace from stage to stage, and CompleteStage sees every chunk's workspace, in chunk order, on the calling thread.
/// </summary>
public sealed class StagedEngineTests
{
    /// <summary>
    /// Stage 0: each chunk writes the sum of its inputs into its workspace. Completion: the batch's total, into every chunk.
    /// Stage 1: each chunk's loss is that total times its sample count, and its gradient the same; the workspace's own sum
    /// must have survived.
    /// </summary>
    private sealed class SummingEngine() : BatchEngine<double[]>(inputLength: 1, outputLength: 2, parameterCount: 1, [], 0, chunkSize: 3)
    {
        public readonly List<(int Stage, int Chunks, int Thread)> Completions = [];

        protected override int TrainStages => 2;

        protected override double[] CreateWorkspace(int capacity) => new double[2];

        protected override float TrainChunk(int stage, double[] workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs,
            ReadOnlySpan<int> labels, Span<float> gradients, int first)
        {
            if (stage == 0)
            {
                workspace[0] = 0;
                foreach (float x in inputs)
                {
                    workspace[0] += x;
                }

                workspace[1] = double.NaN; // must be replaced by the completion
                return 0;
            }

            Assert.False(double.IsNaN(workspace[1]), "stage 1 ran before the completion of stage 0");
            Assert.True(workspace[0] > 0, "a chunk's workspace did not survive from stage 0 to stage 1");
            gradients[0] += (float)(workspace[1] * labels.Length);
            return (float)(workspace[1] * labels.Length);
        }

        protected override void CompleteStage(int stage, ReadOnlySpan<double[]> workspaces, int count)
        {
            Completions.Add((stage, workspaces.Length, Environment.CurrentManagedThreadId));
            double total = 0;
            foreach (double[] chunk in workspaces)
            {
                total += chunk[0];
            }

            foreach (double[] chunk in workspaces)
            {
                chunk[1] = total;
            }
        }

        protected override void ForwardChunk(double[] workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, Span<float> probabilities) =>
            probabilities.Clear();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_chunk_finishes_a_stage_before_any_starts_the_next(int threads)
    {
        var engine = new SummingEngine { DegreeOfParallelism = threads };
        float[] inputs = new float[10];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = i + 1; // 1 … 10, total 55
        }

        var gradients = new float[1];
        float loss = engine.TrainBatch(new float[1], gradients, inputs, new int[10]);

        // Each chunk's loss is 55 × its samples: 55 × 10 in all, / 10 samples = 55; the gradient likewise.
        Assert.Equal(55f, loss);
        Assert.Equal(55f, gradients[0]);
        Assert.Equal([(0, 4, Environment.CurrentManagedThreadId), (1, 4, Environment.CurrentManagedThreadId)], engine.Completions);
    }
}
