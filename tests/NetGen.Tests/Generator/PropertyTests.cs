using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using CsCheck;
using Microsoft.CodeAnalysis;
using Xunit;
using Xunit.Abstractions;

namespace NetGen.Tests.Generator;

/// <summary>
/// Random declarations, sensible and nonsensical: the generator never throws, and each network either gets
/// NG errors and no code, or code that compiles with zero errors and zero warnings.
/// </summary>
public class PropertyTests(ITestOutputHelper output)
{
    /// <summary>Declarations per compilation: compiling them together keeps 2,000 cases to a couple of minutes.</summary>
    private const int PerCompilation = 25;

    private static readonly Gen<int> Size = Gen.Frequency((12, Gen.Int[1, 12]), (3, Gen.Int[13, 40]), (1, Gen.Int[-2, 0]), (1, Gen.Int[100_000, 3_000_000]));

    private static readonly Gen<int> Small = Gen.Frequency((12, Gen.Int[1, 5]), (1, Gen.Int[-1, 0]), (1, Gen.Int[6, 9]));

    /// <summary>
    /// A convolution's Groups and Bias arguments, most often neither: groups that often divide small channel counts (valid or
    /// NG0021), now and then 0 or −1 (NG0004), and Bias = false.
    /// </summary>
    private static readonly Gen<string> GroupsAndBias = Gen.Frequency(
        (8, Gen.Const("")),
        (3, Gen.Int[2, 4].Select(g => $", Groups = {g}")),
        (1, Gen.Int[-1, 0].Select(g => $", Groups = {g}")),
        (2, Gen.Const(", Bias = false")),
        (2, Gen.Int[2, 3].Select(g => $", Groups = {g}, Bias = false")));

    private static readonly Gen<string> Name = Gen.Frequency(
        (12, Gen.Const("")),
        (1, Gen.OneOf<string>("a", "x_1", "features", "head", "Dup", "dup", "2bad", "output", "", "my layer", "conv1", "input", "summary")));

    /// <summary>Names a layer may read: default and explicit names that often exist, and one that never does.</summary>
    private static readonly Gen<string> Reference = Gen.OneOf<string>(
        "input", "conv1", "conv2", "relu1", "relu2", "pool1", "dense1", "add1", "concat1", "a", "features", "head", "nope");

    /// <summary>LeakyReLU slopes: none (PyTorch's 0.01), ordinary, negative, zero, tiny, and two that are not finite.</summary>
    private static readonly Gen<string> Slope = Gen.Frequency(
        (3, Gen.Const("")), (3, Gen.OneOf<string>("0.2f", "-0.5f", "0f", "1E-05f")), (1, Gen.OneOf<string>("float.NaN", "float.NegativeInfinity")));

    /// <summary>A pooling's padding: mostly none or 1, now and then more than half a small window, or negative.</summary>
    private static readonly Gen<int> PoolPadding = Gen.Frequency((8, Gen.Const(0)), (3, Gen.Const(1)), (1, Gen.Int[2, 3]), (1, Gen.Const(-1)));

    /// <summary>The layers without weights added with average pooling, each as likely as the others.</summary>
    private static readonly Gen<string> Elementwise = Gen.OneOf(
        Name.Select(n => Bare("GlobalAvgPool2D", n)),
        Gen.Select(Gen.OneOf<string>("Tanh", "Sigmoid"), Name, Bare),
        Gen.Select(Slope, Name, (slope, n) => slope.Length == 0 ? Bare("LeakyReLU", n) : $"LeakyReLU(Slope = {slope}{NameArg(n)})"));

