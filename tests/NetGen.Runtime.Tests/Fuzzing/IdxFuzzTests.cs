using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Numerics;
using System.Threading.Tasks;
using NetGen.Data;
using NetGen.Runtime.Tests.Data;
using Xunit;
using Xunit.Abstractions;

namespace NetGen.Runtime.Tests.Fuzzing;

/// <summary>
/// Seeded random mutations of small valid IDX files, plain and gzipped, and of image/label pairs for
/// <see cref="LabeledImages.LoadIdx"/>. An independent parse of the (decompressed) bytes decides the outcome: a
/// valid file must be read with exactly its dimensions and data, an invalid one rejected with exactly
/// <see cref="InvalidDataException"/> naming the file. Any other exception, or a case running longer than
/// <see cref="FuzzRunner.CaseTimeout"/>, fails with the seed and the mutations.
/// </summary>
public sealed class IdxFuzzTests(ITestOutputHelper output) : IDisposable
{
    private const int ClassCount = 10;

    // 3 images of 4×5 pixels and their labels: a 76-byte and a 9-byte file, so mutations often hit the header.
    private static readonly byte[] Images = IdxBytes.Build(IdxFile.UnsignedByteType, [3, 4, 5], IdxBytes.Sequence(60, start: 3));
    private static readonly byte[] Labels = IdxBytes.Build(IdxFile.UnsignedByteType, [3], [1, 7, 9]);

    // Dimension sizes at the edges: zero, small, around 2^8 and 2^16, and large enough that products overflow
    // int (and the array limit) — alone or combined with a zero; three times 2^22 is 2^66, which wraps a long to 0.
    private static readonly int[] EdgeDimensions = [0, 1, 2, 3, 5, 255, 256, 65535, 65536, 0x00400000, 0x00FFFFFF, 0x7FFFFFC7, int.MaxValue];

    private static readonly uint[] EdgeDimensionFields = [0, 1, 60, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x01000000, 0x00010000];

    private static readonly byte[] EdgeMagicBytes = [0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x09, 0x0B, 0x0D, 0x0E, 0x1F, 0x8B, 0xFE, 0xFF];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_unmutated_files_are_valid()
    {
        string images = Write("images", Images), labels = Write("labels", Labels), gzip = Write("images.gz", IdxBytes.Gzip(Images));

        Assert.Equal([3, 4, 5], IdxFile.Read(images).Dimensions);
        Assert.Equal(IdxFile.Read(images).Data, IdxFile.Read(gzip).Data);
        Assert.Equal(3, LabeledImages.LoadIdx(images, labels, ClassCount).Count);
        Assert.NotNull(ReferenceParse(Images));
    }

    [Fact]
    public Task Plain_file_mutations_are_read_or_rejected_with_InvalidDataException() =>
        FuzzRunner.RunAsync("IDX plain", 10_000, m =>
        {
            byte[] file = MutateIdx(m, Images, "file", rewriteWeight: 1);
            return ReadAndCheck(m, file, ReferenceParse(file));
        }, output);

    [Fact]
    public Task Gzip_file_mutations_of_the_compressed_bytes_are_read_or_rejected_with_InvalidDataException() =>
        FuzzRunner.RunAsync("IDX gzip (compressed bytes mutated)", 20_000, m =>
        {
            byte[] gzip = IdxBytes.Gzip(Images);
            int steps = m.Between(1, 3);
            for (int i = 0; i < steps; i++)
            {
                gzip = m.Chance(0.2) ? MutateGzipHeaderOrTrailer(m, gzip) : m.MutateBytes(gzip, "gzip");
            }

            // The reader must agree with an independent decompression and parse: a corrupt stream is rejected.
            // (A mutated magic number makes the file plain IDX as far as the reader is concerned.)
            bool stillGzip = gzip.Length >= 2 && gzip[0] == 0x1F && gzip[1] == 0x8B;
            byte[]? plain = stillGzip ? TryGunzip(gzip) : gzip;
            return ReadAndCheck(m, gzip, plain is null ? null : ReferenceParse(plain));
        }, output);

    [Fact]
    public Task Gzip_files_of_mutated_content_are_read_or_rejected_with_InvalidDataException() =>
        FuzzRunner.RunAsync("IDX gzip (content mutated)", 30_000, m =>
        {
            byte[] plain = MutateIdx(m, Images, "content", rewriteWeight: 1);
            return ReadAndCheck(m, IdxBytes.Gzip(plain), ReferenceParse(plain));
        }, output);

