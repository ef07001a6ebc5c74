using System.Text.RegularExpressions;
using ApprovalTests;
using ApprovalTests.Reporters;
using Xunit;

namespace NetGen.Tests.Generator;

/// <summary>
/// The generated code of BatchNorms folded into the convolution before them for inference: a snapshot of a small network,
/// which BatchNorms the inference pass folds (only those after a convolution they alone read) and that training still runs
/// every one.
/// </summary>
[UseReporter(typeof(QuietReporter))]
public class BatchNormFoldGeneratorTests
{
    /// <summary>A convolution without bias, its BatchNorm and a ReLU, pooled to a dense head.</summary>
    internal const string ConvBatchNormSource = """
        using NetGen;

        namespace Samples;

        [Input(2, 6, 6)]
        [Conv2D(4, 3, Padding = 1, Bias = false)]
        [BatchNorm2D]
        [ReLU]
        [GlobalAvgPool2D]
        [Dense(3)]
        [Softmax]
        public partial class ConvBatchNorm { }
        """;

    /// <summary>The attributes of <see cref="Networks.FoldedConvNet"/>.</summary>
    internal const string FoldedConvSource = """
        using NetGen;

        namespace Samples;

        [Input(4, 8, 8)]
        [Conv2D(6, 3, Padding = 1)]
        [BatchNorm2D(Epsilon = 1e-3f)]
        [ReLU]
        [Conv2D(6, 3, Padding = 1, Bias = false)]
        [BatchNorm2D]
        [ReLU(Name = "b")]
        [Conv2D(6, 3, Padding = 1, Groups = 6, Bias = false, Name = "depthwise")]
        [BatchNorm2D]
        [ReLU]
        [Conv2D(6, 1, Groups = 2, Name = "grouped")]
        [BatchNorm2D]
        [Add("b")]
        [ReLU]
        [MaxPool2D(2)]
        [BatchNorm2D(Name = "after_pool")]
        [Conv2D(8, 3, Stride = 2, Padding = 1, Name = "shared")]
        [BatchNorm2D(Name = "shared_bn")]
        [Add("shared")]
        [BatchNorm2D(Name = "after_add")]
        [GlobalAvgPool2D]
        [Dense(5)]
        [Softmax]
        public partial class FoldedConvNet { }
        """;

    /// <summary>The attributes of <see cref="Networks.WinogradNet"/>.</summary>
    internal const string WinogradSource = """
        using NetGen;

        namespace Samples;

        [Input(32, 9, 7)]
        [Conv2D(48, 3, Padding = 1, Bias = false, Name = "conv1")]
        [BatchNorm2D]
        [ReLU(Name = "a")]
        [Conv2D(48, 3, Padding = 1, Name = "conv2")]
        [BatchNorm2D]
        [Add("a")]
        [ReLU]
        [Conv2D(32, 3, Name = "valid")]
        [BatchNorm2D]
        [ReLU]
        [Conv2D(16, 3, Padding = 1, Name = "narrow")]
        [BatchNorm2D]
        [GlobalAvgPool2D]
        [Dense(5)]
        [Softmax]
        public partial class WinogradNet { }
        """;

