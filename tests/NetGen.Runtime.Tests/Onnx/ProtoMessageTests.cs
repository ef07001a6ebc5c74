using System;
using System.IO;
using NetGen.Onnx;
using Xunit;

namespace NetGen.Runtime.Tests.Onnx;

/// <summary>
/// The protobuf wire format against bytes worked out by hand (the first examples are protobuf.dev's encoding guide's):
/// a tag is field · 8 + wire type as a varint; a varint is 7 bits a byte, low bits first, the top bit set on all but the
/// last byte.
/// </summary>
public sealed class ProtoMessageTests
{
    [Fact]
    public void A_varint_field_is_its_tag_then_seven_bits_a_byte_low_bits_first()
    {
        // 150 = 0b1_0010110: 0x96 (0010110 with the continuation bit), then 0x01. Tag: field 1, wire type 0 → 0x08.
        Assert.Equal([0x08, 0x96, 0x01], new ProtoMessage().Varint(1, 150).ToArray());
        Assert.Equal([0x08, 0x00], new ProtoMessage().Varint(1, 0).ToArray());
        Assert.Equal([0x08, 0x7F], new ProtoMessage().Varint(1, 127).ToArray());
        Assert.Equal([0x08, 0x80, 0x01], new ProtoMessage().Varint(1, 128).ToArray());

        // 2^35 + 1: five groups of seven bits, 0x81 0x80 0x80 0x80 0x80 0x01.
        Assert.Equal([0x08, 0x81, 0x80, 0x80, 0x80, 0x80, 0x01], new ProtoMessage().Varint(1, (1L << 35) + 1).ToArray());
    }

    [Fact]
    public void A_negative_int64_takes_ten_bytes_as_its_twos_complement()
    {
        // −1 is 64 one bits: nine bytes of 0x7F with the continuation bit (0xFF), then the last bit, 0x01. Field 2 → 0x10.
        Assert.Equal([0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], new ProtoMessage().Varint(2, -1).ToArray());
    }

    [Fact]
    public void Field_numbers_from_16_take_a_two_byte_tag()
    {
        // Field 20 (ONNX's AttributeProto.type), wire type 0: 160 = 0xA0 0x01; value 7 (INTS).
        Assert.Equal([0xA0, 0x01, 0x07], new ProtoMessage().Varint(20, 7).ToArray());
        // Field 15, wire type 2: 122 = 0x7A, one byte.
        Assert.Equal([0x7A, 0x00], new ProtoMessage().Bytes(15, []).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProtoMessage().Varint(0, 1));
    }

    [Fact]
    public void A_float_is_wire_type_5_and_four_little_endian_bytes()
    {
        // Field 2, wire type 5 → 0x15; 1.5f = 0x3FC00000; −2f = 0xC0000000.
        Assert.Equal([0x15, 0x00, 0x00, 0xC0, 0x3F], new ProtoMessage().Float(2, 1.5f).ToArray());
        Assert.Equal([0x15, 0x00, 0x00, 0x00, 0xC0], new ProtoMessage().Float(2, -2f).ToArray());
    }

    [Fact]
    public void A_string_is_its_length_then_its_UTF8_bytes()
    {
        // Field 2, wire type 2 → 0x12; "testing" is 7 bytes.
        Assert.Equal([0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6E, 0x67], new ProtoMessage().String(2, "testing").ToArray());
        // "×" is two bytes in UTF-8, C3 97: the length counts bytes, not characters.
        Assert.Equal([0x0A, 0x03, 0x35, 0xC3, 0x97], new ProtoMessage().String(1, "5×").ToArray());
        Assert.Equal([0x0A, 0x00], new ProtoMessage().String(1, "").ToArray());
    }

    [Fact]
    public void Packed_floats_are_one_length_then_little_endian_floats()
    {
        // Field 4 (TensorProto.float_data), wire type 2 → 0x22; 2 floats = 8 bytes; 1f = 0x3F800000, −2f = 0xC0000000.
        float[] values = [1f, -2f];
        Assert.Equal([0x22, 0x08, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0], new ProtoMessage().PackedFloats(4, values).ToArray());
        Assert.Equal([0x22, 0x00], new ProtoMessage().PackedFloats(4, Array.Empty<float>()).ToArray());
    }

