using System;
using System.Runtime.CompilerServices;
using NetGen.Training;

namespace NetGen.Optimizers;

/// <summary>An optimizer's elementwise step over one block of the parameter vector.</summary>
internal interface IBlockStep
{
    /// <summary>
    /// Updates the block of <paramref name="parameters"/> that starts at parameter <paramref name="start"/> (and that block
    /// of its state) from its <paramref name="gradients"/>, with <paramref name="scratch"/> (as long, this thread's) for
    /// intermediate rows.
    /// </summary>
    void StepBlock(int start, Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> scratch);
}

/// <summary>
/// Runs an optimizer's elementwise step over the parameter vector block by block, each block short enough that the step's
/// passes over it (Adam makes ten) find it in the L1 cache, instead of streaming the whole vector from memory once per
/// pass; with more than one thread allowed and a vector long enough to pay for handing a part over, in one contiguous part
/// per thread. Every element goes through the same operations in the same order whatever the blocks and threads, so the
/// results are the same bits. The caller's spans reach the worker threads as pointers, pinned for the run.
/// </summary>
internal sealed unsafe class ParameterSweep(IBlockStep step) : IParallelJob
{
    /// <summary>Parameters a block: with Adam's five vectors (θ, dL/dθ, m, v and a scratch row), 20 KB.</summary>
    public const int BlockLength = 1024;

    /// <summary>
    /// Parameters a thread's part has at least: a plain SGD step over them takes some tens of microseconds, several times
    /// what waking a worker that has been blocked since the last step costs.
    /// </summary>
    public const int MinimumPartLength = 1 << 17;

    private ParallelRunner? _runner;
    private int _degreeOfParallelism = Environment.ProcessorCount;

    // The run's spans, pinned until it ends, for the blocks on whichever thread runs them.
    private float* _parameters;
    private float* _gradients;

    /// <summary>Each thread's scratch block, so that intermediate rows stay in its L1 cache and never go to memory.</summary>
    private float[][] _scratch = [new float[BlockLength]];

    private int _length;
    private int _partLength;

    /// <summary>Threads a run may use, the calling thread included. Default: <see cref="Environment.ProcessorCount"/>.</summary>
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

    /// <summary>Steps every parameter of <paramref name="parameters"/> from <paramref name="gradients"/> (as long), on up to <see cref="DegreeOfParallelism"/> threads.</summary>
    public void Run(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        int length = parameters.Length;
        fixed (float* p = parameters, g = gradients)
        {
            _parameters = p;
            _gradients = g;
            try
            {
                int parts = Math.Clamp(length / MinimumPartLength, 1, _degreeOfParallelism);
                if (parts == 1)
                {
                    Blocks(0, length, _scratch[0]);
                    return;
                }

                if (_scratch.Length < parts)
                {
                    int had = _scratch.Length;
                    Array.Resize(ref _scratch, parts);
                    for (int i = had; i < parts; i++)
                    {
                        _scratch[i] = new float[BlockLength];
                    }
                }

                // Parts of whole blocks.
                _partLength = ((length + parts - 1) / parts + BlockLength - 1) / BlockLength * BlockLength;
                _length = length;
                parts = (length + _partLength - 1) / _partLength;
                (_runner ??= new ParallelRunner(this)).Run(parts, parts);
            }
            finally
            {
                _parameters = null;
                _gradients = null;
            }
        }
    }

    void IParallelJob.Execute(int item, int worker)
    {
        int start = item * _partLength;
        Blocks(start, Math.Min(_partLength, _length - start), _scratch[worker]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Blocks(int start, int length, float[] scratch)
    {
        int end = start + length;
        for (int at = start; at < end; at += BlockLength)
        {
            int block = Math.Min(BlockLength, end - at);
            step.StepBlock(at, new Span<float>(_parameters + at, block), new ReadOnlySpan<float>(_gradients + at, block), scratch.AsSpan(0, block));
        }
    }
}
