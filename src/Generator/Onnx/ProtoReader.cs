using System;
using System.Collections.Generic;
using System.Text;

namespace NetGen.Generator.Onnx;

/// <summary>
/// Reads one protobuf message from the wire format (https://protobuf.dev/programming-guides/encoding/): a sequence of
/// fields, each a tag (field number and wire type) then a varint, a fixed 32- or 64-bit value, or a length-prefixed run of
/// bytes (strings, nested messages, packed repeated numbers). Reads within [start, end) of the buffer and never past it:
/// anything truncated or malformed throws <see cref="OnnxFormatException"/> naming the byte offset.
/// </summary>
internal struct ProtoReader
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    private readonly byte[] _buffer;
    private readonly int _end;
    private int _position;

    public ProtoReader(byte[] buffer) : this(buffer, 0, buffer.Length)
    {
    }

    private ProtoReader(byte[] buffer, int start, int end)
    {
        _buffer = buffer;
        _position = start;
        _end = end;
    }

    /// <summary>The number of the field read last by <see cref="Next"/>.</summary>
    public int Field { get; private set; }

    /// <summary>The wire type of the field read last by <see cref="Next"/>.</summary>
    public int WireType { get; private set; }

    /// <summary>Reads the next field's tag; false at the end of the message.</summary>
    public bool Next()
    {
        if (_position >= _end)
        {
            return false;
        }

        ulong tag = ReadVarint();
        Field = (int)Math.Min(tag >> 3, int.MaxValue);
        WireType = (int)(tag & 7);
        if (Field == 0)
        {
            throw Malformed("a field numbered 0");
        }

        return true;
    }

    private ulong ReadVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _end)
            {
                throw Malformed("a number cut short");
            }

            byte b = _buffer[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw Malformed("a number longer than 10 bytes");
    }

    /// <summary>An int64 field (ints, dims, ir_version): a varint, two's complement.</summary>
    public long ReadInt64()
    {
        Expect(Varint);
        return Int64();
    }

    /// <summary>A float field: fixed 32 bits, little-endian.</summary>
    public float ReadFloat()
    {
        Expect(Fixed32);
        return Float();
    }

    private long Int64() => (long)ReadVarint();

    private float Float() => BitConverter.ToSingle(BitConverter.GetBytes(ReadFixed32()), 0);

    private int ReadFixed32()
    {
        Need(4);
        int value = _buffer[_position] | _buffer[_position + 1] << 8 | _buffer[_position + 2] << 16 | _buffer[_position + 3] << 24;
        _position += 4;
        return value;
    }

    /// <summary>A length-delimited field's bytes as (offset, length) into the buffer.</summary>
    public (int Offset, int Length) ReadBytes()
    {
        Expect(LengthDelimited);
        return Bytes();
    }

    private (int Offset, int Length) Bytes()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_end - _position))
        {
            throw Malformed($"a field of {length} bytes with {_end - _position} left");
        }

        int offset = _position;
        _position += (int)length;
        return (offset, (int)length);
    }

    public string ReadString()
    {
        (int offset, int length) = ReadBytes();
        return Encoding.UTF8.GetString(_buffer, offset, length);
    }

    /// <summary>A nested message: a reader over its bytes.</summary>
    public ProtoReader ReadMessage()
    {
        (int offset, int length) = ReadBytes();
        return new ProtoReader(_buffer, offset, offset + length);
    }

    /// <summary>The buffer the reader reads, for a field's raw bytes (<see cref="ReadBytes"/>).</summary>
    public byte[] Buffer => _buffer;

    /// <summary>A repeated int64 field, packed (one length-delimited run) or not (one varint per field).</summary>
    public void ReadInt64s(List<long> into)
    {
        if (WireType == LengthDelimited)
        {
            ProtoReader packed = ReadMessage();
            while (packed._position < packed._end)
            {
                into.Add(packed.Int64());
            }
        }
        else
        {
            into.Add(ReadInt64());
        }
    }

    /// <summary>A repeated float field, packed or not.</summary>
    public void ReadFloats(List<float> into)
    {
        if (WireType == LengthDelimited)
        {
            ProtoReader packed = ReadMessage();
            if (packed._end - packed._position is var length && length % 4 != 0)
            {
                throw Malformed($"packed floats of {length} bytes, not a multiple of 4");
            }

            while (packed._position < packed._end)
            {
                into.Add(packed.Float());
            }
        }
        else
        {
            into.Add(ReadFloat());
        }
    }

    /// <summary>Checks the field's wire type is the one its schema gives it: each <c>Read…</c> of a field does, first.</summary>
    private void Expect(int wireType)
    {
        if (WireType != wireType)
        {
            throw Malformed($"field {Field} has wire type {WireType}, not {wireType}");
        }
    }

    /// <summary>Skips the current field's value, whatever its wire type: a field this reader does not use.</summary>
    public void Skip()
    {
        switch (WireType)
        {
            case Varint:
                ReadVarint();
                break;
            case Fixed64:
                Need(8);
                _position += 8;
                break;
            case LengthDelimited:
                Bytes();
                break;
            case Fixed32:
                Need(4);
                _position += 4;
                break;
            default:
                throw Malformed($"field {Field} has wire type {WireType}, which protobuf does not define (or a group, which ONNX does not use)");
        }
    }

    private void Need(int bytes)
    {
        if (_end - _position < bytes)
        {
            throw Malformed($"a value of {bytes} bytes with {_end - _position} left");
        }
    }

    private OnnxFormatException Malformed(string what) => new($"at byte {_position}: {what}");
}

/// <summary>A model file that is not a well-formed ONNX protobuf (truncated, corrupt, or another kind of file).</summary>
internal sealed class OnnxFormatException(string message) : Exception(message);
