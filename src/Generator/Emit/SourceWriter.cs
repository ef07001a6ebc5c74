using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace NetGen.Generator.Emit;

/// <summary>
/// An indentation-aware text writer for generated C#. Lines are interpolated strings formatted with the
/// invariant culture, so a generator running under a culture whose minus sign is U+2212 still writes
/// <c>-2</c>, not <c>−2</c>. Lines longer than <see cref="Width"/> are wrapped: comments at spaces, a call's
/// arguments after their commas, a trailing comment onto its own line above its code.
/// </summary>
internal sealed class SourceWriter
{
    /// <summary>The column generated lines are wrapped at.</summary>
    public const int Width = 120;

    private readonly StringBuilder _builder = new();
    private int _indent;

    /// <summary>The timed call sites, when the network is compiled for profiling (<see cref="ProfileSites.Symbol"/>); else null.</summary>
    public ProfileSites? Profile { get; init; }

    /// <summary>Writes one line at the current indentation, wrapped if it is too long.</summary>
    public void Line(FormattableString line)
    {
        string text = line.ToString(CultureInfo.InvariantCulture);
        if (text.Length == 0)
        {
            _builder.Append('\n');
            return;
        }

        foreach (string wrapped in Wrap(text, Width - _indent * 4))
        {
            _builder.Append(' ', _indent * 4).Append(wrapped).Append('\n');
        }
    }

    /// <summary>Writes one line at the current indentation as it is, never wrapped (a long data literal).</summary>
    public void Unwrapped(string text) => _builder.Append(' ', _indent * 4).Append(text).Append('\n');

    /// <summary>
    /// Opens the namespace and the partial declarations of the types containing a generated class, outermost first, so
    /// that what follows is written inside them; <see cref="CloseContainers"/> closes them.
    /// </summary>
    public void OpenContainers(NetGen.Generator.Model.HierarchyInfo hierarchy)
    {
        if (hierarchy.Namespace.Length > 0)
        {
            Line($"namespace {hierarchy.Namespace}");
            Open();
        }

        for (int i = 0; i < hierarchy.Declarations.Count - 1; i++)
        {
            Line($"{hierarchy.Declarations[i]}");
            Open();
        }
    }

