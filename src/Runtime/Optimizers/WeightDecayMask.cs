using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics.Tensors;
using NetGen.Weights;

namespace NetGen.Optimizers;

/// <summary>
/// Which tensors of a parameter vector weight decay applies to, chosen once from a network's
/// <see cref="INeuralNetwork.ParameterLayout"/> and set as an optimizer's <c>WeightDecayMask</c> (<see cref="Sgd"/>,
/// <see cref="Adam"/>). PyTorch recipes decay weight matrices and convolution kernels only, not biases or BatchNorm's γ and β
/// (parameter groups with <c>weight_decay=0</c> for every tensor with <c>ndim &lt;= 1</c>): that is
/// <see cref="MatricesAndKernels"/>. An optimizer without a mask decays every parameter, as a single PyTorch parameter group.
/// </summary>
/// <example>
/// <code>
/// var sgd = new Sgd(learningRate: 0.1f, momentum: 0.9f, nesterov: true, weightDecay: 5e-4f)
/// {
///     WeightDecayMask = WeightDecayMask.MatricesAndKernels(net.ParameterLayout),  // not the biases, not BatchNorm
/// };
/// </code>
/// </example>
public sealed class WeightDecayMask
{
    private readonly Segment[] _segments;

    private WeightDecayMask(int parameterCount, TensorSlot[] decayed, Segment[] segments)
    {
        ParameterCount = parameterCount;
        DecayedTensors = Array.AsReadOnly(decayed);
        _segments = segments;
        foreach (Segment segment in segments)
        {
            DecayedCount += segment.Decayed ? segment.Length : 0;
        }
    }

    /// <summary>Elements of the parameter vector the layout describes: where its last tensor ends.</summary>
    public int ParameterCount { get; }

    /// <summary>The tensors weight decay applies to, in the layout's order.</summary>
    public IReadOnlyList<TensorSlot> DecayedTensors { get; }

    /// <summary>Elements weight decay applies to: the sum of the <see cref="DecayedTensors"/>' lengths.</summary>
    public int DecayedCount { get; }

    /// <summary>
    /// Decays the tensors of rank 2 and above (dense weight matrices, convolution kernels) and leaves those of rank 0 and
    /// 1 (biases, BatchNorm's γ and β) alone, as PyTorch training recipes do.
    /// </summary>
    /// <param name="parameterLayout">The network's <see cref="INeuralNetwork.ParameterLayout"/>.</param>
    /// <returns>The mask.</returns>
    /// <exception cref="ArgumentException">The layout has a null entry or tensors that overlap.</exception>
    public static WeightDecayMask MatricesAndKernels(IReadOnlyList<TensorSlot> parameterLayout) =>
        Where(parameterLayout, static slot => slot.Shape.Length >= 2);

    /// <summary>Decays every tensor of the layout, biases and BatchNorm parameters included.</summary>
    /// <param name="parameterLayout">The network's <see cref="INeuralNetwork.ParameterLayout"/>.</param>
    /// <returns>The mask.</returns>
    /// <exception cref="ArgumentException">The layout has a null entry or tensors that overlap.</exception>
    public static WeightDecayMask All(IReadOnlyList<TensorSlot> parameterLayout) =>
        Where(parameterLayout, static _ => true);

