using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace NetGen.Kernels;

/// <summary>
/// Inverted dropout with a counter-based generator: whether element e of sample s is kept in a training step is a pure
/// function of (key, layer, s, e), where the key comes from the network's seed and the step. So a batch gives the same
/// masks however it is cut into chunks and whatever the thread count, the backward pass recomputes the mask instead of
/// storing it, and a resumed run that sets the step back draws the same masks.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Dropout
{
    /// <summary>The key of one training step: the seed and the step, mixed.</summary>
    public static ulong Key(int seed, long step) => Mix(Mix((ulong)(uint)seed ^ 0x6A09E667F3BCC908UL) ^ (ulong)step);

    /// <summary>
    /// The keep threshold for drop probability <paramref name="probability"/> (0 ≤ p &lt; 1): an element is kept when its 32
    /// random bits are at least the threshold, which is p · 2³² rounded, so the drop probability is p to within 2⁻³².
    /// </summary>
    public static uint Threshold(float probability) => (uint)Math.Min(Math.Round(probability * 4294967296.0), uint.MaxValue);

    /// <summary>32 uniform random bits for element <paramref name="element"/> of sample <paramref name="sample"/> in layer <paramref name="layer"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Bits(ulong key, int layer, int sample, int element) =>
        (uint)(Mix(Mix(key ^ (ulong)(uint)layer * 0x9E3779B97F4A7C15UL) ^ ((ulong)(uint)sample << 32 | (uint)element)) >> 32);

    /// <summary>
    /// y = x · mask / (1 − p) over <paramref name="count"/> samples of <paramref name="length"/> floats, the first being sample
    /// <paramref name="firstSample"/> of the batch: each element kept when its bits reach <paramref name="threshold"/>, then
    /// scaled by <paramref name="scale"/> = 1 / (1 − p); the others zero.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int count, int length, ulong key, int layer, int firstSample, uint threshold, float scale) =>
        Apply(x, y, count, length, key, layer, firstSample, threshold, scale);

    /// <summary>dL/dx = dL/dy · mask / (1 − p): the same mask as <see cref="Forward"/> drew for the same step, recomputed.</summary>
    public static void Backward(ReadOnlySpan<float> dy, Span<float> dx, int count, int length, ulong key, int layer, int firstSample, uint threshold, float scale) =>
        Apply(dy, dx, count, length, key, layer, firstSample, threshold, scale);

    private static void Apply(ReadOnlySpan<float> from, Span<float> to, int count, int length, ulong key, int layer, int firstSample, uint threshold, float scale)
    {
        from = from.Slice(0, count * length);
        to = to.Slice(0, count * length);
        ulong layerKey = Mix(key ^ (ulong)(uint)layer * 0x9E3779B97F4A7C15UL);
        for (int s = 0; s < count; s++)
        {
            ulong sample = (ulong)(uint)(firstSample + s) << 32;
            int at = s * length;
            for (int e = 0; e < length; e++)
            {
                uint bits = (uint)(Mix(layerKey ^ (sample | (uint)e)) >> 32);
                to[at + e] = bits >= threshold ? from[at + e] * scale : 0f;
            }
        }
    }

    /// <summary>SplitMix64's finalizer: a bijection of 64-bit words whose every output bit depends on every input bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