    [Fact]
    public void Winograd_runs_where_it_pays_over_weights_transformed_when_folded_and_before_each_training_call()
    {
        string source = Flattened(WinogradSource, "Samples.WinogradNet.g.cs");
        string training = Between(source, "private static float TrainStage<TVector>", "private static void FinishStage");
        string prepare = Between(source, "private void PrepareTrainingWeights()", "/// <summary>");
        foreach (string convolution in new[] { "Conv1", "Conv2", "Valid" })
        {
            string folded = Method(source, $"{convolution}ForwardFolded<TVector>");
            Assert.Contains("Winograd.ForwardSamples<TVector>(", folded); // 20 and 12 tiles a sample: 4 samples per product
            Assert.Contains($"Winograd.TransformWeight(foldedWeight, transformedWeight, kernel: 3, filters: ", Method(source, $"{convolution}FoldBatchNorm("));

            // Training runs the same kernel without the fold's epilogue, over the convolution's own weight transformed before
            // each training call, and its own bias (zero without one); its direct forward pass is gone.
            string forward = Method(source, $"{convolution}ForwardTraining<TVector>");
            Assert.Contains("Winograd.ForwardSamples<TVector>(", forward);
            Assert.Contains("epilogue: Epilogue.None", forward);
            Assert.Contains($"Layers.{convolution}ForwardTraining<TVector>(", training);
            Assert.DoesNotContain($"Layers.{convolution}Forward<TVector>(", training);
            Assert.DoesNotContain($"internal static void {convolution}Forward<TVector>(", source);
            Assert.Contains("Winograd.TransformWeight(weight, transformedWeight, kernel: 3, filters: ", Method(source, $"{convolution}PrepareTrainingWeights("));
            Assert.Contains($"Layers.{convolution}PrepareTrainingWeights(", prepare);
        }

        // conv2's dL/dx by Winograd reads the turned weight's transform made before the call; conv1, on the network's
        // input, computes dL/dx only when asked, and makes its own then.
        Assert.Contains("Winograd.TransformTurnedWeight(weight, turnedTransformed, ", Method(source, "Conv2PrepareTrainingWeights("));
        Assert.DoesNotContain("TransformTurnedWeight", Method(source, "Conv2Backward<TVector>("));
        Assert.Contains("ReadOnlySpan<float> turnedTransformed", Method(source, "Conv2Backward<TVector>("));
        Assert.DoesNotContain("TransformTurnedWeight", Method(source, "Conv1PrepareTrainingWeights("));
        Assert.Contains("Winograd.TransformTurnedWeight(weight, turnedTransformed, ", Method(source, "Conv1Backward<TVector>("));
        Assert.Single(Regex.Matches(prepare, @", 48\)\.Clear\(\); // its bias: zero, as it has none")); // conv1's
        Assert.Equal(2, Regex.Matches(prepare, @"// its bias: (conv2|valid)\.bias new global::System\.ReadOnlySpan<float>\(_parameters, \d+, (48|32)\)\.CopyTo\(new global::System\.Span<float>\(_workspace\.Folded, \d+, (48|32)\)\);").Count); // conv2's, valid's
        Assert.Contains("PrepareTrainingWeights();", Between(source, "public float TrainBatch(", "/// <summary>"));
        Assert.Contains("PrepareTrainingWeights();", Between(source, "public float TrainSample(", "/// <summary>"));

        // conv2's Add and ReLU in the Winograd pass's stores; valid's 7×5 output in 4×3 tiles; narrow has 16 filters.
        Assert.Contains("epilogue: new Epilogue(ref MemoryMarshal.GetReference(residual.Slice(s * 3024)), rectifies: true));", Method(source, "Conv2ForwardFolded<TVector>"));
        Assert.Contains("over 4×3 tiles of 2×2 outputs", Method(source, "ValidForwardFolded<TVector>"));
        Assert.DoesNotContain("Winograd", Method(source, "NarrowForwardFolded<TVector>"));
        Assert.Contains("Layers.NarrowForward<TVector>(", training);
    }

    /// <summary>
    /// A stride-2 3×3 convolution over 32 channels (288 rows) to 16 filters at 5×5, its BatchNorm and ReLU folded: its
    /// inference form multiplies a lone sample with pixels as rows. The 1×1 projection beside it sums over 32 rows only.
    /// </summary>
    internal const string PixelRowsSource = """
        using NetGen;

        namespace Samples;

        [Input(32, 9, 9)]
        [Conv2D(16, 3, Stride = 2, Padding = 1, Bias = false, Name = "down")]
        [BatchNorm2D]
        [ReLU(Name = "a")]
        [Conv2D(16, 1, Stride = 2, Input = "input", Name = "projection")]
        [Add("a")]
        [GlobalAvgPool2D]
        [Dense(3)]
        [Softmax]
        public partial class PixelRows { }
        """;

    [Fact]
    public void Inference_multiplies_a_lone_small_sample_with_pixels_as_rows_where_it_pays()
    {
        string source = Flattened(PixelRowsSource, "Samples.PixelRows.g.cs");
        string down = Method(source, "DownForwardFolded<TVector>");
        Assert.Contains("Gemm.MultiplyBias<TVector>(ref w0, 288, 1, ref c0, 100,", down); // 4 samples side by side, filters as rows
        Assert.Contains("Gemm.MultiplyAdd<TVector>(ref c0, 1, 25, ref MemoryMarshal.GetReference(transformedWeight), 16,", down); // a lone one: pixels as rows
        Assert.Contains("Rows.TransposeOut(products, 25, 16, ys, Epilogue.Rectify);", down);
        Assert.Contains("Rows.Transpose(foldedWeight, 288, 16, 288, transformedWeight, 16);", Method(source, "DownFoldBatchNorm("));
        Assert.DoesNotContain("TransposeOut", Method(source, "DownForward<TVector>")); // training's pass
        Assert.DoesNotContain("TransposeOut", Method(source, "ProjectionForwardFolded<TVector>"));

        // Without a BatchNorm training shares the forward pass, which would transpose the weight after every step: not there.
        Assert.DoesNotContain("TransposeOut", Generate(PixelRowsSource.Replace("[BatchNorm2D]\n", ""), "Samples.PixelRows.g.cs"));
    }

    [Fact]
    public void PixelRows() => Approvals.VerifyWithExtension(Generate(PixelRowsSource, "Samples.PixelRows.g.cs"), ".cs");

    [Fact]
    public void ConvBatchNorm() => Approvals.VerifyWithExtension(Generate(ConvBatchNormSource, "Samples.ConvBatchNorm.g.cs"), ".cs");

