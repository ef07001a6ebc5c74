using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using ApprovalTests;
using ApprovalTests.Reporters;
using Microsoft.CodeAnalysis;
using Xunit;

namespace NetGen.Tests.Generator;

/// <summary>
/// The generated source, compared with approved files checked in beside this file
/// (<c>SnapshotTests.*.approved.cs</c>). A change to the emitter shows up as a diff to review; to accept it,
/// copy the <c>.received.cs</c> file over the <c>.approved.cs</c> one.
/// </summary>
[UseReporter(typeof(QuietReporter))]
public class SnapshotTests
{
    internal const string LeNet5Source = """
        using NetGen;

        namespace Samples;

        [Input(1, 28, 28)]
        [Conv2D(6, 5, Padding = 2)]
        [ReLU]
        [MaxPool2D(2)]
        [Conv2D(16, 5)]
        [ReLU]
        [MaxPool2D(2)]
        [Dense(120)]
        [ReLU]
        [Dense(84)]
        [ReLU]
        [Dense(10)]
        [Softmax]
        public partial class LeNet5 { }
        """;

    internal const string SmallSource = """
        using NetGen;

        namespace Samples.Tiny;

        public static partial class Models
        {
            /// A small net with stride, padding, a non-square kernel and explicit names.
            [Input(2, 9, 7)]
            [Conv2D(3, 3, 2, Stride = 2, Padding = 1, Name = "edges")]
            [ReLU]
            [MaxPool2D(2, Stride = 1)]
            [Dense(4, Name = "head")]
            [Softmax]
            public partial class Tiny<TTag> { }
        }
        """;

    /// <summary>The README's residual block with a projection shortcut: a branch point (stem), a join (add1).</summary>
    internal const string TinyResNetSource = """
        using NetGen;

        namespace Samples;

        [Input(1, 28, 28)]
        [Conv2D(16, 3, Padding = 1)]
        [ReLU(Name = "stem")]
        [Conv2D(32, 3, Stride = 2, Padding = 1)]
        [ReLU]
        [Conv2D(32, 3, Padding = 1, Name = "main")]
        [Conv2D(32, 1, Stride = 2, Input = "stem", Name = "shortcut")]
        [Add("main")]                     // shortcut + main
        [ReLU]
        [Dense(10)]
        [Softmax]
        public partial class TinyResNet { }
        """;

    [Fact]
    public void TinyResNet() => Approvals.VerifyWithExtension(Generate(TinyResNetSource, "Samples.TinyResNet.g.cs"), ".cs");

    [Fact]
    public void LeNet5() => Approvals.VerifyWithExtension(Generate(LeNet5Source, "Samples.LeNet5.g.cs"), ".cs");

    [Fact]
    public void WideNet_with_a_Winograd_conv2_and_a_dense1_split_across_threads() =>
        Approvals.VerifyWithExtension(Generate(WideNetSource, "WideNet.g.cs"), ".cs");

    [Fact]
    public void Small_nested_generic_network() => Approvals.VerifyWithExtension(Generate(SmallSource, "Samples.Tiny.Models.Tiny_TTag_.g.cs"), ".cs");

    [Fact]
    public void Pooling_over_inputs_too_wide_for_float_offsets_records_tap_numbers()
    {
        // The forward pass keeps each window's winner in a float vector: its offset from the window's start while that is
        // exact in a float (below 2^24), else the tap's number, turned into the offset by the backward pass.
        GeneratorHarness.Result result = GeneratorHarness.Run("""
            using NetGen;
            namespace Samples;
            [Input(1, 2, 16777216)] [MaxPool2D(2)] [Dense(2)] [Softmax]
            public partial class Wide { }
            [Input(1, 3, 16777216)] [MaxPool2D(3, Stride = 2)] [Dense(2)] [Softmax]
            public partial class WideOverlapping { }
            """);
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilerWarningsAndErrors);
        string source = result.Source("Samples.Wide.g.cs");
        Assert.Contains("TVector.Broadcast(3f)", source); // tap (1, 1) in the forward pass
        Assert.Contains("TVector left = TVector.SelectEqual(winner, TVector.Broadcast(2f), g, zero);", source); // tap (1, 0) in the backward pass
        Assert.DoesNotContain("TVector.Broadcast(16777217f)", source);
        Assert.DoesNotContain("TVector.Broadcast(16777216f)", source);
        string overlapping = result.Source("Samples.WideOverlapping.g.cs");
        Assert.Contains("TVector.Broadcast(8f)", overlapping); // tap (2, 2)
        Assert.Contains("+ t / 3 * 16777216 + t % 3] += dy[o];", overlapping);

