using System;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace NetGen;

/// <summary>
/// Argument checks of the generated networks' public methods; they allocate only when they throw.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Guard
{
    /// <summary>Throws unless <paramref name="actual"/> equals <paramref name="expected"/>.</summary>
    /// <exception cref="ArgumentException">The span has the wrong length; the message names both lengths.</exception>
    public static void Length(int actual, int expected, string parameterName)
    {
        if (actual != expected)
        {
            ThrowLength(actual, expected, parameterName);
        }
    }

    /// <summary>Throws unless 0 ≤ <paramref name="label"/> &lt; <paramref name="classes"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The label is not a class.</exception>
    public static void Label(int label, int classes, string parameterName)
    {
        if ((uint)label >= (uint)classes)
        {
            ThrowLabel(label, classes, parameterName);
        }
    }

    [DoesNotReturn]
    private static void ThrowLength(int actual, int expected, string parameterName) =>
        throw new ArgumentException($"Expected {expected} floats in '{parameterName}', got {actual}.", parameterName);

    [DoesNotReturn]
    private static void ThrowLabel(int label, int classes, string parameterName) =>
        throw new ArgumentOutOfRangeException(parameterName, label, $"A label must be a class from 0 to {classes - 1}; got {label}.");
}
