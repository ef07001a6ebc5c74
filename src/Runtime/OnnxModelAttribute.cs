using System;

namespace NetGen;

/// <summary>
/// Compiles an ONNX model into this class at build time: the generator reads the model file, maps its graph to NetGen's
/// layers (Conv, BatchNormalization, Gemm, MatMul + Add, pooling, activations, Add, Concat, Softmax, …), and generates the
/// same members a class declared with layer attributes gets. The class has no layer attributes of its own. The file must
/// be in the project as <c>&lt;AdditionalFiles Include="models/lenet.onnx" /&gt;</c>; anything the model holds that NetGen
/// cannot compile is a compile error naming the ONNX node (see docs/onnx.md). The model's initializers are baked into the
/// assembly: a new instance starts from them.
/// </summary>
/// <param name="path">The model file, relative to the project (or to the source file declaring the class).</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class OnnxModelAttribute(string path) : Attribute
{
    /// <summary>The model file, as given.</summary>
    public string Path { get; } = path;

    /// <summary>
    /// Whether the model's initializers are baked into the assembly, so that a new instance starts from them (true, the
    /// default); false leaves the parameters zero until <c>InitializeParameters</c> or <c>Load</c>.
    /// </summary>
    public bool BakeWeights { get; set; } = true;
}
