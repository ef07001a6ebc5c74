using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;
using NetGen.Generator.Weights;

namespace NetGen.Generator.Onnx;

/// <summary>
/// The import step of the pipeline: finds an [OnnxModel] class's file among the project's AdditionalFiles, reads its bytes
/// (<see cref="AdditionalFileLookup.ReadBytes"/>) and imports it.
/// </summary>
internal static class OnnxModelFile
{
    public static OnnxImportResult Import(OnnxModelRequest request, ImmutableArray<AdditionalText> files, CancellationToken cancellationToken)
    {
        if (request.Diagnostics.Any(static d => d.IsError))
        {
            return new OnnxImportResult(new ParseResult(null, request.Diagnostics), EquatableArray<NamedTensor>.Empty);
        }

        List<AdditionalText> matches = AdditionalFileLookup.Find(request.Path, request.SourceDirectory, files.Select(static f => f.Path).ToList())
            .ConvertAll(i => files[i]);
        if (matches.Count != 1)
        {
            return OnnxImporter.Failed(matches.Count == 0
                ? DiagnosticInfo.Create(Diagnostics.OnnxModelNotFound, request.Location, request.Network, request.Path)
                : DiagnosticInfo.Create(Diagnostics.OnnxModelAmbiguous, request.Location, request.Network, request.Path, matches.Count,
                    string.Join(", ", matches.Select(static m => m.Path))));
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (AdditionalFileLookup.ReadBytes(matches[0].Path, out Exception? e) is not { } bytes)
        {
            return OnnxImporter.Failed(DiagnosticInfo.Create(Diagnostics.OnnxModelMalformed, request.Location, request.Network, request.Path,
                $"the file cannot be read ({e!.GetType().Name}: {e.Message})"));
        }

        OnnxImportResult result = OnnxImporter.Import(bytes, request.Path, request.Hierarchy, request.Network, request.Location) with
        {
            BakeWeights = request.BakeWeights,
        };
        return request.Diagnostics.Count == 0
            ? result
            : result with { Parsed = result.Parsed with { Diagnostics = request.Diagnostics.Concat(result.Parsed.Diagnostics).ToEquatableArray() } };
    }
}