    private static readonly Gen<string> Kind = Gen.Frequency(
        (3, Gen.Select(Small, Small, Small, Small, GroupsAndBias, Name, (f, k, s, p, gb, n) => $"Conv2D({f}, {k}{Named("Stride", s, 1)}{Named("Padding", p - 1, 0)}{gb}{NameArg(n)})")),
        (1, Gen.Select(Small, Small, Small, Name, (f, kh, kw, n) => $"Conv2D({f}, {kh}, {kw}{NameArg(n)})")),
        (2, Gen.Select(Small, Small, PoolPadding, Name, (k, s, p, n) => $"MaxPool2D({k}{Named("Stride", s, 0)}{Named("Padding", p, 0)}{NameArg(n)})")),
        (1, Gen.Select(Small, Small, PoolPadding, Name, (k, s, p, n) => $"AvgPool2D({k}{Named("Stride", s, 0)}{Named("Padding", p, 0)}{NameArg(n)})")),
        (3, Gen.Select(Size, Name, (u, n) => $"Dense({u}{NameArg(n)})")),
        (3, Name.Select(n => Bare("ReLU", n))),
        (1, Elementwise),
        (1, Gen.Const("Softmax")),
        (1, Gen.Select(Size, Size, Size, (c, h, w) => $"Input({c}, {h}, {w})")),
        (2, Gen.Select(Reference, Name, (r, n) => $"Add(\"{r}\"{NameArg(n)})")),
        (2, Gen.Select(Gen.Frequency((8, Gen.Const(0)), (1, Gen.Int[-1, 2])), Gen.Frequency((8, Gen.Const(0)), (1, Gen.Int[-1, 2])), Name,
            (e, m, n) => Arguments("BatchNorm2D", e == 0 ? "" : $"Epsilon = {e}e-3f", m == 0 ? "" : $"Momentum = {m * 0.75}f", NameArg(n).TrimStart(',', ' ')))),
        (1, Gen.Select(Gen.Frequency((8, Gen.Int[0, 9]), (1, Gen.Int[-2, 12])), Name, (p, n) => $"Dropout({p / 10.0}f{NameArg(n)})")),
        (1, Gen.Select(Reference, Name, (r, n) => $"Concat(\"{r}\"{NameArg(n)})")));

    /// <summary>A layer, sometimes reading a named layer instead of the one before it (Input = "…").</summary>
    private static readonly Gen<string> Layer = Gen.Select(Kind, Gen.Frequency((5, Gen.Const("")), (1, Reference)), WithInput);

    private static readonly Gen<Declaration> Declarations = Gen.Select(
        Gen.Select(Size, Size, Size, (c, h, w) => $"Input({Math.Min(c, 4)}, {h}, {w})"),
        Layer.Array[0, 7],
        Gen.Frequency((10, Gen.Const(true)), (1, Gen.Const(false))),
        Gen.Int[0, 12],
        (input, layers, endsWithSoftmax, shape) => new Declaration(input, layers, endsWithSoftmax, shape));

