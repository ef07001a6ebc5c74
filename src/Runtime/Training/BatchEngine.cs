using System;
using System.ComponentModel;
using System.Numerics.Tensors;

namespace NetGen.Training;

/// <summary>
/// Runs a generated network over a batch of samples on several threads, with results that do not depend
/// on the number of threads. Generated networks derive a private engine from it; use the network's
/// <c>TrainBatch</c>, <c>ForwardBatch</c> and <c>PredictBatch</c>.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
/// <remarks>
/// The batch is cut into chunks of <see cref="ChunkSize"/> consecutive samples (a network's choice, made when it is
/// generated; it does not depend on the number of threads). Each chunk is processed by one
/// worker, layer by layer over all its samples (so a dense layer is one matrix product per chunk), into the
/// chunk's own gradient buffer; then the chunks' gradients and losses are added in chunk order. Parameters
/// whose gradient is one matrix product over the whole batch (a dense layer's weights: the batch is the
/// product's reduction, so each weight's gradient is read and written once per batch rather than once per chunk)
/// are left out of the chunks' buffers: the chunks keep what that product needs, and a second phase computes it,
/// its rows split among the workers (<see cref="ComputeBatchGradient"/>). Every sum therefore happens in the same
/// order whatever the thread count or scheduling, so training is bit-for-bit reproducible. Buffers (inputs,
/// per-worker workspaces, per-chunk gradients) grow on first use and are reused, so steady-state calls allocate nothing.
/// </remarks>
/// <typeparam name="TWorkspace">The network's per-sample workspace (activations and scratch).</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class BatchEngine<TWorkspace> : IParallelJob
    where TWorkspace : class
{
    /// <summary>Samples per chunk unless the network asks for another size: the unit of work of one thread, and of the fixed-order reduction.</summary>
    public const int DefaultChunkSize = 16;

    private readonly int _inputLength;
    private readonly int _outputLength;
    private readonly int _parameterCount;
    private readonly ParallelRunner _runner;
    private TWorkspace?[] _workspaces = [];
    private TWorkspace?[] _chunkWorkspaces = [];
    private int _stage;
    private float[][] _chunkGradients = [];
    private float[] _chunkLosses = [];
    private float[] _inputs = [];
    private int[] _labels = [];
    private float[] _outputs = [];
    private float[] _targets = [];
    private int _labelCount;
    private float[] _parameters = [];
    private int _count;
    private Phase _phase;
    private float[] _gradients = [];
    private readonly ParameterRange[] _chunkRanges;
    private readonly ParameterRange[] _reduceBlocks;
    private readonly int _batchGradientItems;
    private int _degreeOfParallelism = Environment.ProcessorCount;

    /// <summary>Creates the engine for a network of the given sizes whose every gradient is summed per chunk of <see cref="DefaultChunkSize"/>.</summary>
    protected BatchEngine(int inputLength, int outputLength, int parameterCount)
        : this(inputLength, outputLength, parameterCount, [], 0)
    {
    }

    /// <summary>
    /// Creates the engine for a network of the given sizes, where the gradients in <paramref name="batchGradientRanges"/>
    /// (ascending, not overlapping) are computed once per batch, in <paramref name="batchGradientItems"/> work items of
    /// <see cref="ComputeBatchGradient"/>, instead of per chunk, and a batch is cut into chunks of <paramref name="chunkSize"/>
    /// samples (by default <see cref="DefaultChunkSize"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The ranges are not ascending, overlap, or leave the parameters.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunkSize"/> is less than 1.</exception>
    protected BatchEngine(int inputLength, int outputLength, int parameterCount, ReadOnlySpan<ParameterRange> batchGradientRanges, int batchGradientItems, int chunkSize = DefaultChunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        ChunkSize = chunkSize;
        _inputLength = inputLength;
        _outputLength = outputLength;
        _parameterCount = parameterCount;
        _batchGradientItems = batchGradientItems;
        _chunkRanges = Complement(batchGradientRanges, parameterCount) ??
            throw new ArgumentException($"The batch-gradient ranges must be ascending, not overlapping, and inside the {parameterCount} parameters.", nameof(batchGradientRanges));
        _reduceBlocks = Blocks(_chunkRanges, ReduceBlockLength);
        _runner = new ParallelRunner(this);
    }

    /// <summary>
    /// Parameters a work item of the gradient reduction sums: 32 KB of the result, read back from the L1 cache by each
    /// chunk's addition.
    /// </summary>
    private const int ReduceBlockLength = 8192;

    private enum Phase
    {
        Forward,
        TrainChunks,

        /// <summary>The batch-gradient items, then the chunks' gradients summed into the batch's block by block, in one run.</summary>
        Reduce,
    }

    /// <summary>Samples per chunk: the unit of work of one thread, and of the fixed-order reduction.</summary>
    public int ChunkSize { get; }

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
    /// Stages of a chunk's training pass that batch-wide reductions separate (a BatchNorm needs the statistics of the whole
    /// batch before any chunk can go on), so that every chunk runs stage s before any runs stage s + 1, and
    /// <see cref="CompleteStage"/> runs in between. 1 (the default) for a network without such a layer.
    /// </summary>
    protected virtual int TrainStages => 1;

    /// <summary>
    /// Stage <paramref name="stage"/> of the forward and backward pass of one chunk (<paramref name="labels"/>.Length samples,
    /// the first being sample <paramref name="first"/> of the batch): adds the sum of their dL/dθ into
    /// <paramref name="gradients"/>, except in the batch-gradient ranges, for which it keeps what
    /// <see cref="ComputeBatchGradient"/> needs; returns the sum of their losses (from the stage that computes them, 0 from
    /// the others), both summed in sample order. With one stage, <paramref name="stage"/> is always 0 and a worker reuses its
    /// workspace from chunk to chunk; with several, each chunk keeps its own workspace from stage to stage.
    /// </summary>
    protected abstract float TrainChunk(int stage, TWorkspace workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients, int first);

    /// <summary>
    /// Called on the calling thread after every chunk of a batch of <paramref name="count"/> samples ran stage
    /// <paramref name="stage"/> (when <see cref="TrainStages"/> is above 1): combines what the chunks' workspaces hold, in chunk
    /// order, into what the next stage reads.
    /// </summary>
    protected virtual void CompleteStage(int stage, ReadOnlySpan<TWorkspace> workspaces, int count)
    {
    }

    /// <summary>Called on the calling thread before the chunks of a batch of <paramref name="count"/> samples are trained: grows what the chunks keep for <see cref="ComputeBatchGradient"/>.</summary>
    protected virtual void PrepareBatch(int count)
    {
    }

    /// <summary>
    /// Work item <paramref name="item"/> of the batch-gradient phase, after every chunk of a batch of <paramref name="count"/>
    /// samples: writes (not adds) the sum over the batch's samples of dL/dθ into its part of the batch-gradient ranges of
    /// <paramref name="gradients"/>, and returns that part, which the engine then scales to the batch mean on the same thread
    /// while it is still in cache. Items write disjoint parts and may run on any thread.
    /// </summary>
    protected virtual ParameterRange ComputeBatchGradient(int item, int count, Span<float> gradients) => default;

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

        return Train(parameters, gradients, inputs, count, labels);
    }

    private float Train(float[] parameters, float[] gradients, ReadOnlySpan<float> inputs, int count, ReadOnlySpan<int> labels)
    {
        CheckParameters(parameters, nameof(parameters));
        CheckParameters(gradients, nameof(gradients));
        Stage(inputs, count);
        labels.CopyTo(Grow(ref _labels, labels.Length));
        _labelCount = labels.Length;
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
        PrepareBatch(count);
        _parameters = parameters;
        _phase = Phase.TrainChunks;
        int stages = TrainStages;
        if (stages > 1 && _chunkWorkspaces.Length < chunks)
        {
            Array.Resize(ref _chunkWorkspaces, chunks);
        }

        for (_stage = 0; _stage < stages; _stage++)
        {
            Execute(chunks);
            if (stages > 1)
            {
                CompleteStage(_stage, _chunkWorkspaces.AsSpan(0, chunks)!, count);
            }
        }

        float loss = _chunkLosses[0];
        for (int c = 1; c < chunks; c++)
        {
            loss += _chunkLosses[c];
        }

        // The gradients computed once per batch (the longer items, first), and the chunks' gradients summed block by block,
        // in one run on the threads.
        _gradients = gradients;
        _phase = Phase.Reduce;
        Execute(_batchGradientItems + _reduceBlocks.Length);
        _gradients = [];

        return loss / count;
    }

    /// <summary>
    /// Forward and backward pass over a batch of a regression network: as <see cref="TrainBatch(float[], float[], ReadOnlySpan{float}, ReadOnlySpan{int})"/>,
    /// with target values (one row of outputs per sample), which the chunks read as <see cref="Targets"/>; their labels are empty.
    /// </summary>
    /// <exception cref="ArgumentException">The batch is empty, or the lengths do not match.</exception>
    public float TrainBatch(float[] parameters, float[] gradients, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets)
    {
        int count = inputs.Length / _inputLength;
        if (count == 0 || inputs.Length != count * _inputLength || targets.Length != (long)count * _outputLength)
        {
            throw new ArgumentException(
                $"Expected a non-empty batch: inputs of n × {_inputLength} floats and targets of n × {_outputLength}; got {inputs.Length} and {targets.Length}.",
                nameof(targets));
        }

        targets.CopyTo(Grow(ref _targets, targets.Length));
        return Train(parameters, gradients, inputs, count, labels: []);
    }

    /// <summary>The target values of the current regression batch, one row of outputs per sample (empty for a classifier's batch).</summary>
    protected ReadOnlySpan<float> Targets => _targets;

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
        CheckParameters(parameters, nameof(parameters));
        Stage(inputs, count);
        Grow(ref _outputs, count * _outputLength);
        _parameters = parameters;
        _phase = Phase.Forward;
        Execute((count + ChunkSize - 1) / ChunkSize);
    }

    private void CheckParameters(float[] values, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Length != _parameterCount)
        {
            throw new ArgumentException($"Expected {_parameterCount} floats in '{name}', got {values.Length}.", name);
        }
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

        // Every worker's workspace now, on this thread, not when a worker first gets a chunk: which workers get one
        // depends on scheduling, so a workspace made lazily could be allocated calls after warm-up.
        if (_phase == Phase.Forward || (_phase == Phase.TrainChunks && TrainStages == 1))
        {
            for (int worker = 0; worker < degree; worker++)
            {
                _workspaces[worker] ??= CreateWorkspace(ChunkSize);
            }
        }

        _runner.Run(chunks, degree);
    }

    private void ExecuteChunk(int chunk, int worker)
    {
        int first = chunk * ChunkSize, count = Math.Min(ChunkSize, _count - first);
        ReadOnlySpan<float> inputs = _inputs.AsSpan(first * _inputLength, count * _inputLength);
        if (_phase == Phase.TrainChunks)
        {
            float[] gradients = _chunkGradients[chunk];
            if (_stage == 0)
            {
                foreach (ParameterRange range in _chunkRanges)
                {
                    gradients.AsSpan(range.Offset, range.Length).Clear();
                }

                _chunkLosses[chunk] = 0;
            }

            // With several stages a chunk's activations must outlive its stage: each chunk has its own workspace.
            TWorkspace trainer = TrainStages > 1
                ? _chunkWorkspaces[chunk] ??= CreateWorkspace(ChunkSize)
                : _workspaces[worker] ??= CreateWorkspace(ChunkSize);
            ReadOnlySpan<int> labels = _labelCount > 0 ? _labels.AsSpan(first, count) : default;
            _chunkLosses[chunk] += TrainChunk(_stage, trainer, _parameters, inputs, labels, gradients, first);
        }
        else
        {
            TWorkspace workspace = _workspaces[worker] ??= CreateWorkspace(ChunkSize);
            ForwardChunk(workspace, _parameters, inputs, _outputs.AsSpan(first * _outputLength, count * _outputLength));
        }
    }

    /// <summary>The parameter ranges not in <paramref name="excluded"/>; null unless those are ascending, disjoint and inside the parameters.</summary>
    private static ParameterRange[]? Complement(ReadOnlySpan<ParameterRange> excluded, int parameterCount)
    {
        var ranges = new ParameterRange[excluded.Length + 1];
        int count = 0, at = 0;
        foreach (ParameterRange range in excluded)
        {
            if (range.Offset < at || range.Length < 0 || range.Offset + (long)range.Length > parameterCount)
            {
                return null;
            }

            if (range.Offset > at)
            {
                ranges[count++] = new ParameterRange(at, range.Offset - at);
            }

            at = range.Offset + range.Length;
        }

        if (at < parameterCount)
        {
            ranges[count++] = new ParameterRange(at, parameterCount - at);
        }

        return ranges.AsSpan(0, count).ToArray();
    }

    /// <summary>
    /// <paramref name="buffer"/>'s first <paramref name="length"/> elements, after replacing it with a larger array if it is
    /// shorter: buffers grow on first use and are reused, so steady-state calls allocate nothing.
    /// </summary>
    protected static Span<T> Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new T[length];
        }

        return buffer.AsSpan(0, length);
    }

    void IParallelJob.Execute(int item, int worker)
    {
        if (_phase != Phase.Reduce)
        {
            ExecuteChunk(item, worker);
        }
        else if (item < _batchGradientItems)
        {
            ParameterRange written = ComputeBatchGradient(item, _count, _gradients);
            Span<float> rows = _gradients.AsSpan(written.Offset, written.Length);
            TensorPrimitives.Multiply(rows, 1f / _count, rows);
        }
        else
        {
            // Summed in chunk order: the same additions in the same order for any number of threads; then the mean.
            ParameterRange block = _reduceBlocks[item - _batchGradientItems];
            int chunks = (_count + ChunkSize - 1) / ChunkSize;
            Span<float> sum = _gradients.AsSpan(block.Offset, block.Length);
            _chunkGradients[0].AsSpan(block.Offset, block.Length).CopyTo(sum);
            for (int c = 1; c < chunks; c++)
            {
                TensorPrimitives.Add(sum, _chunkGradients[c].AsSpan(block.Offset, block.Length), sum);
            }

            TensorPrimitives.Multiply(sum, 1f / _count, sum);
        }
    }

    /// <summary><paramref name="ranges"/> cut into blocks of at most <paramref name="length"/> parameters, in order.</summary>
    private static ParameterRange[] Blocks(ParameterRange[] ranges, int length)
    {
        var blocks = new System.Collections.Generic.List<ParameterRange>();
        foreach (ParameterRange range in ranges)
        {
            for (int at = 0; at < range.Length; at += length)
            {
                blocks.Add(new ParameterRange(range.Offset + at, Math.Min(length, range.Length - at)));
            }
        }

        return [.. blocks];
    }
}

/// <summary>
/// A range of a network's parameters: <see cref="Length"/> floats from <see cref="Offset"/>; the batch engine's unit of
/// a gradient computed once per batch.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
/// <param name="Offset">The first parameter.</param>
/// <param name="Length">How many.</param>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct ParameterRange(int Offset, int Length);
