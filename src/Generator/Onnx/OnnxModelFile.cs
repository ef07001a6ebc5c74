using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;
using NetGen.Generator.Weights;

namespace NetGen.Generator.Onnx;

/// <summary>
/// The import step of the pipeline: finds an [OnnxModel] class's file among the project's AdditionalFiles, reads its bytes
/// and imports it. A model is binary, and <see cref="AdditionalText.GetText"/> decodes text, so the bytes are read from the
/// file's path, as the compiler gives it.
/// </summary>
internal static class OnnxModelFile
{
    public static OnnxImportResult Import(OnnxModelRequest request, ImmutableArray<AdditionalText> files, CancellationToken cancellationToken)
    {
        if (request.Diagnostics.Any(static d => d.IsError))
        {
            return new OnnxImportResult(new ParseResult(null, request.Diagnostics), EquatableArray<NamedTensor>.Empty);
        }

        List<AdditionalText> matches = Find(request.Path, request.SourceDirectory, files);
        if (matches.Count != 1)
        {
            return OnnxImporter.Failed(matches.Count == 0
                ? DiagnosticInfo.Create(Diagnostics.OnnxModelNotFound, request.Location, request.Network, request.Path)
                : DiagnosticInfo.Create(Diagnostics.OnnxModelAmbiguous, request.Location, request.Network, request.Path, matches.Count,
                    string.Join(", ", matches.Select(static m => m.Path))));
        }

        cancellationToken.ThrowIfCancellationRequested();
        byte[] bytes;
        try
        {
#pragma warning disable RS1035 // File IO in a generator: the model is an AdditionalFile, and binary, which GetText() cannot return.
            bytes = File.ReadAllBytes(matches[0].Path);
#pragma warning restore RS1035
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            return OnnxImporter.Failed(DiagnosticInfo.Create(Diagnostics.OnnxModelMalformed, request.Location, request.Network, request.Path,
                $"the file cannot be read ({e.GetType().Name}: {e.Message})"));
        }

        OnnxImportResult result = OnnxImporter.Import(bytes, request.Path, request.Hierarchy, request.Network, request.Location) with
        {
            BakeWeights = request.BakeWeights,
        };
        return request.Diagnostics.Count == 0
            ? result
            : result with { Parsed = result.Parsed with { Diagnostics = request.Diagnostics.Concat(result.Parsed.Diagnostics).ToEquatableArray() } };
    }

    /// <summary>
    /// The AdditionalFiles <paramref name="path"/> names: the one at that path from the declaring file's directory, or else
    /// every one whose path ends with it (a path relative to the project, as the AdditionalFiles item gives it).
    /// </summary>
    public static List<AdditionalText> Find(string path, string sourceDirectory, ImmutableArray<AdditionalText> files)
    {
        string wanted = Normalize(path);
        if (wanted.Length == 0)
        {
            return [];
        }

        bool rooted = wanted.StartsWith("/", StringComparison.Ordinal) || (wanted.Length > 1 && wanted[1] == ':');
        string fromSource = rooted || sourceDirectory.Length == 0 ? wanted : Normalize(sourceDirectory + "/" + wanted);
        var exact = files.Where(f => string.Equals(Normalize(f.Path), fromSource, StringComparison.OrdinalIgnoreCase)).ToList();
        if (exact.Count > 0 || rooted || wanted.StartsWith("../", StringComparison.Ordinal))
        {
            return exact;
        }

        return files.Where(f => Normalize(f.Path) is var p
            && (string.Equals(p, wanted, StringComparison.OrdinalIgnoreCase) || p.EndsWith("/" + wanted, StringComparison.OrdinalIgnoreCase))).ToList();
    }

    /// <summary>Forward slashes, no "." segments, ".." applied where a segment precedes it.</summary>
    private static string Normalize(string path)
    {
        var segments = new List<string>();
        string[] parts = path.Replace('\\', '/').Split('/');
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            if (part == "." || (part.Length == 0 && i > 0))
            {
                continue;
            }

            if (part == ".." && segments.Count > 0 && segments[segments.Count - 1] is not (".." or ""))
            {
                segments.RemoveAt(segments.Count - 1);
                continue;
            }

            segments.Add(part);
        }

        return string.Join("/", segments);
    }
}