    /// <summary>
    /// A block of a graph, built from the names of the layers declared before it: a residual block (identity or a strided
    /// projection shortcut), two branches joined by a [Concat], two poolings of one input added (max, or padded average and
    /// max), two activations of one input joined by channels, a depthwise separable block (a 1×1 expansion, a depthwise
    /// convolution and a grouped 1×1 projection, without biases but the last), or a plain layer; now and then a block names a
    /// layer that does not exist or comes later.
    /// </summary>
    private sealed record Block(int Kind, int Filters, int Kernel, int Stride, int Other, bool Broken)
    {
        public IEnumerable<string> Layers(string before, int first)
        {
            string a = $"n{first}", b = $"n{first + 1}", c = $"n{first + 2}", join = Broken ? (Kernel % 2 == 0 ? "nope" : c) : a;
            int padding = (Kernel - 1) / 2;
            switch (Kind)
            {
                case 0:
                    yield return $"Conv2D({Filters}, {Kernel}, Padding = {padding}, Name = \"{a}\")";
                    yield return $"ReLU(Name = \"{b}\")";
                    yield return $"Add(\"{(Broken ? join : before)}\", Name = \"{c}\")";
                    break;
                case 1:
                    yield return $"Conv2D({Filters}, {Kernel}, Stride = {Stride}, Padding = {padding}, Name = \"{a}\")";
                    yield return $"Conv2D({Filters}, 1, Stride = {Stride}, Input = \"{before}\", Name = \"{b}\")";
                    yield return $"Add(\"{join}\", Name = \"{c}\")";
                    break;
                case 2:
                    yield return $"Conv2D({Filters}, {Kernel}, Padding = {padding}, Name = \"{a}\")";
                    yield return $"Conv2D({Other}, 1, Input = \"{before}\", Name = \"{b}\")";
                    yield return $"Concat(\"{join}\", Name = \"{c}\")";
                    break;
                case 3:
                    yield return $"MaxPool2D({Stride}, Name = \"{a}\")";
                    yield return $"MaxPool2D({Stride}, Input = \"{before}\", Name = \"{b}\")";
                    yield return $"Add(\"{join}\", Name = \"{c}\")";
                    break;
                case 5:
                    yield return $"AvgPool2D({Kernel}, Stride = {Stride}, Padding = {padding}, Name = \"{a}\")";
                    yield return $"MaxPool2D({Kernel}, Stride = {Stride}, Padding = {padding}, Input = \"{before}\", Name = \"{b}\")";
                    yield return $"Add(\"{join}\", Name = \"{c}\")";
                    break;
                case 6:
                    yield return $"LeakyReLU(Slope = 0.1f, Name = \"{a}\")";
                    yield return $"{(Filters % 2 == 0 ? "Tanh" : "Sigmoid")}(Input = \"{before}\", Name = \"{b}\")";
                    yield return $"Concat(\"{join}\", Name = \"{c}\")";
                    break;
                case 7:
                    yield return $"Conv2D({Filters * 2}, 1, Bias = false, Name = \"{a}\")";
                    yield return $"Conv2D({Filters * 2 * Other}, {Kernel}, Stride = {Stride}, Padding = {padding}, Groups = {(Broken ? Filters * 3 : Filters * 2)}, Bias = false, Name = \"{b}\")";
                    yield return $"Conv2D({Filters}, 1, Groups = {Filters}, Name = \"{c}\")";
                    break;
                default:
                    yield return $"Dense({Filters * 3}, Name = \"{a}\")";
                    yield return $"ReLU(Name = \"{b}\")";
                    yield return $"Dense({Filters * 3}, Input = \"{(Broken ? join : a)}\", Name = \"{c}\")";
                    break;
            }
        }
    }

    private static readonly Gen<Declaration> GraphDeclarations = Gen.Select(
        Gen.Select(Gen.Int[1, 4], Gen.Int[3, 12], Gen.Int[3, 12], (c, h, w) => $"Input({c}, {h}, {w})"),
        Gen.Select(Gen.Int[0, 7], Gen.Int[1, 4], Gen.Int[1, 5], Gen.Int[1, 3], Gen.Int[1, 3], Gen.Frequency((8, Gen.Const(false)), (1, Gen.Const(true))),
            (kind, filters, kernel, stride, other, broken) => new Block(kind, filters, kernel, stride, other, broken)).Array[1, 3],
        Gen.Frequency((6, Gen.Const(7)), (1, Gen.Int[0, 6])),
        Gen.Bool,
        (input, blocks, shape, globalPool) =>
        {
            var layers = new List<string>();
            string before = "input";
            foreach (Block block in blocks)
            {
                layers.AddRange(block.Layers(before, layers.Count));
                before = $"n{layers.Count - 1}";
            }

            if (globalPool)
            {
                layers.Add("GlobalAvgPool2D");
            }

            layers.Add("Dense(3)");
            return new Declaration(input, layers.ToArray(), EndsWithSoftmax: true, shape);
        });

    [Fact]
    public void Any_graph_declaration_gets_compiled_code_or_NG_errors_and_the_generator_never_throws()
    {
        int networks = 0, compiled = 0, rejected = 0;
        foreach (Declaration[] batch in Deterministic(GraphDeclarations, 1000 / PerCompilation))
        {
            (int ok, int errors, _, _) = Check(batch);
            networks += batch.Length;
            compiled += ok;
            rejected += errors;
        }

        output.WriteLine($"{networks} random graph declarations: {compiled} compiled cleanly, {rejected} rejected with NG errors");
        Assert.True(networks >= 1000);
        Assert.True(compiled > 150 && rejected > 150, $"the generator should see both kinds: {compiled} compiled, {rejected} rejected");
    }

