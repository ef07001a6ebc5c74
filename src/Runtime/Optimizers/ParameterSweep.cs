using System;
using System.Runtime.CompilerServices;
using NetGen.Training;

namespace NetGen.Optimizers;

/// <summary>An optimizer's elementwise step over one block of the parameter vector.</summary>
internal interface IBlockStep
{
    /// <summary>
    /// Updates parameters <paramref name="start"/> … <paramref name="start"/> + <paramref name="length"/> − 1 (and their
    /// state), with <paramref name="scratch"/> (<paramref name="length"/> floats, this thread's) for intermediate rows.
    /// </summary>
    void StepBlock(int start, int length, Span<float> scratch);
}

/// <summary>
/// Runs an optimizer's elementwise step over the parameter vector block by block, each block short enough that the step's
/// passes over it (Adam makes ten) find it in the L1 cache, instead of streaming the whole vector from memory once per
/// pass; with more than one thread allowed and a vector long enough to pay for handing a part over, in one contiguous part
/// per thread. Every element goes through the same operations in the same order whatever the blocks and threads, so the
/// results are the same bits.
/// </summary>
internal sealed class ParameterSweep(IBlockStep step) : IParallelJob
{
    /// <summary>Parameters a block: with Adam's five vectors (θ, dL/dθ, m, v and a scratch row), 20 KB.</summary>
    public const int BlockLength = 1024;

    /// <summary>
    /// Parameters a thread's part has at least: a plain SGD step over them takes some tens of microseconds, several times
    /// what waking a worker that has been blocked since the last step costs.
    /// </summary>
    public const int MinimumPartLength = 1 << 17;

    private ParallelRunner? _runner;

    /// <summary>Each thread's scratch block, so that intermediate rows stay in its L1 cache and never go to memory.</summary>
    private float[][] _scratch = [new float[BlockLength]];

    private int _length;
    private int _partLength;

    /// <summary>Steps parameters 0 … <paramref name="length"/> − 1 on up to <paramref name="degreeOfParallelism"/> threads.</summary>
    public void Run(int length, int degreeOfParallelism)
    {
        int parts = Math.Clamp(length / MinimumPartLength, 1, degreeOfParallelism);
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
            step.StepBlock(at, block, scratch.AsSpan(0, block));
        }
    }
}
