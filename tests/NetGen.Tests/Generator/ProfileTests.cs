using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NetGen.Generator;
using NetGen.Profiling;
using Xunit;

namespace NetGen.Tests.Generator;

/// <summary>
/// A network compiled with the NETGEN_PROFILE symbol times each layer call of its passes into its static
/// <c>LayerTimings</c>, with the work each call does; without the symbol nothing of it is generated.
/// </summary>
public sealed class ProfileTests
{
    // Conv: 4 filters · 2 channels · 3·3 taps · 5·7 output pixels = 2,520 multiply-adds a sample; dense: 3 · 140 = 420.
    private const string Source = """
        using NetGen;
        namespace Profiled;
        [Input(2, 7, 9)]
        [Conv2D(4, 3, Bias = false)]
        [BatchNorm2D]
        [ReLU]
        [Dense(3)]
        [Softmax]
        public partial class Net { }
        """;

    private const long ConvMultiplyAdds = 4 * 2 * 3 * 3 * 5 * 7, DenseMultiplyAdds = 3 * 4 * 5 * 7;

    [Fact]
    public void Without_the_symbol_no_timing_is_generated()
    {
        string source = GeneratorHarness.Run(Source).Source("Profiled.Net.g.cs");
        Assert.DoesNotContain("LayerTimings", source);
        Assert.DoesNotContain("Stopwatch", source);
    }

    [Fact]
    public void Each_layer_call_is_timed_with_its_work()
    {
        (INetwork net, LayerTimings timings) = CompileProfiled();
        Assert.Equal(
            new[] { "conv1 forward", "conv1 forward, bn1, relu1 folded", "conv1 backward", "bn1 forward", "bn1 backward", "bn1 statistics", "bn1 gradient sums",
             "relu1 forward", "relu1 backward", "dense1 forward", "dense1 backward", "dense1 batch dL/dW", "softmax1 forward", "softmax1 backward" }
                .Order(StringComparer.Ordinal),
            timings.Sites.Distinct().Order(StringComparer.Ordinal));
        net.InitializeParameters(3);
        int Site(string label) => timings.Sites.ToList().IndexOf(label);

        // Inference of one sample: the folded convolution (the BatchNorm and the ReLU folded into conv1), the rest in order; nothing else.
        var input = new float[Profiled(net, "InputLength")];
        var output = new float[3];
        net.Forward(input, output);
        Assert.Equal(1, timings.Calls(Site("conv1 forward, bn1, relu1 folded")));
        Assert.Equal(2 * ConvMultiplyAdds, timings.Flops(Site("conv1 forward, bn1, relu1 folded")));
        Assert.Equal(1, timings.Calls(Site("dense1 forward")));
        Assert.Equal(2 * DenseMultiplyAdds, timings.Flops(Site("dense1 forward")));
        Assert.Equal(0, timings.Calls(Site("conv1 forward")));
        Assert.True(timings.Time(Site("dense1 forward")) > TimeSpan.Zero);

        // A training batch of 5 on two threads: every chunk's calls add up to the batch's work. conv1 reads the network's
        // input, so its backward pass computes dL/dW only; the dense layer's dL/dW is the batch phase's.
        timings.Reset();
        Assert.All(Enumerable.Range(0, timings.Sites.Count), s => Assert.Equal(0, timings.Calls(s)));
        net.DegreeOfParallelism = 2;
        var inputs = new float[5 * input.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = (i % 13) / 13f - 0.5f;
        }

        net.TrainBatch(inputs, [0, 1, 2, 0, 1]);
        Assert.Equal(5 * 2 * ConvMultiplyAdds, timings.Flops(Site("conv1 forward")));
        Assert.Equal(5 * 2 * ConvMultiplyAdds, timings.Flops(Site("conv1 backward")));
        Assert.Equal(5 * 2 * DenseMultiplyAdds, timings.Flops(Site("dense1 backward")));
        Assert.Equal(5 * 2 * DenseMultiplyAdds, timings.Flops(Site("dense1 batch dL/dW")));
        Assert.True(timings.Calls(Site("bn1 statistics")) >= 1);
        Assert.Equal(0, timings.Calls(Site("conv1 forward, bn1, relu1 folded")));
    }

    private static int Profiled(INetwork net, string constant) =>
        (int)net.GetType().GetField(constant, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;

    /// <summary>Compiles <see cref="Source"/> with NETGEN_PROFILE defined, loads it, and returns a network and its timings.</summary>
    private static (INetwork Network, LayerTimings Timings) CompileProfiled()
    {
        CSharpParseOptions options = GeneratorHarness.ParseOptions.WithPreprocessorSymbols("NETGEN_PROFILE");
        CSharpCompilation compilation = GeneratorHarness.Compilation()
            .AddSyntaxTrees(CSharpSyntaxTree.ParseText(Source, options, path: "Net.cs"))
            .WithAssemblyName("Profiled" + Guid.NewGuid().ToString("N"))
            .WithOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release,
                nullableContextOptions: NullableContextOptions.Enable));
        CSharpGeneratorDriver.Create([new NetworkGenerator().AsSourceGenerator()], parseOptions: options)
            .RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        Assert.Empty(diagnostics);
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        image.Position = 0;
        Type type = AssemblyLoadContext.Default.LoadFromStream(image).GetType("Profiled.Net")!;
        var timings = (LayerTimings)type.GetProperty("LayerTimings", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        return ((INetwork)Activator.CreateInstance(type)!, timings);
    }
}
