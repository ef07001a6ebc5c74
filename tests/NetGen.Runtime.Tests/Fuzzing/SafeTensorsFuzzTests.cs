using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using NetGen.Weights;
using Xunit;
using Xunit.Abstractions;

namespace NetGen.Runtime.Tests.Fuzzing;

/// <summary>
/// Seeded random mutations of a valid safetensors file written by <see cref="SafeTensors.Save"/>: raw bytes,
/// the 8-byte header length, and the JSON header as text and as structure. Every
/// <see cref="SafeTensors.Load"/> must either succeed — then an independent check of the file says it is valid
/// and every slot holds exactly the bits at the file's offsets for that name — or throw exactly
/// <see cref="InvalidDataException"/> naming the file, with the destination bit-identical to its prior
/// contents and the independent check saying the file is invalid. Any other exception, or a case running longer
/// than <see cref="FuzzRunner.CaseTimeout"/>, fails with the seed and the mutations.
/// </summary>
public sealed class SafeTensorsFuzzTests : IDisposable
{
    // Four tensors with holes between them in a 36-float vector; conv.bias and fc.bias share a shape.
    private static readonly TensorSlot[] Layout =
    [
        new("conv.weight", [2, 1, 3, 3], 0),
        new("conv.bias", [2], 20),
        new("fc.weight", [2, 4], 22),
        new("fc.bias", [2], 32),
    ];

    private const int ParameterCount = 36;

    private static readonly string[] Keys = ["dtype", "shape", "data_offsets", SafeTensors.MetadataKey, "format", "F32"];

    private static readonly string[] NumberLiterals =
    [
        "-1", "0", "00", "01", "-0", "1.0", "2e0", "1e400", "4294967296", "9223372036854775807", "9223372036854775808",
        "18446744073709551616", "99999999999999999999999999", "0x10", "+4", "Infinity", "NaN", "\"8\"", "null", "[]", "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]",
    ];

    private static readonly string[] Dtypes = ["\"F16\"", "\"BF16\"", "\"F64\"", "\"f32\"", "\"F32 \"", "\"I32\"", "\"\"", "32", "null", "[\"F32\"]", "{}", "\"F\\u00332\""];

