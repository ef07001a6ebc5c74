using Microsoft.CodeAnalysis;

namespace NetGen.Generator;

/// <summary>
/// Every diagnostic NetGen reports. IDs are stable (tracked in AnalyzerReleases.*.md); each is an error (NG0058 is
/// information), reported on the attribute (or declaration) at fault, and a class with an error gets no generated code.
/// </summary>
internal static class Diagnostics
{
    /// <summary>
    /// The page that explains every diagnostic, with an example, the message and the fix: docs/diagnostics.md as the
    /// published repository shows it (the package's RepositoryUrl, in Directory.Build.props). Each ID's help link is its
    /// section, <c>#ng0001</c> and so on.
    /// </summary>
    public const string DocumentationPage = "https://github.com/netgen-dev/netgen/blob/main/docs/diagnostics.md";

    private const string Category = "NetGen";

    public static readonly DiagnosticDescriptor MissingInput = Error(
        "NG0001", "Network has no [Input] layer",
        "Network '{0}' has no [Input] layer: declare [Input(channels, height, width)] as its first layer");

    public static readonly DiagnosticDescriptor InputNotFirst = Error(
        "NG0002", "[Input] is not the first layer",
        "Network '{0}': [Input] must be the first layer, but it is layer {1}");

    public static readonly DiagnosticDescriptor DuplicateInput = Error(
        "NG0003", "Network declares [Input] more than once",
        "Network '{0}' declares [Input] more than once; a network has exactly one input");

    public static readonly DiagnosticDescriptor InvalidArgument = Error(
        "NG0004", "Layer argument out of range",
        "Layer '{0}': {1} must be {2}, but is {3}");

    public static readonly DiagnosticDescriptor WindowLargerThanInput = Error(
        "NG0005", "Kernel or pooling window larger than its input",
        "Layer '{0}': its {1} window {2}×{3} is larger than its input {4}{5}");

    public static readonly DiagnosticDescriptor MissingSoftmax = Error(
        "NG0006", "Network does not end with a loss layer",
        "Network '{0}' must end with [Softmax] (classification, trained with softmax cross-entropy) or [MeanSquaredError] (regression); its last layer is '{1}'");

    public static readonly DiagnosticDescriptor SoftmaxNotLast = Error(
        "NG0007", "A loss layer is not the last layer",
        "Layer '{0}': [{2}] must be the last layer, but {1} more layer(s) follow it");

    public static readonly DiagnosticDescriptor NotPartial = Error(
        "NG0008", "Network class is not partial",
        "Class '{0}' must be declared 'partial' so that NetGen can add the generated network to it");

    public static readonly DiagnosticDescriptor NotAClass = Error(
        "NG0009", "Network is not a non-static class",
        "'{0}' is {1}; a NetGen network must be a non-static class");

    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = Error(
        "NG0010", "Type containing a network is not partial",
        "Type '{0}' contains network '{1}' and must be declared 'partial' too");

    public static readonly DiagnosticDescriptor DuplicateLayerName = Error(
        "NG0011", "Two layers have the same name",
        "Layer name '{0}' is already used by layer {1} (generated member prefix '{2}')");

    public static readonly DiagnosticDescriptor InvalidLayerName = Error(
        "NG0012", "Invalid layer name",
        "Layer name '{0}' is not valid: {1}");

    public static readonly DiagnosticDescriptor SizeOverflow = Error(
        "NG0013", "Network too large",
        "Layer '{0}': {1} would be {2} elements, more than NetGen supports ({3})");

    public static readonly DiagnosticDescriptor LayersSpreadOverDeclarations = Error(
        "NG0014", "Layers declared on several partial declarations",
        "Network '{0}' declares layer attributes on more than one partial declaration; declare them all on one, so their order is defined");

    public static readonly DiagnosticDescriptor UnsupportedDeclaration = Error(
        "NG0015", "Declaration NetGen cannot compile",
        "Network '{0}' cannot be generated: {1}");

    public static readonly DiagnosticDescriptor SourceTooLarge = Error(
        "NG0016", "Generated source would be too large",
        "Layer '{0}': {1}; NetGen writes {2} out in code and supports up to {3}, so that the generated source stays reasonable for the compiler and the IDE");

    public static readonly DiagnosticDescriptor UnknownLayerReference = Error(
        "NG0017", "A layer names no earlier layer",
        "Layer '{0}': {1} names '{2}', {3}; a layer reads only layers declared before it");

    public static readonly DiagnosticDescriptor JoinShapeMismatch = Error(
        "NG0018", "Joined shapes do not match",
        "Layer '{0}': {1} needs {2}, but its input is {3} and '{4}' is {5}");

    public static readonly DiagnosticDescriptor DeadBranch = Error(
        "NG0019", "A layer's output is never read",
        "Layer '{0}': no later layer reads its output, and only the last layer's may go unread; read it (Input = \"{0}\", [Add(\"{0}\")], [Concat(\"{0}\")]) or remove it");

    public static readonly DiagnosticDescriptor UnknownLayerKind = Error(
        "NG0020", "Layer attribute NetGen does not know",
        "'{0}' derives from LayerAttribute but is not a layer kind NetGen compiles, so network '{1}' cannot include it; use NetGen's layer attributes");

