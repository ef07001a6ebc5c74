using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using NetGen.Weights;
using Xunit;

namespace NetGen.Runtime.Tests.Weights;

/// <summary>Loading files written elsewhere: renamed tensors, extra tensors, F16 and BF16.</summary>
public sealed partial class SafeTensorsTests
{
    /// <summary>Little-endian 16-bit patterns (F16 or BF16 bits).</summary>
    private static byte[] Bits16(params ushort[] values) =>
        values.SelectMany(v => new[] { (byte)v, (byte)(v >> 8) }).ToArray();

    // F16: 1, -2, 65504 (largest finite), 2^-24 (smallest subnormal); 0x3555 is 0.333251953125.
    private static readonly ushort[] HalfBits = [0x3C00, 0xC000, 0x7BFF, 0x0001];
    private static readonly float[] HalfValues = [1f, -2f, 65504f, 5.9604644775390625E-8f];

    // BF16: 0.333984375 and +infinity.
    private static readonly ushort[] BFloatBits = [0x3EAB, 0x7F80];
    private static readonly float[] BFloatValues = [0.333984375f, float.PositiveInfinity];

    private static readonly SafeTensorsLoadOptions Lenient = SafeTensorsLoadOptions.StripPrefix("model.") with { Strict = false };

    private string WritePyTorchFile(params Tensor[] extra) => WriteTensors(
        [
            new("model.w", "F16", "[2,2]", Bits16(HalfBits)),
            new("model.b", "BF16", "[2]", Bits16(BFloatBits)),
            .. extra,
        ], name: "pytorch.safetensors");

