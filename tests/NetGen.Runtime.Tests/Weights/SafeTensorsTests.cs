using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using NetGen.Weights;
using Xunit;

namespace NetGen.Runtime.Tests.Weights;

public sealed partial class SafeTensorsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    // A network of two tensors in a 6-float parameter vector: w [2, 2] at 0, b [2] at 4.
    private static readonly TensorSlot[] Layout = [new("w", [2, 2], 0), new("b", [2], 4)];

    private static readonly float[] Sentinel = [-7f, -7f, -7f, -7f, -7f, -7f];

    /// <summary>Little-endian IEEE-754 bytes, assembled by shifting the bit pattern.</summary>
    private static byte[] Floats(params float[] values)
    {
        var bytes = new List<byte>();
        foreach (float f in values)
        {
            int bits = BitConverter.SingleToInt32Bits(f);
            bytes.Add((byte)bits);
            bytes.Add((byte)(bits >> 8));
            bytes.Add((byte)(bits >> 16));
            bytes.Add((byte)(bits >> 24));
        }

        return bytes.ToArray();
    }

    /// <summary>A safetensors file from its parts: 8-byte little-endian length, header text, data.</summary>
    private string WriteFile(string header, byte[] data, ulong? declaredHeaderLength = null, string name = "model.safetensors")
    {
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        ulong n = declaredHeaderLength ?? (ulong)headerBytes.Length;
        var bytes = new List<byte>();
        for (int i = 0; i < 8; i++)
        {
            bytes.Add((byte)(n >> (8 * i)));
        }

        bytes.AddRange(headerBytes);
        bytes.AddRange(data);
        string path = _dir.File(name);
        File.WriteAllBytes(path, bytes.ToArray());
        return path;
    }

    private const string GoodHeader =
        """{"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}}""";

    private static readonly byte[] GoodData = Floats(0.5f, -0.25f, 1f, 2f, 3f, 4f);

    /// <summary>Loading must fail with a message naming the file and containing every fragment, leaving the target as it was.</summary>
    private static void AssertLoadFails(string path, params string[] fragments)
    {
        float[] target = (float[])Sentinel.Clone();

        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path, target, Layout));

        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        foreach (string fragment in fragments)
        {
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(Sentinel, target);
    }

    [Fact]
    public void Loads_a_file_assembled_from_the_format_spec()
    {
        // Tensors in the file in a different order from the layout, header padded with spaces.
        string path = WriteFile(GoodHeader + "      ", GoodData);
        float[] parameters = (float[])Sentinel.Clone();

        SafeTensors.Load(path, parameters, Layout);

        Assert.Equal([1f, 2f, 3f, 4f, 0.5f, -0.25f], parameters);
    }

    [Fact]
    public void Loads_only_the_slots_leaving_other_parameters_alone()
    {
        string path = WriteFile(GoodHeader, GoodData);
        float[] parameters = Enumerable.Repeat(9f, 10).ToArray();
        TensorSlot[] layout = [new("w", [2, 2], 1), new("b", [2], 7)];

        SafeTensors.Load(path, parameters, layout);

        Assert.Equal([9f, 1f, 2f, 3f, 4f, 9f, 9f, 0.5f, -0.25f, 9f], parameters);
    }

    [Fact]
    public void Accepts_metadata_and_null_metadata()
    {
        string path = WriteFile(
            """{"__metadata__":{"format":"pt","epoch":"3"},""" + GoodHeader[1..], GoodData);
        float[] parameters = new float[6];

        SafeTensors.Load(path, parameters, Layout);

        Assert.Equal(1f, parameters[0]);
        IReadOnlyDictionary<string, string> metadata = SafeTensors.ReadMetadata(path);
        Assert.Equal("pt", metadata["format"]);
        Assert.Equal("3", metadata["epoch"]);

        string nullMetadata = WriteFile("""{"__metadata__":null,""" + GoodHeader[1..], GoodData, name: "null-meta.safetensors");
        SafeTensors.Load(nullMetadata, parameters, Layout);
        Assert.Empty(SafeTensors.ReadMetadata(nullMetadata));
    }

    [Fact]
    public void Round_trip_preserves_every_bit()
    {
        float[] parameters = [1.5f, -0f, float.Epsilon, float.MaxValue, float.NegativeInfinity, float.NaN, 3.14159f, -2e-30f, 7f];
        TensorSlot[] layout = [new("conv.weight", [2, 1, 2], 0), new("conv.bias", [2], 4), new("scalar", [], 6), new("dense.bias", [2], 7)];
        string path = _dir.File("round-trip.safetensors");

        SafeTensors.Save(path, parameters, layout, new Dictionary<string, string> { ["note"] = "héllo <&>" });
        float[] loaded = new float[parameters.Length];
        SafeTensors.Load(path, loaded, layout);

        Assert.Equal(parameters.Select(BitConverter.SingleToInt32Bits), loaded.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal("héllo <&>", SafeTensors.ReadMetadata(path)["note"]);
    }

    [Fact]
    public void Saved_file_follows_the_format()
    {
        float[] parameters = [0f, 1f, 2f, 3f, 4f, 5f, 6f];
        TensorSlot[] layout = [new("second", [3], 4), new("first", [2, 2], 0)];
        string path = _dir.File("format.safetensors");

        SafeTensors.Save(path, parameters, layout, new Dictionary<string, string> { ["k"] = "v" });

        byte[] bytes = File.ReadAllBytes(path);
        long n = BitConverter.ToInt64(bytes, 0);
        Assert.True(BitConverter.IsLittleEndian);
        Assert.Equal(0, (8 + n) % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Matches("^\\{.*\\} *$", header); // a JSON object, padded with spaces only
        using JsonDocument json = JsonDocument.Parse(header);
        JsonElement root = json.RootElement;
        Assert.Equal("v", root.GetProperty("__metadata__").GetProperty("k").GetString());
        JsonElement second = root.GetProperty("second");
        Assert.Equal("F32", second.GetProperty("dtype").GetString());
        Assert.Equal([3], second.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([0, 12], second.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([2, 2], root.GetProperty("first").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([12, 28], root.GetProperty("first").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()));
        byte[] data = bytes[(8 + (int)n)..];
        Assert.Equal(Floats(4f, 5f, 6f, 0f, 1f, 2f, 3f), data);
    }

    [Fact]
    public void Save_replaces_an_existing_file_and_leaves_no_temporary_file()
    {
        string path = _dir.File("model.safetensors");
        File.WriteAllText(path, "an older, longer file that must disappear completely ..............................");

        SafeTensors.Save(path, [1f, 2f, 3f, 4f, 5f, 6f], Layout);

        Assert.Equal([path], Directory.GetFiles(_dir.Path));
        float[] loaded = new float[6];
        SafeTensors.Load(path, loaded, Layout);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], loaded);

        SafeTensors.Save(path, [6f, 5f, 4f, 3f, 2f, 1f], Layout);
        SafeTensors.Load(path, loaded, Layout);
        Assert.Equal([6f, 5f, 4f, 3f, 2f, 1f], loaded);
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void Failed_save_keeps_the_old_file_and_leaves_no_temporary_file()
    {
        string path = _dir.File("model.safetensors");
        SafeTensors.Save(path, [1f, 2f, 3f, 4f, 5f, 6f], Layout);
        byte[] before = File.ReadAllBytes(path);
        var badMetadata = new Dictionary<string, string> { ["k"] = null! };

        Assert.ThrowsAny<ArgumentException>(() => SafeTensors.Save(path, new float[6], Layout, badMetadata));
        Assert.ThrowsAny<ArgumentException>(() => SafeTensors.Save(path, new float[5], Layout));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void Save_failing_at_the_final_move_removes_its_temporary_file()
    {
        // The target is a directory: the temporary file is written completely, then the move fails.
        string path = _dir.File("model.safetensors");
        Directory.CreateDirectory(path);

        Exception e = Record.Exception(() => SafeTensors.Save(path, [1f, 2f, 3f, 4f, 5f, 6f], Layout));

        Assert.True(e is IOException or UnauthorizedAccessException, e?.ToString());
        Assert.Empty(Directory.GetFiles(_dir.Path));
        Assert.Equal([path], Directory.GetDirectories(_dir.Path));
    }

    [Fact]
    public void Save_rejects_duplicate_names()
    {
        TensorSlot[] layout = [new("x", [1], 0), new("x", [1], 1)];

        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Save(_dir.File("dup"), new float[2], layout));

        Assert.Contains("'x'", e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void Load_rejects_a_layout_outside_the_parameters()
    {
        string path = WriteFile(GoodHeader, GoodData);

        Assert.Throws<ArgumentException>(() => SafeTensors.Load(path, new float[5], Layout));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void Rejects_file_too_short_for_the_header_length(int length)
    {
        string path = _dir.File("short.safetensors");
        File.WriteAllBytes(path, new byte[length]);

        AssertLoadFails(path, "bad header length", $"the file is {length} bytes");
    }

    [Theory]
    [InlineData(0UL, "at least 2")]
    [InlineData(1UL, "at least 2")]
    [InlineData(200_000_000UL, "limit")]
    [InlineData(ulong.MaxValue, "limit")]
    [InlineData(500UL, "only 134 bytes follow")]
    public void Rejects_bad_header_length(ulong declared, string cause)
    {
        // 110-byte header + 24 bytes of data follow the length.
        string path = WriteFile(GoodHeader, GoodData, declaredHeaderLength: declared);

        AssertLoadFails(path, "bad header length", cause);
    }

    [Fact]
    public void Rejects_truncated_data()
    {
        string path = WriteFile(GoodHeader, GoodData[..20]);

        AssertLoadFails(path, "w: data_offsets [8, 24]", "past the end of the 20-byte data buffer");
    }

    [Theory]
    [InlineData("this is not json")]
    [InlineData("{\"w\": {\"dtype\": \"F32\",")]
    [InlineData("{} trailing")]
    [InlineData("{'w': 1}")]
    public void Rejects_header_that_is_not_JSON(string header)
    {
        string path = WriteFile(header, GoodData);

        AssertLoadFails(path, "header is not valid JSON");
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"w\"")]
    public void Rejects_header_that_is_not_an_object(string header)
    {
        string path = WriteFile(header, GoodData);

        AssertLoadFails(path, "header is not a JSON object");
    }

    [Fact]
    public void Rejects_invalid_UTF8_in_header()
    {
        string path = _dir.File("utf8.safetensors");
        byte[] header = [(byte)'{', (byte)'"', (byte)'w', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}'];
        byte[] bytes = [.. BitConverter.GetBytes((ulong)header.Length), .. header];
        File.WriteAllBytes(path, bytes);

        AssertLoadFails(path, "not valid JSON");
    }

    [Fact]
    public void Rejects_missing_tensor()
    {
        string path = WriteFile("""{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", GoodData[..16]);

        AssertLoadFails(path, "b: missing", "[2]");
    }

    [Fact]
    public void Rejects_unexpected_tensor()
    {
        string path = WriteFile(
            GoodHeader[..^1] + ""","extra.bias":{"dtype":"F32","shape":[1],"data_offsets":[24,28]}}""",
            [.. GoodData, .. Floats(9f)]);

        AssertLoadFails(path, "extra.bias", "unexpected tensor");
    }

    [Theory]
    [InlineData("F16")]
    [InlineData("F64")]
    [InlineData("f32")]
    public void Rejects_wrong_dtype(string dtype)
    {
        string path = WriteFile(GoodHeader.Replace("\"F32\",\"shape\":[2,2]", $"\"{dtype}\",\"shape\":[2,2]", StringComparison.Ordinal), GoodData);

        AssertLoadFails(path, "w: dtype " + dtype, "F32 expected");
    }

    [Theory]
    [InlineData("[4]", "w: shape [2, 2] expected, file has [4]")]
    [InlineData("[2,2,1]", "w: shape [2, 2] expected, file has [2, 2, 1]")]
    [InlineData("[1,4]", "w: shape [2, 2] expected, file has [1, 4]")]
    public void Rejects_wrong_shape(string shape, string message)
    {
        string path = WriteFile(GoodHeader.Replace("[2,2]", shape, StringComparison.Ordinal), GoodData);

        AssertLoadFails(path, message);
    }

    [Theory]
    [InlineData("[8,20]", "w: data_offsets [8, 20] span 12 bytes", "needs 16")]
    [InlineData("[8,28]", "w: data_offsets [8, 28] reach past the end")]
    [InlineData("[24,8]", "w: data_offsets [24, 8] end before they begin")]
    [InlineData("[-8,8]", "w: data_offsets holds -8")]
    [InlineData("[8,24,40]", "w: data_offsets has 3 numbers")]
    [InlineData("[8.5,24]", "w: data_offsets holds 8.5")]
    [InlineData("\"8,24\"", "w: data_offsets is String")]
    public void Rejects_bad_offsets(string offsets, params string[] fragments)
    {
        string path = WriteFile(GoodHeader.Replace("[8,24]", offsets, StringComparison.Ordinal), GoodData);

        AssertLoadFails(path, fragments);
    }

    [Fact]
    public void Rejects_overlapping_offsets()
    {
        // b [0, 8] and w [4, 20] overlap; a 24-byte buffer so every range is inside it.
        string header = GoodHeader.Replace("[8,24]", "[4,20]", StringComparison.Ordinal);
        string path = WriteFile(header, GoodData);

        AssertLoadFails(path, "w: data_offsets [4, 20] overlap those of b [0, 8]");
    }

    [Fact]
    public void Rejects_gaps_and_trailing_bytes_in_the_data_buffer()
    {
        string trailing = WriteFile(GoodHeader, [.. GoodData, 0, 0, 0, 0], name: "trailing.safetensors");
        string gap = WriteFile(
            GoodHeader.Replace("[8,24]", "[12,28]", StringComparison.Ordinal), [.. GoodData, 0, 0, 0, 0], name: "gap.safetensors");

        AssertLoadFails(trailing, "data buffer is 28 bytes but the tensors cover 24");
        AssertLoadFails(gap, "data buffer is 28 bytes but the tensors cover 24");
    }

    [Theory]
    [InlineData("""{"dtype":"F32","shape":[2,2]}""", "w: data_offsets is missing")]
    [InlineData("""{"dtype":"F32","data_offsets":[8,24]}""", "w: shape is missing")]
    [InlineData("""{"shape":[2,2],"data_offsets":[8,24]}""", "w: dtype is missing")]
    [InlineData("""{"dtype":"F32","shape":[2,2],"data_offsets":[8,24],"extra":1}""", "w: unknown field 'extra'")]
    [InlineData("""{"dtype":"F32","dtype":"F32","shape":[2,2],"data_offsets":[8,24]}""", "w: dtype appears twice")]
    [InlineData("""[1]""", "w: a JSON object")]
    [InlineData("""{"dtype":32,"shape":[2,2],"data_offsets":[8,24]}""", "w: dtype is Number")]
    [InlineData("""{"dtype":"F32","shape":[2,-2],"data_offsets":[8,24]}""", "w: shape holds -2")]
    public void Rejects_malformed_tensor_entries(string entry, string message)
    {
        string header = GoodHeader.Replace("""{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}""", entry, StringComparison.Ordinal);
        Assert.NotEqual(GoodHeader, header);
        string path = WriteFile(header, GoodData);

        AssertLoadFails(path, message);
    }

    [Fact]
    public void Rejects_duplicate_tensor_names()
    {
        string path = WriteFile(GoodHeader[..^1] + ""","b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", GoodData);

        AssertLoadFails(path, "b: appears twice");
    }

    [Theory]
    [InlineData("""{"__metadata__":{"k":1},""", "__metadata__: value of 'k' is Number")]
    [InlineData("""{"__metadata__":[],""", "__metadata__: a JSON object of strings expected")]
    public void Rejects_bad_metadata(string prefix, string message)
    {
        string path = WriteFile(prefix + GoodHeader[1..], GoodData);

        AssertLoadFails(path, message);
    }

    [Fact]
    public void Missing_file_throws_FileNotFoundException()
    {
        float[] target = (float[])Sentinel.Clone();

        Assert.Throws<FileNotFoundException>(() => SafeTensors.Load(_dir.File("absent.safetensors"), target, Layout));
        Assert.Equal(Sentinel, target);
    }
}
