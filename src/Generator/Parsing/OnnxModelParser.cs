using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NetGen.Generator.Model;

namespace NetGen.Generator.Parsing;

/// <summary>
/// An [OnnxModel] class as plain data: where it lives, the model path as written, the directory of the file declaring it
/// (a relative path is looked up from there first), the attribute's location, and the diagnostics about the class itself.
/// </summary>
internal sealed record OnnxModelRequest(
    HierarchyInfo Hierarchy, string Network, string Path, string SourceDirectory, LocationInfo? Location, EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>The attribute's <c>BakeWeights</c> (true unless set false): whether the initializers are baked into the assembly.</summary>
    public bool BakeWeights { get; init; } = true;
}

/// <summary>Reads an [OnnxModel] class off its syntax and symbol; the model file itself is read in a later step.</summary>
internal static class OnnxModelParser
{
    public const string AttributeName = "NetGen.OnnxModelAttribute";

    public static OnnxModelRequest? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.TargetNode is not TypeDeclarationSyntax declaration
            || context.Attributes.Length == 0 || context.Attributes[0].ConstructorArguments.Length != 1)
        {
            return null; // an attribute with compile errors of its own, which the compiler reports
        }

        AttributeData attribute = context.Attributes[0];
        string path = attribute.ConstructorArguments[0].Value as string ?? "";
        string displayName = type.ToDisplayString(SymbolDisplayFormat.CSharpShortErrorMessageFormat);
        LocationInfo? location = LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken));
        var diagnostics = new List<DiagnosticInfo>();
        NetworkParser.CheckClass(type, declaration, displayName, LocationInfo.From(declaration.Identifier.GetLocation()), diagnostics, cancellationToken);
        List<string> layers = NetworkParser.LayerAttributeNames(type);
        bool weights = NetworkParser.HasWeights(type);
        if (layers.Count > 0 || weights)
        {
            string what = layers.Count == 0 ? "" : "layer attributes (" + string.Join(", ", layers.ConvertAll(static n => "[" + n + "]")) + ")";
            what += weights ? (what.Length > 0 ? " and [Weights]" : "[Weights]") : "";
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.OnnxModelWithLayers, location, displayName, what, layers.Count + (weights ? 1 : 0) > 1 ? "them" : "it"));
        }

        bool bake = attribute.NamedArguments.FirstOrDefault(static a => a.Key == "BakeWeights").Value.Value as bool? ?? true;
        return new OnnxModelRequest(NetworkParser.Hierarchy(type, declaration, displayName), displayName, path,
            AdditionalFileLookup.SourceDirectory(declaration.SyntaxTree), location, diagnostics.ToEquatableArray())
        {
            BakeWeights = bake,
        };
    }
}
