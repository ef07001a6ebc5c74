using System;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NetGen.Generator.Emit;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

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
            .Select(static (result, _) => ShapeInference.Infer(result))
            .WithTrackingName(TrackingNames.Infer);

        // 3. Emit one file per network that has no error.
        IncrementalValuesProvider<NetworkModel> models = inferred
            .Select(static (result, _) => result.Model)
            .Where(static model => model is not null)
            .WithTrackingName(TrackingNames.Model)!;
        //    With the NETGEN_PROFILE symbol defined, every layer call in the passes is timed (ProfileSites).
        IncrementalValueProvider<bool> profile = context.ParseOptionsProvider
            .Select(static (options, _) => options.PreprocessorSymbolNames.Contains(ProfileSites.Symbol));
        context.RegisterSourceOutput(models.Combine(profile), static (spc, input) =>
            spc.AddSource(NetworkEmitter.HintName(input.Left), NetworkEmitter.Emit(input.Left, input.Right)));

        // 4. Report the diagnostics from their own step, so that they never disturb the cached source.
        context.RegisterSourceOutput(inferred.Select(static (result, _) => result.Diagnostics), Report);

        // 5. A class with layer attributes but no [Input] is not found by step 1; look for it from each other layer kind.
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
    }

    /// <summary>Names of the pipeline's steps, for tests of incremental caching.</summary>
    internal static class TrackingNames
    {
        public const string Parse = nameof(Parse);
        public const string Infer = nameof(Infer);
        public const string Model = nameof(Model);
    }

    private static void Report(SourceProductionContext context, EquatableArray<DiagnosticInfo> diagnostics)
    {
        foreach (DiagnosticInfo diagnostic in diagnostics)
        {
            context.ReportDiagnostic(diagnostic.ToDiagnostic());
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
                DiagnosticInfo.Create(Diagnostics.UnsupportedDeclaration, location, context.TargetSymbol.Name, $"internal error: {e.GetType().Name}: {e.Message}"),
            }.ToEquatableArray());
        }
    }
}
