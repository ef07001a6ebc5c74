using System.Globalization;

namespace NetGen;

/// <summary>
/// The shape of one sample's activation in a generated network: channels × height × width, CHW row-major. A dense
/// layer's output is <c>units × 1 × 1</c>. Generated networks list the input's and every layer's in their nested
/// <c>Shapes</c> class.
/// </summary>
/// <param name="Channels">Channels (a dense layer's units).</param>
/// <param name="Height">Height.</param>
/// <param name="Width">Width.</param>
public readonly record struct TensorShape(int Channels, int Height, int Width)
{
    /// <summary>Floats in one sample: channels × height × width.</summary>
    public int Length => Channels * Height * Width;

    /// <summary>"6×28×28".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Channels}×{Height}×{Width}");
}
