using NetGen.Data;
using Spectre.Console;

namespace FashionMnist;

/// <summary>Finds Fashion-MNIST for a command and says where it came from; the bundled subset when it is not installed.</summary>
internal static class SampleData
{
    /// <summary>Locates the data set; on failure writes why and returns null.</summary>
    public static string? Locate(IAnsiConsole console, string? requested)
    {
        if (!FashionMnistFiles.TryLocate(requested, out string? directory, out bool bundled))
        {
            console.MarkupLineInterpolated($"[red]Fashion-MNIST not found in {requested ?? FashionMnistFiles.DefaultDirectory} nor beside the sample.[/]");
            return null;
        }

        if (bundled)
        {
            console.MarkupLineInterpolated($"[yellow]Fashion-MNIST is not installed ({FashionMnistFiles.DefaultDirectory}); using the 4,000 + 1,000 image subset bundled with the sample.[/]");
            console.WriteLine("For the full data set: apt-get install dataset-fashion-mnist, or --data <folder>.");
        }

        return directory;
    }

    /// <summary>The test set, standardized with the given training statistics.</summary>
    public static LabeledImages LoadTest(string directory, float mean, float standardDeviation)
    {
        LabeledImages test = FashionMnistFiles.LoadTest(directory);
        test.Normalize(mean, standardDeviation);
        return test;
    }
}
