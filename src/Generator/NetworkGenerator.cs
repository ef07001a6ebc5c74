using System;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NetGen.Generator.Emit;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;
using NetGen.Generator.Onnx;
using NetGen.Generator.Parsing;
using NetGen.Generator.Weights;

namespace NetGen.Generator;

/// <summary>
/// The NetGen source generator. For each partial class with an [Input] attribute it reads the layer attributes,
/// infers every shape, and emits the network's forward and backward passes specialized to those shapes.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NetworkGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        // 1. Find each class with [Input] and read its layer attributes into plain, equatable data.
        //    One result per class, however many partial declarations it has.
        IncrementalValuesProvider<ParseResult> parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                InputLayer.AttributeName,
                predicate: static (node, _) => node is TypeDeclarationSyntax,
                transform: static (ctx, ct) => Guarded(() => NetworkParser.Parse(ctx, ct), ctx))
            .Where(static result => result is not null)
            .WithTrackingName(TrackingNames.Parse)!;

        // 2. Check the structure, name the layers, run each layer's shape rule, lay out the parameters.
        IncrementalValuesProvider<InferenceResult> inferred = parsed
            .Select(static (result, _) => ShapeInference.Infer(result) with { Weights = result.Spec?.Weights })
            .WithTrackingName(TrackingNames.Infer);

        // 3. Read each .safetensors additional file once, as bytes: re-run only when the file changes, never on an edit
        //    to the code. Then bind a network with [Weights] to its file (a network without passes through).
        IncrementalValuesProvider<WeightsFile> weightsFiles = context.AdditionalTextsProvider
            .Where(static text => text.Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            .Select(static (text, _) => WeightsFile.Read(text.Path))
            .WithTrackingName(TrackingNames.ReadWeights);
        IncrementalValuesProvider<BakeResult> baked = inferred
            .Combine(weightsFiles.Collect())
            .Select(static (pair, _) => WeightsBaking.Bake(pair.Left, pair.Right))
            .WithTrackingName(TrackingNames.Bake);

        // 4. Emit one file per network that has no error, and its baked weights in a file of their own.
        IncrementalValuesProvider<NetworkModel> models = baked
            .Select(static (result, _) => result.Model)
            .Where(static model => model is not null)
            .WithTrackingName(TrackingNames.Model)!;
        //    With the NETGEN_PROFILE symbol defined, every layer call in the passes is timed (ProfileSites).
        IncrementalValueProvider<bool> profile = context.ParseOptionsProvider
            .Select(static (options, _) => options.PreprocessorSymbolNames.Contains(ProfileSites.Symbol));
        context.RegisterSourceOutput(models.Combine(profile), AddNetworkSource);
        context.RegisterSourceOutput(baked.Where(HasBakedWeights), AddWeightsSource);

        // 5. Report the diagnostics from their own steps, so that they never disturb the cached source.
        context.RegisterSourceOutput(inferred.Select(static (result, _) => result.Diagnostics), Report);
        context.RegisterSourceOutput(baked.Select(static (result, _) => result.Diagnostics), Report);

        // 6. [Weights] on a class without layers would be ignored: say so.
        context.RegisterSourceOutput(context.SyntaxProvider.ForAttributeWithMetadataName(
            NetworkParser.WeightsAttributeName,
            predicate: static (node, _) => node is TypeDeclarationSyntax,
            transform: static (ctx, _) => NetworkParser.FindWeightsWithoutNetwork(ctx)), Report);

        // 7. A class with layer attributes but no [Input] is not found by step 1; look for it from each other layer kind.
        foreach (string attributeName in LayerCatalog.ByAttribute.Keys)
        {
            if (attributeName == InputLayer.AttributeName)
            {
                continue;
            }

            IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> missingInput = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    attributeName,
                    predicate: static (node, _) => node is TypeDeclarationSyntax,
                    transform: (ctx, _) => NetworkParser.FindMissingInput(ctx, attributeName));
            context.RegisterSourceOutput(missingInput, Report);
        }

        // 8. Classes with [OnnxModel]: the declaration as data, then its model file found among the AdditionalFiles, read and
        //    mapped to layer declarations (the read and the import run again only when the class or an AdditionalFile changes);
        //    from there the same shape inference and emitter as a declared network.
        IncrementalValuesProvider<OnnxModelRequest> onnxRequests = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                OnnxModelParser.AttributeName,
                predicate: static (node, _) => node is TypeDeclarationSyntax,
                transform: static (ctx, ct) => GuardedRequest(ctx, ct))
            .Where(static request => request is not null)
            .WithTrackingName(TrackingNames.OnnxDeclaration)!;
        IncrementalValuesProvider<OnnxNetwork> onnxNetworks = onnxRequests
            .Combine(context.AdditionalTextsProvider.Collect())
            .Select(static (pair, ct) => GuardedImport(pair.Left, pair.Right, ct))
            .WithTrackingName(TrackingNames.OnnxImport)
            .Select(static (imported, _) => OnnxImporter.Infer(imported))
            .WithTrackingName(TrackingNames.OnnxInfer);
        //    Its initializers are baked into the assembly by the same binder and emitter as [Weights], and its files are
        //    written as in step 4.
        IncrementalValuesProvider<BakeResult> onnxBaked = onnxNetworks
            .Select(static (network, _) => OnnxImporter.Bake(network))
            .WithTrackingName(TrackingNames.OnnxBake);
        IncrementalValuesProvider<NetworkModel> onnxModels = onnxBaked
            .Select(static (result, _) => result.Model)
            .Where(static model => model is not null)!;
        context.RegisterSourceOutput(onnxModels.Combine(profile), AddNetworkSource);
        context.RegisterSourceOutput(onnxBaked.Where(HasBakedWeights), AddWeightsSource);
        context.RegisterSourceOutput(onnxBaked.Select(static (result, _) => result.Diagnostics), Report);
    }

    /// <summary>Adds a network's source, <c>Namespace.Class.g.cs</c>; with <c>Profile</c>, every layer call is timed.</summary>
    private static void AddNetworkSource(SourceProductionContext context, (NetworkModel Model, bool Profile) input) =>
        context.AddSource(NetworkEmitter.HintName(input.Model), NetworkEmitter.Emit(input.Model, input.Profile));

    /// <summary>Whether a network has weights baked into it, to be written by <see cref="AddWeightsSource"/>.</summary>
    private static bool HasBakedWeights(BakeResult result) => result is { Model: not null, Weights: not null };

    /// <summary>Adds a network's baked weights, <c>Namespace.Class.Weights.g.cs</c>.</summary>
    private static void AddWeightsSource(SourceProductionContext context, BakeResult result) =>
        context.AddSource(WeightsEmitter.HintName(result.Model!), WeightsEmitter.Emit(result.Model!, result.Weights!, result.Metadata));

    /// <summary>Names of the pipeline's steps, for tests of incremental caching.</summary>
    internal static class TrackingNames
    {
        public const string Parse = nameof(Parse);
        public const string Infer = nameof(Infer);
        public const string Model = nameof(Model);
        public const string ReadWeights = nameof(ReadWeights);
        public const string Bake = nameof(Bake);
        public const string OnnxDeclaration = nameof(OnnxDeclaration);
        public const string OnnxImport = nameof(OnnxImport);
        public const string OnnxInfer = nameof(OnnxInfer);
        public const string OnnxBake = nameof(OnnxBake);
    }

    private static void Report(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (DiagnosticInfo diagnostic in diagnostics)
        {
            context.ReportDiagnostic(diagnostic.ToDiagnostic());
        }
    }

    /// <summary>Reads an [OnnxModel] class; an unexpected failure is NG0015 on the class, as in <see cref="Guarded"/>.</summary>
    private static OnnxModelRequest? GuardedRequest(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        try
        {
            return OnnxModelParser.Parse(context, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var location = LocationInfo.From((context.TargetNode as TypeDeclarationSyntax)?.Identifier.GetLocation());
            string name = context.TargetSymbol.Name;
            return new OnnxModelRequest(new HierarchyInfo("", EquatableArray<string>.Empty, name, name, name), name, "", "", location, new[]
            {
                InternalError(location, name, e),
            }.ToEquatableArray());
        }
    }

    /// <summary>Reads and imports a model; an unexpected failure is NG0015 on the attribute, as in <see cref="Guarded"/>.</summary>
    private static OnnxImportResult GuardedImport(OnnxModelRequest request, ImmutableArray<AdditionalText> files, CancellationToken cancellationToken)
    {
        try
        {
            return OnnxModelFile.Import(request, files, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return OnnxImporter.Failed(InternalError(request.Location, request.Network, e));
        }
    }

    /// <summary>
    /// The generator runs in the IDE at every keystroke and must never throw: an unexpected failure becomes
    /// NG0015 on the class, so the user sees a message instead of a broken build.
    /// </summary>
    private static ParseResult? Guarded(Func<ParseResult?> parse, GeneratorAttributeSyntaxContext context)
    {
        try
        {
            return parse();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var location = LocationInfo.From((context.TargetNode as TypeDeclarationSyntax)?.Identifier.GetLocation());
            return new ParseResult(null, new[]
            {
                InternalError(location, context.TargetSymbol.Name, e),
            }.ToEquatableArray());
        }
    }

    /// <summary>NG0015 for an exception the generator did not expect, on <paramref name="name"/>.</summary>
    private static DiagnosticInfo InternalError(LocationInfo? location, string name, Exception e) =>
        DiagnosticInfo.Create(Diagnostics.UnsupportedDeclaration, location, name, $"internal error: {e.GetType().Name}: {e.Message}");
}
