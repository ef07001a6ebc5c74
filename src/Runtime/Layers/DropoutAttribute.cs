using System;

namespace NetGen;

/// <summary>
/// Inverted dropout, as PyTorch's <c>Dropout(p)</c>: in training passes each element is zeroed with probability
/// <paramref name="probability"/> and the others are scaled by 1 / (1 − p); in <c>Forward</c>, <c>Predict</c> and the batch
/// inference calls the layer passes its input through.
/// </summary>
/// <remarks>
/// The masks are reproducible: they are a pure function of the seed given to <c>InitializeParameters</c>, the network's
/// <c>TrainingStep</c> (which each training call advances), the sample's index in its batch and the element, so training
/// gives the same bits on any number of threads, and a resumed run that sets <c>TrainingStep</c> back draws the same masks.
/// </remarks>
/// <param name="probability">The probability p of zeroing an element, at least 0 and less than 1.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DropoutAttribute(float probability) : LayerAttribute
{
    /// <summary>The probability p of zeroing an element in training.</summary>
    public float Probability { get; } = probability;
}
