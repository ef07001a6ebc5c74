using System;
using System.Globalization;
using System.Text;

namespace NetGen.Generator.Emit;

/// <summary>
/// An indentation-aware text writer for generated C#. Lines are interpolated strings formatted with the
/// invariant culture, so a generator running under a culture whose minus sign is U+2212 still writes
/// <c>-2</c>, not <c>−2</c>.
/// </summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _builder = new();
    private int _indent;

    /// <summary>Writes one line at the current indentation.</summary>
    public void Line(FormattableString line)
    {
        string text = line.ToString(CultureInfo.InvariantCulture);
        if (text.Length > 0)
        {
            _builder.Append(' ', _indent * 4);
        }

        _builder.Append(text).Append('\n');
    }

    /// <summary>Writes an empty line.</summary>
    public void Line() => _builder.Append('\n');

    /// <summary>Writes <c>{</c> and indents.</summary>
    public void Open()
    {
        Line($"{{");
        _indent++;
    }

    /// <summary>Unindents and writes <c>}</c> (plus an optional suffix such as <c>;</c>).</summary>
    public void Close(string suffix = "")
    {
        _indent--;
        Line($"}}{suffix}");
    }

    /// <summary>Writes a comment line per line of <paramref name="text"/>.</summary>
    public void Comment(string text)
    {
        foreach (string line in text.Split('\n'))
        {
            Line($"// {line}");
        }
    }

    public override string ToString() => _builder.ToString();
}

/// <summary>Formatting helpers for literals in generated code.</summary>
internal static class Literal
{
    /// <summary>A C# string literal, escaped.</summary>
    public static string String(string value)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in value)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when c < ' ' => ((int)c).ToString("x4", CultureInfo.InvariantCulture).Insert(0, "\\u"),
                _ => c.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }

    /// <summary>"+ 3", "- 2" or "" for 0: a constant term appended to an index expression.</summary>
    public static string Offset(int value) => value switch
    {
        0 => "",
        > 0 => " + " + value.ToString(CultureInfo.InvariantCulture),
        _ => " - " + (-(long)value).ToString(CultureInfo.InvariantCulture),
    };
}
