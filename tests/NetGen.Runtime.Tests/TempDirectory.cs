using System;
using System.IO;

namespace NetGen.Runtime.Tests;

/// <summary>
/// A fresh directory under the system temp folder, named after the test assembly, deleted on dispose. NetGen.Images.Tests
/// compiles this file too.
/// </summary>
public sealed class TempDirectory : IDisposable
{
    /// <summary>"netgen-runtime-tests-" or "netgen-images-tests-": the test assembly's name.</summary>
    private static readonly string Prefix = typeof(TempDirectory).Assembly.GetName().Name!.ToLowerInvariant().Replace('.', '-') + "-";

    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), Prefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