    [Fact]
    public void A_long_float_payload_has_a_multibyte_length()
    {
        // 40 floats = 160 bytes: length 0xA0 0x01. Field 9 (TensorProto.raw_data) → 0x4A.
        var values = new float[40];
        values[39] = 1f;
        byte[] bytes = new ProtoMessage().PackedFloats(9, values).ToArray();
        Assert.Equal(3 + 160, bytes.Length);
        Assert.Equal([0x4A, 0xA0, 0x01], bytes[..3]);
        Assert.Equal([0x00, 0x00, 0x80, 0x3F], bytes[^4..]);
    }

    [Fact]
    public void Packed_varints_are_one_length_then_the_varints()
    {
        // protobuf.dev's example: 3, 270, 86942 → 03, 8E 02, 9E A7 05: six bytes. Field 4, wire type 2 → 0x22.
        Assert.Equal([0x22, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05], new ProtoMessage().PackedVarints(4, [3, 270, 86942]).ToArray());
    }

    [Fact]
    public void A_nested_message_is_its_length_then_its_bytes()
    {
        // protobuf.dev's Test3: field 3 holding a message whose field 1 is 150 → 1A 03 08 96 01.
        var inner = new ProtoMessage().Varint(1, 150);
        Assert.Equal([0x1A, 0x03, 0x08, 0x96, 0x01], new ProtoMessage().Message(3, inner).ToArray());

        // Two levels, with fields around: 08 01, then field 2 holding (field 1 holding 08 96 01, then 10 02), then 18 03.
        var middle = new ProtoMessage().Message(1, new ProtoMessage().Varint(1, 150)).Varint(2, 2);
        byte[] outer = new ProtoMessage().Varint(1, 1).Message(2, middle).Varint(3, 3).ToArray();
        Assert.Equal([0x08, 0x01, 0x12, 0x07, 0x0A, 0x03, 0x08, 0x96, 0x01, 0x10, 0x02, 0x18, 0x03], outer);
    }

    [Fact]
    public void Fields_keep_the_order_they_were_added_in_around_nested_payloads()
    {
        float[] floats = [0.5f];
        var tensor = new ProtoMessage().Varint(1, 1).PackedFloats(9, floats).String(8, "w");
        var message = new ProtoMessage().Message(5, tensor).Varint(1, 2);
        // 2A 0B: field 5, 11 bytes = 08 01 | 4A 04 00 00 00 3F | 42 01 77; then 08 02.
        byte[] expected = [0x2A, 0x0B, 0x08, 0x01, 0x4A, 0x04, 0x00, 0x00, 0x00, 0x3F, 0x42, 0x01, 0x77, 0x08, 0x02];
        Assert.Equal(expected, message.ToArray());
        Assert.Equal(expected.Length, message.Length);

        var stream = new MemoryStream();
        message.WriteTo(stream);
        Assert.Equal(expected, stream.ToArray());
    }

    [Fact]
    public void A_message_nested_in_another_cannot_change()
    {
        var inner = new ProtoMessage().Varint(1, 1);
        new ProtoMessage().Message(1, inner);
        Assert.Throws<InvalidOperationException>(() => inner.Varint(2, 2));
        Assert.Throws<ArgumentException>(() =>
        {
            var self = new ProtoMessage();
            self.Message(1, self);
        });
    }

    [Theory]
    [InlineData(0UL, 1)]
    [InlineData(127UL, 1)]
    [InlineData(128UL, 2)]
    [InlineData(16_383UL, 2)]
    [InlineData(16_384UL, 3)]
    [InlineData(ulong.MaxValue, 10)]
    public void Varint_lengths(ulong value, int bytes) => Assert.Equal(bytes, ProtoMessage.VarintLength(value));
}
