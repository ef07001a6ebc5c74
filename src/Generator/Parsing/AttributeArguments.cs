using System.Linq;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using NetGen.Generator.Model;

namespace NetGen.Generator.Parsing;

/// <summary>A layer attribute's arguments, read from its <see cref="AttributeData"/> (used during parsing only).</summary>
internal readonly struct AttributeArguments(AttributeData data)
{
    private readonly ImmutableArray<TypedConstant> _constructor = data.ConstructorArguments;

    public int ConstructorCount => _constructor.Length;

    /// <summary>The <paramref name="index"/>th constructor argument as an int.</summary>
    public int Constructor(int index) =>
        index < _constructor.Length && _constructor[index].Value is int value ? value : 0;

    /// <summary>The <paramref name="index"/>th constructor argument as a string, or null.</summary>
    public string? ConstructorString(int index) =>
        index < _constructor.Length ? _constructor[index].Value as string : null;

    /// <summary>A named int argument (<c>Stride = 2</c>), or null when not given.</summary>
    public int? Named(string name) => NamedValue(name) is int value ? value : null;

    /// <summary>A named float argument (<c>Slope = 0.2f</c>), or null when not given.</summary>
    public float? NamedSingle(string name) => NamedValue(name) switch
    {
        float value => value,
        double value => (float)value,
        int value => value,
        _ => null,
    };

    /// <summary>A named bool argument (<c>Bias = false</c>), or null when not given.</summary>
    public bool? NamedBoolean(string name) => NamedValue(name) is bool value ? value : null;

    /// <summary>The <paramref name="index"/>th constructor argument as a float (0 when missing).</summary>
    public float ConstructorSingle(int index) =>
        index < _constructor.Length ? _constructor[index].Value switch { float f => f, double d => (float)d, int i => i, _ => 0f } : 0f;

    /// <summary>A named string argument (<c>Name = "…"</c>), or null when not given.</summary>
    public string? NamedString(string name) => NamedValue(name) as string;

    /// <summary>The <c>Name = "…"</c> argument, or null.</summary>
    public string? Name => NamedString("Name");

    /// <summary>The <c>Input = "…"</c> argument (the layer to read instead of the one before), or null.</summary>
    public string? Input => NamedString("Input");

    /// <summary>Whether the compiler bound the attribute (false when it has errors of its own, which the compiler reports).</summary>
    public bool IsValid =>
        data.AttributeConstructor is not null && !_constructor.IsDefault && !data.NamedArguments.IsDefault
        && !HasError(_constructor) && !data.NamedArguments.Any(static p => p.Value.Kind == TypedConstantKind.Error);

    public LocationInfo? Location => LocationInfo.From(data.ApplicationSyntaxReference?.GetSyntax());

    private object? NamedValue(string name)
    {
        foreach (var pair in data.NamedArguments)
        {
            if (pair.Key == name)
            {
                return pair.Value.Value;
            }
        }

        return null;
    }

    private static bool HasError(ImmutableArray<TypedConstant> values)
    {
        foreach (TypedConstant value in values)
        {
            if (value.Kind == TypedConstantKind.Error)
            {
                return true;
            }
        }

        return false;
    }
}
