using System;
using System.ComponentModel;
using System.Diagnostics;

namespace NetGen.Training;

/// <summary>
/// Runs the large layers of a one-sample forward pass on several threads: it cuts such a layer's output units (a
/// convolution's filters or tile rows, a dense layer's outputs) into one part per thread, in multiples of the layer's
/// grain, and the calling thread and up to <see cref="DegreeOfParallelism"/> − 1 workers each compute the parts they claim. Every unit is computed exactly as on
/// one thread, so the results are the same bits whatever the thread count. Generated networks derive a private splitter
/// from it; set the network's <c>DegreeOfParallelism</c>.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
/// <remarks>
/// The workers are dedicated threads that spin for half a millisecond after each run before they block, so
/// that the next split layer of the same pass, or of the next sample's, is handed over in about a microsecond rather than
/// after a thread wake-up of tens of microseconds; an idle splitter's workers exit after two seconds. Nothing is allocated
/// per run.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class LayerSplitter : IParallelJob
{
    /// <summary>
    /// How long a worker, and the caller waiting for the workers, spin before blocking: longer than the gap between two split
    /// layers of a pass, or between the last of one pass and the first of the next in a loop over samples (nearly a whole
    /// pass where the only split layer is near the end, as in ResNetBN).
    /// </summary>
    private const int SpinMicroseconds = 500;

    private readonly ParallelRunner _runner;
    private int _degreeOfParallelism = Environment.ProcessorCount;
    private int _layer;
    private int _units;
    private int _partUnits;

    /// <summary>Creates a splitter whose runs use up to <see cref="Environment.ProcessorCount"/> threads.</summary>
    protected LayerSplitter()
    {
        _runner = new ParallelRunner(this, Stopwatch.Frequency * SpinMicroseconds / 1_000_000);
    }

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

    /// <summary>Whether runs use more than the calling thread: the generated pass splits its large layers only then.</summary>
    public bool IsParallel => _degreeOfParallelism > 1;

    /// <summary>
    /// Runs split layer <paramref name="layer"/>'s <paramref name="units"/> output units on up to
    /// <see cref="DegreeOfParallelism"/> threads, one part per thread, each a whole run of units in multiples of
    /// <paramref name="grain"/> (the last may be shorter; <see cref="RunPart"/>), and returns when all are done; rethrows the
    /// first exception a part threw. One contiguous run per thread keeps each thread's reads of a weight in one stream,
    /// which ran faster than many smaller parts taken in turn (docs/benchmarks.md).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> or <paramref name="grain"/> is less than 1.</exception>
    public void Run(int layer, int units, int grain)
    {
        int partUnits = PartUnits(units, grain), parts = (units + partUnits - 1) / partUnits;
        _layer = layer;
        _units = units;
        _partUnits = partUnits;
        _runner.Run(parts, Math.Min(_degreeOfParallelism, parts));
    }

    /// <summary>The units of each part of <see cref="Run"/>: as few parts as there are threads, each a multiple of <paramref name="grain"/>.</summary>
    internal int PartUnits(int units, int grain)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(grain, 1);
        int grains = (units + grain - 1) / grain, parts = Math.Min(_degreeOfParallelism, grains);
        return (grains + parts - 1) / parts * grain;
    }

    /// <summary>
    /// Computes units <paramref name="first"/> … <paramref name="first"/> + <paramref name="count"/> − 1 of split layer
    /// <paramref name="layer"/>, on whichever thread claimed them.
    /// </summary>
    protected abstract void RunPart(int layer, int first, int count);

    void IParallelJob.Execute(int item, int worker)
    {
        int first = item * _partUnits;
        RunPart(_layer, first, Math.Min(_partUnits, _units - first));
    }
}
