using System;

namespace NetGen.Data;

/// <summary>
/// Labelled training samples that <see cref="NetGen.Training.Trainer"/> reads batch by batch: an in-memory set
/// (<see cref="LabeledImages"/>) or one that produces each batch's samples when it is drawn, such as a folder of image
/// files decoded on demand.
/// </summary>
/// <remarks>
/// The labels are known up front (the trainer checks them against the network before the first batch); the inputs only
/// when <see cref="Gather"/> asks for them. <see cref="Gather"/> must give the same values every time for the same
/// index, so that a seeded run is reproducible and a resumed one matches a run that never stopped.
/// </remarks>
public interface ILabeledSamples
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Floats per sample input.</summary>
    int SampleLength { get; }

    /// <summary>The class index (≥ 0) of each sample, <see cref="Count"/> of them.</summary>
    ReadOnlySpan<int> Labels { get; }

    /// <summary>
    /// Writes the samples named by <paramref name="indices"/> into caller buffers, one after another: sample k's input
    /// to [k·<see cref="SampleLength"/>, (k+1)·<see cref="SampleLength"/>) of <paramref name="inputs"/>, its label to
    /// <paramref name="labels"/>[k].
    /// </summary>
    /// <param name="indices">Sample indices, e.g. one batch of <see cref="BatchOrder"/>.</param>
    /// <param name="inputs">At least indices.Length × <see cref="SampleLength"/> floats.</param>
    /// <param name="labels">At least indices.Length labels.</param>
    /// <exception cref="ArgumentException">A buffer is too small.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the set.</exception>
    void Gather(ReadOnlySpan<int> indices, Span<float> inputs, Span<int> labels);
}