    /// <summary>Closes what <see cref="OpenContainers"/> opened.</summary>
    public void CloseContainers(NetGen.Generator.Model.HierarchyInfo hierarchy)
    {
        for (int i = 0; i < hierarchy.Declarations.Count - 1; i++)
        {
            Close();
        }

        if (hierarchy.Namespace.Length > 0)
        {
            Close();
        }
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
        // No blank line before a closing brace.
        while (_builder.Length >= 2 && _builder[_builder.Length - 1] == '\n' && _builder[_builder.Length - 2] == '\n')
        {
            _builder.Length--;
        }

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

    /// <summary>
    /// Writes an XML doc <c>&lt;summary&gt;</c>: on one line when it fits, else its text wrapped between the opening and closing
    /// tags. <paramref name="summary"/> is XML already (escaped, with any <c>&lt;see/&gt;</c> tags).
    /// </summary>
    public void Summary(FormattableString summary)
    {
        string text = summary.ToString(CultureInfo.InvariantCulture);
        string one = $"/// <summary>{text}</summary>";
        if (one.Length <= Width - _indent * 4)
        {
            Line($"{one}");
            return;
        }

        Line($"/// <summary>");
        Line($"/// {text}");
        Line($"/// </summary>");
    }

    public override string ToString() => _builder.ToString();

    /// <summary>The pieces of a line, each at most <paramref name="width"/> characters where it can be cut.</summary>
    internal static IEnumerable<string> Wrap(string text, int width)
    {
        if (text.Length <= width)
        {
            return [text];
        }

        int lead = text.Length - text.TrimStart().Length;
        if (lead > 0)
        {
            string indent = text.Substring(0, lead);
            return Wrap(text.Substring(lead), width - lead).Select(line => indent + line).ToList();
        }

        string trimmed = text.TrimStart();
        if (trimmed.StartsWith("///", StringComparison.Ordinal))
        {
            return WrapWords(trimmed.Substring(3).TrimStart(), "/// ", width);
        }

        if (trimmed.StartsWith("//", StringComparison.Ordinal))
        {
            return WrapWords(trimmed.Substring(2).TrimStart(), "// ", width);
        }

        int comment = TrailingComment(text);
        if (comment > 0)
        {
            var lines = new List<string>(WrapWords(text.Substring(comment + 2).TrimStart(), "// ", width));
            lines.AddRange(Wrap(text.Substring(0, comment).TrimEnd(), width));
            return lines;
        }

        return WrapArguments(text, width);
    }

    /// <summary>Words after <paramref name="prefix"/>, as many a line as fit.</summary>
    private static IEnumerable<string> WrapWords(string text, string prefix, int width)
    {
        var lines = new List<string>();
        var line = new StringBuilder(prefix);
        foreach (string whole in Words(text))
        {
            string word = whole;
            while (prefix.Length + word.Length > width && width > prefix.Length + 10)
            {
                // A word longer than a line (a rule of dashes): cut it.
                if (line.Length > prefix.Length)
                {
                    lines.Add(line.ToString());
                    line.Clear().Append(prefix);
                }

                lines.Add(prefix + word.Substring(0, width - prefix.Length));
                word = word.Substring(width - prefix.Length);
            }

            if (line.Length > prefix.Length && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear().Append(prefix);
            }

            if (line.Length > prefix.Length)
            {
                line.Append(' ');
            }

            line.Append(word);
        }

        lines.Add(line.ToString());
        return lines;
    }

    /// <summary>The words of a comment, split at spaces outside XML tags (so <c>&lt;see cref="X"/&gt;</c> stays whole).</summary>
    private static IEnumerable<string> Words(string text)
    {
        var word = new StringBuilder();
        bool inTag = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '<' && i + 1 < text.Length && (char.IsLetter(text[i + 1]) || text[i + 1] == '/'))
            {
                inTag = true;
            }
            else if (c == '>')
            {
                inTag = false;
            }

            if (c == ' ' && !inTag)
            {
                yield return word.ToString();
                word.Clear();
            }
            else
            {
                word.Append(c);
            }
        }

