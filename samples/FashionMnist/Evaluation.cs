using System;
using System.Numerics.Tensors;
using System.Threading;
using NetGen;
using NetGen.Data;
using NetGen.Metrics;

namespace FashionMnist;

/// <summary>Accuracy, mean loss and confusion matrix of a network on a data set.</summary>
internal sealed record EvaluationResult(double Accuracy, double MeanLoss, ConfusionMatrix Confusion);

internal static class Evaluation
{
    /// <summary>Samples per <see cref="INetwork.ForwardBatch"/> call.</summary>
    private const int BatchSize = 500;

    /// <summary>
    /// Runs <paramref name="network"/> over <paramref name="data"/> in batches on its <see cref="INetwork.DegreeOfParallelism"/> threads.
    /// The loss is −log p(label) from the probabilities, with p clamped at 1e−30 (loss ≤ 69) so that one saturated
    /// wrong answer cannot make the mean infinite.
    /// </summary>
    public static EvaluationResult Run(INetwork network, LabeledImages data, CancellationToken cancellation = default)
    {
        int classes = network.OutputLength;
        var confusion = new ConfusionMatrix(classes);
        int capacity = Math.Min(BatchSize, Math.Max(1, data.Count));
        var probabilities = new float[capacity * classes];
        double lossSum = 0;
        for (int start = 0; start < data.Count; start += BatchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            int n = Math.Min(BatchSize, data.Count - start);
            Span<float> p = probabilities.AsSpan(0, n * classes);
            network.ForwardBatch(data.Images.AsSpan(start * data.SampleLength, n * data.SampleLength), p);
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> row = p.Slice(i * classes, classes);
                int label = data.Labels[start + i];
                confusion.Add(label, TensorPrimitives.IndexOfMax(row)); // first maximum, as Predict
                lossSum -= Math.Log(Math.Max(row[label], 1e-30f));
            }
        }

        return new EvaluationResult(confusion.Accuracy, data.Count == 0 ? double.NaN : lossSum / data.Count, confusion);
    }
}
