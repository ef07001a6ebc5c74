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
/// Seeded random mutations of valid safetensors files written by <see cref="SafeTensors"/>' <c>Save</c>: one of
/// parameters alone, one with BatchNorm buffers (F32) and an I64 counter besides. The mutations hit raw bytes, the
/// 8-byte header length, and the JSON header as text and as structure. Every <c>Load</c> must either succeed — then
/// an independent check of the file says it is valid and every slot of every vector holds exactly the bits at the
/// file's offsets for that name — or throw exactly <see cref="InvalidDataException"/> naming the file, with every
/// destination bit-identical to its prior contents and the independent check saying the file is invalid. Any other
/// exception, or a case running longer than <see cref="FuzzRunner.CaseTimeout"/>, fails with the seed and the
/// mutations.
/// </summary>
public sealed class SafeTensorsFuzzTests : IDisposable
{
    private static readonly string[] Keys = ["dtype", "shape", "data_offsets", SafeTensors.MetadataKey, "format", "F32", "I64"];

    private static readonly string[] NumberLiterals =
    [
        "-1", "0", "00", "01", "-0", "1.0", "2e0", "1e400", "4294967296", "9223372036854775807", "9223372036854775808",
        "18446744073709551616", "99999999999999999999999999", "0x10", "+4", "Infinity", "NaN", "\"8\"", "null", "[]", "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]",
    ];

    private static readonly string[] Dtypes =
    [
        "\"F16\"", "\"BF16\"", "\"F64\"", "\"f32\"", "\"F32 \"", "\"I32\"", "\"\"", "32", "null", "[\"F32\"]", "{}", "\"F\\u00332\"",
        "\"F32\"", "\"I64\"", "\"U64\"", "\"i64\"", "\"I\\u00364\"",
    ];

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

    /// <summary>Four parameter tensors with holes between them in a 36-float vector; conv.bias and fc.bias share a shape. Saved and loaded with the parameters-only overloads.</summary>
    private readonly Scenario _parameters;

    /// <summary>
    /// Five parameter tensors, two BatchNorm buffers and the I64 <c>num_batches_tracked</c> scalar, each vector with
    /// holes. The counter and bn.weight [2] both take 8 bytes, so swapping their data_offsets keeps the file valid.
    /// </summary>
    private readonly Scenario _buffers;

    public SafeTensorsFuzzTests(ITestOutputHelper output)
    {
        _output = output;
        _parameters = new Scenario(
            _dir.File("parameters.safetensors"),
            general: false,
            layout:
            [
                new("conv.weight", [2, 1, 3, 3], 0),
                new("conv.bias", [2], 20),
                new("fc.weight", [2, 4], 22),
                new("fc.bias", [2], 32),
            ],
            counts: [36, 0, 0],
            bufferLayout: [],
            counterLayout: []);
        _buffers = new Scenario(
            _dir.File("buffers.safetensors"),
            general: true,
            layout:
            [
                new("conv.weight", [2, 1, 3, 3], 0),
                new("bn.weight", [2], 18),
                new("bn.bias", [2], 20),
                new("fc.weight", [2, 4], 24),
                new("fc.bias", [2], 32),
            ],
            counts: [36, 6, 3],
            bufferLayout: [new("bn.running_mean", [2], 0), new("bn.running_var", [2], 3)],
            counterLayout: [new("bn.num_batches_tracked", [], 1)]);
    }

    public void Dispose() => _dir.Dispose();

    private Scenario Pick(string scenario) => scenario == "buffers" ? _buffers : _parameters;

    [Theory]
    [InlineData("parameters")]
    [InlineData("buffers")]
    public void The_unmutated_file_is_valid(string scenario)
    {
        Scenario s = Pick(scenario);

        FuzzOutcome outcome = LoadAndCheck(s, new Mutator(0), s.File);

        Assert.Equal(FuzzOutcome.Accepted, outcome);
        Assert.Null(ReferenceCheck(s, s.File, out _, out _));
        long[][] state = Sentinel(s);
        s.Load(s.Path, state);
        foreach (Tensor tensor in s.Tensors)
        {
            int k = (int)tensor.Kind;
            Assert.Equal(s.Saved[k].AsSpan(tensor.Slot.Offset, tensor.Slot.Length).ToArray(), state[k].AsSpan(tensor.Slot.Offset, tensor.Slot.Length).ToArray());
        }
    }

    [Fact]
    public Task Byte_mutations_are_loaded_or_rejected_leaving_the_parameters_unchanged() =>
        FuzzBytes(_parameters, "safetensors bytes", 50_000);

    [Fact]
    public Task Header_mutations_are_loaded_or_rejected_leaving_the_parameters_unchanged() =>
        FuzzHeader(_parameters, "safetensors header", 60_000);