    [Fact]
    public void Any_declaration_gets_compiled_code_or_NG_errors_and_the_generator_never_throws()
    {
        int networks = 0, compiled = 0, rejected = 0, branched = 0, newKinds = 0;
        foreach (Declaration[] batch in Deterministic(Declarations, 2000 / PerCompilation))
        {
            (int ok, int errors, int graphs, int withNewKinds) = Check(batch);
            networks += batch.Length;
            compiled += ok;
            rejected += errors;
            branched += graphs;
            newKinds += withNewKinds;
        }

        output.WriteLine($"{networks} random declarations: {compiled} compiled cleanly ({branched} of them graphs, {newKinds} with average pooling, " +
                         $"padded max pooling, Tanh, Sigmoid or LeakyReLU), {rejected} rejected with NG errors");
        Assert.True(networks >= 2000);
        Assert.True(compiled > 200 && rejected > 200, $"the generator should see both kinds: {compiled} compiled, {rejected} rejected");
        Assert.True(branched >= 3, $"only {branched} of the compiled networks read a named layer or join one"); // the graph test draws hundreds
        Assert.True(newKinds > 20, $"only {newKinds} of the compiled networks use the newer layer kinds");
    }

    /// <summary>
    /// <paramref name="batches"/> batches of declarations from one fixed seed: the same declarations on every run, so the
    /// counts the tests assert are stable (CsCheck's Sample seeds only its first iteration).
    /// </summary>
    private static IEnumerable<Declaration[]> Deterministic(Gen<Declaration> declarations, int batches)
    {
        var pcg = PCG.Parse("0N0XIzNsQ0O2");
        Gen<Declaration[]> batch = declarations.Array[PerCompilation];
        for (int i = 0; i < batches; i++)
        {
            yield return batch.Generate(pcg, null, out _);
        }
    }

    /// <summary>Generates and compiles one batch; throws (so CsCheck shrinks it) on any broken rule.</summary>
    private static (int Compiled, int Rejected, int Branched, int NewKinds) Check(Declaration[] batch)
    {
        var source = new StringBuilder("using NetGen;\n");
        for (int i = 0; i < batch.Length; i++)
        {
            source.Append(batch[i].ToSource($"Net{i}")).Append('\n');
        }

        var result = GeneratorHarness.Run(source.ToString());
        if (result.Exceptions.Length > 0)
        {
            throw new InvalidOperationException($"the generator threw: {result.Exceptions[0]}");
        }

        if (result.GeneratorDiagnostics.FirstOrDefault(d => d.Severity != DiagnosticSeverity.Error || !d.Id.StartsWith("NG", StringComparison.Ordinal) || d.Id == "NG0015") is { } odd)
        {
            throw new InvalidOperationException($"unexpected generator diagnostic {odd}");
        }

        int compiled = 0, rejected = 0, branched = 0, newKinds = 0;
        for (int i = 0; i < batch.Length; i++)
        {
            string name = $"Net{i}";
            bool hasError = result.GeneratorDiagnostics.Any(d => DeclaresNetwork(d, name, source.ToString()));
            bool hasSource = result.Sources.Any(s => s.HintName.Contains($"{name}.g.cs", StringComparison.Ordinal) || s.HintName.Contains($"{name}_", StringComparison.Ordinal));
            if (hasError == hasSource)
            {
                throw new InvalidOperationException($"{name}: {(hasError ? "NG errors and generated code" : "neither NG errors nor generated code")}\n{batch[i].ToSource(name)}");
            }

            compiled += hasSource ? 1 : 0;
            rejected += hasError ? 1 : 0;
            branched += hasSource && batch[i].Layers.Any(IsGraphLayer) ? 1 : 0;
            newKinds += hasSource && batch[i].Layers.Any(IsNewKind) ? 1 : 0;
        }

        // Every generated file must compile without a single error or warning (the user's own source has
        // errors only where a declaration is itself broken, e.g. a struct carrying class-only attributes).
        var generatedProblems = result.CompilationDiagnostics
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true)
            .ToList();
        if (generatedProblems.Count > 0)
        {
            throw new InvalidOperationException($"generated code does not compile cleanly: {generatedProblems[0]}\n{source}");
        }

