using System;
using System.IO;
using NetGen.Weights;
using Xunit;

namespace NetGen.Runtime.Tests.Weights;

/// <summary>The all-or-nothing file write behind Save and ExportOnnx.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_write_that_fails_before_the_commit_leaves_the_existing_file_and_no_temporary_one()
    {
        string path = _dir.File("model.onnx");
        File.WriteAllText(path, "old");
        Action failingWrite = () =>
        {
            using var target = AtomicFile.Create(path);
            target.Stream.Write(new byte[100_000]); // more than the stream's buffer: bytes reach the temporary file
            Assert.Equal(2, Directory.GetFiles(_dir.Path).Length);
            throw new InvalidOperationException("the writer failed half-way");
        };
        Assert.Throws<InvalidOperationException>(failingWrite);

        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void A_commit_replaces_the_existing_file_whole()
    {
        string path = _dir.File("model.onnx");
        File.WriteAllText(path, "old");
        using (var target = AtomicFile.Create(path))
        {
            target.Stream.Write([1, 2, 3]);
            Assert.Equal("old", File.ReadAllText(path)); // not before the commit
            target.Commit();
        }

        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }
}
