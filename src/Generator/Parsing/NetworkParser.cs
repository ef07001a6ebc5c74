using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator.Parsing;

/// <summary>
/// Turns a class carrying layer attributes into plain data: its hierarchy and its layers in attribute order,
/// plus the diagnostics about the declaration itself (not partial, not a class, …). Shapes are checked later.
/// This is the only place that touches Roslyn symbols and syntax.
/// </summary>
internal static class NetworkParser
{
    /// <summary>
    /// Parses the class that <paramref name="context"/> found through its [Input] attribute. Returns null when
    /// another declaration of the same class is the one to report on (so each class yields one result), or when
    /// an attribute has compile errors of its own (the compiler already reports them).
    /// </summary>
    public static ParseResult? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not TypeDeclarationSyntax declaration)
        {
            return null;
        }

        if (IsOnnxModel(type))
        {
            return null;
        }

        List<LayerAttribute> attributes = LayerAttributes(type);
        AttributeData? firstInput = attributes.Select(a => a.Data).FirstOrDefault(static a => FullName(a.AttributeClass) == InputLayer.AttributeName);
        if (firstInput is null || !IsIn(firstInput, declaration))
        {
            return null;
        }

        if (attributes.Any(static a => !a.Arguments.IsValid))
        {
            return null;
        }

        cancellationToken.ThrowIfCancellationRequested();
        var diagnostics = new List<DiagnosticInfo>();
        string displayName = type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat);
        LocationInfo? classLocation = LocationInfo.From(declaration.Identifier.GetLocation());
        CheckClass(type, declaration, displayName, classLocation, diagnostics, cancellationToken);

        if (attributes.Any(a => !IsIn(a.Data, declaration)))
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.LayersSpreadOverDeclarations, classLocation, displayName));
        }

        foreach (AttributeData unknown in UnknownLayerAttributes(type))
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnknownLayerKind, LocationInfo.From(unknown.ApplicationSyntaxReference?.GetSyntax(cancellationToken)),
                unknown.AttributeClass!.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat), displayName));
        }

        var layers = attributes
            .Select(a => new LayerDeclaration(a.Parse(a.Arguments), a.Arguments.Name, a.Arguments.Input, a.Arguments.Location))
            .ToEquatableArray();

        return new ParseResult(new NetworkSpec(Hierarchy(type, declaration, displayName), layers) { Weights = Weights(type, cancellationToken) },
            diagnostics.ToEquatableArray());
    }

    /// <summary>The metadata name of <c>[Weights("…")]</c>.</summary>
    public const string WeightsAttributeName = "NetGen.WeightsAttribute";

    /// <summary>The class's <c>[Weights("…")]</c>: its path argument and where it is written.</summary>
    private static WeightsDeclaration? Weights(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        AttributeData? weights = type.GetAttributes().FirstOrDefault(static a => FullName(a.AttributeClass) == WeightsAttributeName);
        if (weights is null)
        {
            return null;
        }

        string? path = weights.ConstructorArguments.Length == 1 ? weights.ConstructorArguments[0].Value as string : null;
        SyntaxNode? syntax = weights.ApplicationSyntaxReference?.GetSyntax(cancellationToken);
        return new WeightsDeclaration(path, LocationInfo.From(syntax))
        {
            SourceDirectory = AdditionalFileLookup.SourceDirectory(syntax?.SyntaxTree),
        };
    }

    /// <summary>Whether the class has <c>[Weights]</c>.</summary>
    public static bool HasWeights(INamedTypeSymbol type) =>
        type.GetAttributes().Any(static a => FullName(a.AttributeClass) == WeightsAttributeName);

    /// <summary>
    /// NG0047 for a class with <c>[Weights]</c> and no layer attribute (nor <c>[OnnxModel]</c>): the weights would be
    /// silently ignored. A class with layers but no [Input] gets NG0001 instead.
    /// </summary>
    public static EquatableArray<DiagnosticInfo> FindWeightsWithoutNetwork(GeneratorAttributeSyntaxContext context)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type
            || LayerAttributes(type).Count > 0
            || UnknownLayerAttributes(type).Any()
            || IsOnnxModel(type))
        {
            return EquatableArray<DiagnosticInfo>.Empty;
        }

        return new[]
        {
            DiagnosticInfo.Create(Diagnostics.WeightsWithoutNetwork, LocationInfo.From(context.Attributes[0].ApplicationSyntaxReference?.GetSyntax()),
                type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)),
        }.ToEquatableArray();
    }

    /// <summary>
    /// The checks on the class itself, shared with [OnnxModel] classes: a non-static class, partial, in partial types.
    /// </summary>
    public static void CheckClass(INamedTypeSymbol type, TypeDeclarationSyntax declaration, string displayName, LocationInfo? classLocation,
        List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        if (type.TypeKind != TypeKind.Class || type.IsStatic)
        {
            string what = type.IsStatic ? "a static class" : type.TypeKind switch
            {
                TypeKind.Struct => type.IsRecord ? "a record struct" : "a struct",
                TypeKind.Interface => "an interface",
                _ => "not a class",
            };
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.NotAClass, classLocation, displayName, what));
        }
        else if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.NotPartial, classLocation, displayName));
        }

        for (INamedTypeSymbol? container = type.ContainingType; container is not null; container = container.ContainingType)
        {
            if (container.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<TypeDeclarationSyntax>()
                .Any(static d => !d.Modifiers.Any(SyntaxKind.PartialKeyword)))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.ContainingTypeNotPartial, classLocation,
                    container.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat), displayName));
            }
        }
    }

    /// <summary>Whether the class has [OnnxModel]: its layers come from the model, and the ONNX pipeline reports on it.</summary>
    public static bool IsOnnxModel(INamedTypeSymbol type) =>
        type.GetAttributes().Any(static a => FullName(a.AttributeClass) == OnnxModelParser.AttributeName);

    /// <summary>The short names of the class's layer attributes (<c>Input</c>, <c>Conv2D</c>), for NG0057.</summary>
    public static List<string> LayerAttributeNames(INamedTypeSymbol type) =>
        LayerAttributes(type).Select(static a => a.Data.AttributeClass!.Name.Replace("Attribute", "")).Distinct().ToList();

    /// <summary>
    /// Finds classes with layer attributes but no [Input]. <paramref name="attributeName"/> is the attribute
    /// the pipeline matched on; the diagnostic is reported only by the pipeline of the class's first layer
    /// attribute, so each such class gets exactly one.
    /// </summary>
    public static EquatableArray<DiagnosticInfo> FindMissingInput(GeneratorAttributeSyntaxContext context, string attributeName)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type)
        {
            return EquatableArray<DiagnosticInfo>.Empty;
        }

        var attributes = LayerAttributes(type);
        if (attributes.Count == 0
            || IsOnnxModel(type)
            || attributes.Any(static a => FullName(a.Data.AttributeClass) == InputLayer.AttributeName)
            || FullName(attributes[0].Data.AttributeClass) != attributeName
            || !IsIn(attributes[0].Data, context.TargetNode))
        {
            return EquatableArray<DiagnosticInfo>.Empty;
        }

        return new[]
        {
            DiagnosticInfo.Create(Diagnostics.MissingInput, attributes[0].Arguments.Location,
                type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat)),
        }.ToEquatableArray();
    }

    private static List<LayerAttribute> LayerAttributes(INamedTypeSymbol type)
    {
        var result = new List<LayerAttribute>();
        foreach (AttributeData attribute in type.GetAttributes())
        {
            if (FullName(attribute.AttributeClass) is { } name && LayerCatalog.ByAttribute.TryGetValue(name, out var parse))
            {
                result.Add(new LayerAttribute(attribute, new AttributeArguments(attribute), parse));
            }
        }

        return result;
    }

    /// <summary>
    /// Attributes deriving from <c>NetGen.LayerAttribute</c> that are not a kind NetGen knows (a user's own subclass): an error,
    /// not a layer silently left out of the network.
    /// </summary>
    private static IEnumerable<AttributeData> UnknownLayerAttributes(INamedTypeSymbol type)
    {
        foreach (AttributeData attribute in type.GetAttributes())
        {
            if (attribute.AttributeClass is { } attributeClass
                && !LayerCatalog.ByAttribute.ContainsKey(FullName(attributeClass)!)
                && DerivesFromLayerAttribute(attributeClass))
            {
                yield return attribute;
            }
        }
    }

    private static bool DerivesFromLayerAttribute(INamedTypeSymbol attributeClass)
    {
        for (INamedTypeSymbol? t = attributeClass.BaseType; t is not null; t = t.BaseType)
        {
            if (FullName(t) == LayerCatalog.BaseAttributeName)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A layer attribute on the class: its data, its arguments and the parse function of its kind.</summary>
    private readonly record struct LayerAttribute(AttributeData Data, AttributeArguments Arguments, System.Func<AttributeArguments, Layer> Parse);

    private static string? FullName(INamedTypeSymbol? attributeClass) =>
        attributeClass is null ? null : attributeClass.ContainingNamespace?.ToDisplayString() + "." + attributeClass.MetadataName;

    private static bool IsIn(AttributeData attribute, SyntaxNode declaration) =>
        attribute.ApplicationSyntaxReference is { } reference
        && reference.SyntaxTree == declaration.SyntaxTree
        && declaration.Span.Contains(reference.Span);

    public static HierarchyInfo Hierarchy(INamedTypeSymbol type, TypeDeclarationSyntax declaration, string displayName)
    {
        var headers = new List<string>();
        for (INamedTypeSymbol? t = type; t is not null; t = t.ContainingType)
        {
            TypeDeclarationSyntax? syntax = t.Equals(type, SymbolEqualityComparer.Default)
                ? declaration
                : t.DeclaringSyntaxReferences.Select(r => r.GetSyntax()).OfType<TypeDeclarationSyntax>().FirstOrDefault();
            string keyword = syntax switch
            {
                RecordDeclarationSyntax r => r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) ? "record struct" : "record",
                StructDeclarationSyntax => "struct",
                InterfaceDeclarationSyntax => "interface",
                _ => "class",
            };
            string typeParameters = t.TypeParameters.Length == 0 ? "" : "<" + string.Join(", ", t.TypeParameters.Select(p => p.Name)) + ">";
            headers.Insert(0, $"partial {keyword} {t.Name}{typeParameters}");
        }

        string ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
        string fileName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", "");
        string typeReference = type.TypeParameters.Length == 0 ? type.Name : type.Name + "<" + string.Join(", ", type.TypeParameters.Select(p => p.Name)) + ">";
        return new HierarchyInfo(ns, headers.ToEquatableArray(), type.Name, typeReference, fileName);
    }
}
