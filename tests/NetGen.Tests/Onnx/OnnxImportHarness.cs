using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Microsoft.ML.OnnxRuntime;
using NetGen.Generator;
using NetGen.Tests.Generator;

namespace NetGen.Tests.Onnx;

/// <summary>An AdditionalFile on disk, as the compiler passes one: the generator reads a model's bytes from its path.</summary>
internal sealed class FileAdditionalText(string path) : AdditionalText
{
    public override string Path { get; } = path;

    public override SourceText? GetText(CancellationToken cancellationToken = default) =>
        File.Exists(Path) ? SourceText.From(File.ReadAllText(Path)) : null;
}

/// <summary>
/// Compiles [OnnxModel] classes in memory, as a project with the model among its AdditionalFiles would: the generator
/// driven with the model files, the output emitted and loaded, the network created through <see cref="INeuralNetwork"/>.
/// </summary>
internal sealed class OnnxImportHarness : IDisposable
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "netgen-onnx-import-" + Guid.NewGuid().ToString("N"));

    public OnnxImportHarness() => System.IO.Directory.CreateDirectory(Directory);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    /// <summary>Writes <paramref name="model"/> as <c>{Directory}/models/{name}</c>; returns its full path.</summary>
    public string Write(string name, byte[] model)
    {
        string path = Path.Combine(Directory, "models", name);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, model);
        return path;
    }

    /// <summary>The source of a class compiled from <c>models/{file}</c>.</summary>
    public static string Source(string className, string file) => $$"""
        using NetGen;

        namespace Imported
        {
            [OnnxModel("models/{{file}}")]
            public partial class {{className}} { }
        }
        """;

    public static GeneratorDriver Driver(IEnumerable<AdditionalText> files, bool trackSteps = false) =>
        CSharpGeneratorDriver.Create(
            [new NetworkGenerator().AsSourceGenerator()],
            additionalTexts: files,
            parseOptions: GeneratorHarness.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator over <paramref name="source"/> with the files as AdditionalFiles.</summary>
    public Result Run(string source, params string[] files)
    {
        CSharpCompilation compilation = GeneratorHarness.Compilation(source);
        GeneratorDriver driver = Driver(files.Select(f => new FileAdditionalText(f)))
            .RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        GeneratorDriverRunResult run = driver.GetRunResult();
        Exception? exception = run.Results.Select(r => r.Exception).FirstOrDefault(e => e is not null);
        return new Result(diagnostics, output, exception, run.Results.SelectMany(r => r.GeneratedSources).Select(s => s.SourceText.ToString()).ToArray());
    }

    /// <summary>Compiles the class <c>Imported.{className}</c> from a model; fails the test on any error.</summary>
    public INeuralNetwork Compile(string className, byte[] model)
    {
        string path = Write(className + ".onnx", model);
        Result result = Run(Source(className, className + ".onnx"), path);
        if (result.Exception is not null)
        {
            throw new InvalidOperationException("The generator threw.", result.Exception);
        }

        var errors = result.Diagnostics.Concat(result.Output.GetDiagnostics()).Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Compilation failed:\n" + string.Join("\n", errors));
        }

        using var image = new MemoryStream();
        var emitted = result.Output.Emit(image);
        if (!emitted.Success)
        {
            throw new InvalidOperationException("Emit failed:\n" + string.Join("\n", emitted.Diagnostics));
        }

        Type type = Assembly.Load(image.ToArray()).GetType("Imported." + className)!;
        return (INeuralNetwork)Activator.CreateInstance(type)!;
    }

    internal sealed record Result(ImmutableArray<Diagnostic> Diagnostics, Compilation Output, Exception? Exception, string[] Sources);

    /// <summary>Runs a model in ONNX Runtime (one thread) on <paramref name="count"/> samples of C×H×W; returns its output.</summary>
    public static float[] RunOnnxRuntime(byte[] model, float[] inputs, int count, int channels, int height, int width, string inputName = "input")
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        using var input = OrtValue.CreateTensorValueFromMemory(inputs, [count, channels, height, width]);
        using var runOptions = new RunOptions();
        string output = session.OutputNames[0];
        using IDisposableReadOnlyCollection<OrtValue> results = session.Run(runOptions, [inputName], [input], [output]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Softmax of each row of <paramref name="logits"/>, in double precision.</summary>
    public static float[] Softmax(float[] logits, int classes)
    {
        var result = new float[logits.Length];
        for (int row = 0; row < logits.Length / classes; row++)
        {
            ReadOnlySpan<float> x = logits.AsSpan(row * classes, classes);
            double max = x.ToArray().Max(), sum = 0;
            for (int i = 0; i < classes; i++)
            {
                sum += Math.Exp(x[i] - max);
            }

            for (int i = 0; i < classes; i++)
            {
                result[row * classes + i] = (float)(Math.Exp(x[i] - max) / sum);
            }
        }

        return result;
    }
}