    [Fact]
    public void Inference_folds_each_BatchNorm_that_alone_reads_a_convolution_and_training_runs_them_all()
    {
        string source = Flattened(FoldedConvSource, "Samples.FoldedConvNet.g.cs");
        string inference = Between(source, "private static void ForwardPass<TVector>", "private const int TrainingStageCount");
        string training = Between(source, "private static float TrainStage<TVector>", "private static void FinishStage");

        // After the BatchNorm, the ReLU (and an Add before it) that alone read it are folded in too, except into the
        // depthwise kernel; the ReLU after add1 stays inside the max pooling.
        foreach ((string convolution, string norm, string last) in new[] { ("Conv1", "bn1", "relu1"), ("Conv2", "bn2", "b"), ("Depthwise", "bn3", "bn3"), ("Grouped", "bn4", "add1") })
        {
            // bn2, bn3 and bn4 have the same shapes and share bn2's methods; each convolution has its own.
            Assert.Contains($"Layers.{convolution}ForwardFolded<TVector>(count, ws.", inference);
            string host = convolution.ToLowerInvariant();
            Assert.Contains(norm == last ? $"// {norm}: folded into {host}, which wrote its output." : $"// {norm}: folded into {host}, which went on to {last}'s output.", inference);
            Assert.Contains($"// {last}: folded into {host}, which wrote its output.", inference);
            Assert.DoesNotContain($"Layers.{convolution}Forward<TVector>(", inference);
            Assert.Contains($"Layers.{convolution}Forward<TVector>(", training);
            Assert.Contains($"Layers.{convolution}FoldBatchNorm(", source);
        }

        // The folded convolution writes the last folded layer's output, over the recomputed weight and bias; grouped adds b's
        // output (add1's other input) as it stores.
        Assert.Contains("Layers.Conv2ForwardFolded<TVector>(count, ws.Relu1Output, new global::System.ReadOnlySpan<float>(ws.Folded, 222, 324), new global::System.ReadOnlySpan<float>(ws.Folded, 546, 6), ws.BOutput", inference);
        Assert.Contains("// Then add1 (+ b), on each output as it is stored.", inference);
        Assert.Matches(@"Layers\.GroupedForwardFolded<TVector>\(count, ws\.Relu3Output, [^;]*ws\.Add1Output, [^;]*ws\.BOutput\);", inference);
        Assert.Contains("Layers.Relu1Forward(count, ws.Bn3Output, ws.Relu3Output);", inference);
        Assert.DoesNotContain("Layers.Bn1Forward<TVector>(", inference);
        Assert.DoesNotContain("Layers.Bn2Forward<TVector>(", inference);
        Assert.DoesNotContain("Layers.Add1Forward(", inference);
        Assert.Contains("Layers.Add1Forward(", training);
        Assert.Contains("Layers.Bn1Forward<TVector>(", training);
        Assert.Contains("Layers.Bn2Forward<TVector>(", training);

        // After a pooling, after a convolution another layer reads too, after a join (sharing shared_bn's methods): unfolded.
        Assert.Contains("Layers.AfterPoolForward<TVector>(", inference);
        Assert.Contains("Layers.SharedForward<TVector>(", inference);
        Assert.Equal(2, Regex.Matches(inference, @"Layers\.SharedBnForward<TVector>\(").Count);
        Assert.DoesNotContain("SharedForwardFolded", source);
        Assert.DoesNotContain("// after_pool: folded", source);
        Assert.DoesNotContain("// shared_bn: folded", source);
        Assert.DoesNotContain("// after_add: folded", source);
    }

    [Fact]
    public void A_network_without_a_BatchNorm_after_a_convolution_keeps_its_parameters_plain()
    {
        string source = Generate("""
            using NetGen;
            [Input(2, 6, 6)] [Conv2D(4, 3)] [MaxPool2D(2)] [BatchNorm2D] [Dense(3)] [Softmax]
            public partial class PoolNorm { }
            """, "PoolNorm.g.cs");
        Assert.Contains("public float[] Parameters { get; private set; } = new float[", source);
        Assert.DoesNotContain("PrepareWeights", source);
        Assert.DoesNotContain("Folded", source);
    }

    /// <summary>A generated method from its name to the next doc comment.</summary>
    private static string Method(string source, string name) => Between(source, "internal static void " + name, "/// <summary>");

    private static string Between(string source, string start, string end)
    {
        int from = source.IndexOf(start, System.StringComparison.Ordinal);
        Assert.True(from >= 0, $"no '{start}'");
        int to = source.IndexOf(end, from, System.StringComparison.Ordinal);
        Assert.True(to > from, $"no '{end}' after '{start}'");
        return source.Substring(from, to - from);
    }

    /// <summary>The generated file, its lines joined by single spaces, for assertions that ignore how lines wrap.</summary>
    private static string Flattened(string source, string hintName) => Regex.Replace(Generate(source, hintName), @"\s*\n\s*", " ");

    private static string Generate(string source, string hintName)
    {
        var result = GeneratorHarness.Run(source);
        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilerWarningsAndErrors);
        return result.Source(hintName);
    }
}
