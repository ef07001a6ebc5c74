using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Weights;

/// <summary>
/// A <c>.safetensors</c> additional file as the pipeline caches it: its path, a hash of its bytes (so that any change to
/// the file, even one its floats compare equal across, such as 0 to −0, is a change), and its content or why it could not
/// be read.
/// </summary>
internal sealed record WeightsFile(string Path, ulong Hash, SafeTensorsContent? Content, string? Error)
{
    /// <summary>
    /// Reads the file's bytes from disk (<see cref="AdditionalFileLookup.ReadBytes"/>), in the step the additional files
    /// feed, which Roslyn re-runs only when the file changes.
    /// </summary>
    public static WeightsFile Read(string path)
    {
        if (AdditionalFileLookup.ReadBytes(path, out Exception? error) is not { } bytes)
        {
            return new WeightsFile(path, 0, null, "it cannot be read: " + error!.Message);
        }

        ulong hash = 14695981039346656037; // FNV-1a, 64-bit
        foreach (byte b in bytes)
        {
            hash = (hash ^ b) * 1099511628211;
        }

        try
        {
            return new WeightsFile(path, hash, SafeTensorsReader.Read(bytes), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The reader throws FormatException for what is wrong with the file; anything else would be a bug in it, and
            // the generator must not throw: both become NG0041.
            return new WeightsFile(path, hash, null, e is FormatException ? e.Message
                : e is OverflowException ? "a shape is too large" : $"internal error: {e.GetType().Name}: {e.Message}");
        }
    }
}

/// <summary>A network with its weights bound, ready to emit both of its files; or null and the diagnostics saying why not.</summary>
internal sealed record BakeResult(NetworkModel? Model, BakedWeights? Weights, EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>The file's <c>__metadata__</c>: key, value, key, value, … in file order.</summary>
    public EquatableArray<string> Metadata { get; init; } = EquatableArray<string>.Empty;
}

/// <summary>
/// The step between shape inference and emission for a network with <c>[Weights]</c>: finds its file among the
/// <c>.safetensors</c> additional files, checks dtypes, binds the tensors (<see cref="WeightsBinder"/>) and reports every
/// problem at the attribute. A network without <c>[Weights]</c> passes through unchanged.
/// </summary>
internal static class WeightsBaking
{
    /// <summary>
    /// Bakes, never throwing: an unexpected failure becomes NG0041 on the attribute, so the user sees a message rather than
    /// a generator crash.
    /// </summary>
    public static BakeResult Bake(InferenceResult inferred, ImmutableArray<WeightsFile> files)
    {
        try
        {
            return BakeCore(inferred, files);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new BakeResult(null, null, new[]
            {
                DiagnosticInfo.Create(Diagnostics.MalformedWeightsFile, inferred.Weights?.Location, inferred.Model?.Hierarchy.TypeName ?? "",
                    inferred.Weights?.Path ?? "", $"internal error: {e.GetType().Name}: {e.Message}"),
            }.ToEquatableArray());
        }
    }

    private static BakeResult BakeCore(InferenceResult inferred, ImmutableArray<WeightsFile> files)
    {
        if (inferred.Model is not { } model || inferred.Weights is not { } declaration)
        {
            return new BakeResult(inferred.Model, null, EquatableArray<DiagnosticInfo>.Empty);
        }

        string network = model.Hierarchy.TypeName, path = declaration.Path ?? "";
        var diagnostics = new List<DiagnosticInfo>();
        void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, params object[] args) =>
            diagnostics.Add(DiagnosticInfo.Create(descriptor, declaration.Location, args));
        BakeResult Failed() => new(null, null, diagnostics.ToEquatableArray());

        List<WeightsFile> matches = AdditionalFileLookup.Find(path, declaration.SourceDirectory, files.Select(static f => f.Path).ToList())
            .ConvertAll(i => files[i]);
        if (matches.Count == 0)
        {
            string found = files.Length == 0 ? "" : " (it has " + string.Join(", ", files.Select(f => System.IO.Path.GetFileName(f.Path)).Take(8)) + ")";
            Report(Diagnostics.WeightsFileNotFound, network, path, found);
            return Failed();
        }

        if (matches.Count > 1)
        {
            Report(Diagnostics.AmbiguousWeightsFile, network, path, matches.Count, string.Join(", ", matches.Select(f => f.Path)));
            return Failed();
        }

        WeightsFile file = matches[0];
        if (file.Content is not { } content)
        {
            Report(Diagnostics.MalformedWeightsFile, network, path, file.Error ?? "unknown error");
            return Failed();
        }

        foreach (string unsupported in content.UnsupportedDtypes)
        {
            int colon = unsupported.LastIndexOf(": ", StringComparison.Ordinal);
            Report(Diagnostics.UnsupportedTensorDtype, network, unsupported.Substring(0, colon), path, unsupported.Substring(colon + 2),
                "NetGen bakes F32, F16 and BF16 (converted to F32) and I64 for counters");
        }

        // A counter must be an integer, and a float tensor must not be: the runtime's Load accepts the same.
        var kinds = WeightsBinder.ExpectedTensors(model).ToDictionary(t => t.Name, t => t.Kind, StringComparer.Ordinal);
        for (int i = 0; i < content.Tensors.Count; i++)
        {
            string name = content.Tensors[i].Name, dtype = content.Dtypes[i];
            if (kinds.TryGetValue(name, out TensorKind kind) && (kind == TensorKind.Counter) != (dtype == "I64"))
            {
                Report(Diagnostics.UnsupportedTensorDtype, network, name, path, dtype,
                    kind == TensorKind.Counter ? "a counter must be I64" : "a parameter or running statistic must be F32, F16 or BF16");
            }
        }

        WeightsBinding binding = WeightsBinder.Bind(model, content.Tensors.ToArray());
        foreach (WeightsProblem problem in binding.Problems)
        {
            switch (problem.Kind)
            {
                case WeightsProblemKind.Missing:
                    Report(Diagnostics.MissingTensor, network, path, problem.Tensor, WeightsBinder.FormatShape(problem.Expected));
                    break;
                case WeightsProblemKind.Extra:
                    if (!content.UnsupportedDtypes.Any(u => u.StartsWith(problem.Tensor + ": ", StringComparison.Ordinal)))
                    {
                        Report(Diagnostics.ExtraTensor, network, path, problem.Tensor, WeightsBinder.FormatShape(problem.Found));
                    }

                    break;
                case WeightsProblemKind.Shape:
                    Report(Diagnostics.TensorShapeMismatch, network, problem.Tensor, path, WeightsBinder.FormatShape(problem.Found), WeightsBinder.FormatShape(problem.Expected));
                    break;
                default:
                    Report(Diagnostics.MalformedWeightsFile, network, path, $"tensor '{problem.Tensor}' appears more than once");
                    break;
            }
        }

        // A tensor of an unsupported dtype is not among content.Tensors, so the binder reports it missing: said once, above.
        diagnostics.RemoveAll(d => d.Descriptor == Diagnostics.MissingTensor
            && content.UnsupportedDtypes.Any(u => u.StartsWith(d.MessageArgs[2] + ": ", StringComparison.Ordinal)));
        return diagnostics.Count > 0 || binding.Weights is null
            ? Failed()
            : new BakeResult(model with { BakedFrom = path }, binding.Weights, EquatableArray<DiagnosticInfo>.Empty) { Metadata = content.Metadata };
    }
}
