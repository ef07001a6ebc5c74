using System;

namespace NetGen;

/// <summary>
/// Bakes a safetensors file's tensors into the compiled assembly as the network's initial weights: the generator reads
/// the file at compile time, checks every tensor against the declared layers (names as <c>state_dict()</c> gives them,
/// shapes, dtypes F32, F16 or BF16, I64 for counters), and a new instance starts with those parameters, running
/// statistics and counters, with no file beside the program. <c>InitializeParameters</c> and <c>Load</c> still replace
/// them; <c>ResetToBakedWeights()</c> brings them back.
/// </summary>
/// <example>
/// The file must be in the project as an additional file:
/// <code>
/// &lt;ItemGroup&gt;&lt;AdditionalFiles Include="lenet5.safetensors" /&gt;&lt;/ItemGroup&gt;
///
/// [Weights("lenet5.safetensors")]
/// [Input(1, 28, 28)]
/// …
/// public partial class LeNet5 { }
/// </code>
/// </example>
/// <param name="path">
/// The file, as the project names it or by its last path segments (<c>lenet5.safetensors</c> matches
/// <c>models/lenet5.safetensors</c>); it must be one of the project's <c>AdditionalFiles</c>.
/// </param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class WeightsAttribute(string path) : Attribute
{
    /// <summary>The weights file, as written in the attribute.</summary>
    public string Path { get; } = path;
}