        return (compiled, rejected, branched, newKinds);
    }

    /// <summary>Whether a diagnostic points into the declaration of <paramref name="name"/>.</summary>
    private static bool DeclaresNetwork(Diagnostic diagnostic, string name, string source)
    {
        int start = source.IndexOf($"/*{name}*/", StringComparison.Ordinal);
        int end = source.IndexOf("/*end*/", start, StringComparison.Ordinal);
        return diagnostic.Location.SourceSpan.Start >= start && diagnostic.Location.SourceSpan.Start < end;
    }

    /// <summary><c>Kind(a, b)</c> with the non-empty arguments, or <c>Kind</c> alone when there are none.</summary>
    private static string Arguments(string kind, params string[] arguments)
    {
        string list = string.Join(", ", arguments.Where(a => a.Length > 0));
        return list.Length == 0 ? kind : $"{kind}({list})";
    }

    private static bool IsGraphLayer(string layer) =>
        layer.StartsWith("Add(", StringComparison.Ordinal) || layer.StartsWith("Concat(", StringComparison.Ordinal) || layer.Contains("Input = ", StringComparison.Ordinal);

    private static bool IsNewKind(string layer) =>
        new[] { "AvgPool2D", "GlobalAvgPool2D", "Tanh", "Sigmoid", "LeakyReLU" }.Any(kind => layer.StartsWith(kind, StringComparison.Ordinal))
        || (layer.StartsWith("MaxPool2D", StringComparison.Ordinal) && layer.Contains("Padding", StringComparison.Ordinal));

    /// <summary><paramref name="layer"/> with <c>Input = "reference"</c> added to its arguments (none when empty).</summary>
    private static string WithInput(string layer, string reference)
    {
        if (reference.Length == 0)
        {
            return layer;
        }

        string input = $"Input = \"{reference}\"";
        return layer.EndsWith(')') ? $"{layer.Substring(0, layer.Length - 1)}, {input})" : $"{layer}({input})";
    }

    private static string Named(string name, int value, int skip) => value == skip ? "" : $", {name} = {value}";

    private static string NameArg(string name) => name.Length == 0 ? "" : $", Name = \"{name}\"";

    /// <summary>A layer without arguments of its own: <c>Tanh</c>, or <c>Tanh(Name = "…")</c>.</summary>
    private static string Bare(string kind, string name) => name.Length == 0 ? kind : $"{kind}(Name = \"{name}\")";

    /// <summary>One random declaration: its input, layers, whether Softmax is appended, and the shape of the class.</summary>
    internal sealed record Declaration(string Input, string[] Layers, bool EndsWithSoftmax, int ClassShape)
    {
        public string ToSource(string name)
        {
            var attributes = new List<string> { Input };
            attributes.AddRange(Layers);
            if (EndsWithSoftmax)
            {
                attributes.Add("Softmax");
            }

            string list = string.Concat(attributes.Select(a => $"[{a}]"));
            string body = ClassShape switch
            {
                0 => $"public class {name} {{ }}",                                  // not partial
                1 => $"public static partial class {name} {{ }}",                   // static
                2 => $"public partial class {name}<T> where T : class {{ }}",       // generic
                3 => $"public partial class {name}Outer {{ {list} public partial class {name} {{ }} }}",
                4 => $"public class {name}Outer {{ {list} public partial class {name} {{ }} }}", // container not partial
                5 => $"public partial class {name} {{ }} public partial class {name} {{ public int Extra => 1; }}",
                6 => $"{string.Concat(attributes.Take(2).Select(a => $"[{a}]"))} public partial class {name} {{ }} {string.Concat(attributes.Skip(2).Select(a => $"[{a}]"))} public partial class {name} {{ }}",
                _ => $"public partial class {name} {{ }}",
            };
            string declaration = ClassShape is 3 or 4 or 6 ? body : $"{list} {body}";
            if (ClassShape == 6 && attributes.Count <= 2)
            {
                declaration = $"{list} public partial class {name} {{ }}";
            }

            return $"namespace N{name} {{ /*{name}*/ {declaration} /*end*/ }}";
        }
    }
}
