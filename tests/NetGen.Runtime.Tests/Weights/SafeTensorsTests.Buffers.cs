using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using NetGen.Weights;
using Xunit;

namespace NetGen.Runtime.Tests.Weights;

/// <summary>The overloads that also save and load a float buffer vector (F32) and a long counter vector (I64), as BatchNorm needs.</summary>
public sealed partial class SafeTensorsTests
{
    // Beside Layout's 6 parameters: BatchNorm's running statistics in a 4-float buffer vector and its batch counter,
    // a scalar, in a 1-long counter vector.
    private static readonly TensorSlot[] BufferLayout = [new("bn.running_mean", [2], 0), new("bn.running_var", [2], 2)];

    private static readonly TensorSlot[] CounterLayout = [new("bn.num_batches_tracked", [], 0)];

    private static readonly float[] BufferSentinel = [-8f, -8f, -8f, -8f];

    private static readonly long[] CounterSentinel = [-9];

    /// <summary>2^32 + 3: both halves of the I64 matter.</summary>
    private const long Batches = 4_294_967_299;

    /// <summary>The tensors of a file for Layout, BufferLayout and CounterLayout, in data order (the I64 first, as PyTorch writes).</summary>
    private static readonly Tensor[] BnTensors =
    [
        new("bn.num_batches_tracked", "I64", "[]", Longs(Batches)),
        new("b", "F32", "[2]", Floats(0.5f, -0.25f)),
        new("w", "F32", "[2,2]", Floats(1f, 2f, 3f, 4f)),
        new("bn.running_mean", "F32", "[2]", Floats(0.125f, -1.5f)),
        new("bn.running_var", "F32", "[2]", Floats(2.25f, 0.75f)),
    ];

    private sealed record Tensor(string Name, string Dtype, string Shape, byte[] Data);

    /// <summary>Little-endian two's complement bytes, assembled by shifting.</summary>
    private static byte[] Longs(params long[] values)
    {
        var bytes = new List<byte>();
        foreach (long value in values)
        {
            for (int i = 0; i < 8; i++)
            {
                bytes.Add((byte)(value >> (8 * i)));
            }
        }

        return bytes.ToArray();
    }

    /// <summary>A file holding <paramref name="tensors"/> one after another in the data buffer, in that order.</summary>
    private string WriteTensors(IEnumerable<Tensor> tensors, string name = "bn.safetensors")
    {
        var header = new StringBuilder("{");
        var data = new List<byte>();
        foreach (Tensor t in tensors)
        {
            header.Append(header.Length > 1 ? "," : "").Append(string.Create(CultureInfo.InvariantCulture,
                $"\"{t.Name}\":{{\"dtype\":\"{t.Dtype}\",\"shape\":{t.Shape},\"data_offsets\":[{data.Count},{data.Count + t.Data.Length}]}}"));
            data.AddRange(t.Data);
        }

        return WriteFile(header.Append('}').ToString(), data.ToArray(), name: name);
    }

    /// <summary>BnTensors with the tensor <paramref name="name"/> replaced by <paramref name="change"/>'s result, or removed when it returns null.</summary>
    private static IEnumerable<Tensor> BnTensorsWith(string name, Func<Tensor, Tensor?> change) =>
        BnTensors.Select(t => t.Name == name ? change(t) : t).OfType<Tensor>();

    private static void LoadAll(string path, float[] parameters, float[] buffers, long[] counters) =>
        SafeTensors.Load(path, parameters, Layout, buffers, BufferLayout, counters, CounterLayout);

