using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace NetGen.Tests.Generator;

/// <summary>One test per diagnostic: its ID, that it is an error, where it points, and that nothing is generated.</summary>
public class DiagnosticTests
{
    /// <summary>
    /// Runs the generator on <paramref name="markup"/> and asserts exactly one diagnostic <paramref name="id"/>,
    /// located on the span marked <c>[|…|]</c>, with a message containing <paramref name="message"/>,
    /// no generated source, and no compiler error besides ours.
    /// </summary>
    private static void AssertDiagnostic(string markup, string id, string message)
    {
        markup = "using NetGen;\n" + markup;
        int start = markup.IndexOf("[|", System.StringComparison.Ordinal);
        int end = markup.IndexOf("|]", System.StringComparison.Ordinal) - 2;
        Assert.True(start >= 0 && end >= start, "the test's source must mark the expected location with [|…|]");
        string source = markup.Replace("[|", "").Replace("|]", "");
        var result = GeneratorHarness.Run(source);
        Assert.Empty(result.Exceptions);
        Diagnostic diagnostic = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains(message, diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal((start, end), (diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.End));

        Assert.Empty(result.Sources);
        // The user sees our error only: no cascade of CS errors from half-generated code.
        Assert.DoesNotContain(result.CompilerWarningsAndErrors, d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void NG0047_weights_on_a_class_without_layers() => AssertDiagnostic(
        "[[|Weights(\"net.safetensors\")|]] public partial class Plain { }",
        "NG0047", "'Plain' has [Weights] but no layers, so there is nothing to bake the weights into");

    [Fact]
    public void NG0001_no_input() => AssertDiagnostic(
        "[[|Conv2D(6, 5)|]] [Dense(10)] [Softmax] public partial class Net { }",
        "NG0001", "Network 'Net' has no [Input] layer");

    [Fact]
    public void NG0002_input_not_first() => AssertDiagnostic(
        "[Dense(10)] [[|Input(1, 28, 28)|]] [Softmax] public partial class Net { }",
        "NG0002", "[Input] must be the first layer, but it is layer 2");

    [Fact]
    public void NG0003_duplicate_input() => AssertDiagnostic(
        "[Input(1, 28, 28)] [[|Input(1, 8, 8)|]] [Dense(10)] [Softmax] public partial class Net { }",
        "NG0003", "declares [Input] more than once");

    [Theory]
    [InlineData("[Input(1, 28, 28)] [[|Conv2D(0, 5)|]] [Dense(10)] [Softmax]", "Layer 'conv1': filters must be positive, but is 0")]
    [InlineData("[Input(1, 28, 28)] [[|Conv2D(4, 5, Stride = 0)|]] [Dense(10)] [Softmax]", "Layer 'conv1': stride must be positive, but is 0")]
    [InlineData("[Input(1, 28, 28)] [[|Conv2D(4, 5, Padding = -1)|]] [Dense(10)] [Softmax]", "padding must be zero or positive, but is -1")]
    [InlineData("[Input(1, 28, 28)] [[|Conv2D(4, 3, -2)|]] [Dense(10)] [Softmax]", "kernel width must be positive, but is -2")]
    [InlineData("[Input(1, 28, 28)] [[|MaxPool2D(0)|]] [Dense(10)] [Softmax]", "Layer 'pool1': size must be positive, but is 0")]
    [InlineData("[Input(1, 28, 28)] [[|MaxPool2D(2, Stride = -1)|]] [Dense(10)] [Softmax]", "Layer 'pool1': stride must be positive, but is -1")]
    [InlineData("[Input(1, 28, 28)] [[|Dense(0)|]] [Softmax]", "Layer 'dense1': units must be positive, but is 0")]
    [InlineData("[[|Input(0, 28, 28)|]] [Dense(10)] [Softmax]", "Layer 'input': channels must be positive, but is 0")]
    [InlineData("[Input(4, 28, 28)] [[|Conv2D(4, 3, Groups = 0)|]] [Dense(10)] [Softmax]", "Layer 'conv1': groups must be positive, but is 0")]
    [InlineData("[Input(4, 28, 28)] [[|Conv2D(4, 3, Groups = -2, Bias = false)|]] [Dense(10)] [Softmax]", "Layer 'conv1': groups must be positive, but is -2")]
    [InlineData("[Input(1, 8, 8)] [[|BatchNorm2D(Epsilon = 0f)|]] [Dense(10)] [Softmax]", "Layer 'bn1': Epsilon must be positive and finite, but is 0")]
    [InlineData("[Input(1, 8, 8)] [[|BatchNorm2D(Momentum = 1.5f)|]] [Dense(10)] [Softmax]", "Layer 'bn1': Momentum must be from 0 to 1, but is 1.5")]
    [InlineData("[Input(1, 8, 8)] [[|Dropout(1f)|]] [Dense(10)] [Softmax]", "Layer 'dropout1': p must be at least 0 and less than 1, but is 1")]
    [InlineData("[Input(1, 8, 8)] [[|Dropout(-0.25f)|]] [Dense(10)] [Softmax]", "Layer 'dropout1': p must be at least 0 and less than 1, but is -0.25")]
    [InlineData("[Input(1, 28, 28)] [[|MaxPool2D(3, Padding = -1)|]] [Dense(10)] [Softmax]", "Layer 'pool1': padding must be zero or positive, but is -1")]
    [InlineData("[Input(1, 28, 28)] [[|MaxPool2D(2, Padding = 2)|]] [Dense(10)] [Softmax]",
        "Layer 'pool1': padding must be at most half the window size (2 / 2 = 1), but is 2")]
    [InlineData("[Input(1, 28, 28)] [[|AvgPool2D(0)|]] [Dense(10)] [Softmax]", "Layer 'avg_pool1': size must be positive, but is 0")]
    [InlineData("[Input(1, 28, 28)] [[|AvgPool2D(2, Stride = 0)|]] [Dense(10)] [Softmax]", "Layer 'avg_pool1': stride must be positive, but is 0")]
    [InlineData("[Input(1, 28, 28)] [[|AvgPool2D(3, Padding = -2)|]] [Dense(10)] [Softmax]", "Layer 'avg_pool1': padding must be zero or positive, but is -2")]
    [InlineData("[Input(1, 28, 28)] [[|AvgPool2D(3, Stride = 1, Padding = 2)|]] [Dense(10)] [Softmax]",
        "Layer 'avg_pool1': padding must be at most half the window size (3 / 2 = 1), but is 2")]
    [InlineData("[Input(1, 28, 28)] [[|LeakyReLU(Slope = float.NaN)|]] [Dense(10)] [Softmax]", "Layer 'leaky_relu1': slope must be a finite number, but is NaN")]
    [InlineData("[Input(1, 28, 28)] [[|LeakyReLU(Slope = 1f / 0f, Name = \"act\")|]] [Dense(10)] [Softmax]",
        "Layer 'act': slope must be a finite number, but is Infinity")]
    public void NG0004_argument_out_of_range(string layers, string message) =>
        AssertDiagnostic(layers + " public partial class Net { }", "NG0004", message);

    [Theory]
    [InlineData("[Input(1, 4, 6)] [[|Conv2D(2, 5)|]] [Softmax]", "Layer 'conv1': its kernel window 5×5 is larger than its input 1×4×6")]
    [InlineData("[Input(1, 3, 3)] [[|Conv2D(2, 7, Padding = 1)|]] [Softmax]", "its kernel window 7×7 is larger than its input 1×3×3 (padded to 5×5)")]
    [InlineData("[Input(2, 8, 3)] [[|MaxPool2D(4)|]] [Softmax]", "Layer 'pool1': its pooling window 4×4 is larger than its input 2×8×3")]
    [InlineData("[Input(1, 28, 28)] [Dense(10)] [[|Conv2D(2, 3)|]] [Softmax]", "its kernel window 3×3 is larger than its input 10×1×1")]
    [InlineData("[Input(1, 3, 3)] [[|MaxPool2D(6, Padding = 1)|]] [Softmax]", "Layer 'pool1': its pooling window 6×6 is larger than its input 1×3×3 (padded to 5×5)")]
    [InlineData("[Input(2, 3, 4)] [[|AvgPool2D(7, Padding = 1)|]] [Softmax]",
        "Layer 'avg_pool1': its pooling window 7×7 is larger than its input 2×3×4 (padded to 5×6)")]
    [InlineData("[Input(1, 28, 28)] [Dense(10)] [[|AvgPool2D(2)|]] [Softmax]", "Layer 'avg_pool1': its pooling window 2×2 is larger than its input 10×1×1")]
    public void NG0005_window_larger_than_input(string layers, string message) =>
        AssertDiagnostic(layers + " public partial class Net { }", "NG0005", message);

    [Fact]
    public void NG0006_missing_softmax() => AssertDiagnostic(
        "[Input(1, 28, 28)] [[|Dense(10)|]] public partial class Net { }",
        "NG0006", "Network 'Net' must end with [Softmax] (classification, trained with softmax cross-entropy) or [MeanSquaredError] (regression); its last layer is 'dense1'");

    [Fact]
    public void NG0007_softmax_not_last() => AssertDiagnostic(
        "[Input(1, 28, 28)] [[|Softmax|]] [Dense(10)] [Softmax] public partial class Net { }",
        "NG0007", "Layer 'softmax1': [Softmax] must be the last layer, but 2 more layer(s) follow it");

    [Fact]
    public void NG0008_not_partial() => AssertDiagnostic(
        "[Input(1, 28, 28)] [Dense(10)] [Softmax] public class [|Net|] { }",
        "NG0008", "Class 'Net' must be declared 'partial'");

    [Fact]
    public void NG0009_not_a_class() => AssertDiagnostic(
        "[Input(1, 2, 2)] [Dense(2)] [Softmax] public static partial class [|Net|] { }",
        "NG0009", "'Net' is a static class");

    [Fact]
    public void NG0009_on_a_struct_besides_the_compilers_own_error()
    {
        // The attributes are valid on classes only, so the compiler reports CS0592; NetGen says why too.
        var result = GeneratorHarness.Run("using NetGen; [Input(1, 2, 2)] [Dense(2)] [Softmax] public partial struct Net { }");
        Assert.Equal("NG0009", Assert.Single(result.GeneratorDiagnostics).Id);
        Assert.Contains(result.CompilationDiagnostics, d => d.Id == "CS0592");
        Assert.Empty(result.Sources);
    }

    [Fact]
    public void NG0010_containing_type_not_partial() => AssertDiagnostic(
        "public class Outer { [Input(1, 2, 2)] [Dense(2)] [Softmax] public partial class [|Net|] { } }",
        "NG0010", "Type 'Outer' contains network 'Outer.Net'");

    [Fact]
    public void NG0011_duplicate_layer_name() => AssertDiagnostic(
        "[Input(1, 8, 8)] [Dense(4, Name = \"head\")] [[|Dense(2, Name = \"head\")|]] [Softmax] public partial class Net { }",
        "NG0011", "Layer name 'head' is already used by layer 2");

    [Theory]
    [InlineData("Dense(4, Name = \"2fast\")", "must start with a letter")]
    [InlineData("Dense(4, Name = \"my layer\")", "only letters, digits and '_'")]
    [InlineData("Dense(4, Name = \"output\")", "would collide")]
    [InlineData("Dense(4, Name = \"\")", "it is empty")]
    public void NG0012_invalid_layer_name(string layer, string message) => AssertDiagnostic(
        $"[Input(1, 8, 8)] [[|{layer}|]] [Softmax] public partial class Net {{ }}",
        "NG0012", message);

    [Theory]
    [InlineData("[[|Input(1, 100000, 100000)|]] [Dense(10)] [Softmax]", "Layer 'input': its input would be 10000000000 elements")]
    [InlineData("[Input(3, 1000, 1000)] [[|Dense(100000)|]] [Softmax]", "Layer 'dense1': its weight would be 300000000000 elements")]
    [InlineData("[Input(64, 400, 400)] [[|Conv2D(64, 11, Padding = 5)|]] [Dense(2)] [Softmax]", "Layer 'conv1': its unfolded input (im2col) would be 1239040000 elements")]
    [InlineData("[Input(1, 1, 1000000000)] [[|AvgPool2D(2, Stride = 1, Padding = 1)|]] [Dense(2)] [Softmax]",
        "Layer 'avg_pool1': its output would be 2000000002 elements")]
    [InlineData("[Input(1, 1, 1000000000)] [[|MaxPool2D(2, Padding = 1)|]] [Dense(2)] [Softmax]",
        "Layer 'pool1': its padded input plane would be 3000000006 elements")]
    public void NG0013_size_overflow(string layers, string message) =>
        AssertDiagnostic(layers + " public partial class Net { }", "NG0013", message);

    [Theory]
    [InlineData("[Input(1, 64, 64)] [[|Conv2D(2, 40)|]] [Softmax]", "Layer 'conv1': its 40×40 kernel has 1600 elements; NetGen writes each kernel element out in code and supports up to 1024")]
    [InlineData("[Input(1, 64, 64)] [[|MaxPool2D(33)|]] [Softmax]", "Layer 'pool1': its 33×33 window has 1089 elements")]
    public void NG0016_source_too_large(string layers, string message) =>
        AssertDiagnostic(layers + " public partial class Net { }", "NG0016", message);

    [Fact]
    public void NG0016_too_many_layers()
    {
        string layers = "[Input(1, 1, 4)]" + string.Concat(Enumerable.Repeat("[ReLU]", 1100)) + "[Softmax]";
        var result = GeneratorHarness.Run($"using NetGen; {layers} public partial class Net {{ }}");
        Diagnostic diagnostic = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal("NG0016", diagnostic.Id);
        // Named like every other diagnostic: the 1,025th layer is the 1,024th ReLU.
        Assert.StartsWith("Layer 'relu1024': the network has 1102 layers", diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Empty(result.Sources);
    }

    [Fact]
    public void NG0014_layers_spread_over_declarations()
    {
        var result = GeneratorHarness.Run(
            "using NetGen; [Input(1, 8, 8)] [Dense(4)] public partial class Net { }",
            "using NetGen; [Softmax] public partial class Net { }");
        Diagnostic diagnostic = Assert.Single(result.GeneratorDiagnostics);
        Assert.Equal("NG0014", diagnostic.Id);
        Assert.Empty(result.Sources);
    }

    [Theory]
    [InlineData("[Input(1, 5, 5)] [MaxPool2D(3, Padding = 1)] [AvgPool2D(2, Stride = 1, Padding = 1)] [Tanh] [Sigmoid] [LeakyReLU(Slope = -2.5f)] [GlobalAvgPool2D] [Softmax]")]
    [InlineData("[Input(2, 4, 4)] [LeakyReLU(Slope = 0f)] [AvgPool2D(4, Padding = 2)] [MaxPool2D(1)] [Dense(3)] [Softmax]")]
    public void The_new_layers_at_the_edges_of_their_arguments_compile(string layers)
    {
        // Padding of exactly half the window, a negative and a zero slope, a window as large as the padded input.
        var result = GeneratorHarness.Run($"using NetGen; {layers} public partial class Net {{ }}");
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Single(result.Sources);
        Assert.Empty(result.CompilerWarningsAndErrors);
    }

    [Fact]
    public void Several_mistakes_are_all_reported()
    {
        var result = GeneratorHarness.Run("using NetGen; [Input(1, 8, 8)] [Conv2D(0, 3)] [Dense(-1)] [Softmax] public partial class Net { }");
        Assert.Equal(["NG0004", "NG0004"], result.GeneratorDiagnostics.Select(d => d.Id));
        Assert.Empty(result.Sources);
    }

    [Fact]
    public void Attributes_with_compile_errors_of_their_own_are_left_to_the_compiler()
    {
        var result = GeneratorHarness.Run("using NetGen; [Input(1, 8, 8)] [Conv2D(\"six\", 3)] [Dense(2)] [Softmax] public partial class Net { }");
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.Sources);
        Assert.Contains(result.CompilationDiagnostics, d => d.Severity == DiagnosticSeverity.Error && d.Id.StartsWith("CS", System.StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("[Input(1, 8, 8)] [Conv2D(2, 3, Name = \"main\")] [[|Add(\"shortcut\")|]] [Conv2D(2, 1, Name = \"shortcut\")] [Dense(3)] [Softmax]",
        "Layer 'add1': [Add] names 'shortcut', which is declared after it (layer 4); a layer reads only layers declared before it")]
    [InlineData("[Input(1, 8, 8)] [Conv2D(2, 3)] [[|Concat(\"nope\")|]] [Dense(3)] [Softmax]",
        "Layer 'concat1': [Concat] names 'nope', but no layer has that name")]
    [InlineData("[Input(1, 8, 8)] [Conv2D(2, 3)] [[|Dense(3, Input = \"dense1\")|]] [Softmax]",
        "Layer 'dense1': Input names 'dense1', which is this layer itself")]
    [InlineData("[Input(1, 8, 8)] [Conv2D(2, 3)] [[|MaxPool2D(2, Input = \"Conv1\")|]] [Dense(3)] [Softmax]",
        "Layer 'pool1': Input names 'Conv1', but no layer has that name")]
    public void NG0017_a_name_that_is_not_an_earlier_layer(string layers, string message) =>
        AssertDiagnostic($"{layers} public partial class Net {{ }}", "NG0017", message);

    [Theory]
    [InlineData("[Input(1, 8, 8, Name = \"x\")] [Conv2D(4, 3, Padding = 1)] [[|Add(\"x\")|]] [Dense(3)] [Softmax]",
        "Layer 'add1': [Add] needs equal shapes, but its input is 4×8×8 and 'x' is 1×8×8")]
    [InlineData("[Input(2, 8, 8, Name = \"x\")] [Conv2D(4, 3)] [[|Concat(\"x\")|]] [Dense(3)] [Softmax]",
        "Layer 'concat1': [Concat] needs equal heights and widths, but its input is 4×6×6 and 'x' is 2×8×8")]
    public void NG0018_joined_shapes_that_do_not_match(string layers, string message) =>
        AssertDiagnostic($"{layers} public partial class Net {{ }}", "NG0018", message);

    [Fact]
    public void NG0019_a_dead_branch() => AssertDiagnostic(
        "[Input(1, 8, 8)] [[|Conv2D(2, 3)|]] [Conv2D(2, 3, Input = \"input\")] [Dense(3)] [Softmax] public partial class Net { }",
        "NG0019", "Layer 'conv1': no later layer reads its output");

    [Fact]
    public void NG0019_the_last_layer_alone_may_go_unread_whatever_reads_it()
    {
        var result = GeneratorHarness.Run("using NetGen; [Input(1, 4, 4)] [Dense(3, Name = \"a\")] [Dense(3, Input = \"input\")] [Add(\"a\")] [Softmax] public partial class Net { }");
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Single(result.Sources);
        Assert.Empty(result.CompilerWarningsAndErrors);
    }

    [Fact]
    public void NG0020_a_layer_attribute_NetGen_does_not_know() => AssertDiagnostic(
        "public sealed class SwishAttribute : LayerAttribute { } [Input(1, 8, 8)] [[|Swish|]] [Dense(3)] [Softmax] public partial class Net { }",
        "NG0020", "'SwishAttribute' derives from LayerAttribute but is not a layer kind NetGen compiles, so network 'Net' cannot include it");

    [Theory]
    [InlineData("[Input(6, 8, 8)] [[|Conv2D(4, 3, Groups = 3)|]] [Dense(3)] [Softmax]",
        "Layer 'conv1': its 6 input channels and 4 filters must both be divisible by Groups = 3, so that each group has as many as every other")]
    [InlineData("[Input(3, 8, 8)] [[|Conv2D(4, 3, Groups = 2, Bias = false)|]] [Dense(3)] [Softmax]",
        "Layer 'conv1': its 3 input channels and 4 filters must both be divisible by Groups = 2")]
    [InlineData("[Input(1, 8, 8)] [[|Conv2D(6, 3, Groups = 6, Name = \"depthwise\")|]] [Dense(3)] [Softmax]",
        "Layer 'depthwise': its 1 input channels and 6 filters must both be divisible by Groups = 6")]
    public void NG0021_channels_not_divisible_by_groups(string layers, string message) =>
        AssertDiagnostic($"{layers} public partial class Net {{ }}", "NG0021", message);

    [Fact]
    public void NG0004_the_input_layer_reads_no_layer() => AssertDiagnostic(
        "[[|Input(1, 8, 8, Input = \"x\")|]] [Dense(3)] [Softmax] public partial class Net { }",
        "NG0004", "Layer 'input': Input must be unset (the network's input reads no layer), but is x");
}
