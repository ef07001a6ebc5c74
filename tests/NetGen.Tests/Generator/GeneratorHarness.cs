using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NetGen.Generator;

namespace NetGen.Tests.Generator;

/// <summary>Runs the NetGen generator on source text in memory, as the compiler would.</summary>
internal static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        // The framework this test runs on, plus NetGen's runtime (attributes, helpers) and its dependencies.
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).ToList();
        paths.Add(typeof(NetGen.INetwork).Assembly.Location);
        paths.Add(typeof(System.Numerics.Tensors.TensorPrimitives).Assembly.Location);
        return paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToImmutableArray();
    });

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static CSharpCompilation Compilation(params string[] sources) =>
        CSharpCompilation.Create(
            "UserAssembly",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Network{i}.cs")),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, warningLevel: 9999));

    public static GeneratorDriver Driver(bool trackSteps = false, IEnumerable<AdditionalText>? additionalFiles = null) =>
        CSharpGeneratorDriver.Create(
            [new NetworkGenerator().AsSourceGenerator()],
            additionalTexts: additionalFiles,
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: trackSteps));

    /// <summary>Runs the generator; returns its diagnostics, its generated sources, and the compilation's own diagnostics with them.</summary>
    public static Result Run(params string[] sources) => Run(sources, []);

    /// <summary>Runs the generator with the project's additional files (files on disk, as MSBuild passes them).</summary>
    public static Result Run(string[] sources, IEnumerable<AdditionalText> additionalFiles)
    {
        CSharpCompilation compilation = Compilation(sources);
        GeneratorDriver driver = Driver(additionalFiles: additionalFiles).RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        GeneratorDriverRunResult run = driver.GetRunResult();
        return new Result(
            output,
            generatorDiagnostics,
            run.Results.SelectMany(r => r.GeneratedSources).ToImmutableArray(),
            output.GetDiagnostics(),
            run.Results.Select(r => r.Exception).Where(e => e is not null).ToImmutableArray()!);
    }

    internal sealed record Result(
        Compilation Output,
        ImmutableArray<Diagnostic> GeneratorDiagnostics,
        ImmutableArray<GeneratedSourceResult> Sources,
        ImmutableArray<Diagnostic> CompilationDiagnostics,
        ImmutableArray<Exception> Exceptions)
    {
        public string Source(string hintName) => Sources.Single(s => s.HintName == hintName).SourceText.ToString();

        public IEnumerable<Diagnostic> CompilerWarningsAndErrors =>
            CompilationDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning);
    }

    /// <summary>An additional file on disk, as MSBuild hands one to a generator.</summary>
    internal sealed class FileOnDisk(string path) : AdditionalText
    {
        public override string Path { get; } = path;

        public override Microsoft.CodeAnalysis.Text.SourceText GetText(System.Threading.CancellationToken cancellationToken = default) =>
            Microsoft.CodeAnalysis.Text.SourceText.From(File.ReadAllText(Path));
    }
}