    /// <summary>Decays the tensors of the layout that <paramref name="decay"/> selects, e.g. by name.</summary>
    /// <param name="parameterLayout">The network's <see cref="INeuralNetwork.ParameterLayout"/>.</param>
    /// <param name="decay">Called once per tensor: true to decay it.</param>
    /// <returns>The mask.</returns>
    /// <exception cref="ArgumentException">The layout has a null entry or tensors that overlap.</exception>
    public static WeightDecayMask Where(IReadOnlyList<TensorSlot> parameterLayout, Func<TensorSlot, bool> decay)
    {
        ArgumentNullException.ThrowIfNull(parameterLayout);
        ArgumentNullException.ThrowIfNull(decay);
        var slots = new TensorSlot[parameterLayout.Count];
        var offsets = new int[slots.Length];
        var decided = new bool[slots.Length];
        var decayedTensors = new List<TensorSlot>();
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] = parameterLayout[i] ?? throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"parameterLayout[{i}] is null."), nameof(parameterLayout));
            offsets[i] = slots[i].Offset;
            decided[i] = decay(slots[i]);
            if (decided[i])
            {
                decayedTensors.Add(slots[i]);
            }
        }

        // The vector in offset order: decayed tensors, and between them whatever is not (other tensors, gaps).
        int[] order = new int[slots.Length];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(offsets, order);
        var segments = new List<Segment>();
        int end = 0;
        foreach (int i in order)
        {
            TensorSlot slot = slots[i];
            if (slot.Length == 0)
            {
                continue;
            }

            if (slot.Offset < end)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{slot} overlaps the tensor before it, which ends at {end}; a parameter layout's tensors must not overlap."), nameof(parameterLayout));
            }

            Append(segments, slot.Offset - end, decayed: false);
            Append(segments, slot.Length, decided[i]);
            end = slot.End;
        }

        return new WeightDecayMask(end, [.. decayedTensors], [.. segments]);
    }

    /// <summary>
    /// g = ∇ + weightDecay·θ on the decayed elements, g = ∇ elsewhere (every element without a mask), over the block of the
    /// parameter vector that starts at <paramref name="offset"/> (the spans are that block).
    /// </summary>
    internal static void AddL2(WeightDecayMask? mask, ReadOnlySpan<float> parameters, ReadOnlySpan<float> gradients, float weightDecay, Span<float> destination, int offset)
    {
        if (mask is null)
        {
            TensorPrimitives.MultiplyAdd(parameters, weightDecay, gradients, destination);
            return;
        }

        foreach (Segment s in mask._segments)
        {
            if (Overlap(s, offset, parameters.Length) is not (int start, int length))
            {
                continue;
            }

            if (s.Decayed)
            {
                TensorPrimitives.MultiplyAdd(parameters.Slice(start, length), weightDecay, gradients.Slice(start, length), destination.Slice(start, length));
            }
            else
            {
                gradients.Slice(start, length).CopyTo(destination.Slice(start, length));
            }
        }
    }

    /// <summary>θ = θ·factor on the decayed elements (every element without a mask) of the block that starts at <paramref name="offset"/>.</summary>
    internal static void Scale(WeightDecayMask? mask, Span<float> parameters, float factor, int offset)
    {
        if (mask is null)
        {
            TensorPrimitives.Multiply(parameters, factor, parameters);
            return;
        }

        foreach (Segment s in mask._segments)
        {
            if (s.Decayed && Overlap(s, offset, parameters.Length) is (int start, int length))
            {
                Span<float> range = parameters.Slice(start, length);
                TensorPrimitives.Multiply(range, factor, range);
            }
        }
    }

    /// <summary>Where segment <paramref name="s"/> overlaps the block of <paramref name="length"/> at <paramref name="offset"/>, relative to the block; null if nowhere.</summary>
    private static (int Start, int Length)? Overlap(Segment s, int offset, int length)
    {
        int start = Math.Max(s.Offset, offset), end = Math.Min(s.Offset + s.Length, offset + length);
        return start < end ? (start - offset, end - start) : null;
    }

    /// <summary>Throws unless the mask describes a vector of <paramref name="parameterCount"/> elements.</summary>
    internal static void CheckLength(WeightDecayMask? mask, int parameterCount, string parameterName)
    {
        if (mask is not null && mask.ParameterCount != parameterCount)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The WeightDecayMask describes {mask.ParameterCount} parameters (the end of its layout's last tensor), {parameterName} has {parameterCount}; build the mask from the same network's ParameterLayout."),
                parameterName);
        }
    }

    private static void Append(List<Segment> segments, int length, bool decayed)
    {
        if (length == 0)
        {
            return;
        }

        if (segments.Count > 0 && segments[^1].Decayed == decayed)
        {
            Segment last = segments[^1];
            segments[^1] = last with { Length = last.Length + length }; // adjacent tensors alike: one contiguous range
        }
        else
        {
            int offset = segments.Count > 0 ? segments[^1].Offset + segments[^1].Length : 0;
            segments.Add(new Segment(offset, length, decayed));
        }
    }

    /// <summary>A maximal run of elements that are all decayed or all not; the segments cover 0 … ParameterCount − 1 in order.</summary>
    private readonly record struct Segment(int Offset, int Length, bool Decayed);
}