        yield return word.ToString();
    }

    /// <summary>
    /// A statement cut where it reads best: after a top-level <c>=&gt;</c>, else after the commas between the arguments of
    /// the outermost parenthesis that has several (the head and as many arguments as fit on the first line, the rest
    /// indented one level).
    /// </summary>
    private static IEnumerable<string> WrapArguments(string text, int width)
    {
        var commas = new Dictionary<int, List<int>>(); // open parenthesis → the commas directly inside it
        var opens = new Stack<int>();
        int arrow = -1;
        bool inString = false, inChar = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (inString || inChar)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if ((inString && c == '"') || (inChar && c == '\''))
                {
                    inString = inChar = false;
                }

                continue;
            }

            switch (c)
            {
                case '"': inString = true; break;
                case '\'': inChar = true; break;
                case '(' or '[' or '{':
                case '<' when IsGenericOpen(text, i):
                    opens.Push(i);
                    break;
                case ')' or ']' or '}':
                case '>' when opens.Count > 0 && text[opens.Peek()] == '<' && IsGenericClose(text, i):
                    if (opens.Count > 0)
                    {
                        opens.Pop();
                    }

                    break;
                case '=' when opens.Count == 0 && arrow < 0 && i + 1 < text.Length && text[i + 1] == '>':
                    arrow = i + 2;
                    break;
                case ',' when opens.Count > 0 && text[opens.Peek()] == '(':
                    if (!commas.TryGetValue(opens.Peek(), out List<int>? list))
                    {
                        commas[opens.Peek()] = list = [];
                    }

                    list.Add(i + 1);
                    break;
            }
        }

        if (arrow > 0 && arrow < text.Length)
        {
            var lines = new List<string> { text.Substring(0, arrow) };
            foreach (string line in Wrap(text.Substring(arrow).Trim(), width - 4))
            {
                lines.Add("    " + line);
            }

            return lines;
        }

        if (commas.Count == 0)
        {
            return [text];
        }

        // The outermost parenthesis with commas: the one whose commas come first in the text among those not inside another's.
        int open = commas.Keys.Min();
        List<int> cuts = commas[open];
        var pieces = new List<string>();
        int start = 0;
        foreach (int cut in cuts)
        {
            pieces.Add(text.Substring(start, cut - start).Trim());
            start = cut;
        }

        pieces.Add(text.Substring(start).Trim());
        var result = new List<string>();
        if (pieces[0].Length > width && open + 1 < pieces[0].Length)
        {
            // The head alone is about a line long: it keeps its line, and every argument goes below.
            result.Add(text.Substring(0, open + 1));
            pieces[0] = pieces[0].Substring(open + 1).Trim();
            result.Add("");
        }

        var current = new StringBuilder(pieces[0]);
        foreach (string piece in pieces.GetRange(1, pieces.Count - 1))
        {
            int limit = result.Count == 0 ? width : width - 4;
            if (current.Length + 1 + piece.Length > limit)
            {
                Flush();
                current.Clear().Append(piece);
            }
            else
            {
                current.Append(' ').Append(piece);
            }
        }

        Flush();
        return result;

        // The first line as it is; the others indented one level (an empty entry marks a head alone on the line before).
        void Flush()
        {
            if (result.Count > 0 && result[result.Count - 1].Length == 0)
            {
                result[result.Count - 1] = "    " + current;
            }
            else
            {
                result.Add(result.Count == 0 ? current.ToString() : "    " + current);
            }
        }
    }

    /// <summary>Where a comment starts after code on the line (outside string literals), or −1.</summary>
    private static int TrailingComment(string text)
    {
        bool inString = false;
        for (int i = 0; i + 1 < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }
            }
            else if (c == '"')
            {
                inString = true;
            }
            else if (c == '/' && text[i + 1] == '/' && i > 0 && text.Substring(0, i).Trim().Length > 0)
            {
                return i;
            }
        }

        return -1;
    }

    // A '<' opens a type argument list where a name is right before it and no space after it (Span<float>, Load<TVector>).
    private static bool IsGenericOpen(string text, int i) =>
        i > 0 && (char.IsLetterOrDigit(text[i - 1]) || text[i - 1] == '_') && i + 1 < text.Length && text[i + 1] != ' ' && text[i + 1] != '=';

    private static bool IsGenericClose(string text, int i) => i > 0 && text[i - 1] != ' ' && text[i - 1] != '=' && text[i - 1] != '-';
}

/// <summary>Formatting helpers for literals in generated code.</summary>
internal static class Literal
{
    /// <summary>Text for a <c>//</c> comment: control characters (a line break would end the comment) as spaces.</summary>
    public static string Comment(string value) => new(value.Select(static c => char.IsControl(c) ? ' ' : c).ToArray());

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
                _ when c < ' ' || c is '\u0085' or '\u2028' or '\u2029' => ((int)c).ToString("x4", CultureInfo.InvariantCulture).Insert(0, "\\u"), // C#'s new-line characters too
                _ => c.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }

    /// <summary>
    /// A float literal that reads back to the same bits: the shortest round-trip form with the invariant culture and the
    /// <c>f</c> suffix (<c>0.01f</c>, <c>1E-05f</c>, <c>-0.5f</c>).
    /// </summary>
    public static string Float(float value)
    {
        if (float.IsNaN(value) || float.IsInfinity(value))
        {
            return float.IsNaN(value) ? "float.NaN" : value > 0 ? "float.PositiveInfinity" : "float.NegativeInfinity";
        }

        string text = value.ToString("R", CultureInfo.InvariantCulture);
        return text + "f";
    }

    /// <summary>"+ 3", "- 2" or "" for 0: a constant term appended to an index expression.</summary>
    public static string Offset(int value) => value switch
    {
        0 => "",
        > 0 => " + " + value.ToString(CultureInfo.InvariantCulture),
        _ => " - " + (-(long)value).ToString(CultureInfo.InvariantCulture),
    };
}
