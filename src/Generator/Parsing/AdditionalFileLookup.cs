using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace NetGen.Generator.Parsing;

/// <summary>
/// Which AdditionalFiles a path written in <c>[Weights("…")]</c> or <c>[OnnxModel("…")]</c> names, one rule for both: the
/// file at that path from the folder of the source file that declares the class, if it is an AdditionalFile; otherwise
/// every AdditionalFile whose path ends with the written one, segment by segment (a path relative to the project, as the
/// <c>AdditionalFiles</c> item gives it). Separators are normalized, <c>.</c> segments and, for the second match, leading
/// <c>..</c> segments dropped, and case ignored (as the file systems of Windows and macOS do).
/// </summary>
internal static class AdditionalFileLookup
{
    /// <summary>The indices in <paramref name="files"/> of the files <paramref name="written"/> names (none, one, or several: ambiguous).</summary>
    public static List<int> Find(string written, string sourceDirectory, IReadOnlyList<string> files)
    {
        string[] wanted = Segments(written);
        if (wanted.Length == 0)
        {
            return [];
        }

        string[] fromSource = Resolve(IsRooted(written) || sourceDirectory.Length == 0 ? wanted : Segments(sourceDirectory).Concat(wanted).ToArray());
        var exact = Enumerable.Range(0, files.Count).Where(i => Resolve(Segments(files[i])).SequenceEqual(fromSource, StringComparer.OrdinalIgnoreCase)).ToList();
        return exact.Count > 0 ? exact : Enumerable.Range(0, files.Count).Where(i => EndsWith(files[i], written)).ToList();
    }

    /// <summary>The folder of the source file <paramref name="tree"/>, '/'-separated, that a relative path is looked up from first; "" when unknown.</summary>
    public static string SourceDirectory(SyntaxTree? tree)
    {
        string file = tree?.FilePath.Replace('\\', '/') ?? "";
        return file.LastIndexOf('/') is var slash and >= 0 ? file.Substring(0, slash) : "";
    }

    /// <summary>
    /// The bytes of a binary AdditionalFile (a weights file, a model), or null with the exception that prevented reading
    /// them. <see cref="AdditionalText.GetText"/> decodes text and would corrupt binary data, so the bytes are read from
    /// <see cref="AdditionalText.Path"/>: the one place the generator reads a file itself.
    /// </summary>
    public static byte[]? ReadBytes(string path, out Exception? error)
    {
        try
        {
            error = null;
#pragma warning disable RS1035 // Binary AdditionalFiles have no API but their path: GetText() would decode the bytes as text.
            return File.ReadAllBytes(path);
#pragma warning restore RS1035
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            error = e;
            return null;
        }
    }

    /// <summary>Whether a file's path ends with <paramref name="written"/>, segment by segment, its leading <c>..</c> segments dropped.</summary>
    public static bool EndsWith(string filePath, string written)
    {
        string[] file = Segments(filePath), wanted = Segments(written).SkipWhile(s => s == "..").ToArray();
        if (wanted.Length == 0 || wanted.Length > file.Length)
        {
            return false;
        }

        for (int i = 1; i <= wanted.Length; i++)
        {
            if (!string.Equals(file[file.Length - i], wanted[wanted.Length - i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsRooted(string path) => path.StartsWith("/", StringComparison.Ordinal) || path.StartsWith("\\", StringComparison.Ordinal) || (path.Length > 1 && path[1] == ':');

    private static string[] Segments(string path) =>
        path.Replace('\\', '/').Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToArray();

    /// <summary>Applies each <c>..</c> to the segment before it.</summary>
    private static string[] Resolve(string[] segments)
    {
        var result = new List<string>();
        foreach (string segment in segments)
        {
            if (segment == ".." && result.Count > 0 && result[result.Count - 1] != "..")
            {
                result.RemoveAt(result.Count - 1);
            }
            else
            {
                result.Add(segment);
            }
        }

        return result.ToArray();
    }
}