    private static readonly byte[][] Tokens =
    [
        .. new[] { ",", ":", "null", "true", "{}", "[]", "\"\"", "\"x\":1,", "\\", "\\u0000", "\"\\uD800\"", " ", "\n\t", "/*c*/", "//", "-", "1", new string('[', 20), new string('{', 20) }
            .Select(Encoding.UTF8.GetBytes),
        [0xC3, 0xA9], [0xFF], [0xC3], [0x00], [0x01], [0xEF, 0xBB, 0xBF], [0xED, 0xA0, 0x80],
    ];

    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Indented = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };

    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _dir = new();
    private readonly byte[] _file;
    private readonly byte[] _header;
    private readonly byte[] _data;

    public SafeTensorsFuzzTests(ITestOutputHelper output)
    {
        _output = output;
        string path = _dir.File("valid.safetensors");
        SafeTensors.Save(path, SavedParameters(), Layout, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "fuzz" });
        _file = File.ReadAllBytes(path);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(_file);
        _header = _file[8..(8 + headerLength)];
        _data = _file[(8 + headerLength)..];
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_unmutated_file_is_valid()
    {
        float[] parameters = Sentinel();

        FuzzOutcome outcome = LoadAndCheck(new Mutator(0), _file);

        Assert.Equal(FuzzOutcome.Accepted, outcome);
        Assert.Null(ReferenceCheck(_file, out _, out _));
        SafeTensors.Load(_dir.File("valid.safetensors"), parameters, Layout);
        float[] saved = SavedParameters();
        foreach (TensorSlot slot in Layout)
        {
            Assert.True(Bits(parameters.AsSpan(slot.Offset, slot.Length)).SequenceEqual(Bits(saved.AsSpan(slot.Offset, slot.Length))));
        }
    }

    [Fact]
    public Task Byte_mutations_are_loaded_or_rejected_leaving_the_parameters_unchanged() =>
        FuzzRunner.RunAsync("safetensors bytes", 50_000, m =>
        {
            byte[] file = _file;
            int steps = m.Between(1, 3);
            for (int i = 0; i < steps; i++)
            {
                file = m.Chance(0.2) ? SetHeaderLength(m, file) : m.MutateBytes(file, "file");
            }

            return LoadAndCheck(m, file);
        }, _output);

    [Fact]
    public Task Header_mutations_are_loaded_or_rejected_leaving_the_parameters_unchanged() =>
        FuzzRunner.RunAsync("safetensors header", 60_000, m =>
        {
            byte[] header = _header, data = _data;
            int steps = m.Between(1, 3);
            for (int i = 0; i < steps; i++)
            {
                (header, data) = m.Random.Next(11) switch
                {
                    0 => (MutateDigits(m, header), data),
                    1 => (MutateQuotes(m, header), data),
                    2 => (MutatePunctuation(m, header), data),
                    3 => (RenameKey(m, header), data),
                    4 => (ChangeDtype(m, header), data),
                    5 => (InsertToken(m, header), data),
                    6 => (m.MutateBytes(header, "header"), data),
                    _ => MutateStructure(m, header, data),
                };
            }

            ulong declared = (ulong)header.Length;
            if (m.Chance(0.1))
            {
                declared = (ulong)_header.Length;
                m.Note($"header length left at {declared}");
            }

            byte[] file = [.. LittleEndian(declared), .. header, .. data];
            return LoadAndCheck(m, m.Chance(0.15) ? SetHeaderLength(m, file) : file);
        }, _output);

    // ---- Mutations ----------------------------------------------------------------------------------------

    /// <summary>Sets the 8-byte header length to an edge value: off by a little, the file's size, the limits, huge.</summary>
    private static byte[] SetHeaderLength(Mutator m, byte[] file)
    {
        if (file.Length < 8)
        {
            return m.MutateBytes(file, "file");
        }

        ulong current = BinaryPrimitives.ReadUInt64LittleEndian(file);
        ulong rest = (ulong)file.Length - 8;
        ulong[] values =
        [
            0, 1, 2, 7, current - 1, current + 1, current - 8, current + 8, rest, rest + 1, rest - 1,
            100_000_000, 100_000_001, int.MaxValue, (ulong)int.MaxValue + 1, 1UL << 32, (1UL << 32) + current,
            long.MaxValue, 1UL << 63, ulong.MaxValue, ((ulong)(uint)m.Random.Next() << 32) | (uint)m.Random.Next(),
        ];
        ulong value = m.Pick(values);
        m.Note($"header length = {value} (0x{value:X16})");
        return [.. LittleEndian(value), .. file.AsSpan(8)];
    }

    private static byte[] MutateDigits(Mutator m, byte[] header)
    {
        int[] digits = PositionsOf(header, b => b is >= (byte)'0' and <= (byte)'9');
        if (digits.Length == 0)
        {
            return InsertToken(m, header);
        }

        int at = m.Pick(digits);
        switch (m.Random.Next(4))
        {
            case 0:
                byte digit = (byte)('0' + m.Random.Next(10));
                m.Note(Mutator.Invariant($"header: digit at {at} '{(char)header[at]}' → '{(char)digit}'"));
                return Mutator.Splice(header, at, 1, [digit]);
            case 1:
                m.Note(Mutator.Invariant($"header: delete digit '{(char)header[at]}' at {at}"));
                return Mutator.Splice(header, at, 1, []);
            case 2:
                byte extra = (byte)('0' + m.Random.Next(10));
                m.Note(Mutator.Invariant($"header: insert digit '{(char)extra}' at {at}"));
                return Mutator.Splice(header, at, 0, [extra]);
            default:
                int start = at, end = at + 1;
                while (start > 0 && IsNumberByte(header[start - 1]))
                {
                    start--;
                }

                while (end < header.Length && IsNumberByte(header[end]))
                {
                    end++;
                }

                string literal = m.Pick(NumberLiterals);
                m.Note(Mutator.Invariant($"header: number {Mutator.Printable(header.AsSpan(start, end - start))} at {start} → {literal}"));
                return Mutator.Splice(header, start, end - start, Encoding.UTF8.GetBytes(literal));
        }
    }

    private static byte[] MutateQuotes(Mutator m, byte[] header)
    {
        int[] quotes = PositionsOf(header, b => b == (byte)'"');
        if (quotes.Length == 0)
        {
            return InsertToken(m, header);
        }

        int at = m.Pick(quotes);
        switch (m.Random.Next(4))
        {
            case 0:
                m.Note(Mutator.Invariant($"header: delete quote at {at}"));
                return Mutator.Splice(header, at, 1, []);
            case 1:
                m.Note(Mutator.Invariant($"header: double the quote at {at}"));
                return Mutator.Splice(header, at, 0, [(byte)'"']);
            case 2:
                m.Note(Mutator.Invariant($"header: quote at {at} → '"));
                return Mutator.Splice(header, at, 1, [(byte)'\'']);
            default:
                int to = m.Random.Next(header.Length + 1);
                m.Note(Mutator.Invariant($"header: insert a quote at {to}"));
                return Mutator.Splice(header, to, 0, [(byte)'"']);
        }
    }

    private static byte[] MutatePunctuation(Mutator m, byte[] header)
    {
        const string Punctuation = "{}[],:";
        int[] positions = PositionsOf(header, b => Punctuation.Contains((char)b, StringComparison.Ordinal));
        if (positions.Length == 0)
        {
            return InsertToken(m, header);
        }

        int at = m.Pick(positions);
        byte other = (byte)Punctuation[m.Random.Next(Punctuation.Length)];
        switch (m.Random.Next(4))
        {
            case 0:
                m.Note(Mutator.Invariant($"header: delete '{(char)header[at]}' at {at}"));
                return Mutator.Splice(header, at, 1, []);
            case 1:
                m.Note(Mutator.Invariant($"header: double '{(char)header[at]}' at {at}"));
                return Mutator.Splice(header, at, 0, [header[at]]);
            case 2:
                m.Note(Mutator.Invariant($"header: '{(char)header[at]}' at {at} → '{(char)other}'"));
                return Mutator.Splice(header, at, 1, [other]);
            default:
                int to = m.Random.Next(header.Length + 1);
                m.Note(Mutator.Invariant($"header: insert '{(char)other}' at {to}"));
                return Mutator.Splice(header, to, 0, [other]);
        }
    }

    /// <summary>Renames one occurrence of a tensor name or a known key: to another name, the reserved key, empty, escaped, invalid…</summary>
    private static byte[] RenameKey(Mutator m, byte[] header)
    {
        var occurrences = new List<(int At, string Name)>();
        foreach (string name in Layout.Select(s => s.Name).Concat(Keys))
        {
            byte[] quoted = Encoding.UTF8.GetBytes($"\"{name}\"");
            for (int i = header.AsSpan().IndexOf(quoted); i >= 0;)
            {
                occurrences.Add((i + 1, name));
                int next = header.AsSpan(i + 1).IndexOf(quoted);
                i = next < 0 ? -1 : i + 1 + next;
            }
        }

        if (occurrences.Count == 0)
        {
            return InsertToken(m, header);
        }

        (int at, string old) = m.Pick(occurrences);
        string[] candidates =
        [
            m.Pick(Layout).Name, SafeTensors.MetadataKey, "", old + "x", old[..^1], old.ToUpperInvariant(), old + " ",
            old.Replace(".", "\\u002E", StringComparison.Ordinal).Replace("_", "\\u005F", StringComparison.Ordinal), // the same name, escaped: still valid
            old + "\\uD800", old + "\\q", old + "\u00e9", old + "\u0001", "dtype", "shape", "data_offsets",
        ];
        string replacement = m.Pick(candidates);
        m.Note(Mutator.Invariant($"header: rename \"{old}\" at {at} → \"{replacement}\""));
        return Mutator.Splice(header, at, Encoding.UTF8.GetByteCount(old), Encoding.UTF8.GetBytes(replacement));
    }

    private static byte[] ChangeDtype(Mutator m, byte[] header)
    {
        byte[] f32 = "\"F32\""u8.ToArray();
        int[] positions = Enumerable.Range(0, header.Length).Where(i => header.AsSpan(i).StartsWith(f32)).ToArray();
        if (positions.Length == 0)
        {
            return InsertToken(m, header);
        }

        int at = m.Pick(positions);
        string dtype = m.Pick(Dtypes);
        m.Note(Mutator.Invariant($"header: dtype at {at} → {dtype}"));
        return Mutator.Splice(header, at, f32.Length, Encoding.UTF8.GetBytes(dtype));
    }

    private static byte[] InsertToken(Mutator m, byte[] header)
    {
        byte[] token = m.Pick(Tokens);
        int at = m.Chance(0.2) ? m.Pick([0, header.Length]) : m.Random.Next(header.Length + 1);
        m.Note(Mutator.Invariant($"header: insert {Mutator.Printable(token)} at {at}"));
        return Mutator.Splice(header, at, 0, token);
    }

    /// <summary>A change of the parsed header (some keep the file valid), re-serialized; falls back to a text mutation when the header is not JSON any more.</summary>
    private static (byte[] Header, byte[] Data) MutateStructure(Mutator m, byte[] header, byte[] data)
    {
        try
        {
            return MutateParsedHeader(m, header, data);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            // JsonNode reads names and strings lazily: duplicate keys or a lone surrogate surface only here.
            m.Note("structure: not applied, the header has duplicate keys or invalid strings");
            return (InsertToken(m, header), data);
        }
    }

    private static (byte[] Header, byte[] Data) MutateParsedHeader(Mutator m, byte[] header, byte[] data)
    {
        JsonObject? root = JsonNode.Parse(header) as JsonObject;
        string[] tensors = root?.Where(p => p.Key != SafeTensors.MetadataKey && p.Value is JsonObject).Select(p => p.Key).ToArray() ?? [];
        if (root is null || tensors.Length == 0)
        {
            return (InsertToken(m, header), data);
        }

        string name = m.Pick(tensors);
        JsonObject entry = (JsonObject)root[name]!;
        bool indented = false;
        switch (m.Random.Next(12))
        {
            case 0:
                root.Remove(name);
                m.Note($"structure: remove tensor {name}");
                break;
            case 1:
                root["extra"] = new JsonObject { ["dtype"] = "F32", ["shape"] = new JsonArray(1), ["data_offsets"] = new JsonArray(data.Length, data.Length + 4) };
                data = [.. data, 0, 0, 0x80, 0x3F];
                m.Note("structure: add tensor extra [1] after the data");
                break;
            case 2:
            {
                // Same-shape tensors trade places: still valid, each must then load from the other's bytes.
                string other = m.Pick(tensors);
                (JsonNode? a, JsonNode? b) = (entry["data_offsets"]?.DeepClone(), root[other]?["data_offsets"]?.DeepClone());
                entry["data_offsets"] = b;
                ((JsonObject)root[other]!)["data_offsets"] = a;
                m.Note($"structure: swap data_offsets of {name} and {other}");
                break;
            }

            case 3:
            {
                var reordered = root.OrderBy(_ => m.Random.Next()).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())).ToList();
                root = new JsonObject(reordered);
                indented = m.Chance(0.5);
                m.Note($"structure: reorder entries ({string.Join(", ", reordered.Select(p => p.Key))}){(indented ? ", indented" : "")}");
                break;
            }

            case 4:
                EditArray(m, entry, name, "shape");
                break;
            case 5:
            case 6:
                EditArray(m, entry, name, "data_offsets");
                break;
            case 7:
            {
                string field = m.Pick(["dtype", "shape", "data_offsets", "extra"]);
                JsonNode? value = m.Pick<JsonNode?>([null, JsonValue.Create(1), new JsonArray(), new JsonObject(), JsonValue.Create("F32")]);
                if (m.Chance(0.4) && entry.ContainsKey(field))
                {
                    entry.Remove(field);
                    m.Note($"structure: {name}: remove {field}");
                }
                else
                {
                    entry[field] = value;
                    m.Note($"structure: {name}: {field} = {value?.ToJsonString() ?? "null"}");
                }

                break;
            }

            case 8:
            {
                JsonNode? value = m.Pick<JsonNode?>([null, JsonValue.Create(0), JsonValue.Create("x"), new JsonArray(), new JsonObject { ["a"] = new JsonObject() }, new JsonObject { ["k"] = 1 }]);
                if (m.Chance(0.3))
                {
                    root.Remove(SafeTensors.MetadataKey);
                    m.Note("structure: remove __metadata__");
                }
                else if (m.Chance(0.3) && root[SafeTensors.MetadataKey] is JsonObject metadata)
                {
                    metadata["added"] = "value";
                    m.Note("structure: add a metadata string");
                }
                else
                {
                    root[SafeTensors.MetadataKey] = value;
                    m.Note($"structure: __metadata__ = {value?.ToJsonString() ?? "null"}");
                }

                break;
            }

            case 9:
            {
                // Store the tensors in another order in the data buffer, with offsets to match: still valid.
                var moved = tensors.OrderBy(_ => m.Random.Next()).ToArray();
                var newData = new List<byte>();
                foreach (string t in moved)
                {
                    JsonNode offsets = root[t]!["data_offsets"]!;
                    if (offsets is not JsonArray { Count: 2 } pair || !TryGetInt(pair[0], out int begin) || !TryGetInt(pair[1], out int end) || begin > end || end > data.Length)
                    {
                        m.Note($"structure: reorder the data buffer skipped ({t} has unusable offsets)");
                        return (RenderRoot(root, indented), data);
                    }

                    root[t]!["data_offsets"] = new JsonArray(newData.Count, newData.Count + end - begin);
                    newData.AddRange(data.AsSpan(begin, end - begin).ToArray());
                }

                data = [.. newData];
                m.Note($"structure: data buffer reordered as {string.Join(", ", moved)}");
                break;
            }

            case 10:
            {
                string padding = m.Pick(["        ", "\n", "\t\t", "\r\n   ", "\0\0", " \u00a0"]);
                m.Note($"structure: pad the header with {Mutator.Printable(Encoding.UTF8.GetBytes(padding))}");
                return ([.. RenderRoot(root, indented), .. Encoding.UTF8.GetBytes(padding)], data);
            }

            default:
                indented = true;
                m.Note("structure: re-serialize indented");
                break;
        }

        return (RenderRoot(root, indented), data);
    }

    private static void EditArray(Mutator m, JsonObject entry, string name, string field)
    {
        if (entry[field] is not JsonArray array || array.Count == 0)
        {
            entry[field] = new JsonArray(0, 4);
            m.Note($"structure: {name}: {field} = [0, 4]");
            return;
        }

        int i = m.Random.Next(array.Count);
        long value = TryGetInt(array[i], out int v) ? v : 0;
        JsonNode? replacement = m.Random.Next(11) switch
        {
            0 => JsonValue.Create(value + 1),
            1 => JsonValue.Create(value - 1),
            2 => JsonValue.Create(value + 4),
            3 => JsonValue.Create(value - 4),
            4 => JsonValue.Create(0),
            5 => JsonValue.Create(long.MaxValue),
            6 => JsonValue.Create(-4),
            7 => JsonValue.Create(value + 0.5),
            8 => JsonValue.Create(value.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            9 => null,
            _ => new JsonArray(value),
        };

        switch (m.Random.Next(5))
        {
            case 0:
                array.Add(JsonValue.Create(value));
                m.Note($"structure: {name}: append {value} to {field}");
                break;
            case 1:
                array.RemoveAt(i);
                m.Note($"structure: {name}: remove {field}[{i}]");
                break;
            default:
                array[i] = replacement;
                m.Note($"structure: {name}: {field}[{i}] = {replacement?.ToJsonString() ?? "null"}");
                break;
        }
    }

    private static bool TryGetInt(JsonNode? node, out int value)
    {
        value = 0;
        return node is JsonValue v && v.TryGetValue(out value);
    }

    private static byte[] RenderRoot(JsonObject root, bool indented) =>
        Encoding.UTF8.GetBytes(root.ToJsonString(indented ? Indented : Compact));

    // ---- Checks -------------------------------------------------------------------------------------------

    private FuzzOutcome LoadAndCheck(Mutator m, byte[] file)
    {
        string path = _dir.File(Mutator.Invariant($"case-{m.Seed}.safetensors"));
        File.WriteAllBytes(path, file);
        string? invalid = ReferenceCheck(file, out Dictionary<string, (long Begin, long End)> offsets, out Dictionary<string, string> metadata);
        float[] parameters = Sentinel();
        try
        {
            SafeTensors.Load(path, parameters, Layout);
        }
        catch (InvalidDataException e)
        {
            if (e.GetType() != typeof(InvalidDataException))
            {
                throw new FuzzViolation($"threw {e.GetType().FullName}, not exactly InvalidDataException: {e.Message}");
            }

            if (!e.Message.StartsWith(path + ": ", StringComparison.Ordinal))
            {
                throw new FuzzViolation($"the message does not start with the path: {e.Message}");
            }

            if (!Bits(parameters).SequenceEqual(Bits(Sentinel())))
            {
                int first = Enumerable.Range(0, ParameterCount).First(i => BitConverter.SingleToInt32Bits(parameters[i]) != BitConverter.SingleToInt32Bits(Sentinel()[i]));
                throw new FuzzViolation($"rejected ({e.Message}) but changed the parameters, first at index {first}");
            }

            if (invalid is null)
            {
                throw new FuzzViolation($"a valid file was rejected: {e.Message}");
            }

            CheckReadMetadata(path, null);
            return FuzzOutcome.Rejected;
        }

        if (invalid is not null)
        {
            throw new FuzzViolation($"accepted although {invalid}");
        }

        float[] sentinel = Sentinel();
        int dataStart = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var expected = (float[])sentinel.Clone();
        foreach (TensorSlot slot in Layout)
        {
            (long begin, _) = offsets[slot.Name];
            for (int i = 0; i < slot.Length; i++)
            {
                expected[slot.Offset + i] = BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan(dataStart + (int)begin + 4 * i, 4));
            }
        }

        if (!Bits(parameters).SequenceEqual(Bits(expected)))
        {
            int first = Enumerable.Range(0, ParameterCount).First(i => BitConverter.SingleToInt32Bits(parameters[i]) != BitConverter.SingleToInt32Bits(expected[i]));
            string where = Layout.FirstOrDefault(s => first >= s.Offset && first < s.End)?.Name ?? "outside every slot";
            throw new FuzzViolation($"loaded parameter {first} ({where}) = {parameters[first]}, the file holds {expected[first]}");
        }

        CheckReadMetadata(path, metadata);
        File.Delete(path);
        return FuzzOutcome.Accepted;
    }

    /// <summary>ReadMetadata reads the same header: it may only throw InvalidDataException, and must return the metadata of a valid file.</summary>
    private static void CheckReadMetadata(string path, Dictionary<string, string>? expected)
    {
        IReadOnlyDictionary<string, string> metadata;
        try
        {
            metadata = SafeTensors.ReadMetadata(path);
        }
        catch (InvalidDataException e) when (e.GetType() == typeof(InvalidDataException))
        {
            if (expected is not null)
            {
                throw new FuzzViolation($"Load accepted the file but ReadMetadata rejected it: {e.Message}");
            }

            return;
        }

        if (expected is not null && !metadata.OrderBy(p => p.Key, StringComparer.Ordinal).SequenceEqual(expected.OrderBy(p => p.Key, StringComparer.Ordinal)))
        {
            throw new FuzzViolation($"ReadMetadata returned {{{string.Join(", ", metadata)}}}, the file holds {{{string.Join(", ", expected)}}}");
        }
    }

    /// <summary>
    /// The safetensors rules for <see cref="Layout"/>, checked independently of the reader with
    /// <see cref="JsonDocument"/>: null when the file is valid (with each tensor's offsets and the metadata), else why not.
    /// </summary>
    private static string? ReferenceCheck(byte[] file, out Dictionary<string, (long Begin, long End)> offsets, out Dictionary<string, string> metadata)
    {
        offsets = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (file.Length < 8)
        {
            return "the file is shorter than the header length";
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength < 2 || headerLength > SafeTensors.MaxHeaderLength || headerLength > (ulong)file.Length - 8)
        {
            return $"the header length {headerLength} is impossible";
        }

        long bufferLength = file.Length - 8 - (long)headerLength;
        try
        {
            using JsonDocument document = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return "the header is not an object";
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    return $"{property.Name} appears twice";
                }

                if (property.Name == SafeTensors.MetadataKey)
                {
                    if (property.Value.ValueKind == JsonValueKind.Null)
                    {
                        continue;
                    }

                    if (property.Value.ValueKind != JsonValueKind.Object)
                    {
                        return "the metadata is not an object";
                    }

                    foreach (JsonProperty pair in property.Value.EnumerateObject())
                    {
                        if (pair.Value.ValueKind != JsonValueKind.String || !metadata.TryAdd(pair.Name, pair.Value.GetString()!))
                        {
                            return $"metadata {pair.Name} is not a unique string";
                        }
                    }

                    continue;
                }

                TensorSlot? slot = Layout.FirstOrDefault(s => s.Name == property.Name);
                if (slot is null)
                {
                    return $"tensor '{property.Name}' is not in the layout";
                }

                string? bad = CheckEntry(property.Value, slot, bufferLength, out (long, long) range);
                if (bad is not null)
                {
                    return $"{slot.Name}: {bad}";
                }

                offsets[slot.Name] = range;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return "the header is not valid JSON: " + e.Message;
        }

        if (offsets.Count != Layout.Length)
        {
            return "a tensor is missing";
        }

        // The tensors must tile the data buffer exactly.
        long next = 0;
        foreach ((long begin, long end) in offsets.Values.OrderBy(r => r.Begin))
        {
            if (begin != next)
            {
                return $"the data buffer has a gap or an overlap at {begin}";
            }

            next = end;
        }

        return next == bufferLength ? null : $"the tensors cover {next} of the {bufferLength} data bytes";
    }

    private static string? CheckEntry(JsonElement entry, TensorSlot slot, long bufferLength, out (long Begin, long End) range)
    {
        range = default;
        if (entry.ValueKind != JsonValueKind.Object)
        {
            return "not an object";
        }

        string[] fields = entry.EnumerateObject().Select(p => p.Name).ToArray();
        if (fields.Length != 3 || !fields.Order(StringComparer.Ordinal).SequenceEqual(["data_offsets", "dtype", "shape"]))
        {
            return $"fields {string.Join(", ", fields)}";
        }

        JsonElement dtype = entry.GetProperty("dtype");
        if (dtype.ValueKind != JsonValueKind.String || dtype.GetString() != "F32")
        {
            return "dtype is not F32";
        }

        long[]? shape = Integers(entry.GetProperty("shape"));
        if (shape is null || !shape.SequenceEqual(slot.Shape.ToArray().Select(d => (long)d)))
        {
            return "wrong shape";
        }

        long[]? pair = Integers(entry.GetProperty("data_offsets"));
        if (pair is not { Length: 2 } || pair[1] < pair[0] || pair[1] > bufferLength || pair[1] - pair[0] != 4L * slot.Length)
        {
            return "bad data_offsets";
        }

        range = (pair[0], pair[1]);
        return null;
    }

    private static long[]? Integers(JsonElement array)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var values = new List<long>();
        foreach (JsonElement item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long value) || value < 0)
            {
                return null;
            }

            values.Add(value);
        }

        return [.. values];
    }

    // ---- Helpers ------------------------------------------------------------------------------------------

    /// <summary>The saved values: a ramp with −0, a subnormal, a NaN with payload and +∞ mixed in (compared bit for bit).</summary>
    private static float[] SavedParameters()
    {
        float[] values = Enumerable.Range(0, ParameterCount).Select(i => (i - 17.5f) * 0.125f).ToArray();
        values[3] = -0f;
        values[5] = float.Epsilon;
        values[23] = BitConverter.Int32BitsToSingle(0x7FC01234);
        values[33] = float.PositiveInfinity;
        return values;
    }

    /// <summary>The destination's prior contents: a pattern no load would write by chance.</summary>
    private static float[] Sentinel() =>
        Enumerable.Range(0, ParameterCount).Select(i => BitConverter.Int32BitsToSingle(unchecked((int)0xA5A50000) + i * 0x1357)).ToArray();

    private static int[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            bits[i] = BitConverter.SingleToInt32Bits(values[i]);
        }

        return bits;
    }

    private static byte[] LittleEndian(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    private static int[] PositionsOf(byte[] bytes, Func<byte, bool> predicate) =>
        Enumerable.Range(0, bytes.Length).Where(i => predicate(bytes[i])).ToArray();

    private static bool IsNumberByte(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'+' or (byte)'.' or (byte)'e' or (byte)'E';
}
