using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using NetGen.Generator.Model;

namespace NetGen.Generator.Weights;

/// <summary>
/// Reads a safetensors file at compile time: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each
/// tensor name to <c>{"dtype", "shape", "data_offsets"}</c> (plus an optional <c>__metadata__</c> object of strings),
/// then the tensors' little-endian bytes. F32, F16 and BF16 tensors are converted to floats exactly; I64 tensors
/// (counters) keep their exact values too (<see cref="NamedTensor.Integers"/>). It checks what baking needs: the header
/// length, the JSON, and each tensor's dtype, shape and offsets against the data. The runtime's loader is stricter in a
/// few respects this reader lets pass (unknown fields in a tensor's entry, repeated keys, headers over 100 MB), so such
/// a file bakes but <c>Load</c> refuses it.
/// </summary>
internal static class SafeTensorsReader
{
    /// <summary>The dtypes read, and their sizes in bytes.</summary>
    private static readonly Dictionary<string, int> Supported = new(StringComparer.Ordinal)
    {
        ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8,
    };

    /// <summary>The other dtypes of the format, by size, so that their offsets can still be checked.</summary>
    private static readonly Dictionary<string, int> Unsupported = new(StringComparer.Ordinal)
    {
        ["F64"] = 8, ["U64"] = 8, ["I32"] = 4, ["U32"] = 4, ["I16"] = 2, ["U16"] = 2,
        ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1, ["F8_E4M3"] = 1, ["F8_E5M2"] = 1,
    };

    /// <summary>
    /// Parses <paramref name="bytes"/>. Throws <see cref="FormatException"/> with a message saying what is wrong (header
    /// length, JSON, offsets, sizes) when the file is malformed; tensors of a dtype NetGen does not read are listed in
    /// <see cref="SafeTensorsContent.UnsupportedDtypes"/> rather than converted.
    /// </summary>
    public static SafeTensorsContent Read(byte[] bytes)
    {
        if (bytes.Length < 8)
        {
            throw Error($"the file is {bytes.Length} bytes, too short for the 8-byte header length");
        }

        ulong headerLength = BitConverter.ToUInt64(bytes, 0);
        if (!BitConverter.IsLittleEndian)
        {
            headerLength = Reverse(headerLength);
        }

        if (headerLength < 2 || headerLength > (ulong)(bytes.Length - 8))
        {
            throw Error($"bad header length {headerLength}: {bytes.Length - 8} bytes follow it (file truncated?)");
        }

        string json;
        try
        {
            json = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 8, (int)headerLength);
        }
        catch (ArgumentException)
        {
            throw Error("the header is not valid UTF-8");
        }

        int dataStart = 8 + (int)headerLength;
        long dataLength = bytes.Length - dataStart;
        var parser = new JsonParser(json);
        object? root = parser.ParseDocument();
        if (root is not List<KeyValuePair<string, object?>> members)
        {
            throw Error("the header is not a JSON object");
        }

        var tensors = new List<NamedTensor>();
        var dtypes = new List<string>();
        var unsupported = new List<string>();
        var metadata = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var spans = new List<(long Begin, long End, string Name)>();
        foreach (KeyValuePair<string, object?> member in members)
        {
            if (!names.Add(member.Key))
            {
                throw Error($"'{member.Key}' appears twice in the header");
            }

            if (member.Key == "__metadata__")
            {
                if (member.Value is not List<KeyValuePair<string, object?>> pairs || pairs.Any(p => p.Value is not string))
                {
                    throw Error("__metadata__ is not an object of strings");
                }

                metadata.AddRange(pairs.SelectMany(p => new[] { p.Key, (string)p.Value! }));
                continue;
            }

            (NamedTensor? tensor, string dtype, long begin, long end) = ReadTensor(member.Key, member.Value, bytes, dataStart, dataLength);
            spans.Add((begin, end, member.Key));
            if (tensor is null)
            {
                unsupported.Add(member.Key + ": " + dtype);
            }
            else
            {
                tensors.Add(tensor);
                dtypes.Add(dtype);
            }
        }

        // The tensors tile the data buffer exactly: no overlap, no gap, no trailing bytes.
        spans.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        for (int i = 0; i < spans.Count; i++)
        {
            if (i > 0 && spans[i].Begin < spans[i - 1].End)
            {
                throw Error($"the data of '{spans[i].Name}' overlaps that of '{spans[i - 1].Name}'");
            }

            covered += spans[i].End - spans[i].Begin;
        }

        if (covered != dataLength)
        {
            throw Error($"the data buffer is {dataLength} bytes but the tensors cover {covered}: gaps or trailing bytes");
        }

