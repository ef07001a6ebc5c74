using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NetGen.Generator;
using NetGen.Tests.Generator;
using Xunit;
using Xunit.Abstractions;

namespace NetGen.Tests.Onnx;

/// <summary>
/// What [OnnxModel] costs the compiler: the model is read and imported once, not again at an edit of another file; and
/// the residual network takes the generator well under a second.
/// </summary>
public sealed class OnnxImportCostTests(ITestOutputHelper output) : IDisposable
{
    private readonly OnnxImportHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private static readonly string[] ModelSteps =
    [
        NetworkGenerator.TrackingNames.OnnxImport, NetworkGenerator.TrackingNames.OnnxInfer, NetworkGenerator.TrackingNames.OnnxBake,
    ];

    [Fact]
    public void Editing_an_unrelated_file_does_not_read_or_import_the_model_again_and_editing_the_model_does()
    {
        string path = _harness.Write("ResNet.onnx", OnnxImportTests.ResNet());
        CSharpCompilation compilation = GeneratorHarness.Compilation(OnnxImportHarness.Source("ResNet", "ResNet.onnx"), "public class Unrelated { public int A => 1; }");
        var model = new FileAdditionalText(path);
        GeneratorDriver driver = OnnxImportHarness.Driver([model], trackSteps: true).RunGenerators(compilation);
        Assert.Equal(2, driver.GetRunResult().GeneratedTrees.Length); // the network and its baked weights

        SyntaxTree unrelated = compilation.SyntaxTrees.Last();
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(unrelated,
            CSharpSyntaxTree.ParseText("public class Unrelated { public int A => 2; public int B => 3; }", GeneratorHarness.ParseOptions, unrelated.FilePath));
        driver = driver.RunGenerators(edited);
        GeneratorRunResult second = driver.GetRunResult().Results.Single();
        foreach (string step in ModelSteps)
        {
            var outputs = second.TrackedSteps[step].SelectMany(s => s.Outputs).ToList();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached, $"{step}: {o.Reason}"));
        }

        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));

        // A changed model (new weights: another seed) is an edited AdditionalFile: read, imported and baked again.
        File.WriteAllBytes(path, OnnxImportTests.ResNet(seed: 12));
        driver = driver.ReplaceAdditionalText(model, new FileAdditionalText(path)).RunGenerators(edited);
        GeneratorRunResult third = driver.GetRunResult().Results.Single();
        Assert.Contains(third.TrackedSteps[NetworkGenerator.TrackingNames.OnnxImport].SelectMany(s => s.Outputs),
            o => o.Reason is IncrementalStepRunReason.New or IncrementalStepRunReason.Modified);
        Assert.Contains(third.TrackedSteps[NetworkGenerator.TrackingNames.OnnxBake].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
    }

    /// <summary>
    /// The budget: the residual network through [OnnxModel] takes the generator under 1 s of its own time (read,
    /// import, shape inference, baking, emitting), as the compiler's timing reports it (what <c>-p:ReportAnalyzer=true</c>
    /// prints), in a fresh driver.
    /// </summary>
    [Fact]
    public void The_residual_network_takes_the_generator_under_a_second()
    {
        string path = _harness.Write("ResNet.onnx", OnnxImportTests.ResNet());
        CSharpCompilation compilation = GeneratorHarness.Compilation(OnnxImportHarness.Source("ResNet", "ResNet.onnx"));

        // Once to load and JIT the generator and Roslyn's pipeline, as the compiler server has them loaded; then measured.
        OnnxImportHarness.Driver([new FileAdditionalText(path)]).RunGenerators(compilation);
        var clock = Stopwatch.StartNew();
        GeneratorDriver driver = OnnxImportHarness.Driver([new FileAdditionalText(path)]).RunGenerators(compilation);
        clock.Stop();
        TimeSpan generator = driver.GetTimingInfo().GeneratorTimes.Single().ElapsedTime;
        output.WriteLine($"generator time {generator.TotalMilliseconds:F0} ms (wall {clock.Elapsed.TotalMilliseconds:F0} ms), model {new FileInfo(path).Length:N0} bytes");
        Assert.Equal(2, driver.GetRunResult().GeneratedTrees.Length);
        Assert.True(generator < TimeSpan.FromSeconds(1), $"the generator took {generator.TotalMilliseconds:F0} ms");
    }
}
