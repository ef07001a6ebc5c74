using System;
using System.Globalization;

namespace NetGen.Data;

/// <summary>
/// Samples with target values, for an <see cref="IRegressionNetwork"/>: <see cref="Inputs"/> is <see cref="Count"/> ×
/// <see cref="InputLength"/> floats and <see cref="Targets"/> <see cref="Count"/> × <see cref="TargetLength"/> floats,
/// one sample after another, as <see cref="LabeledImages"/> holds images with class labels.
/// </summary>
/// <example>
/// <code>
/// var data = new RegressionData(inputs, targets, inputLength: RegressionNet.InputLength);
/// TrainingHistory history = Trainer.Fit(net, new Adam(1e-3f), data, validation: null, new TrainerOptions { Epochs = 5 });
/// </code>
/// </example>
public sealed class RegressionData
{
    /// <summary>Wraps existing arrays (not copied).</summary>
    /// <param name="inputs">Count × <paramref name="inputLength"/> floats.</param>
    /// <param name="targets">Count × target length floats: the same count of rows as <paramref name="inputs"/>.</param>
    /// <param name="inputLength">Floats per input sample (≥ 1), the network's <see cref="INeuralNetwork.InputLength"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputLength"/> is below 1.</exception>
    /// <exception cref="ArgumentException">
    /// <paramref name="inputs"/> is not a whole number of samples, or <paramref name="targets"/> does not divide into that
    /// many rows of at least one float.
    /// </exception>
    public RegressionData(float[] inputs, float[] targets, int inputLength)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputLength);
        if (inputs.Length % inputLength != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{inputs.Length} floats are not a whole number of samples of {inputLength}."), nameof(inputs));
        }

        int count = inputs.Length / inputLength;
        if (count == 0 ? targets.Length != 0 : targets.Length == 0 || targets.Length % count != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{targets.Length} target floats do not divide into {count} rows of at least one float, one per sample."), nameof(targets));
        }

        Inputs = inputs;
        Targets = targets;
        Count = count;
        InputLength = inputLength;
        TargetLength = count == 0 ? 0 : targets.Length / count;
    }

    /// <summary>All inputs, sample after sample.</summary>
    public float[] Inputs { get; }

    /// <summary>All targets, one row of <see cref="TargetLength"/> per sample.</summary>
    public float[] Targets { get; }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Floats per input sample.</summary>
    public int InputLength { get; }

    /// <summary>Floats per target row (0 for an empty set).</summary>
    public int TargetLength { get; }

    /// <summary>The input of sample <paramref name="index"/>.</summary>
    /// <param name="index">0 ≤ index &lt; <see cref="Count"/>.</param>
    /// <returns>A view of <see cref="InputLength"/> floats inside <see cref="Inputs"/>.</returns>
    public ReadOnlySpan<float> Input(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Inputs.AsSpan(index * InputLength, InputLength);
    }

    /// <summary>The target row of sample <paramref name="index"/>.</summary>
    /// <param name="index">0 ≤ index &lt; <see cref="Count"/>.</param>
    /// <returns>A view of <see cref="TargetLength"/> floats inside <see cref="Targets"/>.</returns>
    public ReadOnlySpan<float> Target(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Targets.AsSpan(index * TargetLength, TargetLength);
    }

    /// <summary>
    /// Copies the samples named by <paramref name="indices"/> into caller buffers, one after another; allocates nothing.
    /// </summary>
    /// <param name="indices">Sample indices, e.g. one batch of <see cref="BatchOrder"/>.</param>
    /// <param name="inputs">At least indices.Length × <see cref="InputLength"/> floats.</param>
    /// <param name="targets">At least indices.Length × <see cref="TargetLength"/> floats.</param>
    /// <exception cref="ArgumentException">A buffer is too small.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the set.</exception>
    public void Gather(ReadOnlySpan<int> indices, Span<float> inputs, Span<float> targets)
    {
        if ((long)indices.Length * InputLength > inputs.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{indices.Length} samples need {(long)indices.Length * InputLength} floats, inputs has {inputs.Length}."), nameof(inputs));
        }

        if ((long)indices.Length * TargetLength > targets.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{indices.Length} samples need {(long)indices.Length * TargetLength} target floats, targets has {targets.Length}."), nameof(targets));
        }

        for (int k = 0; k < indices.Length; k++)
        {
            int index = indices[k];
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), index,
                    string.Create(CultureInfo.InvariantCulture, $"Index {k} is {index}, outside 0..{Count - 1}."));
            }

            Inputs.AsSpan(index * InputLength, InputLength).CopyTo(inputs.Slice(k * InputLength, InputLength));
            Targets.AsSpan(index * TargetLength, TargetLength).CopyTo(targets.Slice(k * TargetLength, TargetLength));
        }
    }
}
