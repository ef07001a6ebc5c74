using System;
using System.Numerics.Tensors;
using System.Threading;
using NetGen.Data;
using NetGen.Metrics;

namespace NetGen.Training;

/// <summary>
/// Runs a network over one data set in batches of <see cref="INeuralNetwork.ForwardBatch"/> (inference mode) and
/// measures it. Its buffers and confusion matrix are made once, so that evaluating the validation data every epoch
/// allocates nothing.
/// </summary>
internal sealed class Evaluator
{
    private readonly INeuralNetwork _network;
    private readonly ILabeledSamples? _labeled;
    private readonly RegressionData? _regression;
    private readonly int _batchSize;
    private readonly float[] _outputs;

    // A batch's indices, inputs and labels, gathered from samples not held in memory; empty for LabeledImages and
    // RegressionData, whose batches are read in place.
    private readonly int[] _indices = [];
    private readonly float[] _inputs = [];
    private readonly int[] _labels = [];

    /// <summary>A classifier's evaluator for <paramref name="data"/>, with gather buffers unless it is held in memory.</summary>
    public Evaluator(INeuralNetwork network, ILabeledSamples data, int batchSize)
        : this(network, data.Count, batchSize)
    {
        _labeled = data;
        Confusion = new ConfusionMatrix(network.OutputLength);
        if (data is not LabeledImages)
        {
            int size = Math.Min(batchSize, Math.Max(1, data.Count));
            _indices = new int[size];
            _inputs = new float[(long)size * data.SampleLength];
            _labels = new int[size];
        }
    }

    /// <summary>A regression network's evaluator for <paramref name="data"/>.</summary>
    public Evaluator(INeuralNetwork network, RegressionData data, int batchSize)
        : this(network, data.Count, batchSize) => _regression = data;

    private Evaluator(INeuralNetwork network, int count, int batchSize)
    {
        _network = network;
        _batchSize = batchSize;
        _outputs = new float[(long)Math.Min(batchSize, Math.Max(1, count)) * network.OutputLength];
    }

    /// <summary>The last classifier evaluation's counts; null for a regression network.</summary>
    public ConfusionMatrix? Confusion { get; }

    /// <summary>Measures the network on the evaluator's data.</summary>
    public EvaluationMetrics Run(CancellationToken cancellation) =>
        _labeled is not null ? Run(_labeled, cancellation) : Run(_regression!, cancellation);

    /// <summary>
    /// A classifier's accuracy and mean −log p(label), p clamped at 1e−30 (loss ≤ 69) so that one saturated wrong answer
    /// cannot make the mean infinite.
    /// </summary>
    private EvaluationMetrics Run(ILabeledSamples data, CancellationToken cancellation)
    {
        ConfusionMatrix confusion = Confusion!;
        confusion.Clear();
        LabeledImages? inMemory = data as LabeledImages;
        int classes = _network.OutputLength, length = data.SampleLength;
        double lossSum = 0;
        for (int start = 0; start < data.Count; start += _batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            int n = Math.Min(_batchSize, data.Count - start);
            Span<float> p = _outputs.AsSpan(0, n * classes);
            ReadOnlySpan<int> labels;
            if (inMemory is not null)
            {
                _network.ForwardBatch(inMemory.Images.AsSpan(start * length, n * length), p);
                labels = inMemory.Labels.AsSpan(start, n);
            }
            else
            {
                Span<int> indices = _indices.AsSpan(0, n);
                for (int i = 0; i < n; i++)
                {
                    indices[i] = start + i;
                }

                Span<float> inputs = _inputs.AsSpan(0, n * length);
                data.Gather(indices, inputs, _labels.AsSpan(0, n));
                _network.ForwardBatch(inputs, p);
                labels = _labels.AsSpan(0, n);
            }

            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> row = p.Slice(i * classes, classes);
                int label = labels[i];
                confusion.Add(label, TensorPrimitives.IndexOfMax(row)); // the first maximum, as Predict
                lossSum -= Math.Log(Math.Max(row[label], 1e-30f));
            }
        }

        return data.Count == 0
            ? new EvaluationMetrics(double.NaN, double.NaN, double.NaN, double.NaN, 0)
            : new EvaluationMetrics(lossSum / data.Count, confusion.Accuracy, double.NaN, double.NaN, data.Count);
    }

    /// <summary>A regression network's mean squared and mean absolute error over every output, summed in double precision.</summary>
    private EvaluationMetrics Run(RegressionData data, CancellationToken cancellation)
    {
        int outputs = _network.OutputLength, length = data.InputLength;
        double squares = 0, absolutes = 0;
        for (int start = 0; start < data.Count; start += _batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            int n = Math.Min(_batchSize, data.Count - start);
            Span<float> y = _outputs.AsSpan(0, n * outputs);
            _network.ForwardBatch(data.Inputs.AsSpan(start * length, n * length), y);
            ReadOnlySpan<float> t = data.Targets.AsSpan(start * outputs, n * outputs);
            for (int k = 0; k < y.Length; k++)
            {
                double d = (double)y[k] - t[k];
                squares += d * d;
                absolutes += Math.Abs(d);
            }
        }

        if (data.Count == 0)
        {
            return new EvaluationMetrics(double.NaN, double.NaN, double.NaN, double.NaN, 0);
        }

        double elements = (double)data.Count * outputs;
        double mse = squares / elements;
        return new EvaluationMetrics(mse, double.NaN, mse, absolutes / elements, data.Count);
    }
}
