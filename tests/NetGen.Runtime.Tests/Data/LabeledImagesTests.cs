using System;
using System.IO;
using System.Linq;
using NetGen.Data;
using Xunit;

namespace NetGen.Runtime.Tests.Data;

public sealed class LabeledImagesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, byte[] bytes, bool gzip = false)
    {
        string path = _dir.File(name);
        File.WriteAllBytes(path, gzip ? IdxBytes.Gzip(bytes) : bytes);
        return path;
    }

    [Fact]
    public void LoadIdx_scales_pixels_to_unit_range_and_reads_labels()
    {
        byte[] pixels = [0, 255, 51, 102, 1, 254, 128, 77, 3, 9, 200, 17]; // 3 images of 2×2
        string images = Write("images.gz", IdxBytes.Build(0x08, [3, 2, 2], pixels), gzip: true);
        string labels = Write("labels", IdxBytes.Build(0x08, [3], [7, 0, 9]));

        LabeledImages set = LabeledImages.LoadIdx(images, labels, classCount: 10);

        Assert.Equal(3, set.Count);
        Assert.Equal(1, set.Channels);
        Assert.Equal(2, set.Height);
        Assert.Equal(2, set.Width);
        Assert.Equal(4, set.SampleLength);
        Assert.Equal([7, 0, 9], set.Labels);
        Assert.Equal(pixels.Select(p => p / 255f).ToArray(), set.Images);
        Assert.Equal(0f, set.Images[0]);
        Assert.Equal(1f, set.Images[1]);
        Assert.Equal([1 / 255f, 254 / 255f, 128 / 255f, 77 / 255f], set.Image(1).ToArray());
    }

    [Fact]
    public void LoadIdx_reads_four_dimensional_images_as_channels()
    {
        string images = Write("images", IdxBytes.Build(0x08, [2, 3, 1, 2], IdxBytes.Sequence(12)));
        string labels = Write("labels", IdxBytes.Build(0x08, [2], [1, 2]));

        LabeledImages set = LabeledImages.LoadIdx(images, labels);

        Assert.Equal((2, 3, 1, 2), (set.Count, set.Channels, set.Height, set.Width));
        Assert.Equal(6, set.SampleLength);
    }

    [Fact]
    public void LoadIdx_count_mismatch_names_both_files()
    {
        string images = Write("my-images-idx3-ubyte", IdxBytes.Build(0x08, [3, 2, 2], new byte[12]));
        string labels = Write("my-labels-idx1-ubyte", IdxBytes.Build(0x08, [4], [1, 2, 3, 4]));

        var e = Assert.Throws<InvalidDataException>(() => LabeledImages.LoadIdx(images, labels));

        Assert.Contains(images, e.Message, StringComparison.Ordinal);
        Assert.Contains(labels, e.Message, StringComparison.Ordinal);
        Assert.Contains("3 images", e.Message, StringComparison.Ordinal);
        Assert.Contains("4 labels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadIdx_rejects_label_not_below_class_count()
    {
        string images = Write("images", IdxBytes.Build(0x08, [3, 1, 1], [1, 2, 3]));
        string labels = Write("labels", IdxBytes.Build(0x08, [3], [9, 10, 0]));

        var e = Assert.Throws<InvalidDataException>(() => LabeledImages.LoadIdx(images, labels, classCount: 10));

        Assert.StartsWith(labels + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains("label 1 is 10", e.Message, StringComparison.Ordinal);
        // Without a class count any byte is a valid label.
        Assert.Equal([9, 10, 0], LabeledImages.LoadIdx(images, labels).Labels);
    }

    [Fact]
    public void LoadIdx_rejects_wrong_ranks()
    {
        string flatImages = Write("flat", IdxBytes.Build(0x08, [3, 4], new byte[12]));
        string labels = Write("labels", IdxBytes.Build(0x08, [3], [0, 1, 2]));
        string matrixLabels = Write("matrix-labels", IdxBytes.Build(0x08, [3, 1], [0, 1, 2]));
        string images = Write("images", IdxBytes.Build(0x08, [3, 2, 2], new byte[12]));

        var e1 = Assert.Throws<InvalidDataException>(() => LabeledImages.LoadIdx(flatImages, labels));
        var e2 = Assert.Throws<InvalidDataException>(() => LabeledImages.LoadIdx(images, matrixLabels));

        Assert.StartsWith(flatImages + ": ", e1.Message, StringComparison.Ordinal);
        Assert.Contains("2 dimensions", e1.Message, StringComparison.Ordinal);
        Assert.StartsWith(matrixLabels + ": ", e2.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { 0, 65536, 65536 }, "1×65536×65536")]
    [InlineData(new[] { 0, 2, 2147483647, 1 }, "2×2147483647×1")]
    [InlineData(new[] { 0, 4194304, 4194304, 4194304 }, "4194304×4194304×4194304")] // 2^66 pixels: would wrap a long to 0
    public void LoadIdx_rejects_an_empty_set_of_images_too_large_for_an_array(int[] dimensions, string size)
    {
        // Found by IdxFuzzTests (seed 40005): with a count of 0 the IDX file is valid whatever the image size,
        // and LoadIdx used to throw ArgumentException from the constructor instead of InvalidDataException.
        string images = Write("images", IdxBytes.Build(0x08, dimensions, []));
        string labels = Write("labels", IdxBytes.Build(0x08, [0], []));

        var e = Assert.Throws<InvalidDataException>(() => LabeledImages.LoadIdx(images, labels));

        Assert.StartsWith(images + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(size, e.Message, StringComparison.Ordinal);
        Assert.Equal(0, LabeledImages.LoadIdx(Write("small", IdxBytes.Build(0x08, [0, 28, 28], [])), labels).Count);
    }

    [Fact]
    public void LoadIdx_propagates_idx_errors()
    {
        string images = Write("images", IdxBytes.Build(0x08, [3, 2, 2], new byte[11]));
        string labels = Write("labels", IdxBytes.Build(0x08, [3], [0, 1, 2]));

        var e = Assert.Throws<InvalidDataException>(() => LabeledImages.LoadIdx(images, labels));

        Assert.StartsWith(images + ": truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mean_and_standard_deviation_match_a_double_precision_computation()
    {
        var random = new Random(5);
        float[] pixels = Enumerable.Range(0, 3 * 2 * 50 * 50).Select(_ => (float)random.NextDouble()).ToArray();
        var set = new LabeledImages(pixels, [0, 1, 2], channels: 2, height: 50, width: 50);
        double mean = pixels.Average(p => (double)p);
        double std = Math.Sqrt(pixels.Average(p => (p - mean) * (p - mean)));

        (float m, float s) = set.ComputeMeanAndStandardDeviation();

        Assert.Equal(mean, m, 1e-6);
        Assert.Equal(std, s, 1e-6);
    }

    [Fact]
    public void Normalize_applies_the_affine_map_in_place()
    {
        float[] pixels = [0f, 0.5f, 1f, 0.25f];
        var set = new LabeledImages(pixels, [3, 4], 1, 1, 2);

        set.Normalize(0.5f, 0.25f);

        Assert.Same(pixels, set.Images);
        Assert.Equal([-2f, 0f, 2f, -1f], set.Images);
        (float m, float s) = set.ComputeMeanAndStandardDeviation();
        Assert.Equal(-0.25, m, 1e-6);
        Assert.Equal(Math.Sqrt((1.75 * 1.75 + 0.25 * 0.25 + 2.25 * 2.25 + 0.75 * 0.75) / 4), s, 1e-6);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-1f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Normalize_rejects_bad_standard_deviation(float std)
    {
        var set = new LabeledImages([1f], [0], 1, 1, 1);

        Assert.Throws<ArgumentOutOfRangeException>(() => set.Normalize(0f, std));
        Assert.Equal([1f], set.Images);
    }

    [Fact]
    public void Subset_copies_the_range()
    {
        var set = new LabeledImages(Enumerable.Range(0, 10).Select(i => (float)i).ToArray(), [0, 1, 2, 3, 4], 1, 1, 2);

        LabeledImages sub = set.Subset(1, 3);

        Assert.Equal([2f, 3f, 4f, 5f, 6f, 7f], sub.Images);
        Assert.Equal([1, 2, 3], sub.Labels);
        Assert.Equal(3, sub.Count);
        sub.Images[0] = 99f;
        Assert.Equal(2f, set.Images[2]);
        Assert.Empty(set.Subset(5, 0).Labels);
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Subset(3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Subset(-1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Subset(6, 0));
    }

    [Theory]
    [InlineData(65536, 65536, 1)]
    [InlineData(1, 2, int.MaxValue)]
    [InlineData(4194304, 4194304, 4194304)] // 2^66 floats per sample: wraps a long to 0
    [InlineData(int.MaxValue, int.MaxValue, int.MaxValue)]
    public void Constructor_rejects_a_sample_of_more_than_int_MaxValue_floats(int channels, int height, int width)
    {
        Assert.Throws<ArgumentException>(() => new LabeledImages([], [], channels, height, width));
        Assert.Throws<ArgumentException>(() => new LabeledImages([], [0], channels, height, width));
    }

    [Fact]
    public void Constructor_validates_lengths()
    {
        Assert.Throws<ArgumentException>(() => new LabeledImages(new float[7], [0, 1], 1, 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LabeledImages(new float[4], [0, -1], 1, 1, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LabeledImages([], [], 0, 1, 1));
    }

    [Fact]
    public void Gather_copies_samples_in_index_order_without_allocating()
    {
        var set = new LabeledImages(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), [10, 11, 12, 13], 1, 3, 1);
        var inputs = new float[3 * 3 + 2];
        var labels = new int[4];
        int[] indices = [3, 0, 3];
        set.Gather(indices, inputs, labels); // warm up

        Array.Clear(inputs);
        long before = GC.GetAllocatedBytesForCurrentThread();
        set.Gather(indices, inputs, labels);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal([9f, 10f, 11f, 0f, 1f, 2f, 9f, 10f, 11f, 0f, 0f], inputs);
        Assert.Equal([13, 10, 13, 0], labels);
    }

    [Fact]
    public void Gather_rejects_small_buffers_and_bad_indices()
    {
        var set = new LabeledImages(new float[8], [0, 1, 2, 3], 1, 1, 2);

        Assert.Throws<ArgumentException>(() => set.Gather([0, 1], new float[3], new int[2]));
        Assert.Throws<ArgumentException>(() => set.Gather([0, 1], new float[4], new int[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Gather([4], new float[2], new int[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Gather([-1], new float[2], new int[1]));
    }

    [Fact]
    public void Gather_errors_name_the_needed_and_the_actual_lengths()
    {
        var set = new LabeledImages(new float[8], [0, 1, 2, 3], 1, 1, 2);

        var inputs = Assert.Throws<ArgumentException>(() => set.Gather([0, 1, 2], new float[5], new int[3]));
        var labels = Assert.Throws<ArgumentException>(() => set.Gather([0, 1, 2], new float[6], new int[2]));
        var index = Assert.Throws<ArgumentOutOfRangeException>(() => set.Gather([0, 7], new float[4], new int[2]));

        Assert.Equal("inputs", inputs.ParamName);
        Assert.Contains("3 samples need 6 floats, inputs has 5", inputs.Message, StringComparison.Ordinal);
        Assert.Equal("labels", labels.ParamName);
        Assert.Contains("3 samples need 3 labels, labels has 2", labels.Message, StringComparison.Ordinal);
        Assert.Equal("indices", index.ParamName);
        Assert.Contains("Index 1 is 7, outside 0..3", index.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_length_mismatch_names_the_expected_and_the_actual_length()
    {
        var e = Assert.Throws<ArgumentException>(() => new LabeledImages(new float[7], [0, 1], 1, 2, 2));

        Assert.Equal("images", e.ParamName);
        Assert.Contains("2 labels × 1×2×2 = 8 floats expected, images has 7", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentNullException>(() => new LabeledImages(null!, [0], 1, 1, 1));
        Assert.Throws<ArgumentNullException>(() => new LabeledImages([1f], null!, 1, 1, 1));
        var label = Assert.Throws<ArgumentOutOfRangeException>(() => new LabeledImages(new float[3], [0, 2, -5], 1, 1, 1));
        Assert.Contains("Label 2 is -5", label.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Image_rejects_an_index_outside_the_set()
    {
        var set = new LabeledImages(new float[6], [0, 1, 2], 1, 1, 2);

        Assert.Throws<ArgumentOutOfRangeException>(() => set.Image(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Image(3));
        Assert.Equal(2, set.Image(2).Length);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.NegativeInfinity)]
    public void Normalize_rejects_a_non_finite_mean(float mean)
    {
        var set = new LabeledImages([1f], [0], 1, 1, 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => set.Normalize(mean, 1f));

        Assert.Equal("mean", e.ParamName);
        Assert.Equal([1f], set.Images);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(257)]
    public void LoadIdx_rejects_a_class_count_outside_1_to_256_before_reading(int classCount)
    {
        // The files do not exist: the argument is checked first.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LabeledImages.LoadIdx(_dir.File("no-images"), _dir.File("no-labels"), classCount));

        Assert.Equal("classCount", e.ParamName);
    }

    [Fact]
    public void LoadIdx_rejects_empty_paths_and_reports_missing_files()
    {
        string labels = Write("labels", IdxBytes.Build(0x08, [1], [0]));

        Assert.ThrowsAny<ArgumentException>(() => LabeledImages.LoadIdx("", labels));
        Assert.ThrowsAny<ArgumentException>(() => LabeledImages.LoadIdx(null!, labels));
        Assert.Throws<FileNotFoundException>(() => LabeledImages.LoadIdx(_dir.File("absent"), labels));
    }
}