    /// <summary>Loading all three vectors must fail with a message naming the file and containing every fragment, leaving all three as they were.</summary>
    private static void AssertLoadAllFails(string path, params string[] fragments)
    {
        float[] parameters = (float[])Sentinel.Clone(), buffers = (float[])BufferSentinel.Clone();
        long[] counters = (long[])CounterSentinel.Clone();

        var e = Assert.Throws<InvalidDataException>(() => LoadAll(path, parameters, buffers, counters));

        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        foreach (string fragment in fragments)
        {
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(Sentinel, parameters);
        Assert.Equal(BufferSentinel, buffers);
        Assert.Equal(CounterSentinel, counters);
    }

    [Fact]
    public void Loads_parameters_buffers_and_a_counter_from_a_file_assembled_from_the_format_spec()
    {
        string path = WriteTensors(BnTensors);
        float[] parameters = (float[])Sentinel.Clone(), buffers = (float[])BufferSentinel.Clone();
        long[] counters = (long[])CounterSentinel.Clone();

        LoadAll(path, parameters, buffers, counters);

        Assert.Equal([1f, 2f, 3f, 4f, 0.5f, -0.25f], parameters);
        Assert.Equal([0.125f, -1.5f, 2.25f, 0.75f], buffers);
        Assert.Equal([Batches], counters);
    }

    [Fact]
    public void Loads_a_BatchNorm_state_dict_as_PyTorch_writes_it()
    {
        // safetensors.torch.save_file(model.state_dict()) for Conv2d(1, 2, 1, bias=False) + BatchNorm2d(2): the data
        // buffer holds the tensors by dtype alignment, then name, so the I64 scalar comes first; num_batches_tracked
        // has shape []; the header lists the names sorted and is padded with spaces to a multiple of 8.
        string header =
            """{"__metadata__":{"format":"pt"}""" +
            ""","bn1.bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}""" +
            ""","bn1.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]}""" +
            ""","bn1.running_mean":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}""" +
            ""","bn1.running_var":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}""" +
            ""","bn1.weight":{"dtype":"F32","shape":[2],"data_offsets":[32,40]}""" +
            ""","conv1.weight":{"dtype":"F32","shape":[2,1,1,1],"data_offsets":[40,48]}}""";
        header = header.PadRight((header.Length + 7) / 8 * 8);
        byte[] data =
        [
            0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // num_batches_tracked = 2^32 + 3, little-endian I64
            .. Floats(0.1f, -0.1f), .. Floats(0.5f, -0.5f), .. Floats(1.5f, 0.25f), .. Floats(1f, 0.9f), .. Floats(-2f, 3f),
        ];
        string path = WriteFile(header, data, name: "pytorch.safetensors");
        TensorSlot[] layout = [new("conv1.weight", [2, 1, 1, 1], 0), new("bn1.weight", [2], 2), new("bn1.bias", [2], 4)];
        TensorSlot[] bufferLayout = [new("bn1.running_mean", [2], 0), new("bn1.running_var", [2], 2)];
        TensorSlot[] counterLayout = [new("bn1.num_batches_tracked", [], 0)];
        float[] parameters = new float[6], buffers = new float[4];
        long[] counters = new long[1];

        SafeTensors.Load(path, parameters, layout, buffers, bufferLayout, counters, counterLayout);

        Assert.Equal([-2f, 3f, 1f, 0.9f, 0.1f, -0.1f], parameters);
        Assert.Equal([0.5f, -0.5f, 1.5f, 0.25f], buffers);
        Assert.Equal([Batches], counters);
        Assert.Equal("pt", SafeTensors.ReadMetadata(path)["format"]);
    }

    [Fact]
    public void Round_trip_of_parameters_buffers_and_counters_preserves_every_bit_and_leaves_the_holes_alone()
    {
        float[] parameters = [1.5f, -0f, float.Epsilon, float.MaxValue, float.NegativeInfinity, BitConverter.Int32BitsToSingle(0x7FC01234)];
        TensorSlot[] layout = [new("conv.weight", [2, 1, 2], 0), new("conv.bias", [2], 4)];
        float[] buffers = [-0f, 9f, 3.25f, float.NaN, 1e-40f, 9f, 0.5f];
        TensorSlot[] bufferLayout = [new("bn1.running_mean", [1], 0), new("bn1.running_var", [1], 2), new("bn2.running_mean", [2], 3), new("bn2.running_var", [1], 6)];
        long[] counters = [long.MinValue, 0x0102030405060708, -1, 99, long.MaxValue];
        TensorSlot[] counterLayout = [new("bn1.num_batches_tracked", [], 0), new("history", [2], 1), new("bn2.num_batches_tracked", [], 4)];
        string path = _dir.File("round-trip.safetensors");

        SafeTensors.Save(path, parameters, layout, buffers, bufferLayout, counters, counterLayout, new Dictionary<string, string> { ["k"] = "v" });
        float[] loadedParameters = new float[6], loadedBuffers = Enumerable.Repeat(7f, 7).ToArray();
        long[] loadedCounters = [5, 5, 5, 5, 5];
        SafeTensors.Load(path, loadedParameters, layout, loadedBuffers, bufferLayout, loadedCounters, counterLayout);

        Assert.Equal(parameters.Select(BitConverter.SingleToInt32Bits), loadedParameters.Select(BitConverter.SingleToInt32Bits));
        float[] expectedBuffers = [-0f, 7f, 3.25f, float.NaN, 1e-40f, 7f, 0.5f]; // 1 and 5 are in no slot
        Assert.Equal(expectedBuffers.Select(BitConverter.SingleToInt32Bits), loadedBuffers.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal([long.MinValue, 0x0102030405060708, -1, 5, long.MaxValue], loadedCounters); // 3 is in no slot
        Assert.Equal("v", SafeTensors.ReadMetadata(path)["k"]);
    }

    [Fact]
    public void Loads_each_tensor_by_name_at_the_offsets_of_the_loading_layouts()
    {
        string path = _dir.File("offsets.safetensors");
        SafeTensors.Save(path, [1f, 2f, 3f, 4f, 5f, 6f], Layout, [7f, 8f, 9f, 10f], BufferLayout, [Batches], CounterLayout);
        TensorSlot[] layout = [new("b", [2], 0), new("w", [2, 2], 3)];
        TensorSlot[] bufferLayout = [new("bn.running_var", [2], 1), new("bn.running_mean", [2], 4)];
        TensorSlot[] counterLayout = [new("bn.num_batches_tracked", [], 2)];
        float[] parameters = new float[7], buffers = new float[6];
        long[] counters = new long[3];

        SafeTensors.Load(path, parameters, layout, buffers, bufferLayout, counters, counterLayout);

        Assert.Equal([5f, 6f, 0f, 1f, 2f, 3f, 4f], parameters);
        Assert.Equal([0f, 9f, 10f, 0f, 7f, 8f], buffers);
        Assert.Equal([0L, 0L, Batches], counters);
    }

    [Fact]
    public void Saved_file_holds_F32_parameters_and_buffers_and_I64_counters_first_and_aligned()
    {
        string path = _dir.File("format.safetensors");

        SafeTensors.Save(path, [0f, 1f, 2f, 3f, 4f, 5f], Layout, [6f, 7f, 8f, 9f], BufferLayout, [Batches], CounterLayout);

        byte[] bytes = File.ReadAllBytes(path);
        long n = BitConverter.ToInt64(bytes, 0);
        Assert.Equal(0, (8 + n) % 8);
        using JsonDocument json = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n));
        JsonElement root = json.RootElement;
        (string Name, string Dtype, int[] Shape, int Begin, int End)[] expected =
        [
            ("bn.num_batches_tracked", "I64", [], 0, 8), // first: 8-byte aligned in the file
            ("w", "F32", [2, 2], 8, 24),
            ("b", "F32", [2], 24, 32),
            ("bn.running_mean", "F32", [2], 32, 40),
            ("bn.running_var", "F32", [2], 40, 48),
        ];
        Assert.Equal(expected.Select(t => t.Name), root.EnumerateObject().Select(p => p.Name));
        foreach ((string name, string dtype, int[] shape, int begin, int end) in expected)
        {
            JsonElement entry = root.GetProperty(name);
            Assert.Equal(dtype, entry.GetProperty("dtype").GetString());
            Assert.Equal(JsonValueKind.Array, entry.GetProperty("shape").ValueKind);
            Assert.Equal(shape, entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal([begin, end], entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()));
        }

        Assert.Equal([.. Longs(Batches), .. Floats(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f)], bytes[(8 + (int)n)..]);
    }