    [Fact]
    public Task Byte_mutations_with_buffers_and_a_counter_are_loaded_or_rejected_leaving_all_vectors_unchanged() =>
        FuzzBytes(_buffers, "safetensors bytes, buffers and counter", 70_000);

    [Fact]
    public Task Header_mutations_with_buffers_and_a_counter_are_loaded_or_rejected_leaving_all_vectors_unchanged() =>
        FuzzHeader(_buffers, "safetensors header, buffers and counter", 80_000);

    private Task FuzzBytes(Scenario s, string name, int firstSeed) =>
        FuzzRunner.RunAsync(name, firstSeed, m =>
        {
            byte[] file = s.File;
            int steps = m.Between(1, 3);
            for (int i = 0; i < steps; i++)
            {
                file = m.Chance(0.2) ? SetHeaderLength(m, file) : m.MutateBytes(file, "file");
            }

            return LoadAndCheck(s, m, file);
        }, _output);

    private Task FuzzHeader(Scenario s, string name, int firstSeed) =>
        FuzzRunner.RunAsync(name, firstSeed, m =>
        {
            byte[] header = s.Header, data = s.Data;
            int steps = m.Between(1, 3);
            for (int i = 0; i < steps; i++)
            {
                (header, data) = m.Random.Next(11) switch
                {
                    0 => (MutateDigits(m, header), data),
                    1 => (MutateQuotes(m, header), data),
                    2 => (MutatePunctuation(m, header), data),
                    3 => (RenameKey(s, m, header), data),
                    4 => (ChangeDtype(m, header), data),
                    5 => (InsertToken(m, header), data),
                    6 => (m.MutateBytes(header, "header"), data),
                    _ => MutateStructure(m, header, data),
                };
            }

            ulong declared = (ulong)header.Length;
            if (m.Chance(0.1))
            {
                declared = (ulong)s.Header.Length;
                m.Note($"header length left at {declared}");
            }

            byte[] file = [.. LittleEndian(declared), .. header, .. data];
            return LoadAndCheck(s, m, m.Chance(0.15) ? SetHeaderLength(m, file) : file);
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
    private static byte[] RenameKey(Scenario s, Mutator m, byte[] header)
    {
        var occurrences = new List<(int At, string Name)>();
        foreach (string name in s.Tensors.Select(t => t.Slot.Name).Concat(Keys))
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
            m.Pick(s.Tensors).Slot.Name, SafeTensors.MetadataKey, "", old + "x", old[..^1], old.ToUpperInvariant(), old + " ",
            old.Replace(".", "\\u002E", StringComparison.Ordinal).Replace("_", "\\u005F", StringComparison.Ordinal), // the same name, escaped: still valid
            old + "\\uD800", old + "\\q", old + "\u00e9", old + "\u0001", "dtype", "shape", "data_offsets",
        ];
        string replacement = m.Pick(candidates);
        m.Note(Mutator.Invariant($"header: rename \"{old}\" at {at} → \"{replacement}\""));
        return Mutator.Splice(header, at, Encoding.UTF8.GetByteCount(old), Encoding.UTF8.GetBytes(replacement));
    }

    private static byte[] ChangeDtype(Mutator m, byte[] header)
    {
        // Both known dtypes are 5 bytes with their quotes.
        byte[] f32 = "\"F32\""u8.ToArray(), i64 = "\"I64\""u8.ToArray();
        int[] positions = Enumerable.Range(0, header.Length)
            .Where(i => header.AsSpan(i).StartsWith(f32) || header.AsSpan(i).StartsWith(i64)).ToArray();
        if (positions.Length == 0)
        {
            return InsertToken(m, header);
        }

        int at = m.Pick(positions);
        string dtype = m.Pick(Dtypes);
        m.Note(Mutator.Invariant($"header: dtype {Encoding.UTF8.GetString(header, at, f32.Length)} at {at} → {dtype}"));
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
                if (m.Chance(0.5))
                {
                    root["extra"] = new JsonObject { ["dtype"] = "F32", ["shape"] = new JsonArray(1), ["data_offsets"] = new JsonArray(data.Length, data.Length + 4) };
                    data = [.. data, 0, 0, 0x80, 0x3F];
                    m.Note("structure: add F32 tensor extra [1] after the data");
                }
                else
                {
                    root["extra.num_batches_tracked"] = new JsonObject { ["dtype"] = "I64", ["shape"] = new JsonArray(), ["data_offsets"] = new JsonArray(data.Length, data.Length + 8) };
                    data = [.. data, 7, 0, 0, 0, 0, 0, 0, 0];
                    m.Note("structure: add I64 tensor extra.num_batches_tracked [] after the data");
                }

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

    private FuzzOutcome LoadAndCheck(Scenario s, Mutator m, byte[] file)
    {
        string path = _dir.File(Mutator.Invariant($"case-{m.Seed}.safetensors"));
        File.WriteAllBytes(path, file);
        string? invalid = ReferenceCheck(s, file, out Dictionary<string, (long Begin, long End)> offsets, out Dictionary<string, string> metadata);
        long[][] state = Sentinel(s);
        try
        {
            s.Load(path, state);
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

            if (FirstDifference(s, state, Sentinel(s)) is string changed)
            {
                throw new FuzzViolation($"rejected ({e.Message}) but changed {changed}");
            }

            if (invalid is not null)
            {
                CheckReadMetadata(path, null);
                return FuzzOutcome.Rejected;
            }

            throw new FuzzViolation($"a valid file was rejected: {e.Message}");
        }

        if (invalid is not null)
        {
            throw new FuzzViolation($"accepted although {invalid}");
        }

        int dataStart = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        long[][] expected = Sentinel(s);
        foreach (Tensor tensor in s.Tensors)
        {
            (long begin, _) = offsets[tensor.Slot.Name];
            for (int i = 0; i < tensor.Slot.Length; i++)
            {
                ReadOnlySpan<byte> bytes = file.AsSpan(dataStart + (int)begin + tensor.ElementSize * i, tensor.ElementSize);
                expected[(int)tensor.Kind][tensor.Slot.Offset + i] = tensor.Kind == Kind.Counter
                    ? BinaryPrimitives.ReadInt64LittleEndian(bytes)
                    : BinaryPrimitives.ReadInt32LittleEndian(bytes);
            }
        }

        if (FirstDifference(s, state, expected) is string wrong)
        {
            throw new FuzzViolation($"loaded {wrong}");
        }

        CheckReadMetadata(path, metadata);
        File.Delete(path);
        return FuzzOutcome.Accepted;
    }

    /// <summary>Where <paramref name="actual"/> first differs from <paramref name="expected"/> (vector, index, tensor, values), or null.</summary>
    private static string? FirstDifference(Scenario s, long[][] actual, long[][] expected)
    {
        foreach (Kind kind in Enum.GetValues<Kind>())
        {
            int k = (int)kind;
            for (int i = 0; i < actual[k].Length; i++)
            {
                if (actual[k][i] != expected[k][i])
                {
                    string where = s.Tensors.FirstOrDefault(t => t.Kind == kind && i >= t.Slot.Offset && i < t.Slot.End)?.Slot.Name ?? "outside every slot";
                    return Mutator.Invariant(
                        $"{kind.ToString().ToLowerInvariant()} {i} ({where}) to {Show(kind, actual[k][i])}, expected {Show(kind, expected[k][i])}");
                }
            }
        }

        return null;
    }

    private static string Show(Kind kind, long bits) => kind == Kind.Counter
        ? bits.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : Mutator.Invariant($"{BitConverter.Int32BitsToSingle((int)bits)} (0x{(int)bits:X8})");

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
    /// The safetensors rules for the scenario's layouts, checked independently of the reader with
    /// <see cref="JsonDocument"/>: null when the file is valid (with each tensor's offsets and the metadata), else why not.
    /// </summary>
    private static string? ReferenceCheck(Scenario s, byte[] file, out Dictionary<string, (long Begin, long End)> offsets, out Dictionary<string, string> metadata)
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

                Tensor? tensor = s.Tensors.FirstOrDefault(t => t.Slot.Name == property.Name);
                if (tensor is null)
                {
                    return $"tensor '{property.Name}' is in no layout";
                }

                string? bad = CheckEntry(property.Value, tensor, bufferLength, out (long, long) range);
                if (bad is not null)
                {
                    return $"{tensor.Slot.Name}: {bad}";
                }

                offsets[tensor.Slot.Name] = range;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return "the header is not valid JSON: " + e.Message;
        }

        if (offsets.Count != s.Tensors.Length)
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

    private static string? CheckEntry(JsonElement entry, Tensor tensor, long bufferLength, out (long Begin, long End) range)
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
        if (dtype.ValueKind != JsonValueKind.String || dtype.GetString() != tensor.Dtype)
        {
            return $"dtype is not {tensor.Dtype}";
        }

        long[]? shape = Integers(entry.GetProperty("shape"));
        if (shape is null || !shape.SequenceEqual(tensor.Slot.Shape.ToArray().Select(d => (long)d)))
        {
            return "wrong shape";
        }

        long[]? pair = Integers(entry.GetProperty("data_offsets"));
        if (pair is not { Length: 2 } || pair[1] < pair[0] || pair[1] > bufferLength || pair[1] - pair[0] != (long)tensor.ElementSize * tensor.Slot.Length)
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

    // ---- Scenarios ----------------------------------------------------------------------------------------

    /// <summary>Which vector a tensor goes to, indexing the per-vector arrays below.</summary>
    private enum Kind
    {
        Parameter,
        Buffer,
        Counter,
    }

    private sealed record Tensor(TensorSlot Slot, Kind Kind)
    {
        public string Dtype => Kind == Kind.Counter ? "I64" : "F32";

        public int ElementSize => Kind == Kind.Counter ? 8 : 4;
    }

    /// <summary>
    /// Layouts and vector lengths, the values saved and the valid file written from them. Vectors are handled as
    /// bits, one <c>long[]</c> per <see cref="Kind"/>: a float's 32 bits, a counter's 64, so that comparisons are
    /// bit for bit (NaN payloads, −0).
    /// </summary>
    private sealed class Scenario
    {
        public Scenario(string path, bool general, TensorSlot[] layout, int[] counts, TensorSlot[] bufferLayout, TensorSlot[] counterLayout)
        {
            Path = path;
            General = general;
            Layouts = [layout, bufferLayout, counterLayout];
            Counts = counts;
            Tensors = [.. Layouts.SelectMany((slots, k) => slots.Select(slot => new Tensor(slot, (Kind)k)))];
            Saved = [SavedFloats(counts[0], 17.5f, [3, 5, 23, 33]), SavedFloats(counts[1], 2.5f, [0, 1, 3, 4]), SavedCounters(counts[2])];

            var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "fuzz" };
            if (general)
            {
                SafeTensors.Save(path, Floats(Saved[0]), layout, Floats(Saved[1]), bufferLayout, Saved[2], counterLayout, metadata);
            }
            else
            {
                SafeTensors.Save(path, Floats(Saved[0]), layout, metadata);
            }

            File = System.IO.File.ReadAllBytes(path);
            int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(File);
            Header = File[8..(8 + headerLength)];
            Data = File[(8 + headerLength)..];
        }

        /// <summary>The valid file.</summary>
        public string Path { get; }

        /// <summary>Saved and loaded with the overloads taking buffers and counters; else with the parameters-only ones.</summary>
        public bool General { get; }

        public TensorSlot[][] Layouts { get; }

        public int[] Counts { get; }

        public Tensor[] Tensors { get; }

        public long[][] Saved { get; }

        public byte[] File { get; }

        public byte[] Header { get; }

        public byte[] Data { get; }

        /// <summary>Loads <paramref name="path"/> into vectors holding <paramref name="state"/>, then stores their bits back into it, loaded or not.</summary>
        public void Load(string path, long[][] state)
        {
            float[] parameters = Floats(state[0]), buffers = Floats(state[1]);
            long[] counters = state[2];
            try
            {
                if (General)
                {
                    SafeTensors.Load(path, parameters, Layouts[0], buffers, Layouts[1], counters, Layouts[2]);
                }
                else
                {
                    SafeTensors.Load(path, parameters, Layouts[0]);
                }
            }
            finally
            {
                state[0] = Bits(parameters);
                state[1] = Bits(buffers);
            }
        }
    }

