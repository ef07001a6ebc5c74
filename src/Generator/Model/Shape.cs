using System;

namespace NetGen.Generator.Model;

/// <summary>A CHW activation shape. A dense layer's output is <c>units × 1 × 1</c>.</summary>
internal readonly record struct Shape(int Channels, int Height, int Width)
{
    public int Length => Channels * Height * Width;

    /// <summary>The element count computed without overflow, to check a shape before using <see cref="Length"/>.</summary>
    public long LongLength => (long)Channels * Height * Width;

    public bool IsFlat => Height == 1 && Width == 1;

    /// <summary>Always C×H×W, also for flat shapes (for messages about spatial windows).</summary>
    public string ToFullString() => FormattableString.Invariant($"{Channels}×{Height}×{Width}");

    public override string ToString() => IsFlat ? Channels.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Channels}×{Height}×{Width}";
}
