using System;
using System.IO;
using NetGen.Data;
using Xunit;

namespace NetGen.Runtime.Tests.Data;

public sealed class FashionMnistTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private void WriteSet(string directory, string prefix, int count, bool gzip, byte firstLabel = 0)
    {
        Directory.CreateDirectory(directory);
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = (byte)((firstLabel + i) % 256);
        }

        byte[] images = IdxBytes.Build(0x08, [count, 28, 28], IdxBytes.Sequence(count * 28 * 28));
        byte[] labelFile = IdxBytes.Build(0x08, [count], labels);
        string suffix = gzip ? ".gz" : "";
        File.WriteAllBytes(Path.Combine(directory, $"{prefix}-images-idx3-ubyte{suffix}"), gzip ? IdxBytes.Gzip(images) : images);
        File.WriteAllBytes(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte{suffix}"), gzip ? IdxBytes.Gzip(labelFile) : labelFile);
    }

    [Fact]
    public void Class_names_are_the_ten_Fashion_MNIST_classes_in_label_order()
    {
        Assert.Equal(
            ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
            FashionMnist.ClassNames);
        Assert.Equal(FashionMnist.ClassCount, FashionMnist.ClassNames.Count);
    }

    [Fact]
    public void TryFind_accepts_a_directory_with_plain_and_gzipped_files_and_loads_both_sets()
    {
        WriteSet(_dir.Path, "train", 5, gzip: true, firstLabel: 3);
        WriteSet(_dir.Path, "t10k", 2, gzip: false);

        Assert.True(FashionMnist.TryFind(_dir.Path, out string? found));
        Assert.Equal(_dir.Path, found);

        LabeledImages train = FashionMnist.LoadTrain(found);
        LabeledImages test = FashionMnist.LoadTest(found);
        Assert.Equal((5, 1, 28, 28), (train.Count, train.Channels, train.Height, train.Width));
        Assert.Equal([3, 4, 5, 6, 7], train.Labels);
        Assert.Equal(2, test.Count);
        Assert.Equal(7 / 255f, train.Images[1]);
    }

    [Fact]
    public void TryFind_rejects_a_directory_missing_a_file()
    {
        string incomplete = Path.Combine(_dir.Path, "incomplete");
        WriteSet(incomplete, "train", 2, gzip: true);
        WriteSet(incomplete, "t10k", 2, gzip: true);
        File.Delete(Path.Combine(incomplete, "t10k-labels-idx1-ubyte.gz"));

        // Only the given directory is looked at: no fallback to a machine-wide copy, even where one is installed.
        Assert.False(FashionMnist.TryFind(incomplete, out string? found));
        Assert.Null(found);
        Assert.Throws<FileNotFoundException>(() => FashionMnist.LoadTest(incomplete));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void TryFind_finds_nothing_without_a_directory(string? directory)
    {
        // The library knows no machine-wide location: with no directory there is nowhere to look.
        Assert.False(FashionMnist.TryFind(directory, out string? found));
        Assert.Null(found);
    }

    [Fact]
    public void LoadTrain_rejects_labels_above_nine()
    {
        WriteSet(_dir.Path, "train", 12, gzip: false);

        var e = Assert.Throws<InvalidDataException>(() => FashionMnist.LoadTrain(_dir.Path));

        Assert.Contains("train-labels-idx1-ubyte", e.Message, StringComparison.Ordinal);
        Assert.Contains("label 10 is 10", e.Message, StringComparison.Ordinal);
    }
}
