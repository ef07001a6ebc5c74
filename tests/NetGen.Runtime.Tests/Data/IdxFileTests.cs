using System;
using System.IO;
using NetGen.Data;
using Xunit;

namespace NetGen.Runtime.Tests.Data;

public sealed class IdxFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, byte[] bytes)
    {
        string path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static InvalidDataException ReadFails(string path)
    {
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        return e;
    }

    [Fact]
    public void Reads_plain_file_dimensions_and_data()
    {
        byte[] data = IdxBytes.Sequence(2 * 3 * 4);
        string path = Write("images-idx3-ubyte", IdxBytes.Build(0x08, [2, 3, 4], data));

        IdxFile idx = IdxFile.Read(path);

        Assert.Equal([2, 3, 4], idx.Dimensions);
        Assert.Equal(data, idx.Data);
    }

    [Fact]
    public void Reads_gzip_file()
    {
        byte[] data = IdxBytes.Sequence(5, start: 200);
        string path = Write("labels-idx1-ubyte.gz", IdxBytes.Gzip(IdxBytes.Build(0x08, [5], data)));

        IdxFile idx = IdxFile.Read(path);

        Assert.Equal([5], idx.Dimensions);
        Assert.Equal(data, idx.Data);
    }

    [Fact]
    public void Detects_gzip_by_magic_number_not_extension()
    {
        byte[] data = IdxBytes.Sequence(6);
        byte[] plain = IdxBytes.Build(0x08, [2, 3], data);
        string gzipWithoutExtension = Write("compressed.idx", IdxBytes.Gzip(plain));
        string plainWithGzExtension = Write("plain.gz", plain);

        Assert.Equal(data, IdxFile.Read(gzipWithoutExtension).Data);
        Assert.Equal(data, IdxFile.Read(plainWithGzExtension).Data);
    }

    [Fact]
    public void Reads_empty_data_when_a_dimension_is_zero()
    {
        string path = Write("empty", IdxBytes.Build(0x08, [0, 28, 28], []));

        IdxFile idx = IdxFile.Read(path);

        Assert.Equal([0, 28, 28], idx.Dimensions);
        Assert.Empty(idx.Data);
    }

    [Theory]
    [InlineData(new byte[] { 0x01, 0x00, 0x08, 0x01 })]
    [InlineData(new byte[] { 0x00, 0x05, 0x08, 0x01 })]
    [InlineData(new byte[] { 0x50, 0x4B, 0x03, 0x04 })] // a zip file
    public void Rejects_wrong_magic_number(byte[] magic)
    {
        byte[] bytes = IdxBytes.Build(0x08, [1], [42]);
        magic.CopyTo(bytes, 0);
        string path = Write("bad-magic", bytes);

        var e = ReadFails(path);

        Assert.Contains("magic number", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{magic[0]:X2} {magic[1]:X2}", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x09, "signed byte")]
    [InlineData(0x0B, "int16")]
    [InlineData(0x0C, "int32")]
    [InlineData(0x0D, "float32")]
    [InlineData(0x0E, "float64")]
    [InlineData(0x42, "unknown")]
    public void Rejects_unsupported_element_type(byte type, string typeName)
    {
        string path = Write("floats", IdxBytes.Build(type, [2], new byte[8]));

        var e = ReadFails(path);

        Assert.Contains($"0x{type:X2}", e.Message, StringComparison.Ordinal);
        Assert.Contains(typeName, e.Message, StringComparison.Ordinal);
        Assert.Contains("not supported", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(3)]
    public void Rejects_file_too_short_for_the_magic_number(int length)
    {
        string path = Write("tiny", new byte[length]);

        var e = ReadFails(path);

        Assert.Contains("truncated header", e.Message, StringComparison.Ordinal);
        Assert.Contains($"file has {length} bytes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rejects_truncated_dimension_sizes(bool gzip)
    {
        // The magic number announces 3 dimensions, but only one size (4 bytes) and 2 more bytes follow.
        byte[] bytes = IdxBytes.Build(0x08, [10], [0, 0], declaredRank: 3);
        string path = Write("short-header", gzip ? IdxBytes.Gzip(bytes) : bytes);

        var e = ReadFails(path);

        Assert.Contains("truncated header", e.Message, StringComparison.Ordinal);
        Assert.Contains("3 dimension sizes (12 bytes)", e.Message, StringComparison.Ordinal);
        Assert.Contains("file has 6 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_zero_dimensions()
    {
        string path = Write("rank0", [0x00, 0x00, 0x08, 0x00, 0x01]);

        var e = ReadFails(path);

        Assert.Contains("0 dimensions", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_negative_dimension()
    {
        string path = Write("negative", IdxBytes.Build(0x08, [3, -1], []));

        var e = ReadFails(path);

        Assert.Contains("dimension 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("negative", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rejects_truncated_data_naming_expected_and_actual_sizes(bool gzip)
    {
        byte[] bytes = IdxBytes.Build(0x08, [2, 3, 4], IdxBytes.Sequence(20));
        string path = Write("t10k-images-idx3-ubyte" + (gzip ? ".gz" : ""), gzip ? IdxBytes.Gzip(bytes) : bytes);

        var e = ReadFails(path);

        Assert.Contains("truncated: header says 2×3×4 = 24 bytes of data, file has 20", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rejects_trailing_bytes(bool gzip)
    {
        byte[] bytes = IdxBytes.Build(0x08, [2, 3], IdxBytes.Sequence(9));
        string path = Write("trailing", gzip ? IdxBytes.Gzip(bytes) : bytes);

        var e = ReadFails(path);

        Assert.Contains("trailing bytes: header says 2×3 = 6 bytes of data, file has 9", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_dimension_product_beyond_array_limits_without_allocating()
    {
        string path = Write("huge", IdxBytes.Build(0x08, [65536, 65536, 65536], [1, 2, 3]));

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = ReadFails(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("65536×65536×65536", e.Message, StringComparison.Ordinal);
        Assert.Contains("more than", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 1_000_000, $"allocated {allocated} bytes");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reports_large_header_on_small_file_as_truncated_without_allocating_the_announced_size(bool gzip)
    {
        // 200 MB announced, 3 bytes present.
        byte[] bytes = IdxBytes.Build(0x08, [200_000, 1000], [1, 2, 3]);
        string path = Write("liar", gzip ? IdxBytes.Gzip(bytes) : bytes);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = ReadFails(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("truncated: header says 200000×1000 = 200000000 bytes of data, file has 3", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 10_000_000, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Rejects_corrupt_gzip_stream_naming_the_file()
    {
        byte[] gz = IdxBytes.Gzip(IdxBytes.Build(0x08, [100], IdxBytes.Sequence(100)));
        for (int i = 10; i < gz.Length - 8; i++)
        {
            gz[i] = 0xFF;
        }

        string path = Write("corrupt.gz", gz);

        var e = ReadFails(path);

        Assert.Contains("gzip", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_throws_FileNotFoundException()
    {
        Assert.Throws<FileNotFoundException>(() => IdxFile.Read(_dir.File("nope")));
    }
}
