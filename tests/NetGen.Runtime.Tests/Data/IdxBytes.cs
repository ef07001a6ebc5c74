using System.Collections.Generic;
using System.IO;
using System.IO.Compression;

namespace NetGen.Runtime.Tests.Data;

/// <summary>Builds IDX files byte by byte from the format description, independently of the reader.</summary>
internal static class IdxBytes
{
    public static byte[] Build(byte type, int[] dimensions, byte[] data, int? declaredRank = null)
    {
        var bytes = new List<byte> { 0x00, 0x00, type, (byte)(declaredRank ?? dimensions.Length) };
        foreach (int d in dimensions)
        {
            // Big-endian int32.
            bytes.Add((byte)((uint)d >> 24));
            bytes.Add((byte)((uint)d >> 16));
            bytes.Add((byte)((uint)d >> 8));
            bytes.Add((byte)d);
        }

        bytes.AddRange(data);
        return bytes.ToArray();
    }

    public static byte[] Gzip(byte[] plain)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(plain);
        }

        return output.ToArray();
    }

    public static byte[] Sequence(int length, int start = 0)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)(start + i * 7);
        }

        return data;
    }
}
