using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace NetGen.Tests.Baking;

/// <summary>A tensor to write: its name, dtype, shape and raw little-endian bytes.</summary>
internal sealed record RawTensor(string Name, string Dtype, int[] Shape, byte[] Data)
{
    public static RawTensor F32(string name, int[] shape, Func<int, float> value) =>
        new(name, "F32", shape, Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).SelectMany(i => BitConverter.GetBytes(value(i))).ToArray());

    public static RawTensor I64(string name, long value) => new(name, "I64", [], BitConverter.GetBytes(value));
}

/// <summary>
/// Writes safetensors bytes independently of the runtime's writer (header JSON by hand, offsets in order), so that tests
/// can make any dtype and any corruption.
/// </summary>
internal static class SafeTensorsBytes
{
    public static byte[] Build(IEnumerable<RawTensor> tensors, string? metadata = null)
    {
        var header = new StringBuilder("{");
        if (metadata is not null)
        {
            header.Append("\"__metadata__\":").Append(metadata).Append(',');
        }

        long offset = 0;
        var data = new MemoryStream();
        foreach (RawTensor t in tensors)
        {
            header.Append(CultureInfo.InvariantCulture,
                $"\"{t.Name}\":{{\"dtype\":\"{t.Dtype}\",\"shape\":[{string.Join(",", t.Shape)}],\"data_offsets\":[{offset},{offset + t.Data.Length}]}},");
            offset += t.Data.Length;
            data.Write(t.Data);
        }

        if (header[^1] == ',')
        {
            header.Length--;
        }

        header.Append('}');
        return WithHeader(header.ToString(), data.ToArray());
    }

    /// <summary>An 8-byte length, the header as given, then the data.</summary>
    public static byte[] WithHeader(string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        return [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. data];
    }
}
