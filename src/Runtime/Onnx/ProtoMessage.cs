using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace NetGen.Onnx;

/// <summary>
/// A protocol buffers message being built, in the wire format (protobuf.dev/programming-guides/encoding): each field a
/// tag, <c>field number · 8 + wire type</c> as a varint, then its value: a varint (wire type 0), 4 little-endian bytes
/// (5), or a varint length and that many bytes (2: strings, bytes, nested messages, packed repeated scalars). Fields
/// are written in the order they are added.
/// </summary>
/// <remarks>
/// A nested message or a float payload is kept by reference and written only by <see cref="WriteTo"/>: a message is
/// built bottom-up, each nested message complete before it is added (it is then sealed), so every length is known when
/// its prefix is written and a model's weights are never copied into intermediate buffers. Only what ONNX export needs:
/// no zigzag (sint) or fixed64 fields.
/// </remarks>
internal sealed class ProtoMessage
{
    /// <summary>The wire types used here.</summary>
    private enum WireType
    {
        Varint = 0,
        LengthDelimited = 2,
        Fixed32 = 5,
    }

    /// <summary>Encoded bytes, nested messages and float payloads, in order.</summary>
    private readonly List<object> _segments = [];

    /// <summary>The encoded bytes not yet closed into a segment.</summary>
    private readonly List<byte> _pending = [];

    private long _length;
    private bool _sealed;

    /// <summary>The encoded length in bytes.</summary>
    public long Length => _length + _pending.Count;

    /// <summary>A varint field (int32, int64, uint64, bool, enum): negative values take ten bytes, as protobuf encodes them.</summary>
    public ProtoMessage Varint(int field, long value)
    {
        Tag(field, WireType.Varint);
        WriteVarint(unchecked((ulong)value));
        return this;
    }

    /// <summary>A float field (fixed32, little-endian).</summary>
    public ProtoMessage Float(int field, float value)
    {
        Tag(field, WireType.Fixed32);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        Append(bytes);
        return this;
    }

    /// <summary>A string field, UTF-8.</summary>
    public ProtoMessage String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A bytes field, copied.</summary>
    public ProtoMessage Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, WireType.LengthDelimited);
        WriteVarint((ulong)value.Length);
        Append(value);
        return this;
    }

    /// <summary>A packed repeated varint field (<c>repeated int64 … [packed = true]</c>): one length, then the varints.</summary>
    public ProtoMessage PackedVarints(int field, ReadOnlySpan<long> values)
    {
        long length = 0;
        foreach (long v in values)
        {
            length += VarintLength(unchecked((ulong)v));
        }

        Tag(field, WireType.LengthDelimited);
        WriteVarint((ulong)length);
        foreach (long v in values)
        {
            WriteVarint(unchecked((ulong)v));
        }

        return this;
    }

    /// <summary>
    /// Floats as one length-delimited field of their little-endian bytes: a packed <c>repeated float</c>, or a <c>bytes</c>
    /// field holding them (ONNX's <c>raw_data</c>), whose encodings are the same. Read when the message is written.
    /// </summary>
    public ProtoMessage PackedFloats(int field, ReadOnlyMemory<float> values)
    {
        CheckNotSealed();
        Tag(field, WireType.LengthDelimited);
        WriteVarint((ulong)values.Length * 4);
        Flush();
        _segments.Add(values);
        _length += (long)values.Length * 4;
        return this;
    }

    /// <summary>A nested message, which is complete: it is sealed, and any later change to it throws.</summary>
    public ProtoMessage Message(int field, ProtoMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (ReferenceEquals(message, this))
        {
            throw new ArgumentException("A message cannot contain itself.", nameof(message));
        }

        message._sealed = true;
        Tag(field, WireType.LengthDelimited);
        WriteVarint((ulong)message.Length);
        Flush();
        _segments.Add(message);
        _length += message.Length;
        return this;
    }

    /// <summary>Writes the message's bytes (without a length prefix: a top-level message).</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        foreach (object segment in _segments)
        {
            switch (segment)
            {
                case byte[] bytes:
                    stream.Write(bytes);
                    break;
                case ProtoMessage message:
                    message.WriteTo(stream);
                    break;
                case ReadOnlyMemory<float> floats:
                    WriteLittleEndian(stream, floats.Span);
                    break;
            }
        }

        stream.Write(CollectionsMarshal.AsSpan(_pending));
    }

    /// <summary>The message's bytes.</summary>
    public byte[] ToArray()
    {
        var stream = new MemoryStream(checked((int)Length));
        WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>The bytes of a varint: 7 bits each, low bits first, the top bit set on all but the last.</summary>
    internal static int VarintLength(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }

    private void Tag(int field, WireType type)
    {
        CheckNotSealed();
        if (field is < 1 or > 536_870_911)
        {
            throw new ArgumentOutOfRangeException(nameof(field), field, "Protobuf field numbers are 1 to 2^29 − 1.");
        }

        WriteVarint(((ulong)field << 3) | (ulong)type);
    }

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _pending.Add((byte)(value | 0x80));
            value >>= 7;
        }

        _pending.Add((byte)value);
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            _pending.Add(b);
        }
    }

    /// <summary>Closes the pending bytes into a segment, before a segment kept by reference.</summary>
    private void Flush()
    {
        if (_pending.Count > 0)
        {
            _segments.Add(_pending.ToArray());
            _length += _pending.Count;
            _pending.Clear();
        }
    }

    private void CheckNotSealed()
    {
        if (_sealed)
        {
            throw new InvalidOperationException("The message is nested in another already: its length is written there.");
        }
    }

    private static void WriteLittleEndian(Stream stream, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        Span<byte> chunk = stackalloc byte[4096];
        while (!values.IsEmpty)
        {
            int n = Math.Min(values.Length, chunk.Length / 4);
            for (int i = 0; i < n; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(chunk.Slice(4 * i), values[i]);
            }

            stream.Write(chunk[..(4 * n)]);
            values = values[n..];
        }
    }
}