    [Fact]
    public Task LoadIdx_of_mutated_files_loads_or_rejects_with_InvalidDataException() =>
        FuzzRunner.RunAsync("LabeledImages.LoadIdx", 40_000, m =>
        {
            // Half the cases start from a consistent pair of another shape, as the two files must agree.
            bool pair = m.Chance(0.5);
            (byte[] images, byte[] labels) = pair ? ConsistentPair(m) : (Images, Labels);
            int steps = pair ? m.Between(0, 2) : m.Between(1, 3);
            for (int i = 0; i < steps; i++)
            {
                if (m.Chance(0.7))
                {
                    images = MutateIdxOnce(m, images, "images", rewriteWeight: 1);
                }
                else
                {
                    labels = MutateIdxOnce(m, labels, "labels", rewriteWeight: 1);
                }
            }

            return LoadAndCheck(m, images, labels);
        }, output);

    /// <summary>1 to 3 mutations, generic or aware of the IDX header.</summary>
    private static byte[] MutateIdx(Mutator m, byte[] file, string what, int rewriteWeight)
    {
        int steps = m.Between(1, 3);
        for (int i = 0; i < steps; i++)
        {
            file = MutateIdxOnce(m, file, what, rewriteWeight);
        }

        return file;
    }

    private static byte[] MutateIdxOnce(Mutator m, byte[] file, string what, int rewriteWeight) =>
        m.Random.Next(8 + rewriteWeight) switch
        {
            < 5 => m.MutateBytes(file, what),
            5 or 6 => SetHeaderField(m, file, what),
            7 => PrependGzipMagic(m, file, what),
            _ => RewriteHeader(m, file, what),
        };

    /// <summary>
    /// An images file and a labels file that agree on the count: 0 to 3 images of an edge shape (with pixels
    /// when they fit in 4096 bytes, else the old ones), labels from 0 to 11 (10 and 11 are not classes).
    /// </summary>
    private static (byte[] Images, byte[] Labels) ConsistentPair(Mutator m)
    {
        int count = m.Between(0, 3);
        int[] dimensions = [count, .. Enumerable.Range(0, m.Pick([2, 2, 3])).Select(_ => m.Pick(EdgeDimensions))];
        BigInteger product = dimensions.Aggregate(BigInteger.One, (p, d) => p * d);
        byte[] pixels = product <= 4096 ? IdxBytes.Sequence((int)product, start: m.Random.Next(256)) : IdxBytes.Sequence(60, start: 3);
        byte[] labels = Enumerable.Range(0, count).Select(_ => (byte)m.Random.Next(12)).ToArray();
        m.Note(Mutator.Invariant($"pair: images {string.Join("×", dimensions)} with {pixels.Length} bytes, labels [{string.Join(", ", labels)}]"));
        return (IdxBytes.Build(IdxFile.UnsignedByteType, dimensions, pixels), IdxBytes.Build(IdxFile.UnsignedByteType, [count], labels));
    }

