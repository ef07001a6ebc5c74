using System;
using System.IO;
using SkiaSharp;
using Xunit;

namespace NetGen.Images.Tests;

/// <summary>Decoding, channel conversion, resizing and normalization against values computed by hand on tiny PNGs.</summary>
public sealed class ImageTransformTests : IDisposable
{
    private const float Tolerance = 1e-6f;
    private readonly TempDirectory _directory = new();

    [Fact]
    public void Rgb_at_the_same_size_is_each_byte_over_255_in_channel_major_order()
    {
        // 2×2 pixels, each channel value distinct: (x, y) → R = 10 + x + 2y, G = 100 + …, B = 200 + …
        string path = TestImages.WritePng(_directory.File("rgb.png"), 2, 2,
            (x, y) => new SKColor((byte)(10 + x + 2 * y), (byte)(100 + x + 2 * y), (byte)(200 + x + 2 * y)));

        float[] output = new ImageTransform(3, 2, 2).Load(path);

        float[] expected =
        [
            10 / 255f, 11 / 255f, 12 / 255f, 13 / 255f, // R plane, row by row
            100 / 255f, 101 / 255f, 102 / 255f, 103 / 255f, // G plane
            200 / 255f, 201 / 255f, 202 / 255f, 203 / 255f, // B plane
        ];
        AssertClose(expected, output);
    }

    [Fact]
    public void Grey_is_the_BT601_luma_of_each_pixel()
    {
        string path = TestImages.WritePng(_directory.File("colour.png"), 2, 1,
            (x, _) => x == 0 ? new SKColor(255, 0, 0) : new SKColor(10, 200, 40));

        float[] output = new ImageTransform(1, 1, 2).Load(path);

        AssertClose([0.299f, (0.299f * 10 + 0.587f * 200 + 0.114f * 40) / 255f], output);
    }

    [Fact]
    public void Shrinking_by_two_averages_with_Pillows_antialiased_bilinear_weights()
    {
        // A row of 4 grey values a, b, c, d shrunk to 2: scale 2, the triangle filter widened to ±2 pixels; output 0 is
        // centred at 1.0 and sees pixels 0, 1, 2 at distances 0.5, 0.5, 1.5 → weights 0.75, 0.75, 0.25 (sum 1.75), i.e.
        // (3a + 3b + c) / 7; output 1 is centred at 3.0 → (b + 3c + 3d) / 7. A 2×2 image shrunk to 1×1 is its mean.
        byte[] row = [0, 70, 140, 210];
        string wide = TestImages.WritePng(_directory.File("row.png"), 4, 1, (x, _) => new SKColor(row[x], row[x], row[x]));
        string square = TestImages.WritePng(_directory.File("square.png"), 2, 2,
            (x, y) => new SKColor((byte)(40 * (x + 2 * y)), 0, 0));

        float[] shrunk = new ImageTransform(3, 1, 2).Load(wide);
        float[] mean = new ImageTransform(3, 1, 1).Load(square);

        float first = (3 * 0 + 3 * 70 + 140) / 7f / 255f, second = (70 + 3 * 140 + 3 * 210) / 7f / 255f;
        AssertClose([first, second, first, second, first, second], shrunk);
        AssertClose([(0 + 40 + 80 + 120) / 4f / 255f, 0f, 0f], mean);
    }

    [Fact]
    public void Enlarging_interpolates_linearly_between_pixel_centres()
    {
        // 2 pixels a, b → 4: centres at source 0.25, 0.75, 1.25, 1.75 → a, 0.75a + 0.25b, 0.25a + 0.75b, b (edges clamp).
        string path = TestImages.WritePng(_directory.File("two.png"), 2, 1, (x, _) => x == 0 ? new SKColor(0, 0, 0) : new SKColor(200, 200, 200));

        float[] output = new ImageTransform(1, 1, 4).Load(path);

        AssertClose([0f, 50 / 255f, 150 / 255f, 200 / 255f], output);
    }

