using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Xunit;

namespace NetGen.Tests.Generator;

/// <summary>
/// Generated code compiles in any user's namespace: every name it uses is global::-qualified or lives in NetGen's own
/// file-local class, so a user's types named like the runtime's or the framework's change nothing.
/// </summary>
public class NameCollisionTests
{
    /// <summary>Types a user might well have, each named like something the generated code uses.</summary>
    private static readonly string[] Names =
    [
        "Rows", "Gemm", "Convolution", "Unsafe", "MemoryMarshal", "Span", "ReadOnlySpan", "Math", "MathF", "Vector512",
        "NetGen", "System", "TensorPrimitives", "Array", "Float512", "VectorWidth", "IFloatVector", "MethodImpl",
        "MethodImplOptions", "TensorShape", "Workspace", "Engine", "Samples", "Layers", "Generated",
    ];

    private const string Network = """
        [Input(2, 9, 7, Name = "x")]
        [Conv2D(4, 3, Padding = 1)]
        [ReLU(Name = "stem")]
        [MaxPool2D(2)]
        [Conv2D(4, 3, Padding = 1, Name = "main")]
        [MaxPool2D(2, Input = "stem", Name = "shortcut")]
        [Add("main")]
        [Concat("shortcut")]
        [Dense(3)]
        [Softmax]
        public partial class Net { }
        """;

    [Fact]
    public void A_network_next_to_user_types_named_like_the_runtime_compiles_without_warnings_and_trains()
    {
        string types = string.Join("\n", Names.Select(n => $"public sealed class {n} {{ public static int CopyWhole => 0; }}"));
        string source = $"namespace Samples\n{{\n    using global::NetGen;\n\n{types}\n\n{Network}\n}}\n";
        var result = GeneratorHarness.Run(source);
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Single(result.Sources);
        Assert.Empty(result.CompilerWarningsAndErrors);

        // Load it and train a few steps: the generated code runs, not only compiles.
        var compilation = GeneratorHarness.Compilation(source);
        GeneratorHarness.Driver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        using var image = new MemoryStream();
        Assert.True(output.Emit(image).Success);
        Type type = Assembly.Load(image.ToArray()).GetType("Samples.Net")!;
        var net = (INetwork)Activator.CreateInstance(type)!;
        net.InitializeParameters(3);
        float[] inputs = NetGen.Tests.Numerics.TestData.Uniform(12 * net.InputLength, 1);
        int[] labels = Enumerable.Range(0, 12).Select(i => i % 3).ToArray();
        var sgd = new NetGen.Optimizers.Sgd(0.05f);
        float first = net.TrainBatch(inputs, labels);
        float last = first;
        for (int step = 0; step < 30; step++)
        {
            sgd.Step(net.Parameters, net.Gradients);
            last = net.TrainBatch(inputs, labels);
        }

        Assert.True(last < first * 0.8f, $"loss {first} → {last}: the network did not learn its 12 samples");
    }
}
