using System;
using System.Diagnostics.CodeAnalysis;
using System.IO;
using NetGen.Data;

namespace FashionMnist;

/// <summary>Where the sample finds Fashion-MNIST: --data, the Debian package's folder, or the subset bundled beside the sample.</summary>
internal static class FashionMnistFiles
{
    /// <summary>Where Debian's dataset-fashion-mnist package installs the data set; looked at without --data.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    public static string BundledDirectory => Path.Combine(AppContext.BaseDirectory, "data");

    public static bool TryLocate(string? requested, [NotNullWhen(true)] out string? directory, out bool bundled)
    {
        bundled = false;
        if (requested is not null)
        {
            // An explicit folder must hold the files; no silent fallback to another data set.
            return NetGen.Data.FashionMnist.TryFind(requested, out directory);
        }

        if (NetGen.Data.FashionMnist.TryFind(DefaultDirectory, out directory))
        {
            return true;
        }

        bundled = true;
        return NetGen.Data.FashionMnist.TryFind(BundledDirectory, out directory);
    }

    public static LabeledImages LoadTrain(string directory) => NetGen.Data.FashionMnist.LoadTrain(directory);

    public static LabeledImages LoadTest(string directory) => NetGen.Data.FashionMnist.LoadTest(directory);
}