    [Fact]
    public void Rows_and_columns_are_resized_independently()
    {
        // 1 column of 2 rows enlarged to 4 rows × 3 columns: every column is the vertical interpolation.
        string path = TestImages.WritePng(_directory.File("column.png"), 1, 2, (_, y) => y == 0 ? new SKColor(100, 100, 100) : new SKColor(20, 20, 20));

        float[] output = new ImageTransform(1, 4, 3).Load(path);

        float[] column = [100 / 255f, 80 / 255f, 40 / 255f, 20 / 255f];
        for (int y = 0; y < 4; y++)
        {
            AssertClose([column[y], column[y], column[y]], output.AsSpan(y * 3, 3).ToArray());
        }
    }

    [Fact]
    public void Each_channel_is_normalized_with_its_own_mean_and_standard_deviation()
    {
        string path = TestImages.WritePng(_directory.File("one.png"), 1, 1, (_, _) => new SKColor(51, 102, 204));
        var transform = new ImageTransform(3, 1, 1, mean: [0.1f, 0.2f, 0.3f], standardDeviation: [0.5f, 0.25f, 2f]);

        float[] output = transform.Load(path);

        AssertClose([(0.2f - 0.1f) / 0.5f, (0.4f - 0.2f) / 0.25f, (0.8f - 0.3f) / 2f], output);
    }

    [Fact]
    public void A_stream_loads_as_the_file_does_and_is_left_open()
    {
        string path = TestImages.WriteShape(_directory.File("disc.png"), "disc", new Random(3), SKEncodedImageFormat.Png);
        var transform = new ImageTransform(3, 16, 16, [0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);
        float[] fromFile = transform.Load(path);

        using var stream = new MemoryStream(File.ReadAllBytes(path));
        var fromStream = new float[transform.SampleLength];
        transform.Load(stream, fromStream);

        Assert.Equal(fromFile, fromStream);
        Assert.True(stream.CanRead); // not disposed
    }

    [Fact]
    public void A_destination_of_the_wrong_length_is_an_error_naming_the_length_needed()
    {
        string path = TestImages.WritePng(_directory.File("one.png"), 1, 1, (_, _) => SKColors.White);

        var e = Assert.Throws<ArgumentException>(() => new ImageTransform(3, 4, 4).Load(path, new float[47]));

        Assert.Equal("destination", e.ParamName);
        Assert.Contains("47 floats; a 3×4×4 image needs 48", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_an_error_naming_it()
    {
        string path = _directory.File("absent.png");

        var e = Assert.Throws<FileNotFoundException>(() => new ImageTransform(1, 8, 8).Load(path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_an_image_is_an_error_naming_it()
    {
        string path = _directory.File("notes.png");
        File.WriteAllText(path, "these are not pixels");

        var e = Assert.Throws<InvalidDataException>(() => new ImageTransform(1, 8, 8).Load(path));

        Assert.StartsWith(path + ": not an image", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png)]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    public void A_file_cut_short_is_an_error_naming_it(SKEncodedImageFormat format)
    {
        string whole = TestImages.WriteShape(_directory.File("whole"), "disc", new Random(5), format);
        byte[] bytes = File.ReadAllBytes(whole);
        string path = _directory.File("cut." + format);
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var destination = new float[3 * 8 * 8];

        var e = Assert.Throws<InvalidDataException>(() => new ImageTransform(3, 8, 8).Load(path, destination));

        Assert.StartsWith(path + ": the " + format + " image data is damaged or cut short", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_cut_within_its_header_is_an_error_naming_it()
    {
        string whole = TestImages.WriteShape(_directory.File("whole.jpg"), "disc", new Random(5), SKEncodedImageFormat.Jpeg);
        string path = _directory.File("header.jpg");
        File.WriteAllBytes(path, File.ReadAllBytes(whole).AsSpan(0, 40).ToArray());

        var e = Assert.Throws<InvalidDataException>(() => new ImageTransform(3, 8, 8).Load(path));

        Assert.Equal(path + ": the image data is cut short, within its header (IncompleteInput).", e.Message);
    }

    [Fact]
    public void Arguments_out_of_range_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageTransform(2, 8, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageTransform(3, 0, 8));
        Assert.Throws<ArgumentException>(() => new ImageTransform(3, 8, 8, [0.5f], [0.5f, 0.5f, 0.5f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageTransform(1, 8, 8, [0.5f], [0f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageTransform(1, 8, 8, [float.NaN], [1f]));
    }

    public void Dispose() => _directory.Dispose();

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance, $"[{i}]: expected {expected[i]}, got {actual[i]}");
        }
    }
}
