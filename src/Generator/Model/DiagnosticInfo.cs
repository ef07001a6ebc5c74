using System.Linq;
using Microsoft.CodeAnalysis;

namespace NetGen.Generator.Model;

/// <summary>A diagnostic as data (descriptor, location and message arguments), reported at the end of the pipeline.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> MessageArgs)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params object[] messageArgs) =>
        new(descriptor, location, messageArgs.Select(a => System.Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture) ?? "").ToEquatableArray());

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(Descriptor, Location?.ToLocation(), MessageArgs.ToArray<object>());

    public bool IsError => Descriptor.DefaultSeverity == DiagnosticSeverity.Error;
}
