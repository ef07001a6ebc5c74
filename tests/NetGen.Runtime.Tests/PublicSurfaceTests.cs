using System;
using System.ComponentModel;
using System.Linq;
using System.Reflection;
using Xunit;

namespace NetGen.Runtime.Tests;

/// <summary>
/// NetGen.dll's public types fall in two groups: what users call, visible in IntelliSense, and what only generated code
/// calls, public because generated code lives in the user's assembly but hidden with [EditorBrowsable(Never)].
/// </summary>
public sealed class PublicSurfaceTests
{
    private static readonly Type[] Exported = typeof(INetwork).Assembly.GetExportedTypes();

    /// <summary>Types outside NetGen.Kernels that exist only for generated code (every NetGen.Kernels type does).</summary>
    private static readonly string[] GeneratedCodeOnly =
    [
        "NetGen.Guard",
        "NetGen.Onnx.OnnxAttribute",
        "NetGen.Onnx.OnnxExport",
        "NetGen.Onnx.OnnxGraph",
        "NetGen.Onnx.OnnxNode",
        "NetGen.ParameterInitializer",
        "NetGen.Training.BatchEngine`1",
        "NetGen.Training.LayerSplitter",
        "NetGen.Training.ExclusiveCall",
        "NetGen.Training.ParameterRange",
        "NetGen.Training.WorkerThreads",
    ];


    private static bool IsGeneratedCodeOnly(Type type) =>
        type.Namespace == "NetGen.Kernels" || GeneratedCodeOnly.Contains(type.FullName);

    private static bool IsHidden(Type type) =>
        type.GetCustomAttribute<EditorBrowsableAttribute>()?.State == EditorBrowsableState.Never;

    [Fact]
    public void Every_type_only_generated_code_calls_is_hidden_from_IntelliSense()
    {
        Type[] generatedCodeOnly = Exported.Where(IsGeneratedCodeOnly).ToArray();

        // The list names types that exist: a rename would otherwise leave the check empty.
        Assert.All(GeneratedCodeOnly, name => Assert.Contains(Exported, t => t.FullName == name));
        Assert.Contains(generatedCodeOnly, t => t.FullName == "NetGen.Kernels.Gemm");
        Assert.All(generatedCodeOnly, t =>
            Assert.True(IsHidden(t), $"{t.FullName} is for generated code but shows in IntelliSense"));
    }

    [Fact]
    public void What_users_call_is_visible()
    {
        Type[] userFacing = Exported.Where(t => !IsGeneratedCodeOnly(t)).ToArray();

        Assert.Contains(typeof(INetwork), userFacing);
        Assert.Contains(typeof(Conv2DAttribute), userFacing);
        Assert.Contains(typeof(NetGen.Optimizers.Adam), userFacing);
        Assert.All(userFacing, t => Assert.False(IsHidden(t), $"{t.FullName} is for users but hidden from IntelliSense"));
    }
}