    public static readonly DiagnosticDescriptor ChannelsNotDivisibleByGroups = Error(
        "NG0021", "Channels not divisible by groups",
        "Layer '{0}': its {1} input channels and {2} filters must both be divisible by Groups = {3}, so that each group has as many as every other");

    public static readonly DiagnosticDescriptor WeightsFileNotFound = Error(
        "NG0040", "Weights file not among the AdditionalFiles",
        "Network '{0}': weights file '{1}' is not among the project's AdditionalFiles ending in .safetensors{2}; add <AdditionalFiles Include=\"{1}\" /> to the project file");

    public static readonly DiagnosticDescriptor MalformedWeightsFile = Error(
        "NG0041", "Weights file is not valid safetensors",
        "Network '{0}': weights file '{1}' is not a valid safetensors file: {2}");

    public static readonly DiagnosticDescriptor MissingTensor = Error(
        "NG0042", "Weights file lacks a tensor",
        "Network '{0}': weights file '{1}' has no tensor '{2}' (shape {3}), which the network declares");

    public static readonly DiagnosticDescriptor ExtraTensor = Error(
        "NG0043", "Weights file holds a tensor the network does not declare",
        "Network '{0}': weights file '{1}' holds tensor '{2}' (shape {3}), which the network does not declare");

    public static readonly DiagnosticDescriptor TensorShapeMismatch = Error(
        "NG0044", "Tensor shape differs from the declared one",
        "Network '{0}': tensor '{1}' in weights file '{2}' has shape {3}, but the network declares {4}");

    public static readonly DiagnosticDescriptor UnsupportedTensorDtype = Error(
        "NG0045", "Tensor dtype NetGen cannot bake",
        "Network '{0}': tensor '{1}' in weights file '{2}' has dtype {3}; {4}");

    public static readonly DiagnosticDescriptor AmbiguousWeightsFile = Error(
        "NG0046", "Weights path matches several AdditionalFiles",
        "Network '{0}': weights file '{1}' matches {2} AdditionalFiles ({3}); write more of its path");

    public static readonly DiagnosticDescriptor WeightsWithoutNetwork = Error(
        "NG0047", "[Weights] on a class that is not a network",
        "'{0}' has [Weights] but no layers, so there is nothing to bake the weights into; declare its layers on the class, starting with [Input(channels, height, width)]");

    public static readonly DiagnosticDescriptor OnnxModelNotFound = Error(
        "NG0050", "ONNX model is not an AdditionalFile",
        "[OnnxModel] on '{0}': '{1}' is not among the project's AdditionalFiles; add <AdditionalFiles Include=\"{1}\" /> to the project");

    public static readonly DiagnosticDescriptor OnnxModelMalformed = Error(
        "NG0051", "ONNX model cannot be read",
        "[OnnxModel] on '{0}': '{1}' is not a well-formed ONNX model: {2}");

    public static readonly DiagnosticDescriptor OnnxOperatorNotSupported = Error(
        "NG0052", "ONNX operator NetGen has no layer for",
        "ONNX node '{0}' ({1}): NetGen has no layer for {1}{2}; the operators it imports are listed in docs/onnx.md");

    public static readonly DiagnosticDescriptor OnnxAttributeNotSupported = Error(
        "NG0053", "ONNX attribute value NetGen does not support",
        "ONNX node '{0}' ({1}): {2}");

    public static readonly DiagnosticDescriptor OnnxGraphFormNotSupported = Error(
        "NG0054", "ONNX graph form NetGen does not support",
        "ONNX node '{0}' ({1}): {2}");

    public static readonly DiagnosticDescriptor OnnxTensorNotSupported = Error(
        "NG0055", "ONNX tensor NetGen cannot import",
        "ONNX node '{0}' ({1}): tensor '{2}' {3}");

    public static readonly DiagnosticDescriptor OnnxInputNotSupported = Error(
        "NG0056", "ONNX model's inputs or outputs NetGen does not support",
        "[OnnxModel] on '{0}': '{1}' {2}");

    public static readonly DiagnosticDescriptor OnnxModelWithLayers = Error(
        "NG0057", "[OnnxModel] with layer attributes or [Weights]",
        "Class '{0}' has [OnnxModel] and {1}; the model file declares the layers and their initial weights, so remove {2} or the [OnnxModel]");

    public static readonly DiagnosticDescriptor OnnxSoftmaxAppended = Info(
        "NG0058", "Softmax head appended to an ONNX model",
        "[OnnxModel] on '{0}': '{1}' ends with {2}, so NetGen appends a Softmax head: Forward returns probabilities{3}");

    public static readonly DiagnosticDescriptor OnnxModelAmbiguous = Error(
        "NG0059", "ONNX model path matches several AdditionalFiles",
        "[OnnxModel] on '{0}': '{1}' matches {2} AdditionalFiles ({3}); give the path relative to the project so that it names one");

    /// <summary>The help link of diagnostic <paramref name="id"/> (NG0001 → …/diagnostics.md#ng0001).</summary>
    public static string HelpLink(string id) => DocumentationPage + "#ng" + id.Substring(2);

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink(id));

    private static DiagnosticDescriptor Info(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: HelpLink(id));
}
