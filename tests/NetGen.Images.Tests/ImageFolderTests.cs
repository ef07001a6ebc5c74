using System;
using System.IO;
using System.Linq;
using NetGen.Data;
using SkiaSharp;
using Xunit;

namespace NetGen.Images.Tests;

/// <summary>ImageFolder's classes, files and labels as torchvision's, its loading, and its errors.</summary>
public sealed class ImageFolderTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    [Fact]
    public void Classes_are_subfolders_sorted_ordinally_and_files_are_images_below_them_sorted()
    {
        string root = _directory.Path;
        Write("b/2.png", 10);
        Write("b/10.PNG", 20);                    // any case of extension
        Write("b/deeper/1.png", 30);              // nested folders belong to their class, after its own files
        Write("b/zz.jpg", 35);
        Write("B/x.png", 40);                     // "B" < "b" ordinally
        Write("a/z.png", 50);
        File.WriteAllText(Path.Combine(root, "a", "notes.txt"), "not an image");
        File.WriteAllText(Path.Combine(root, "stray.png"), "files in the root are not samples");

        var folder = new ImageFolder(root);

        Assert.Equal(["B", "a", "b"], folder.ClassNames);
        string[] relative = folder.Files.Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).ToArray();
        Assert.Equal(["B/x.png", "a/z.png", "b/10.PNG", "b/2.png", "b/zz.jpg", "b/deeper/1.png"], relative);
        Assert.Equal([0, 1, 2, 2, 2, 2], folder.Labels);
        Assert.Equal(6, folder.Count);
    }

    [Fact]
    public void Load_gives_each_file_as_the_transform_loads_it_with_its_label_on_any_thread_count()
    {
        TestImages.WriteShapeFolder(_directory.Path, perClass: 6, seed: 11);
        var folder = new ImageFolder(_directory.Path);
        var transform = new ImageTransform(3, 20, 20, [0.5f, 0.4f, 0.3f], [0.2f, 0.3f, 0.4f]);

        LabeledImages parallel = folder.Load(transform, degreeOfParallelism: 4);
        LabeledImages serial = folder.Load(transform, degreeOfParallelism: 1);

        Assert.Equal((18, 3, 20, 20), (parallel.Count, parallel.Channels, parallel.Height, parallel.Width));
        Assert.Equal(folder.Labels, parallel.Labels);
        Assert.Equal(Enumerable.Repeat(0, 6).Concat(Enumerable.Repeat(1, 6)).Concat(Enumerable.Repeat(2, 6)), parallel.Labels);
        Assert.Equal(serial.Images, parallel.Images);
        for (int i = 0; i < folder.Count; i++)
        {
            Assert.Equal(transform.Load(folder.Files[i]), parallel.Image(i).ToArray());
        }
    }

    [Fact]
    public void Channel_statistics_and_Normalize_match_hand_computed_values()
    {
        // Two 1×2 images: R values {0, 51} and {102, 153}, G all 255, B all 0.
        Write("a/1.png", 0, 51);
        Write("b/2.png", 102, 153);
        LabeledImages images = new ImageFolder(_directory.Path).Load(new ImageTransform(3, 1, 2));

        (float[] mean, float[] std) = ImageTransform.ComputeChannelStatistics(images);

        // R: 0, 0.2, 0.4, 0.6 → mean 0.3, population variance (0.09 + 0.01 + 0.01 + 0.09) / 4 = 0.05.
        Assert.Equal(0.3f, mean[0], 1e-6f);
        Assert.Equal(MathF.Sqrt(0.05f), std[0], 1e-6f);
        Assert.Equal([1f, 0f], mean[1..]);
        Assert.Equal([0f, 0f], std[1..]);

        new ImageTransform(3, 1, 2, [0.3f, 1f, 0f], [0.1f, 1f, 1f]).Normalize(images);
        Assert.Equal([-3f, -1f, 0f, 0f, 0f, 0f], images.Image(0).ToArray().Select(v => MathF.Round(v, 5)));
        Assert.Equal([1f, 3f, 0f, 0f, 0f, 0f], images.Image(1).ToArray().Select(v => MathF.Round(v, 5)));
    }

    [Fact]
    public void A_missing_root_is_an_error_naming_it()
    {
        string root = _directory.File("nowhere");

        var e = Assert.Throws<DirectoryNotFoundException>(() => new ImageFolder(root));

        Assert.StartsWith(root + ": no such folder", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_root_without_class_folders_is_an_error()
    {
        File.WriteAllText(_directory.File("a.png"), "");

        var e = Assert.Throws<InvalidDataException>(() => new ImageFolder(_directory.Path));

        Assert.StartsWith(_directory.Path + ": no class folders", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_class_folder_without_images_is_an_error_naming_it()
    {
        Write("cat/1.png", 1);
        Directory.CreateDirectory(_directory.File("dog"));
        File.WriteAllText(_directory.File("dog/readme.txt"), "");

        var e = Assert.Throws<InvalidDataException>(() => new ImageFolder(_directory.Path));

        Assert.StartsWith(Path.Combine(_directory.Path, "dog") + ": class 'dog' has no image files", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loading_a_folder_with_bad_files_names_the_first_in_file_order()
    {
        TestImages.WriteShapeFolder(_directory.Path, perClass: 8, seed: 2);
        string first = _directory.File("horizontal/horizontal003.jpg"), later = _directory.File("vertical/vertical001.jpg");
        File.WriteAllText(first, "not a JPEG");
        File.WriteAllText(later, "not a JPEG either");
        var folder = new ImageFolder(_directory.Path);

        for (int threads = 1; threads <= 4; threads += 3)
        {
            var e = Assert.Throws<InvalidDataException>(() => folder.Load(new ImageTransform(1, 8, 8), threads));
            Assert.StartsWith(first + ": not an image", e.Message, StringComparison.Ordinal);
        }
    }

    public void Dispose() => _directory.Dispose();

    /// <summary>A PNG of one row whose pixels have the given red values, green 255 and blue 0.</summary>
    private void Write(string relative, params byte[] reds)
    {
        string path = _directory.File(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        TestImages.WritePng(path, reds.Length, 1, (x, _) => new SKColor(reds[x], 255, 0));
    }
}
