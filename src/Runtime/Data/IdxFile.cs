using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace NetGen.Data;

/// <summary>
/// The contents of one IDX file, the format of the MNIST and Fashion-MNIST data sets: a 4-byte magic number
/// (<c>00 00</c>, element type, number of dimensions), the dimension sizes as big-endian 32-bit integers, then
/// the elements in row-major order.
/// </summary>
public sealed class IdxFile
{
    /// <summary>The IDX element type code for unsigned bytes, the only one this reader accepts.</summary>
    public const byte UnsignedByteType = 0x08;

    /// <summary>The largest number of data bytes accepted: the largest .NET byte array.</summary>
    public static readonly int MaxDataLength = Array.MaxLength;

    // Deflate cannot expand a stream by more than about 1032:1; beyond that a gzip file cannot hold the data.
    private const long MaxDeflateRatio = 1032;

    private readonly int[] _dimensions;

    /// <summary>Wraps already-read dimensions and data.</summary>
    /// <param name="dimensions">Dimension sizes, outermost first; each at least 0.</param>
    /// <param name="data">The elements; its length must be the product of <paramref name="dimensions"/>.</param>
    /// <exception cref="ArgumentException">A negative dimension, no dimensions, or a data length that is not their product.</exception>
    public IdxFile(ReadOnlySpan<int> dimensions, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (dimensions.IsEmpty)
        {
            throw new ArgumentException("An IDX file has at least one dimension.", nameof(dimensions));
        }

        long product = 1;
        foreach (int d in dimensions)
        {
            if (d < 0)
            {
                throw new ArgumentException("Dimensions cannot be negative.", nameof(dimensions));
            }

            product = Math.Min(product * d, (long)int.MaxValue + 1);
        }

        if (product != data.Length)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"{FormatDimensions(dimensions)} = {product} elements expected, data has {data.Length}."),
                nameof(data));
        }

        _dimensions = dimensions.ToArray();
        Data = data;
    }

    /// <summary>Dimension sizes, outermost first (for MNIST images: count, height, width).</summary>
    public IReadOnlyList<int> Dimensions => _dimensions;

    /// <summary>The elements in row-major order (for type 0x08, one byte each).</summary>
    public byte[] Data { get; }

    /// <summary>
    /// Reads an IDX file, plain or gzip-compressed (recognised by the gzip magic number <c>1F 8B</c>, whatever
    /// the file's extension). Only element type 0x08 (unsigned byte) is supported.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <returns>The dimensions and data.</returns>
    /// <exception cref="InvalidDataException">
    /// The file is not a valid IDX file: wrong magic number, unsupported element type, truncated header,
    /// dimension product too large, fewer or more data bytes than the header announces, or corrupt gzip data.
    /// The message starts with <paramref name="path"/> and says what is wrong.
    /// </exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IdxFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        long fileLength = file.Length;
        Span<byte> gzipMagic = stackalloc byte[2];
        int got = file.ReadAtLeast(gzipMagic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        bool compressed = got == 2 && gzipMagic[0] == 0x1F && gzipMagic[1] == 0x8B;
        if (!compressed)
        {
            return ReadFrom(file, path, maxDataLength: fileLength);
        }

        try
        {
            using var gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
            return ReadFrom(gzip, path, maxDataLength: fileLength * MaxDeflateRatio + 4096);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path + ": ", StringComparison.Ordinal))
        {
            throw Error(path, "corrupt gzip data: " + e.Message, e);
        }
    }

    // maxDataLength: an upper bound on the data the stream can hold, used so that an absurd header on a
    // small file is reported as truncated without first allocating the announced size.
    private static IdxFile ReadFrom(Stream stream, string path, long maxDataLength)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4)
        {
            throw Error(path, string.Create(CultureInfo.InvariantCulture,
                $"truncated header: too short for the 4-byte IDX magic number, file has {got} bytes"));
        }

        if (magic[0] != 0 || magic[1] != 0)
        {
            throw Error(path, string.Create(CultureInfo.InvariantCulture,
                $"not an IDX file: magic number {magic[0]:X2} {magic[1]:X2} {magic[2]:X2} {magic[3]:X2} does not start with 00 00"));
        }

        byte type = magic[2];
        if (type != UnsignedByteType)
        {
            throw Error(path, string.Create(CultureInfo.InvariantCulture,
                $"element type 0x{type:X2} ({TypeName(type)}) is not supported; only 0x08 (unsigned byte) is"));
        }

        int rank = magic[3];
        if (rank == 0)
        {
            throw Error(path, "the header declares 0 dimensions; at least 1 is needed");
        }

        Span<byte> dimensionBytes = stackalloc byte[4 * 255];
        dimensionBytes = dimensionBytes[..(4 * rank)];
        got = stream.ReadAtLeast(dimensionBytes, dimensionBytes.Length, throwOnEndOfStream: false);
        if (got < dimensionBytes.Length)
        {
            throw Error(path, string.Create(CultureInfo.InvariantCulture,
                $"truncated header: {rank} dimension sizes ({4 * rank} bytes) expected after the magic number, file has {got} bytes"));
        }

        var dimensions = new int[rank];
        long product = 1;
        bool tooLarge = false;
        for (int i = 0; i < rank; i++)
        {
            int d = BinaryPrimitives.ReadInt32BigEndian(dimensionBytes.Slice(4 * i, 4));
            if (d < 0)
            {
                throw Error(path, string.Create(CultureInfo.InvariantCulture,
                    $"dimension {i} has negative size {d} (0x{(uint)d:X8})"));
            }

            dimensions[i] = d;
            if (!tooLarge)
            {
                product *= d; // both factors ≤ int.MaxValue: cannot overflow a long
                tooLarge = product > MaxDataLength;
            }
        }

        if (tooLarge && !Array.Exists(dimensions, d => d == 0))
        {
            throw Error(path, string.Create(CultureInfo.InvariantCulture,
                $"header says {FormatDimensions(dimensions)}, more than the {MaxDataLength} bytes of data this reader can hold"));
        }

        if (tooLarge)
        {
            product = 0;
        }

        long headerLength = 4 + 4L * rank;
        if (product > maxDataLength - (stream.CanSeek ? headerLength : 0))
        {
            // Cannot possibly be there: count what is, without allocating what the header announces.
            long available = CountRemaining(stream);
            throw Truncated(path, dimensions, product, available);
        }

        var data = new byte[product];
        got = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (got < data.Length)
        {
            throw Truncated(path, dimensions, product, got);
        }

        long trailing = CountRemaining(stream);
        if (trailing > 0)
        {
            throw Error(path, string.Create(CultureInfo.InvariantCulture,
                $"trailing bytes: header says {FormatDimensions(dimensions)} = {product} bytes of data, file has {product + trailing}"));
        }

        return new IdxFile(dimensions, data);
    }

    private static long CountRemaining(Stream stream)
    {
        if (stream.CanSeek)
        {
            return Math.Max(0, stream.Length - stream.Position);
        }

        Span<byte> scratch = stackalloc byte[4096];
        long count = 0;
        int n;
        while ((n = stream.Read(scratch)) > 0)
        {
            count += n;
        }

        return count;
    }

    private static InvalidDataException Truncated(string path, int[] dimensions, long expected, long actual) =>
        Error(path, string.Create(CultureInfo.InvariantCulture,
            $"truncated: header says {FormatDimensions(dimensions)} = {expected} bytes of data, file has {actual}"));

    private static InvalidDataException Error(string path, string what, Exception? inner = null) =>
        new($"{path}: {what}", inner);

    internal static string FormatDimensions(ReadOnlySpan<int> dimensions)
    {
        var text = new StringBuilder();
        for (int i = 0; i < dimensions.Length; i++)
        {
            if (i > 0)
            {
                text.Append('×');
            }

            text.Append(dimensions[i].ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    private static string TypeName(byte type) => type switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "unknown type",
    };
}