    [Fact]
    public void The_parameters_only_overloads_are_the_general_ones_without_buffers()
    {
        string single = _dir.File("single.safetensors"), general = _dir.File("general.safetensors");
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };

        SafeTensors.Save(single, [1f, 2f, 3f, 4f, 5f, 6f], Layout, metadata);
        SafeTensors.Save(general, [1f, 2f, 3f, 4f, 5f, 6f], Layout, [], [], [], [], metadata);

        Assert.Equal(File.ReadAllBytes(single), File.ReadAllBytes(general));
        float[] parameters = new float[6];
        SafeTensors.Load(single, parameters, Layout, [], [], [], []);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], parameters);
    }

    [Fact]
    public void Parameters_only_Load_rejects_a_file_with_buffers()
    {
        string path = WriteTensors(BnTensors);

        AssertLoadFails(path, "bn.num_batches_tracked: unexpected tensor, not in the layout");
    }

    [Theory]
    [InlineData("w", "I64", "w: dtype I64 found, F32 expected by the parameter layout")]
    [InlineData("bn.running_mean", "I64", "bn.running_mean: dtype I64 found, F32 expected by the buffer layout")]
    [InlineData("bn.running_var", "F64", "bn.running_var: dtype F64 found, F32 expected by the buffer layout")]
    [InlineData("bn.num_batches_tracked", "F32", "bn.num_batches_tracked: dtype F32 found, I64 expected by the counter layout")]
    [InlineData("bn.num_batches_tracked", "U64", "bn.num_batches_tracked: dtype U64 found, I64 expected by the counter layout")]
    [InlineData("bn.num_batches_tracked", "i64", "bn.num_batches_tracked: dtype i64 found, I64 expected by the counter layout")]
    public void Rejects_a_dtype_other_than_its_layout_expects(string tensor, string dtype, string message)
    {
        string path = WriteTensors(BnTensorsWith(tensor, t => t with { Dtype = dtype }));

        AssertLoadAllFails(path, message);
    }

    [Fact]
    public void Rejects_a_counter_saved_as_F32_even_with_a_consistent_size()
    {
        // What a writer that turned num_batches_tracked into a float would produce: 4 bytes for shape [].
        string path = WriteTensors(BnTensorsWith("bn.num_batches_tracked", t => t with { Dtype = "F32", Data = Floats(3f) }));

        AssertLoadAllFails(path, "bn.num_batches_tracked: dtype F32 found, I64 expected");
    }

    [Theory]
    [InlineData("bn.running_var", "bn.running_var: missing from the file (expected F32, shape [2])")]
    [InlineData("bn.num_batches_tracked", "bn.num_batches_tracked: missing from the file (expected I64, shape [])")]
    [InlineData("b", "b: missing from the file (expected F32, shape [2])")]
    public void Rejects_a_missing_buffer_counter_or_parameter(string tensor, string message)
    {
        string path = WriteTensors(BnTensorsWith(tensor, _ => null));

        AssertLoadAllFails(path, message);
    }

    [Theory]
    [InlineData("F32", "[2]", 8)]
    [InlineData("I64", "[]", 8)]
    public void Rejects_an_unexpected_tensor(string dtype, string shape, int bytes)
    {
        string path = WriteTensors([.. BnTensors, new("bn2.running_mean", dtype, shape, new byte[bytes])]);

        AssertLoadAllFails(path, "bn2.running_mean: unexpected tensor, in none of the parameter, buffer and counter layouts");
    }

    [Fact]
    public void Rejects_a_buffer_the_buffer_layout_does_not_have()
    {
        string path = WriteTensors(BnTensors);
        float[] parameters = (float[])Sentinel.Clone(), buffers = [-8f, -8f];
        long[] counters = (long[])CounterSentinel.Clone();

        var e = Assert.Throws<InvalidDataException>(() =>
            SafeTensors.Load(path, parameters, Layout, buffers, [new("bn.running_mean", [2], 0)], counters, CounterLayout));

        Assert.Equal(path + ": bn.running_var: unexpected tensor, in none of the parameter, buffer and counter layouts", e.Message);
        Assert.Equal(Sentinel, parameters);
        Assert.Equal([-8f, -8f], buffers);
        Assert.Equal(CounterSentinel, counters);
    }

    [Theory]
    [InlineData("[1]", "bn.num_batches_tracked: shape [] expected, file has [1]")]
    [InlineData("[1,1]", "bn.num_batches_tracked: shape [] expected, file has [1, 1]")]
    public void Rejects_a_counter_that_is_not_a_scalar(string shape, string message)
    {
        string path = WriteTensors(BnTensorsWith("bn.num_batches_tracked", t => t with { Shape = shape }));

        AssertLoadAllFails(path, message);
    }

    [Fact]
    public void Rejects_a_counter_with_too_few_bytes()
    {
        string path = WriteTensors(BnTensorsWith("bn.num_batches_tracked", t => t with { Data = t.Data[..4] }));

        AssertLoadAllFails(path, "bn.num_batches_tracked: data_offsets [0, 4] span 4 bytes, [] I64 needs 8");
    }

    public static TheoryData<string, string> CorruptFiles => new()
    {
        { "truncated", "bn.running_var: data_offsets [40, 48] reach past the end of the 44-byte data buffer" },
        { "trailing", "the data buffer is 52 bytes but the tensors cover 48" },
        { "overlap", "b: data_offsets [4, 12] overlap those of bn.num_batches_tracked [0, 8]" },
        { "json", "header is not valid JSON" },
        { "length", "bad header length" },
    };

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void A_corrupt_file_leaves_all_three_vectors_unchanged(string corruption, string message)
    {
        byte[] good = File.ReadAllBytes(WriteTensors(BnTensors, name: "good.safetensors"));
        int headerLength = (int)BitConverter.ToUInt64(good, 0);
        string header = Encoding.UTF8.GetString(good, 8, headerLength);
        byte[] data = good[(8 + headerLength)..];
        string path = corruption switch
        {
            "truncated" => WriteFile(header, data[..^4]),
            "trailing" => WriteFile(header, [.. data, 1, 2, 3, 4]),
            "overlap" => WriteFile(header.Replace("[8,16]", "[4,12]", StringComparison.Ordinal), data),
            "json" => WriteFile(header[..^1], data),
            _ => WriteFile(header, data, declaredHeaderLength: (ulong)good.Length),
        };

        AssertLoadAllFails(path, message);
    }

    [Theory]
    [InlineData("parameter+buffer", "Tensor name 'w' is in both the parameter layout and the buffer layout.", "bufferLayout")]
    [InlineData("buffer+counter", "Tensor name 'bn.running_mean' is in both the buffer layout and the counter layout.", "counterLayout")]
    [InlineData("parameter+counter", "Tensor name 'b' is in both the parameter layout and the counter layout.", "counterLayout")]
    [InlineData("buffer twice", "Tensor name 'bn.running_var' appears twice in the buffer layout.", "bufferLayout")]
    [InlineData("counter twice", "Tensor name 'bn.num_batches_tracked' appears twice in the counter layout.", "counterLayout")]
    public void Save_and_Load_reject_a_name_used_twice_within_or_across_layouts(string duplicate, string message, string parameterName)
    {
        TensorSlot[] bufferLayout = duplicate switch
        {
            "parameter+buffer" => [.. BufferLayout, new("w", [1], 0)],
            "buffer twice" => [.. BufferLayout, new("bn.running_var", [1], 3)],
            _ => BufferLayout,
        };
        TensorSlot[] counterLayout = duplicate switch
        {
            "buffer+counter" => [.. CounterLayout, new("bn.running_mean", [], 0)],
            "parameter+counter" => [.. CounterLayout, new("b", [], 0)],
            "counter twice" => [.. CounterLayout, new("bn.num_batches_tracked", [], 0)],
            _ => CounterLayout,
        };
        string path = _dir.File("duplicate.safetensors");
        float[] parameters = (float[])Sentinel.Clone(), buffers = (float[])BufferSentinel.Clone();
        long[] counters = (long[])CounterSentinel.Clone();

        var save = Assert.Throws<ArgumentException>(() =>
            SafeTensors.Save(path, parameters, Layout, buffers, bufferLayout, counters, counterLayout));
        SafeTensors.Save(path, [1f, 2f, 3f, 4f, 5f, 6f], Layout, [1f, 2f, 3f, 4f], BufferLayout, [1], CounterLayout);
        var load = Assert.Throws<ArgumentException>(() =>
            SafeTensors.Load(path, parameters, Layout, buffers, bufferLayout, counters, counterLayout));

        Assert.Equal(message + $" (Parameter '{parameterName}')", save.Message);
        Assert.Equal(parameterName, save.ParamName);
        Assert.Equal(save.Message, load.Message);
        Assert.Equal([path], Directory.GetFiles(_dir.Path)); // the failed save left no file behind
        Assert.Equal(Sentinel, parameters);
        Assert.Equal(BufferSentinel, buffers);
        Assert.Equal(CounterSentinel, counters);
    }

    [Fact]
    public void Rejects_buffer_and_counter_slots_outside_their_vectors()
    {
        string path = _dir.File("outside.safetensors");

        var buffer = Assert.Throws<ArgumentException>(() =>
            SafeTensors.Save(path, new float[6], Layout, new float[3], BufferLayout, new long[1], CounterLayout));
        var counter = Assert.Throws<ArgumentException>(() =>
            SafeTensors.Load(path, new float[6], Layout, new float[4], BufferLayout, [], CounterLayout));

        Assert.Equal("bufferLayout", buffer.ParamName);
        Assert.Contains("bn.running_var [2] at 2: floats 2..3 are outside the 3 buffer floats.", buffer.Message, StringComparison.Ordinal);
        Assert.Equal("counterLayout", counter.ParamName);
        Assert.Contains("bn.num_batches_tracked [] at 0: longs 0..0 are outside the 0 counters.", counter.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }
}
