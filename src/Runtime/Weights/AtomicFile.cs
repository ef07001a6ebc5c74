using System;
using System.IO;

namespace NetGen.Weights;

/// <summary>
/// A file written whole or not at all: under a temporary name in the same directory, then moved over the target by
/// <see cref="Commit"/>. A crash never leaves a half-written file behind, and an existing file is replaced only by a
/// complete one; disposed without a commit (an exception on the way), the temporary file is deleted.
/// </summary>
/// <example>
/// <code>
/// using (var target = AtomicFile.Create(path))
/// {
///     target.Stream.Write(bytes);
///     target.Commit();
/// }
/// </code>
/// </example>
internal sealed class AtomicFile : IDisposable
{
    private readonly string _path;
    private readonly string _temporary;
    private bool _committed;

    private AtomicFile(string path)
    {
        _path = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(_path) ?? ".";
        _temporary = Path.Combine(directory, "." + Path.GetFileName(_path) + "." + Path.GetRandomFileName() + ".tmp");
        Stream = new FileStream(_temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
    }

    /// <summary>The temporary file, to write.</summary>
    public FileStream Stream { get; }

    /// <summary>Creates the temporary file beside <paramref name="path"/>.</summary>
    public static AtomicFile Create(string path) => new(path);

    /// <summary>Flushes the temporary file to disk, closes it and moves it over the target.</summary>
    public void Commit()
    {
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(_temporary, _path, overwrite: true);
        _committed = true;
    }

    /// <summary>Closes the temporary file and, unless committed, deletes it (best effort: the original error matters more).</summary>
    public void Dispose()
    {
        Stream.Dispose();
        if (_committed)
        {
            return;
        }

        try
        {
            File.Delete(_temporary);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