        return new SafeTensorsContent(tensors.ToEquatableArray(), dtypes.ToEquatableArray(), unsupported.ToEquatableArray(), metadata.ToEquatableArray());
    }

    private static (NamedTensor? Tensor, string Dtype, long Begin, long End) ReadTensor(
        string name, object? value, byte[] bytes, int dataStart, long dataLength)
    {
        if (value is not List<KeyValuePair<string, object?>> fields)
        {
            throw Error($"'{name}' is not an object with dtype, shape and data_offsets");
        }

        object? Field(string key) => fields.FirstOrDefault(f => f.Key == key).Value
            ?? throw Error($"'{name}' has no {key}");

        if (Field("dtype") is not string dtype)
        {
            throw Error($"'{name}': dtype is not a string");
        }

        var shape = new List<int>();
        long count = 1;
        foreach (object? d in Field("shape") as List<object?> ?? throw Error($"'{name}': shape is not an array"))
        {
            if (d is not long dimension || dimension < 0 || dimension > int.MaxValue)
            {
                throw Error($"'{name}': shape holds {d ?? "null"}, not a dimension");
            }

            shape.Add((int)dimension);
            count = checked(count * dimension);
        }

        if (Field("data_offsets") is not List<object?> { Count: 2 } offsets || offsets[0] is not long begin || offsets[1] is not long end)
        {
            throw Error($"'{name}': data_offsets is not an array of two integers");
        }

        if (begin < 0 || end < begin || end > dataLength)
        {
            throw Error($"'{name}': data_offsets [{begin}, {end}] are outside the {dataLength}-byte data buffer (file truncated?)");
        }

        if (!Supported.TryGetValue(dtype, out int size))
        {
            if (Unsupported.TryGetValue(dtype, out int otherSize) && end - begin != otherSize * count)
            {
                throw Error($"'{name}': data_offsets [{begin}, {end}] span {end - begin} bytes, shape {Shape(shape)} of {dtype} needs {otherSize * count}");
            }

            return (null, dtype, begin, end);
        }

        if (end - begin != size * count)
        {
            throw Error($"'{name}': data_offsets [{begin}, {end}] span {end - begin} bytes, shape {Shape(shape)} of {dtype} needs {size * count}");
        }

        var values = new float[count];
        int at = dataStart + (int)begin;
        for (int i = 0; i < values.Length; i++, at += size)
        {
            values[i] = dtype switch
            {
                "F32" => BitConverter.IsLittleEndian ? BitConverter.ToSingle(bytes, at) : BitConverter.ToSingle(LittleEndian(bytes, at, 4), 0),
                "F16" => HalfToSingle((ushort)(bytes[at] | bytes[at + 1] << 8)),
                "BF16" => BitConverter.ToSingle(BitConverter.GetBytes((bytes[at] | bytes[at + 1] << 8) << 16), 0),
                _ => BitConverter.IsLittleEndian ? BitConverter.ToInt64(bytes, at) : BitConverter.ToInt64(LittleEndian(bytes, at, 8), 0),
            };
        }

        var tensor = new NamedTensor(name, shape.ToEquatableArray(), values.ToEquatableArray());
        if (dtype == "I64")
        {
            var integers = new long[count];
            at = dataStart + (int)begin;
            for (int i = 0; i < integers.Length; i++, at += size)
            {
                integers[i] = BitConverter.IsLittleEndian ? BitConverter.ToInt64(bytes, at) : BitConverter.ToInt64(LittleEndian(bytes, at, 8), 0);
            }

            tensor = tensor with { Integers = integers.ToEquatableArray() };
        }

        return (tensor, dtype, begin, end);
    }

    /// <summary>The <paramref name="size"/> bytes at <paramref name="at"/> reversed into a big-endian machine's order.</summary>
    private static byte[] LittleEndian(byte[] bytes, int at, int size)
    {
        var copy = new byte[size];
        Array.Copy(bytes, at, copy, 0, size);
        if (!BitConverter.IsLittleEndian)
        {
            Array.Reverse(copy);
        }

        return copy;
    }

    /// <summary>An IEEE half to the float of the same value (netstandard2.0 has no System.Half).</summary>
    private static float HalfToSingle(ushort half)
    {
        int sign = (half >> 15) & 1, exponent = (half >> 10) & 0x1F, mantissa = half & 0x3FF;
        float magnitude = exponent switch
        {
            0 => mantissa * (1f / (1 << 24)),                                     // subnormal: m · 2^-24
            0x1F => mantissa == 0 ? float.PositiveInfinity : float.NaN,
            _ => (1f + mantissa / 1024f) * (float)Math.Pow(2, exponent - 15),   // exact: 11 significant bits
        };
        return sign == 1 ? -magnitude : magnitude;
    }

    private static ulong Reverse(ulong value)
    {
        ulong result = 0;
        for (int i = 0; i < 8; i++, value >>= 8)
        {
            result = (result << 8) | (value & 0xFF);
        }

        return result;
    }

    private static string Shape(List<int> shape) => "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    private static FormatException Error(FormattableString message) => new(message.ToString(CultureInfo.InvariantCulture));

    private static FormatException Error(string message) => new(message);

    /// <summary>
    /// A minimal JSON reader for the header: objects (as ordered member lists), arrays, strings with escapes, integers
    /// (as longs), other numbers (as doubles), true, false and null.
    /// </summary>
    private sealed class JsonParser(string text)
    {
        private int _at;
        private int _depth;

        public object? ParseDocument()
        {
            object? value = Value();
            SkipSpace();
            if (_at < text.Length)
            {
                throw Fail("content after the JSON object");
            }

            return value;
        }

        private object? Value()
        {
            SkipSpace();
            if (_at >= text.Length)
            {
                throw Fail("unexpected end");
            }

            char c = text[_at];
            switch (c)
            {
                case '{':
                    return Nested(Object);
                case '[':
                    return Nested(Array);
                case '"':
                    return String();
                case 't':
                    return Word("true", true);
                case 'f':
                    return Word("false", false);
                case 'n':
                    return Word("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9'))
                    {
                        return Number();
                    }

                    throw Fail($"unexpected '{c}'");
            }
        }

        private object Nested(Func<object> parse)
        {
            if (++_depth > 16)
            {
                throw Fail("nested too deeply");
            }

            object value = parse();
            _depth--;
            return value;
        }

        private object Object()
        {
            var members = new List<KeyValuePair<string, object?>>();
            _at++;
            SkipSpace();
            if (Peek('}'))
            {
                return members;
            }

            while (true)
            {
                SkipSpace();
                if (_at >= text.Length || text[_at] != '"')
                {
                    throw Fail("expected a member name");
                }

                string key = String();
                SkipSpace();
                Expect(':');
                members.Add(new KeyValuePair<string, object?>(key, Value()));
                SkipSpace();
                if (Peek('}'))
                {
                    return members;
                }

                Expect(',');
            }
        }

        private object Array()
        {
            var items = new List<object?>();
            _at++;
            SkipSpace();
            if (Peek(']'))
            {
                return items;
            }

            while (true)
            {
                items.Add(Value());
                SkipSpace();
                if (Peek(']'))
                {
                    return items;
                }

                Expect(',');
            }
        }

        private string String()
        {
            var sb = new StringBuilder();
            _at++;
            while (true)
            {
                if (_at >= text.Length)
                {
                    throw Fail("unterminated string");
                }

                char c = text[_at++];
                if (c == '"')
                {
                    return sb.ToString();
                }

                if (c < ' ')
                {
                    throw Fail("control character in a string");
                }

                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }

                if (_at >= text.Length)
                {
                    throw Fail("unterminated string");
                }

                char e = text[_at++];
                switch (e)
                {
                    case '"': case '\\': case '/': sb.Append(e); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (_at + 4 > text.Length || !int.TryParse(text.Substring(_at, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                        {
                            throw Fail("bad \\u escape");
                        }

                        sb.Append((char)code);
                        _at += 4;
                        break;
                    default:
                        throw Fail($"bad escape '\\{e}'");
                }
            }
        }

        private object Number()
        {
            int start = _at;
            while (_at < text.Length && "+-0123456789.eE".IndexOf(text[_at]) >= 0)
            {
                _at++;
            }

            string token = text.Substring(start, _at - start);
            if (long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
            {
                return integer;
            }

            if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double real))
            {
                return real;
            }

            throw Fail($"bad number '{token}'");
        }

        private object? Word(string word, object? value)
        {
            if (string.CompareOrdinal(text, _at, word, 0, word.Length) != 0)
            {
                throw Fail("unexpected token");
            }

            _at += word.Length;
            return value;
        }

        private bool Peek(char c)
        {
            if (_at < text.Length && text[_at] == c)
            {
                _at++;
                return true;
            }

            return false;
        }

        private void Expect(char c)
        {
            if (!Peek(c))
            {
                throw Fail(_at < text.Length ? $"expected '{c}' but found '{text[_at]}'" : $"expected '{c}' but the header ends");
            }
        }

        private void SkipSpace()
        {
            while (_at < text.Length && text[_at] is ' ' or '\t' or '\n' or '\r')
            {
                _at++;
            }
        }

        private FormatException Fail(string message) =>
            new(string.Format(CultureInfo.InvariantCulture, "the header is not valid JSON: {0} at character {1}", message, _at));
    }
}

/// <summary>
/// What a safetensors file holds: its tensors converted to floats with each one's dtype (in file order), the tensors of
/// a dtype NetGen does not read (<c>name: dtype</c>), and the metadata (key, value, key, value, … in file order).
/// </summary>
internal sealed record SafeTensorsContent(
    EquatableArray<NamedTensor> Tensors, EquatableArray<string> Dtypes, EquatableArray<string> UnsupportedDtypes, EquatableArray<string> Metadata);