    /// <summary>Sets a magic-number byte, or one dimension size, to an edge value.</summary>
    private static byte[] SetHeaderField(Mutator m, byte[] file, string what)
    {
        int dimensionFields = Math.Max(0, (file.Length - 4) / 4);
        byte[] result = (byte[])file.Clone();
        if (file.Length < 4 || dimensionFields == 0 || m.Chance(0.4))
        {
            if (file.Length == 0)
            {
                return m.InsertRun(file, what);
            }

            int at = m.Random.Next(Math.Min(4, file.Length));
            result[at] = m.Pick(EdgeMagicBytes);
            m.Note(Mutator.Invariant($"{what}: magic byte {at} = {result[at]:X2}"));
            return result;
        }

        int field = m.Random.Next(Math.Min(dimensionFields, Math.Max(1, (int)file[3])));
        uint value = m.Pick(EdgeDimensionFields);
        BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(4 + 4 * field, 4), value);
        m.Note(Mutator.Invariant($"{what}: dimension {field} = 0x{value:X8}"));
        return result;
    }

    private static byte[] PrependGzipMagic(Mutator m, byte[] file, string what)
    {
        m.Note($"{what}: prefix 1F 8B (gzip magic number)");
        return Mutator.Splice(file, 0, 0, [0x1F, 0x8B]);
    }

    /// <summary>
    /// Replaces the whole header by a consistent one of another rank and shape; the data is resized to match
    /// when the new shape holds at most 4096 bytes (a valid file of another shape) and left as is otherwise.
    /// </summary>
    private static byte[] RewriteHeader(Mutator m, byte[] file, string what)
    {
        int oldRank = file.Length >= 4 ? file[3] : 0;
        int oldHeader = Math.Min(file.Length, 4 + 4 * oldRank);
        byte[] data = file[oldHeader..];

        int rank = m.Pick([1, 2, 3, 3, 3, 4, 4, 5]);
        int[] dimensions = new int[rank];
        BigInteger product = 1;
        for (int i = 0; i < rank; i++)
        {
            dimensions[i] = m.Pick(EdgeDimensions);
            product *= dimensions[i];
        }

        bool resized = product <= 4096;
        if (resized)
        {
            data = IdxBytes.Sequence((int)product, start: m.Random.Next(256));
        }

        m.Note(Mutator.Invariant($"{what}: header rewritten to {string.Join("×", dimensions)}, {data.Length} data bytes{(resized ? "" : " (kept)")}"));
        return IdxBytes.Build(IdxFile.UnsignedByteType, dimensions, data);
    }

    /// <summary>Edits the gzip header flags, OS, modification time, or the CRC-32 / size trailer.</summary>
    private static byte[] MutateGzipHeaderOrTrailer(Mutator m, byte[] gzip)
    {
        if (gzip.Length < 18)
        {
            return m.MutateBytes(gzip, "gzip"); // Too short for a gzip header and trailer.
        }

        byte[] result = (byte[])gzip.Clone();
        int at = m.Chance(0.5) ? m.Pick([2, 3, 4, 5, 6, 7, 8, 9]) : gzip.Length - m.Between(1, 8);
        result[at] = m.RandomByte();
        m.Note(Mutator.Invariant($"gzip: {(at < 10 ? "header" : "trailer")} byte {at} = {result[at]:X2}"));
        return result;
    }

    /// <summary>Reads <paramref name="file"/> with <see cref="IdxFile.Read"/> and checks the outcome.</summary>
    /// <param name="reference">The independent parse of the content: null when the reader must reject the file.</param>
    private FuzzOutcome ReadAndCheck(Mutator m, byte[] file, (int[] Dimensions, byte[] Data)? reference)
    {
        string path = Write(Mutator.Invariant($"case-{m.Seed}.idx"), file);
        IdxFile idx;
        try
        {
            idx = IdxFile.Read(path);
        }
        catch (InvalidDataException e)
        {
            CheckRejection(e, path);
            if (reference is not null)
            {
                throw new FuzzViolation($"a valid file of shape [{string.Join(", ", reference.Value.Dimensions)}] was rejected: {e.Message}");
            }

            return FuzzOutcome.Rejected;
        }

        BigInteger product = idx.Dimensions.Aggregate(BigInteger.One, (p, d) => p * d);
        if (idx.Dimensions.Count == 0 || idx.Dimensions.Any(d => d < 0) || product != idx.Data.Length)
        {
            throw new FuzzViolation($"accepted with dimensions [{string.Join(", ", idx.Dimensions)}] whose product is not the {idx.Data.Length} data bytes");
        }

        if (reference is null)
        {
            throw new FuzzViolation($"an invalid file was accepted as [{string.Join(", ", idx.Dimensions)}]");
        }

        if (!idx.Dimensions.SequenceEqual(reference.Value.Dimensions) || !idx.Data.AsSpan().SequenceEqual(reference.Value.Data))
        {
            throw new FuzzViolation($"read [{string.Join(", ", idx.Dimensions)}] with {idx.Data.Length} bytes, the file holds [{string.Join(", ", reference.Value.Dimensions)}] with {reference.Value.Data.Length}");
        }

        File.Delete(path);
        return FuzzOutcome.Accepted;
    }

    private FuzzOutcome LoadAndCheck(Mutator m, byte[] imagesFile, byte[] labelsFile)
    {
        string images = Write(Mutator.Invariant($"case-{m.Seed}-images"), imagesFile);
        string labels = Write(Mutator.Invariant($"case-{m.Seed}-labels"), labelsFile);
        string? invalid = ReferenceLoad(imagesFile, labelsFile, out (int[] Dimensions, byte[] Data)? pixels, out byte[]? labelBytes);
        LabeledImages set;
        try
        {
            set = LabeledImages.LoadIdx(images, labels, ClassCount);
        }
        catch (InvalidDataException e)
        {
            if (e.GetType() != typeof(InvalidDataException))
            {
                throw new FuzzViolation($"threw {e.GetType().FullName}, not exactly InvalidDataException: {e.Message}");
            }

            if (!e.Message.Contains(images, StringComparison.Ordinal) && !e.Message.Contains(labels, StringComparison.Ordinal))
            {
                throw new FuzzViolation($"the message names neither file: {e.Message}");
            }

            if (invalid is null)
            {
                throw new FuzzViolation($"valid files were rejected: {e.Message}");
            }

            return FuzzOutcome.Rejected;
        }

        if (invalid is not null)
        {
            throw new FuzzViolation($"accepted although {invalid}");
        }

        int[] d = pixels!.Value.Dimensions;
        (int count, int channels, int height, int width) = d.Length == 3 ? (d[0], 1, d[1], d[2]) : (d[0], d[1], d[2], d[3]);
        if ((set.Count, set.Channels, set.Height, set.Width) != (count, channels, height, width)
            || set.SampleLength != channels * height * width
            || set.Images.Length != pixels.Value.Data.Length
            || !set.Labels.SequenceEqual(labelBytes!.Select(b => (int)b))
            || !set.Images.SequenceEqual(pixels.Value.Data.Select(b => b / 255f)))
        {
            throw new FuzzViolation($"loaded {set.Count}×{set.Channels}×{set.Height}×{set.Width}, which does not match the files");
        }

        File.Delete(images);
        File.Delete(labels);
        return FuzzOutcome.Accepted;
    }

    private static void CheckRejection(InvalidDataException e, string path)
    {
        if (e.GetType() != typeof(InvalidDataException))
        {
            throw new FuzzViolation($"threw {e.GetType().FullName}, not exactly InvalidDataException: {e.Message}");
        }

        if (!e.Message.StartsWith(path + ": ", StringComparison.Ordinal))
        {
            throw new FuzzViolation($"the message does not start with the path: {e.Message}");
        }
    }

    /// <summary>
    /// The IDX format, parsed independently of the reader: 00 00 08 rank, rank big-endian sizes in 0..int.MaxValue,
    /// then exactly their product of bytes. Null when the bytes are not such a file (or look gzipped).
    /// </summary>
    private static (int[] Dimensions, byte[] Data)? ReferenceParse(byte[] file)
    {
        if (file.Length < 4 || file[0] != 0 || file[1] != 0 || file[2] != IdxFile.UnsignedByteType || file[3] == 0)
        {
            return null;
        }

        int rank = file[3], header = 4 + 4 * rank;
        if (file.Length < header)
        {
            return null;
        }

        var dimensions = new int[rank];
        BigInteger product = 1;
        for (int i = 0; i < rank; i++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(4 + 4 * i, 4));
            if (size > int.MaxValue)
            {
                return null;
            }

            dimensions[i] = (int)size;
            product *= size;
        }

        return product == file.Length - header ? (dimensions, file[header..]) : null;
    }

    /// <summary>What <see cref="LabeledImages.LoadIdx"/> must accept: null if the files are valid, else why not.</summary>
    private static string? ReferenceLoad(byte[] imagesFile, byte[] labelsFile, out (int[] Dimensions, byte[] Data)? images, out byte[]? labels)
    {
        images = ReferenceParse(imagesFile);
        var labelsIdx = ReferenceParse(labelsFile);
        labels = labelsIdx?.Data;
        if (images is null || labelsIdx is null)
        {
            return images is null ? "the images file is not valid IDX" : "the labels file is not valid IDX";
        }

        int[] d = images.Value.Dimensions;
        if (d.Length is not (3 or 4))
        {
            return $"the images have {d.Length} dimensions";
        }

        BigInteger sample = d.Skip(1).Aggregate(BigInteger.One, (p, x) => p * x);
        if (sample == 0 || sample > int.MaxValue)
        {
            return $"one image has {sample} pixels";
        }

        if (labelsIdx.Value.Dimensions.Length != 1 || labelsIdx.Value.Dimensions[0] != d[0])
        {
            return "the labels do not match the images";
        }

        return labels!.Any(b => b >= ClassCount) ? "a label is not a class" : null;
    }

    /// <summary>The decompressed bytes, or null if the gzip stream is corrupt.</summary>
    private static byte[]? TryGunzip(byte[] gzip)
    {
        try
        {
            using var input = new MemoryStream(gzip);
            using var unzip = new GZipStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            unzip.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    private string Write(string name, byte[] bytes)
    {
        string path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