    /// <summary>Loading with options must fail naming the file and containing every fragment, leaving the target as it was.</summary>
    private static string AssertLoadWithOptionsFails(string path, SafeTensorsLoadOptions options, params string[] fragments)
    {
        float[] target = (float[])Sentinel.Clone();

        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path, target, Layout, options));

        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        foreach (string fragment in fragments)
        {
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(Sentinel, target);
        return e.Message;
    }

    [Fact]
    public void Converts_F16_and_BF16_exactly_and_strips_the_prefix()
    {
        string path = WritePyTorchFile();
        float[] parameters = (float[])Sentinel.Clone();

        IReadOnlyList<string> ignored = SafeTensors.Load(path, parameters, Layout, SafeTensorsLoadOptions.StripPrefix("model."));

        Assert.Empty(ignored);
        Assert.Equal([.. HalfValues, .. BFloatValues], parameters);
        Assert.Equal(HalfBits.Select(h => (float)BitConverter.UInt16BitsToHalf(h)), parameters[..4]);
        Assert.Equal(BFloatBits.Select(b => BitConverter.Int32BitsToSingle(b << 16)), parameters[4..]);
    }

    [Fact]
    public void Converts_every_F16_and_BF16_pattern_exactly()
    {
        ushort[] all = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();
        TensorSlot[] layout = [new("h", [65536], 0), new("bf", [65536], 65536)];
        string path = WriteTensors([new("h", "F16", "[65536]", Bits16(all)), new("bf", "BF16", "[65536]", Bits16(all))]);
        float[] parameters = new float[2 * 65536];

        SafeTensors.Load(path, parameters, layout, new SafeTensorsLoadOptions());

        for (int i = 0; i < 65536; i++)
        {
            float half = (float)BitConverter.UInt16BitsToHalf((ushort)i), bfloat = BitConverter.Int32BitsToSingle(i << 16);
            Assert.Equal(BitConverter.SingleToInt32Bits(half), BitConverter.SingleToInt32Bits(parameters[i]));
            Assert.Equal(BitConverter.SingleToInt32Bits(bfloat), BitConverter.SingleToInt32Bits(parameters[65536 + i]));
        }
    }

    [Fact]
    public void Non_strict_ignores_extra_tensors_and_reports_them_in_file_order()
    {
        string path = WritePyTorchFile(
            new Tensor("model.fc.weight", "F32", "[1]", Floats(9f)),
            new Tensor("optimizer.step", "I64", "[]", Longs(3)));
        float[] parameters = (float[])Sentinel.Clone();

        IReadOnlyList<string> ignored = SafeTensors.Load(path, parameters, Layout, Lenient);

        Assert.Equal(["model.fc.weight", "optimizer.step"], ignored);
        Assert.Equal([.. HalfValues, .. BFloatValues], parameters);
    }

    [Fact]
    public void Strict_rejects_extra_tensors_listing_the_file_names_next_to_the_expected_ones()
    {
        string path = WritePyTorchFile(new Tensor("model.fc.weight", "F32", "[1]", Floats(9f)));

        string message = AssertLoadWithOptionsFails(path, SafeTensorsLoadOptions.StripPrefix("model."),
            "unexpected tensors", "model.fc.weight (as fc.weight)", "Strict = false",
            "File tensors (3): model.w, model.b, model.fc.weight", "Expected (2): w, b");
        Assert.DoesNotContain("missing", message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_tensor_fails_even_when_not_strict_and_changes_nothing()
    {
        string path = WriteTensors(
            [new("model.w", "F16", "[2,2]", Bits16(HalfBits)), new("model.bias", "F32", "[2]", Floats(1f, 2f))]);

        AssertLoadWithOptionsFails(path, Lenient,
            "missing from the file: b", "File tensors (2): model.w, model.bias", "Expected (2): w, b");
    }

    [Fact]
    public void Renames_through_a_dictionary_and_ignores_names_mapped_to_null_even_when_strict()
    {
        var names = new Dictionary<string, string> { ["features.0.weight"] = "w", ["features.0.bias"] = "b" };
        string path = WriteTensors(
        [
            new("features.0.bias", "F32", "[2]", Floats(0.5f, -0.25f)),
            new("classifier.weight", "F32", "[3]", Floats(7f, 8f, 9f)),
            new("features.0.weight", "BF16", "[2,2]", Bits16(0x3F80, 0x4000, 0x4040, 0x4080)),
        ]);
        float[] parameters = (float[])Sentinel.Clone();

        IReadOnlyList<string> ignored = SafeTensors.Load(path, parameters, Layout,
            new SafeTensorsLoadOptions { Rename = name => names.GetValueOrDefault(name) });

        Assert.Equal(["classifier.weight"], ignored);
        Assert.Equal([1f, 2f, 3f, 4f, 0.5f, -0.25f], parameters);
    }

    [Fact]
    public void Two_file_tensors_renamed_to_one_name_fail()
    {
        string path = WritePyTorchFile(new Tensor("w", "F32", "[2,2]", Floats(1f, 2f, 3f, 4f)));

        AssertLoadWithOptionsFails(path, Lenient, "w and model.w are both renamed to w");
    }

    [Fact]
    public void Long_name_lists_are_truncated()
    {
        string path = WritePyTorchFile(
            [.. Enumerable.Range(0, 38).Select(i => new Tensor($"model.extra{i}", "F32", "[1]", Floats(i)))]);

        string message = AssertLoadWithOptionsFails(path, SafeTensorsLoadOptions.StripPrefix("model."),
            "File tensors (40): model.w, model.b, model.extra0,", "model.extra29, … (8 more)", "Expected (2): w, b");
        Assert.DoesNotContain("model.extra30", message.Split(Environment.NewLine)[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Ignored_tensors_still_need_sound_offsets()
    {
        string path = WriteFile(
            GoodHeader[..^1] + ""","extra":{"dtype":"F32","shape":[4],"data_offsets":[24,40]}}""", GoodData);

        AssertLoadWithOptionsFails(path, new SafeTensorsLoadOptions { Strict = false }, "extra: data_offsets [24, 40]");
    }

    [Theory]
    [InlineData("F16", "[2,2]", 6, "w: data_offsets [0, 6] span 6 bytes, [2, 2] F16 needs 8")]
    [InlineData("F64", "[2,2]", 32, "w: dtype F64 found, F32, F16 or BF16 expected")]
    [InlineData("BF16", "[4]", 8, "w: shape [2, 2] expected, file has [4]")]
    public void Rejects_16_bit_tensors_of_the_wrong_size_dtype_or_shape(string dtype, string shape, int bytes, string fragment)
    {
        string path = WriteTensors([new("w", dtype, shape, new byte[bytes]), new("b", "F32", "[2]", Floats(1f, 2f))]);

        AssertLoadWithOptionsFails(path, new SafeTensorsLoadOptions(), fragment);
    }

    [Fact]
    public void Loads_buffers_and_counters_with_options_and_leaves_all_three_alone_on_failure()
    {
        Tensor[] tensors =
        [
            new("model.bn.num_batches_tracked", "I64", "[]", Longs(Batches)),
            new("model.b", "BF16", "[2]", Bits16(BFloatBits)),
            new("model.w", "F32", "[2,2]", Floats(1f, 2f, 3f, 4f)),
            new("model.bn.running_mean", "F16", "[2]", Bits16(0x3C00, 0xC000)),
            new("model.bn.running_var", "F32", "[2]", Floats(2.25f, 0.75f)),
        ];
        float[] parameters = (float[])Sentinel.Clone(), buffers = (float[])BufferSentinel.Clone();
        long[] counters = (long[])CounterSentinel.Clone();

        IReadOnlyList<string> ignored = SafeTensors.Load(WriteTensors(tensors), parameters, Layout, buffers, BufferLayout,
            counters, CounterLayout, SafeTensorsLoadOptions.StripPrefix("model."));

        Assert.Empty(ignored);
        Assert.Equal([1f, 2f, 3f, 4f, .. BFloatValues], parameters);
        Assert.Equal([1f, -2f, 2.25f, 0.75f], buffers);
        Assert.Equal([Batches], counters);

        // A counter is I64 only: an F16 one is rejected, and nothing changes.
        tensors[0] = new("model.bn.num_batches_tracked", "F16", "[]", Bits16(0x3C00));
        string path = WriteTensors(tensors, name: "bad.safetensors");
        float[] p = (float[])Sentinel.Clone(), bf = (float[])BufferSentinel.Clone();
        long[] c = (long[])CounterSentinel.Clone();
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path, p, Layout, bf, BufferLayout, c, CounterLayout,
            SafeTensorsLoadOptions.StripPrefix("model.")));
        Assert.Contains("bn.num_batches_tracked: dtype F16 found, I64 expected", e.Message, StringComparison.Ordinal);
        Assert.Equal(Sentinel, p);
        Assert.Equal(BufferSentinel, bf);
        Assert.Equal(CounterSentinel, c);
    }

    [Fact]
    public void StripPrefix_keeps_other_names_and_rejects_an_empty_prefix()
    {
        Func<string, string?> rename = SafeTensorsLoadOptions.StripPrefix("model.").Rename!;

        Assert.Equal("conv1.weight", rename("model.conv1.weight"));
        Assert.Equal("conv1.weight", rename("conv1.weight"));
        Assert.Equal("module.model.x", rename("module.model.x"));
        Assert.True(SafeTensorsLoadOptions.StripPrefix("model.").Strict);
        Assert.Throws<ArgumentException>(() => SafeTensorsLoadOptions.StripPrefix(""));
    }
}
