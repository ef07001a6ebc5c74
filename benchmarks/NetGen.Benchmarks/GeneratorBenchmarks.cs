using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace NetGen.Benchmarks;

/// <summary>
/// What NetGen costs at compile time, where a source generator runs on every keystroke of the user's IDE: the
/// generator's own time on a project it has not seen (<see cref="Generate"/>), its time after an edit elsewhere in the
/// project (<see cref="GenerateAfterEdit"/>, the keystroke case, where its cached steps hold), and the C# compiler's time
/// for the user's file with the generated one (<see cref="Compile"/>); the Source column gives the generated source's
/// size. The networks are the benchmarks' declarations (Networks.cs, embedded), and <c>Deep</c>, ten times as deep
/// as ResNetBN: 45 identical residual blocks, 322 layers. Not part of the full run's report; run with
/// <c>benchmarks/run.sh --no-verify --filter '*Generator*'</c>.
/// </summary>
[BenchmarkCategory("Generator")]
public class GeneratorBenchmarks
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).ToList();
        paths.Add(typeof(INetwork).Assembly.Location);
        paths.Add(typeof(System.Numerics.Tensors.TensorPrimitives).Assembly.Location);
        return [.. paths.Distinct().Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    });

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);
    private static readonly ConcurrentDictionary<string, long> SourceLengths = new();

    private CSharpCompilation _compilation = null!, _edited = null!;
    private GeneratorDriver _warmDriver = null!;
    private Compilation _output = null!;
    private int _edits;

    [Params("LeNet5", "WideNet", "ResNetBN", "Deep")]
    public string Network { get; set; } = "LeNet5";

    /// <summary>The declaration of a network: its attributes on an empty partial class, in a file of its own.</summary>
    public static string Declaration(string network)
    {
        if (network == "Deep")
        {
            string Block(int i) =>
                $"[Conv2D(16, 3, Padding = 1, Bias = false, Input = \"r{i - 1}\")] [BatchNorm2D] [ReLU] " +
                $"[Conv2D(16, 3, Padding = 1, Bias = false)] [BatchNorm2D] [Add(\"r{i - 1}\")] [ReLU(Name = \"r{i}\")]\n";
            return "using NetGen;\n[Input(1, 28, 28)] [Conv2D(16, 3, Padding = 1, Bias = false)] [BatchNorm2D] [ReLU(Name = \"r0\")]\n"
                + string.Concat(Enumerable.Range(1, 45).Select(Block))
                + "[GlobalAvgPool2D] [Dense(10)] [Softmax]\npublic partial class Deep { }\n";
        }

        using Stream stream = typeof(GeneratorBenchmarks).Assembly.GetManifestResourceStream("Networks.cs")!;
        using var reader = new StreamReader(stream);
        SyntaxNode root = CSharpSyntaxTree.ParseText(reader.ReadToEnd()).GetRoot();
        ClassDeclarationSyntax declaration = root.DescendantNodes().OfType<ClassDeclarationSyntax>()
            .Single(c => c.Identifier.Text == network);
        return "using NetGen;\n" + string.Join("\n", declaration.AttributeLists.Select(a => a.ToString()))
            + $"\npublic partial class {network} {{ }}\n";
    }

    private static CSharpCompilation CompilationOf(params string[] sources) => CSharpCompilation.Create(
        "UserAssembly",
        sources.Select(s => CSharpSyntaxTree.ParseText(s, ParseOptions)),
        References.Value,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    private static GeneratorDriver NewDriver() =>
        CSharpGeneratorDriver.Create([new NetGen.Generator.NetworkGenerator().AsSourceGenerator()], parseOptions: ParseOptions);

    private static string UserCode(int edit) => $"public static class Other {{ public static int Value => {edit}; }}";

    [GlobalSetup]
    public void Setup()
    {
        _compilation = CompilationOf(Declaration(Network), UserCode(0));
        _edited = CompilationOf(Declaration(Network), UserCode(1));
        _warmDriver = NewDriver().RunGeneratorsAndUpdateCompilation(_compilation, out _output, out ImmutableArray<Diagnostic> diagnostics);
        GeneratorDriverRunResult run = _warmDriver.GetRunResult();
        var errors = diagnostics.Concat(_output.GetDiagnostics()).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0 || run.Results.Any(r => r.Exception is not null))
        {
            throw new InvalidOperationException($"{Network} does not compile: {string.Join("; ", errors.Take(3))}");
        }

        SourceLengths[Network] = run.Results.SelectMany(r => r.GeneratedSources).Sum(s => (long)s.SourceText.Length);
    }

    /// <summary>The generator on a project it has not seen: parsing the attributes, shapes, plans and emitting.</summary>
    [Benchmark(Baseline = true)]
    public GeneratorDriver Generate() => NewDriver().RunGenerators(_compilation);

    /// <summary>The generator after an edit to another file of the project: the network's model is cached.</summary>
    [Benchmark]
    public GeneratorDriver GenerateAfterEdit()
    {
        _warmDriver = _warmDriver.RunGenerators(++_edits % 2 == 0 ? _compilation : _edited);
        return _warmDriver;
    }

    /// <summary>The C# compiler on the declaration and the generated file (binding, lowering and IL, written nowhere).</summary>
    [Benchmark]
    public bool Compile() => _output.Clone().Emit(Stream.Null).Success;

    /// <summary>The generated source's size in characters, for the Source column.</summary>
    public sealed class SourceColumn : IColumn
    {
        public string Id => "NetGen.GeneratedSource";
        public string ColumnName => "Source";
        public string Legend => "Characters of generated source for the network";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;

        public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(b => b.Descriptor.Type == typeof(GeneratorBenchmarks));
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
            benchmarkCase.Descriptor.Type == typeof(GeneratorBenchmarks)
            && benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == nameof(Network))?.Value is string network
            && SourceLengths.TryGetValue(network, out long length)
                ? $"{length / 1000.0:N0} K chars"
                : "-";
    }
}
