using System;
using System.Numerics.Tensors;

namespace NetGen.Training;

/// <summary>
/// Runs a generated network over a batch of samples on several threads, with results that do not depend
/// on the number of threads. Generated networks derive a private engine from it; use the network's
/// <c>TrainBatch</c>, <c>ForwardBatch</c> and <c>PredictBatch</c>.
/// </summary>
/// <remarks>
/// The batch is cut into chunks of <see cref="ChunkSize"/> consecutive samples. Each chunk is processed by one
/// worker, layer by layer over all its samples (so a dense layer is one matrix product per chunk), into the
/// chunk's own gradient buffer; then the chunks' gradients and losses
/// are added in chunk order. Every sum therefore happens in the same order whatever the thread count or
/// scheduling, so training is bit-for-bit reproducible. Buffers (inputs, per-worker workspaces, per-chunk
/// gradients) grow on first use and are reused, so steady-state calls allocate nothing.
/// </remarks>
/// <typeparam name="TWorkspace">The network's per-sample workspace (activations and scratch).</typeparam>
public abstract class BatchEngine<TWorkspace> : IParallelJob
    where TWorkspace : class
{
    /// <summary>Samples per chunk: the unit of work of one thread, and of the fixed-order reduction.</summary>
    public const int ChunkSize = 16;

    private readonly int _inputLength;
    private readonly int _outputLength;
    private readonly int _parameterCount;
    private readonly ParallelRunner _runner;
    private TWorkspace?[] _workspaces = [];
    private float[][] _chunkGradients = [];
    private float[] _chunkLosses = [];
    private float[] _inputs = [];
    private int[] _labels = [];
    private float[] _outputs = [];
    private float[] _parameters = [];
    private int _count;
    private bool _training;
    private int _degreeOfParallelism = Environment.ProcessorCount;

    /// <summary>Creates the engine for a network of the given sizes.</summary>
    protected BatchEngine(int inputLength, int outputLength, int parameterCount)
    {
        _inputLength = inputLength;
        _outputLength = outputLength;
        _parameterCount = parameterCount;
        _runner = new ParallelRunner(this);
    }

    /// <summary>Threads a batch call may use, the calling thread included. Default: <see cref="Environment.ProcessorCount"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int DegreeOfParallelism
    {
        get => _degreeOfParallelism;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _degreeOfParallelism = value;
        }
    }

    /// <summary>A fresh workspace for one worker, for chunks of up to <paramref name="capacity"/> samples.</summary>
    protected abstract TWorkspace CreateWorkspace(int capacity);

    /// <summary>
    /// Forward and backward pass of one chunk (<paramref name="labels"/>.Length samples): adds the sum of their dL/dθ
    /// into <paramref name="gradients"/> and returns the sum of their losses, both summed in sample order.
    /// </summary>
    protected abstract float TrainChunk(TWorkspace workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients);

    /// <summary>Forward pass of one chunk; one row of <paramref name="probabilities"/> per sample.</summary>
    protected abstract void ForwardChunk(TWorkspace workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, Span<float> probabilities);

    /// <summary>
    /// Forward and backward pass over a batch: sets <paramref name="gradients"/> to the mean of the samples'
    /// dL/dθ and returns their mean loss.
    /// </summary>
    /// <exception cref="ArgumentException">The batch is empty, or the lengths do not match.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is not a class.</exception>
    public float TrainBatch(float[] parameters, float[] gradients, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels)
    {
        int count = labels.Length;
        CheckBatch(inputs.Length, count, nameof(inputs), nameof(labels));
        for (int i = 0; i < count; i++)
        {
            if ((uint)labels[i] >= (uint)_outputLength)
            {
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"labels[{i}] = {labels[i]} is not a class from 0 to {_outputLength - 1}.");
            }
        }

        Stage(inputs, count);
        labels.CopyTo(Grow(ref _labels, count));
        int chunks = (count + ChunkSize - 1) / ChunkSize;
        if (_chunkGradients.Length < chunks)
        {
            int old = _chunkGradients.Length;
            Array.Resize(ref _chunkGradients, chunks);
            for (int c = old; c < chunks; c++)
            {
                _chunkGradients[c] = new float[_parameterCount];
            }
        }

        Grow(ref _chunkLosses, chunks);
        _parameters = parameters;
        _training = true;
        Execute(chunks);

        // Reduce in chunk order: the same additions in the same order for any number of threads.
        Span<float> sum = gradients.AsSpan(0, _parameterCount);
        _chunkGradients[0].CopyTo(sum);
        float loss = _chunkLosses[0];
        for (int c = 1; c < chunks; c++)
        {
            TensorPrimitives.Add(sum, _chunkGradients[c], sum);
            loss += _chunkLosses[c];
        }

        TensorPrimitives.Multiply(sum, 1f / count, sum);
        return loss / count;
    }

    /// <summary>Runs the network on every sample of a batch and writes each sample's probabilities, one row per sample.</summary>
    /// <exception cref="ArgumentException">The batch is empty, or the lengths do not match.</exception>
    public void ForwardBatch(float[] parameters, ReadOnlySpan<float> inputs, Span<float> probabilities)
    {
        int count = probabilities.Length / _outputLength;
        if (probabilities.Length != count * _outputLength || inputs.Length != count * _inputLength || count == 0)
        {
            throw new ArgumentException(
                $"Expected a non-empty batch: inputs of n × {_inputLength} floats and probabilities of n × {_outputLength}; got {inputs.Length} and {probabilities.Length}.",
                nameof(probabilities));
        }

        RunForward(parameters, inputs, count);
        _outputs.AsSpan(0, count * _outputLength).CopyTo(probabilities);
    }

    /// <summary>Runs the network on every sample of a batch and writes each sample's most probable class.</summary>
    /// <exception cref="ArgumentException">The batch is empty, or the lengths do not match.</exception>
    public void PredictBatch(float[] parameters, ReadOnlySpan<float> inputs, Span<int> predictions)
    {
        int count = predictions.Length;
        CheckBatch(inputs.Length, count, nameof(inputs), nameof(predictions));
        RunForward(parameters, inputs, count);
        for (int i = 0; i < count; i++)
        {
            predictions[i] = TensorPrimitives.IndexOfMax(_outputs.AsSpan(i * _outputLength, _outputLength));
        }
    }

    private void RunForward(float[] parameters, ReadOnlySpan<float> inputs, int count)
    {
        Stage(inputs, count);
        Grow(ref _outputs, count * _outputLength);
        _parameters = parameters;
        _training = false;
        Execute((count + ChunkSize - 1) / ChunkSize);
    }

    private void CheckBatch(int inputLength, int count, string inputsName, string countName)
    {
        if (count == 0)
        {
            throw new ArgumentException($"The batch is empty: '{countName}' has no element.", countName);
        }

        if (inputLength != (long)count * _inputLength)
        {
            throw new ArgumentException(
                $"Expected {count} × {_inputLength} = {(long)count * _inputLength} floats in '{inputsName}' for {count} samples in '{countName}', got {inputLength}.",
                inputsName);
        }
    }

    private void Stage(ReadOnlySpan<float> inputs, int count)
    {
        // Worker threads cannot see the caller's span: copy the batch into a reused buffer (cheap next to the passes).
        inputs.CopyTo(Grow(ref _inputs, count * _inputLength));
        _count = count;
    }

    private void Execute(int chunks)
    {
        int degree = Math.Min(_degreeOfParallelism, chunks);
        if (_workspaces.Length < degree)
        {
            Array.Resize(ref _workspaces, degree);
        }

        _runner.Run(chunks, degree);
    }

    private void ExecuteChunk(int chunk, int worker)
    {
        TWorkspace workspace = _workspaces[worker] ??= CreateWorkspace(ChunkSize);
        int first = chunk * ChunkSize, count = Math.Min(ChunkSize, _count - first);
        ReadOnlySpan<float> inputs = _inputs.AsSpan(first * _inputLength, count * _inputLength);
        if (_training)
        {
            float[] gradients = _chunkGradients[chunk];
            Array.Clear(gradients);
            _chunkLosses[chunk] = TrainChunk(workspace, _parameters, inputs, _labels.AsSpan(first, count), gradients);
        }
        else
        {
            ForwardChunk(workspace, _parameters, inputs, _outputs.AsSpan(first * _outputLength, count * _outputLength));
        }
    }

    private static Span<T> Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[length];
        }

        return buffer.AsSpan(0, length);
    }

    void IParallelJob.Execute(int item, int worker) => ExecuteChunk(item, worker);
}
