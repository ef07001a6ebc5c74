using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NetGen.Generator;
using Xunit;

namespace NetGen.Tests.Generator;

/// <summary>The generator is incremental in the Roslyn cookbook's sense: an unrelated edit reuses every cached step.</summary>
public class IncrementalTests
{
    private static readonly string[] Steps = [NetworkGenerator.TrackingNames.Parse, NetworkGenerator.TrackingNames.Infer, NetworkGenerator.TrackingNames.Model];

    [Fact]
    public void An_unrelated_edit_is_served_from_the_cache()
    {
        CSharpCompilation compilation = GeneratorHarness.Compilation(SnapshotTests.LeNet5Source, "public class Unrelated { public int A => 1; }");
        GeneratorDriver driver = GeneratorHarness.Driver(trackSteps: true).RunGenerators(compilation);

        SyntaxTree unrelated = compilation.SyntaxTrees.Last();
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(unrelated,
            CSharpSyntaxTree.ParseText("public class Unrelated { public int A => 2; public int B => 3; }", GeneratorHarness.ParseOptions, unrelated.FilePath));
        GeneratorRunResult second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (string step in Steps)
        {
            var outputs = second.TrackedSteps[step].SelectMany(s => s.Outputs).ToList();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {o.Reason}"));
        }

        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    [Fact]
    public void An_edit_inside_the_network_class_body_keeps_the_model()
    {
        // Editing a member of the network class re-runs the attribute step, but the model it produces is equal
        // to the previous one, so nothing is emitted again.
        CSharpCompilation compilation = GeneratorHarness.Compilation(SnapshotTests.LeNet5Source);
        GeneratorDriver driver = GeneratorHarness.Driver(trackSteps: true).RunGenerators(compilation);
        SyntaxTree tree = compilation.SyntaxTrees.Single();
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(tree,
            CSharpSyntaxTree.ParseText(SnapshotTests.LeNet5Source.Replace("public partial class LeNet5 { }", "public partial class LeNet5 { public int Extra => 1; }"), GeneratorHarness.ParseOptions, tree.FilePath));
        GeneratorRunResult second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.All(second.TrackedSteps[NetworkGenerator.TrackingNames.Model].SelectMany(s => s.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
    }

    [Fact]
    public void Moving_the_network_down_a_line_and_adding_a_method_to_it_does_not_regenerate_its_source()
    {
        // Locations live in the parse step's output and the diagnostics only: the parse step sees the shifted attributes,
        // but the model it leads to is equal, so the source output is served from the cache.
        CSharpCompilation compilation = GeneratorHarness.Compilation(SnapshotTests.LeNet5Source);
        GeneratorDriver driver = GeneratorHarness.Driver(trackSteps: true).RunGenerators(compilation);
        SyntaxTree tree = compilation.SyntaxTrees.Single();
        string moved = SnapshotTests.LeNet5Source
            .Replace("namespace Samples;", "namespace Samples;\n\n// a comment above the network\n")
            .Replace("public partial class LeNet5 { }", "public partial class LeNet5 { public int Twice(int x) => 2 * x; }");
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(tree, CSharpSyntaxTree.ParseText(moved, GeneratorHarness.ParseOptions, tree.FilePath));
        GeneratorRunResult second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.Contains(second.TrackedSteps[NetworkGenerator.TrackingNames.Parse].SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
        foreach (string step in new[] { NetworkGenerator.TrackingNames.Infer, NetworkGenerator.TrackingNames.Model })
        {
            Assert.All(second.TrackedSteps[step].SelectMany(s => s.Outputs),
                o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {o.Reason}"));
        }

        var sourceOutputs = second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).ToList();
        Assert.NotEmpty(sourceOutputs);
        Assert.All(sourceOutputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
    }

    [Fact]
    public void Pipeline_models_hold_no_symbols_syntax_or_compilation()
    {
        CSharpCompilation compilation = GeneratorHarness.Compilation(SnapshotTests.LeNet5Source);
        GeneratorRunResult run = GeneratorHarness.Driver(trackSteps: true).RunGenerators(compilation).GetRunResult().Results.Single();
        foreach (string step in Steps)
        {
            foreach (object value in run.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Value))
            {
                AssertNoRoslynObjects(value, step, new HashSet<object>(ReferenceEqualityComparer.Instance));
            }
        }
    }

    /// <summary>Walks the object graph (fields, recursively) and fails on anything that would pin a compilation.</summary>
    private static void AssertNoRoslynObjects(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
        {
            return;
        }

        Assert.False(value is ISymbol or SyntaxNode or Compilation or SemanticModel or SyntaxTree or Location or AttributeData,
            $"{path} holds a {value.GetType().Name}");
        if (value is DiagnosticDescriptor)
        {
            return; // static, immutable metadata
        }

        if (value is IEnumerable items)
        {
            int i = 0;
            foreach (object? item in items)
            {
                AssertNoRoslynObjects(item, $"{path}[{i++}]", seen);
            }
        }

        for (Type? type = value.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer || field.FieldType.IsByRefLike)
                {
                    continue;
                }

                AssertNoRoslynObjects(field.GetValue(value), $"{path}.{field.Name}", seen);
            }
        }
    }
}
