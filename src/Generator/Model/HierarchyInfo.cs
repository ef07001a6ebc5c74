namespace NetGen.Generator.Model;

/// <summary>
/// Where the network class lives, as strings only: its namespace and the chain of declarations to re-open
/// around the generated members (containing types first, the network class last), e.g. <c>partial class Outer</c>,
/// <c>partial class LeNet5&lt;T&gt;</c>.
/// </summary>
/// <param name="Namespace">The namespace, or empty for the global namespace.</param>
/// <param name="Declarations">Each enclosing declaration's header, outermost first, ending with the network class.</param>
/// <param name="TypeName">The network class's name, without type parameters.</param>
/// <param name="TypeReference">The network class as its own members name it: with its type parameters, <c>LeNet5&lt;T&gt;</c>.</param>
/// <param name="FullyQualifiedName">The metadata-style name used to name the generated file.</param>
internal sealed record HierarchyInfo(string Namespace, EquatableArray<string> Declarations, string TypeName, string TypeReference, string FullyQualifiedName);
