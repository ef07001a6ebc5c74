using System;
using System.Globalization;
using System.Text;

namespace NetGen.Weights;

/// <summary>
/// Where one named tensor lives in a flat vector — the float parameter vector (such as
/// <see cref="INeuralNetwork.Parameters"/>), a float buffer vector or a long counter vector, see <see cref="SafeTensors"/>:
/// <see cref="Length"/> elements from <see cref="Offset"/>, in row-major order of <see cref="Shape"/>.
/// </summary>
public sealed class TensorSlot
{
    private readonly int[] _shape;

    /// <summary>Describes a tensor.</summary>
    /// <param name="name">Its name in a weights file, e.g. <c>conv1.weight</c>; not empty and not <c>__metadata__</c>.</param>
    /// <param name="shape">Its dimension sizes, each ≥ 0 (copied); empty for a scalar.</param>
    /// <param name="offset">Index of its first element in its vector (≥ 0).</param>
    /// <exception cref="ArgumentException">An empty or reserved name, or more than int.MaxValue elements in all.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative dimension or offset.</exception>
    public TensorSlot(string name, ReadOnlySpan<int> shape, int offset)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == SafeTensors.MetadataKey)
        {
            throw new ArgumentException($"'{SafeTensors.MetadataKey}' is reserved by the safetensors format.", nameof(name));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        long length = 1;
        foreach (int d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            length = Math.Min(length * d, (long)int.MaxValue + 1);
        }

        if (offset + length > int.MaxValue)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{name}: offset {offset} + {FormatShape(shape)} elements exceeds int.MaxValue."), nameof(shape));
        }

        Name = name;
        _shape = shape.ToArray();
        Offset = offset;
        Length = (int)length;
    }

    /// <summary>The tensor's name.</summary>
    public string Name { get; }

    /// <summary>Dimension sizes, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>Index of the first element in its vector.</summary>
    public int Offset { get; }

    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public int Length { get; }

    /// <summary>One past the last element: <see cref="Offset"/> + <see cref="Length"/>.</summary>
    public int End => Offset + Length;

    /// <summary>E.g. <c>conv1.weight [6, 1, 5, 5] at 0</c>.</summary>
    /// <returns>Name, shape and offset.</returns>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name} {FormatShape(_shape)} at {Offset}");

    internal static string FormatShape(ReadOnlySpan<int> shape)
    {
        var text = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            text.Append(i == 0 ? "" : ", ").Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }

        return text.Append(']').ToString();
    }

    internal static string FormatShape(ReadOnlySpan<long> shape)
    {
        var text = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            text.Append(i == 0 ? "" : ", ").Append(shape[i].ToString(CultureInfo.InvariantCulture));
        }

        return text.Append(']').ToString();
    }
}
