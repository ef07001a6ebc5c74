using System;
using System.IO;
using SkiaSharp;

namespace NetGen.Images.Tests;

/// <summary>Image files made with SkiaSharp for the tests: exact pixels (PNG), and synthetic classes of shapes.</summary>
internal static class TestImages
{
    /// <summary>The synthetic classes, in the ordinal order ImageFolder gives them.</summary>
    public static readonly string[] ShapeClasses = ["disc", "horizontal", "vertical"];

    /// <summary>Writes an opaque PNG whose pixel (x, y) is <paramref name="pixel"/>(x, y), losslessly.</summary>
    public static string WritePng(string path, int width, int height, Func<int, int, SKColor> pixel)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, pixel(x, y));
            }
        }

        Write(path, bitmap, SKEncodedImageFormat.Png);
        return path;
    }

    /// <summary>
    /// One image of a synthetic class at a random size (24 to 64 pixels a side) in random colours: horizontal stripes,
    /// vertical stripes (random period and phase), or a disc of random centre and radius. PNG or JPEG as asked.
    /// </summary>
    public static string WriteShape(string path, string shape, Random random, SKEncodedImageFormat format)
    {
        int width = random.Next(24, 65), height = random.Next(24, 65);
        // Foreground and background far apart in brightness, so that every class shows in grey too.
        (SKColor light, SKColor dark) = (RandomColor(random, 150, 256), RandomColor(random, 0, 100));
        (SKColor background, SKColor foreground) = random.Next(2) == 0 ? (light, dark) : (dark, light);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint { Color = foreground, IsAntialias = true })
        {
            canvas.Clear(background);
            int period = random.Next(6, 13), phase = random.Next(period);
            switch (shape)
            {
                case "horizontal":
                    for (int y = -phase; y < height; y += period)
                    {
                        canvas.DrawRect(0, y, width, period / 2f, paint);
                    }

                    break;
                case "vertical":
                    for (int x = -phase; x < width; x += period)
                    {
                        canvas.DrawRect(x, 0, period / 2f, height, paint);
                    }

                    break;
                case "disc":
                    float side = Math.Min(width, height);
                    float radius = side * (0.25f + 0.15f * (float)random.NextDouble());
                    float cx = width / 2f + (float)(random.NextDouble() - 0.5) * (width - 2 * radius) * 0.5f;
                    float cy = height / 2f + (float)(random.NextDouble() - 0.5) * (height - 2 * radius) * 0.5f;
                    canvas.DrawCircle(cx, cy, radius, paint);
                    break;
                default:
                    throw new ArgumentException($"unknown shape {shape}", nameof(shape));
            }
        }

        Write(path, bitmap, format);
        return path;
    }

    /// <summary>A folder of the three synthetic classes, <paramref name="perClass"/> images each, PNG and JPEG alternating.</summary>
    public static void WriteShapeFolder(string root, int perClass, int seed)
    {
        var random = new Random(seed);
        foreach (string shape in ShapeClasses)
        {
            string folder = Directory.CreateDirectory(Path.Combine(root, shape)).FullName;
            for (int i = 0; i < perClass; i++)
            {
                bool png = i % 2 == 0;
                WriteShape(Path.Combine(folder, $"{shape}{i:D3}.{(png ? "png" : "jpg")}"), shape, random,
                    png ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg);
            }
        }
    }

    private static SKColor RandomColor(Random random, int min, int max) =>
        new((byte)random.Next(min, max), (byte)random.Next(min, max), (byte)random.Next(min, max));

    private static void Write(string path, SKBitmap bitmap, SKEncodedImageFormat format)
    {
        using SKData data = bitmap.Encode(format, 90);
        File.WriteAllBytes(path, data.ToArray());
    }
}