        // LeNet-5's pools keep offsets.
        string lenet = Generate(LeNet5Source, "Samples.LeNet5.g.cs");
        Assert.Contains("TVector.Broadcast(29f)", lenet);
        Assert.DoesNotContain("t / 2 *", lenet);
    }

    [Fact]
    public void Padded_pooling_over_inputs_too_wide_for_float_offsets_records_tap_numbers()
    {
        // With padding the recorded winner is an offset in the input from the window's top-left tap (in the padding or
        // not), or −1 where no tap beat −∞; over 16 million floats wide, the tap's number instead.
        GeneratorHarness.Result result = GeneratorHarness.Run("""
            using NetGen;
            namespace Samples;
            [Input(1, 3, 16777216)] [MaxPool2D(3, Stride = 2, Padding = 1)] [Dense(2)] [Softmax]
            public partial class WidePadded { }
            [Input(1, 3, 1000)] [MaxPool2D(3, Stride = 2, Padding = 1)] [Dense(2)] [Softmax]
            public partial class NarrowPadded { }
            """);
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilerWarningsAndErrors);
        string wide = result.Source("Samples.WidePadded.g.cs");
        Assert.Contains("TVector.Broadcast(8f)", wide); // tap (2, 2)
        Assert.Contains("dx[row + j * 2 + t / 3 * 16777216 + t % 3] += dy[o];", wide);
        Assert.Contains("if (t < 0)", wide);
        string narrow = result.Source("Samples.NarrowPadded.g.cs");
        Assert.Contains("TVector.Broadcast(2002f)", narrow); // tap (2, 2): 2 · 1000 + 2
        Assert.Contains("dx[row + j * 2 + t] += dy[o];", narrow);
        Assert.Contains("int row = s * 3000 + c * 3000 + i * 2000 - 1001;", narrow);
    }

    [Fact]
    public void Output_does_not_depend_on_the_current_culture()
    {
        // A culture whose minus sign is U+2212 and whose group separator is a non-breaking space: a number
        // formatted with the current culture anywhere in the emitter would show here.
        var culture = (CultureInfo)CultureInfo.GetCultureInfo("sv-SE").Clone();
        culture.NumberFormat.NegativeSign = "\u2212";
        const string NewLayersSource = """
            using NetGen;
            [Input(2, 9, 8)] [LeakyReLU(Slope = -0.25f)] [MaxPool2D(3, Stride = 2, Padding = 1)] [AvgPool2D(3, Stride = 1, Padding = 1)]
            [Tanh] [Sigmoid] [GlobalAvgPool2D] [Dense(3)] [Softmax]
            public partial class NewLayers { }
            """;
        string small = Generate(SmallSource, "Samples.Tiny.Models.Tiny_TTag_.g.cs");
        string lenet = Generate(LeNet5Source, "Samples.LeNet5.g.cs");
        string newLayers = Generate(NewLayersSource, "NewLayers.g.cs");
        Assert.Contains("TVector.Broadcast(-0.25f)", newLayers);
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = culture;
            Assert.Equal(small, Generate(SmallSource, "Samples.Tiny.Models.Tiny_TTag_.g.cs"));
            Assert.Equal(lenet, Generate(LeNet5Source, "Samples.LeNet5.g.cs"));
            Assert.Equal(newLayers, Generate(NewLayersSource, "NewLayers.g.cs"));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void Generated_code_compiles_with_zero_warnings_at_the_highest_warning_level()
    {
        var result = GeneratorHarness.Run(LeNet5Source, SmallSource, WideNetSource);
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Equal(3, result.Sources.Length);
        Assert.Empty(result.CompilerWarningsAndErrors);
    }

    [Fact]
    public void Generated_file_starts_with_the_auto_generated_header()
    {
        string source = Generate(LeNet5Source, "Samples.LeNet5.g.cs");
        Assert.StartsWith("// <auto-generated/>", source);
        Assert.Contains("#nullable enable", source);
        Assert.Contains("[global::System.CodeDom.Compiler.GeneratedCode(\"NetGen\", ", source);
    }

    [Fact]
    public void No_generated_line_is_longer_than_150_characters()
    {
        string longName = "a_layer_name_of_the_longest_kind_NetGen_accepts_sixty_four_chars";
        Assert.Equal(64, longName.Length);
        string graph = $$"""
            using NetGen;
            namespace Some.Rather.Long.Namespace.For.A.Network;
            [Input(3, 227, 227, Name = "image")]
            [Conv2D(96, 11, Stride = 4, Padding = 2, Name = "{{longName}}")]
            [ReLU(Name = "stem")]
            [Conv2D(96, 3, Padding = 1)]
            [Add("stem")]
            [Concat("{{longName}}")]
            [MaxPool2D(3, Stride = 2)]
            [Dense(4096)]
            [Dense(1000, Input = "dense1", Name = "head_{{longName.Substring(5)}}")]
            [Softmax]
            public partial class AVeryDescriptiveNetworkClassNameThatGoesOnAndOn { }
            """;
        string layers = $$"""
            using NetGen;
            namespace Some.Rather.Long.Namespace.For.Another.Network;
            [Input(3, 1000, 1000, Name = "image")]
            [LeakyReLU(Slope = -0.0123456789f, Name = "{{longName}}")]
            [MaxPool2D(3, Stride = 2, Padding = 1, Name = "pool_{{longName.Substring(5)}}")]
            [ReLU]
            [MaxPool2D(5, Stride = 1, Padding = 2)]
            [AvgPool2D(7, Stride = 3, Padding = 3, Name = "avg_{{longName.Substring(4)}}")]
            [Tanh(Name = "tanh_{{longName.Substring(5)}}")]
            [Sigmoid]
            [GlobalAvgPool2D(Name = "global_{{longName.Substring(7)}}")]
            [Dense(10)]
            [Softmax]
            public partial class AnotherVeryDescriptiveNetworkClassNameThatGoesOnAndOn { }
            """;
        var result = GeneratorHarness.Run(LeNet5Source, SmallSource, WideNetSource, graph, layers);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Equal(5, result.Sources.Length);
        Assert.Empty(result.CompilerWarningsAndErrors);
        foreach (GeneratedSourceResult source in result.Sources)
        {
            string[] lines = source.SourceText.ToString().Split('\n');
            string longest = lines.OrderByDescending(l => l.Length).First();
            Assert.True(longest.Length <= 150, $"{source.HintName}: a line of {longest.Length} characters:\n{longest}");
        }
    }

    [Fact]
    public void A_dense_weight_larger_than_L2_makes_the_batch_chunks_larger()
    {
        Assert.Contains("private const int BatchChunkSize = 16;", Generate(LeNet5Source, "Samples.LeNet5.g.cs"));
        Assert.Contains("private const int BatchChunkSize = 32;", Generate(WideNetSource, "WideNet.g.cs")); // dense1: 3136 × 1024 floats
    }

    /// <summary>The TensorFlow layers tutorial's network: conv 32@5×5 pad 2 → pool → conv 64@5×5 pad 2 → pool → dense 1024 → dense 10.</summary>
    internal const string WideNetSource = """
        using NetGen;

        [Input(1, 28, 28)]
        [Conv2D(32, 5, Padding = 2)]
        [ReLU]
        [MaxPool2D(2)]
        [Conv2D(64, 5, Padding = 2)]
        [ReLU]
        [MaxPool2D(2)]
        [Dense(1024)]
        [ReLU]
        [Dense(10)]
        [Softmax]
        public partial class WideNet { }
        """;

    private static string Generate(string source, string hintName)
    {
        var result = GeneratorHarness.Run(source);
        Assert.Empty(result.GeneratorDiagnostics);
        return result.Source(hintName);
    }
}