    // ---- Helpers ------------------------------------------------------------------------------------------

    /// <summary>Saved floats: a ramp with −0, a subnormal, a NaN with payload and +∞ at <paramref name="specialsAt"/>, those inside the vector (compared bit for bit).</summary>
    private static long[] SavedFloats(int count, float center, int[] specialsAt)
    {
        float[] values = Enumerable.Range(0, count).Select(i => (i - center) * 0.125f).ToArray();
        float[] specials = [-0f, float.Epsilon, BitConverter.Int32BitsToSingle(0x7FC01234), float.PositiveInfinity];
        for (int j = 0; j < specials.Length && specialsAt[j] < count; j++)
        {
            values[specialsAt[j]] = specials[j];
        }

        return Bits(values);
    }

    /// <summary>Saved counters: every byte distinct, so that a byte-order or offset mistake shows.</summary>
    private static long[] SavedCounters(int count) =>
        Enumerable.Range(0, count).Select(i => 0x0102030405060708L + (i * 0x1111111111111111L)).ToArray();

    /// <summary>The destinations' prior contents: patterns no load would write by chance.</summary>
    private static long[][] Sentinel(Scenario s) =>
    [
        [.. Enumerable.Range(0, s.Counts[0]).Select(i => (long)(unchecked((int)0xA5A50000) + i * 0x1357))],
        [.. Enumerable.Range(0, s.Counts[1]).Select(i => (long)(unchecked((int)0x5A5A0000) + i * 0x2468))],
        [.. Enumerable.Range(0, s.Counts[2]).Select(i => unchecked((long)0xA5A5A5A500000000UL) + i * 0x13579BDFL)],
    ];

    private static long[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new long[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            bits[i] = BitConverter.SingleToInt32Bits(values[i]);
        }

        return bits;
    }

    private static float[] Floats(long[] bits) => bits.Select(b => BitConverter.Int32BitsToSingle((int)b)).ToArray();

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
