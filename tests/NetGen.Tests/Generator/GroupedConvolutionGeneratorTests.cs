using System.Globalization;
using System.Text.RegularExpressions;
using ApprovalTests;
using ApprovalTests.Reporters;
using Xunit;

namespace NetGen.Tests.Generator;

/// <summary>
/// The generated code of grouped, depthwise and bias-free convolutions: a snapshot of a depthwise separable block, the
/// kernels each plan chooses, and output that compiles cleanly whatever the culture.
/// </summary>
[UseReporter(typeof(QuietReporter))]
public class GroupedConvolutionGeneratorTests
{
    /// <summary>A MobileNet-style block: a 1×1 expansion without bias, a depthwise 3×3 (multiplier 2) and a strided one, a grouped 1×1 projection.</summary>
    internal const string SeparableSource = """
        using NetGen;

        namespace Samples;

        [Input(4, 14, 14)]
        [Conv2D(8, 1, Bias = false)]
        [ReLU]
        [Conv2D(16, 3, Padding = 1, Groups = 8, Bias = false, Name = "depthwise")]
        [ReLU]
        [Conv2D(16, 3, Stride = 2, Padding = 1, Groups = 16, Name = "reduce")]
        [Conv2D(8, 1, Groups = 2, Name = "project")]
        [Dense(10)]
        [Softmax]
        public partial class Separable { }
        """;

    [Fact]
    public void Separable() => Approvals.VerifyWithExtension(Generate(SeparableSource, "Samples.Separable.g.cs"), ".cs");

    [Theory]
    [InlineData("[Input(4, 10, 10)] [Conv2D(6, 3, 2, Groups = 2, Stride = 2, Padding = 1)]", "Gemm.Dot<TVector>(ref Unsafe.Add(ref dy0, g * 90), 30", "Gemm.MultiplyBias<TVector>(ref Unsafe.Add(ref w0, g * 36)")]
    [InlineData("[Input(4, 10, 10)] [Conv2D(6, 3, Groups = 2, Padding = 1, Bias = false)]", "Convolution.Forward<TVector>(ref Unsafe.Add(ref w0, g * 54), ref b0, ref Unsafe.Add(ref p0, g * 288)", "MemoryMarshal.GetReference(zeros)")]
    [InlineData("[Input(16, 5, 5)] [Conv2D(32, 3, Groups = 2, Padding = 1)]", "Convolution.ForwardCompacted<TVector>(ref Unsafe.Add(ref w0, g * 1152), ref Unsafe.Add(ref b0, g * 16)", "Convolution.WeightGradientCompacted<TVector>(ref Unsafe.Add(ref dy0, g * 400), 800, ref Unsafe.Add(ref g0, g * 840), 1680, ref Unsafe.Add(ref dw0, g * 1152), count, filters: 16, channels: 8")]
    [InlineData("[Input(32, 5, 5)] [Conv2D(128, 3, Groups = 2, Padding = 1)]", "Gemm.MultiplyAdd<TVector>(ref Unsafe.Add(ref c0, g * 3600), 25, 1, ref Unsafe.Add(ref dyT0, g * 64), 128", "Rows.TransposeAdd(weightGradientT, 128, 144, 128, weightGradient, 144);")]
    [InlineData("[Input(4, 10, 10)] [Conv2D(4, 3, Groups = 4, Padding = 1)]", "DepthwiseConvolution.Forward<TVector>(ref w0, ref b0, 1, ref p0, ref y0, outputs: 4, multiplier: 1, channels: 1", "DepthwiseConvolution.WeightGradient<TVector>")]
    [InlineData("[Input(4, 10, 10)] [Conv2D(8, 2, Groups = 4, Stride = 2, Bias = false)]", "DepthwiseConvolution.Forward<TVector>(ref w0, ref zero, 0, ref MemoryMarshal.GetReference(xs.Slice(0, 400 + 2 * TVector.Count - 1))", "outputs: 4, multiplier: 1, channels: 2")]
    [InlineData("[Input(4, 10, 10)] [Conv2D(4, 3, Groups = 4, Stride = 3)]", "Gemm.MultiplyBias<TVector>(ref Unsafe.Add(ref w0, g * 9), 9, 1", "for (int g = 0; g < 4; g++)")]
    [InlineData("[Input(4, 10, 10)] [Conv2D(4, 3, Stride = 2, Bias = false)]", "Gemm.Multiply<TVector>(ref w0, 36, 1, ref c0, 16, ref y0, 16, m: 4, k: 36, n: 16, paddedTail: true);", "// 2. y(k, q) = Σ_r w(k, r)")]
    [InlineData("[Input(64, 14, 14)] [Conv2D(128, 3, Stride = 2, Padding = 1, Bias = false)]", "Gemm.Multiply<TVector>(ref w0, 576, 1, ref c0, 196, ref r0, 196, m: 128, k: 576, n: 196, paddedTail: true);", "Rows.Unstack<TVector>(products, 128, 4, 49, y.Slice(s * 6272), Epilogue.None);")]
    [InlineData("[Input(6, 15, 15)] [Conv2D(8, 3, Stride = 2)]", "Gemm.MultiplyBias<TVector>(ref w0, 54, 1, ref c0, 196, ref r0, 196, ref b0, m: 8, k: 54, n: 196, paddedTail: true);", "Conv1Unfold<TVector>(xs, columns, samples: 1);")]
    [InlineData("[Input(128, 7, 7)] [Conv2D(120, 3, Padding = 1)]", "Convolution.ForwardCompactedSamples<TVector>(ref w0, ref b0, ref p0, ref c0, ref r0, ref MemoryMarshal.GetReference(y.Slice(s * 5880, 11760)), filters: 120, channels: 128", "samples: 2, inputStride: 10368, outputStride: 5880, epilogue: Epilogue.None);")]
    [InlineData("[Input(32, 14, 14)] [Conv2D(48, 3, Padding = 1)]", "Winograd.Forward<TVector>(ref u0, ref b0, ref MemoryMarshal.GetReference(x.Slice(s * 6272, 6272)), ref g0, ref t0, ref o0, ref MemoryMarshal.GetReference(y.Slice(s * 9408, 9408)), kernel: 3, filters: 48, channels: 32", "inputHeight: 14, inputWidth: 14, padding: 1, epilogue: Epilogue.None);")]
    [InlineData("[Input(4, 7, 7)] [Conv2D(120, 3, Padding = 1)] [Conv2D(120, 3, Padding = 1)]", "Convolution.ForwardCompactedSamples<TVector>(ref f0, ref z0, ref Unsafe.Add(ref sp0, 11), ref cg0, ref r0, ref MemoryMarshal.GetReference(dx.Slice(s * 5880, 11760)), filters: 120, channels: 120", "samples: 2, inputStride: 12000, outputStride: 5880, epilogue: Epilogue.None);")]
    [InlineData("[Input(4, 14, 14)] [Conv2D(32, 3, Padding = 1)] [Conv2D(48, 3, Padding = 1)]", "Winograd.Forward<TVector>(ref uf0, ref z0, ref dys0, ref gg0, ref gt0, ref go0, ref MemoryMarshal.GetReference(dx.Slice(s * 6272, 6272)), kernel: 3, filters: 32, channels: 48", "Winograd.TransformTurnedWeight(weight, turnedTransformed, kernel: 3, filters: 32, channels: 48);")]
    [InlineData("[Input(128, 7, 7)] [Conv2D(128, 3, Padding = 1)]", "Winograd.ForwardSamples<TVector>(ref u0, ref b0, ref MemoryMarshal.GetReference(x.Slice(s * 6272)), ref g0, ref t0, ref o0, ref MemoryMarshal.GetReference(y.Slice(s * 6272)), kernel: 3, filters: 128, channels: 128, inputHeight: 7, inputWidth: 7, padding: 1, samples: Math.Min(4, count - s), epilogue: Epilogue.None);", "for (int s = 0; s < count; s += 4)")]
    [InlineData("[Input(32, 9, 7)] [Conv2D(32, 3)]", "Winograd.AccumulateWeightGradient<TVector>(ref MemoryMarshal.GetReference(x.Slice(s * 2016)), ref Unsafe.Add(ref dy0, s * 1120), ref wg0, ref wv0, ref wd0, ref ws0, samples: Math.Min(4, count - s), kernel: 3, filters: 32, channels: 32, inputHeight: 9, inputWidth: 7, padding: 0);", "Winograd.AddWeightGradient<TVector>(weightSums, weightGradient, kernel: 3, filters: 32, channels: 32);")]
    [InlineData("[Input(32, 14, 14)] [Conv2D(64, 5, Padding = 2)]", "ref ws0, samples: 1, kernel: 5, filters: 64, channels: 32, inputHeight: 14, inputWidth: 14, padding: 2);", "Winograd.AddWeightGradient<TVector>(weightSums, weightGradient, kernel: 5, filters: 64, channels: 32);")]
    [InlineData("[Input(8, 9, 9)] [Conv2D(16, 3)]", "Convolution.ForwardCompactedSamples<TVector>(ref w0, ref b0, ref x0, ref c0, ref r0,", "samples: 2, inputStride: 648, outputStride: 784, epilogue: Epilogue.None);")]
    public void Each_plan_calls_its_kernels(string layers, string expected, string alsoExpected)
    {
        // Long calls are wrapped over several lines: compare with every line break and its indentation as one space.
        string source = Regex.Replace(Generate($"using NetGen; {layers} [Dense(3)] [Softmax] public partial class Net {{ }}", "Net.g.cs"), @"\s*\n\s*", " ");
        Assert.Contains(expected, source);
        Assert.Contains(alsoExpected, source);
        Assert.Equal(!layers.Contains("Bias = false"), source.Contains("\"conv1.bias\""));
    }

    /// <summary>Fewer than 64 output pixels: 4 samples per product, unless the convolution is grouped or computed directly (or strided by 3).</summary>
    [Theory]
    [InlineData("[Input(4, 10, 10)] [Conv2D(6, 3, 2, Groups = 2, Stride = 2, Padding = 1)]")]
    [InlineData("[Input(16, 28, 28)] [Conv2D(16, 3, Padding = 1)]")]
    [InlineData("[Input(4, 10, 10)] [Conv2D(4, 3, Groups = 4, Padding = 1)]")]
    [InlineData("[Input(2, 20, 20)] [Conv2D(4, 3, Stride = 3)]")]
    public void Other_plans_multiply_one_sample_at_a_time(string layers)
    {
        string source = Generate($"using NetGen; {layers} [Dense(3)] [Softmax] public partial class Net {{ }}", "Net.g.cs");
        Assert.DoesNotContain("Rows.Unstack", source);
        Assert.DoesNotContain("samples: 4", source);
    }

    [Fact]
    public void Output_compiles_cleanly_and_does_not_depend_on_the_current_culture()
    {
        GeneratorHarness.Result result = GeneratorHarness.Run(SeparableSource);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilerWarningsAndErrors);

        var culture = (CultureInfo)CultureInfo.GetCultureInfo("sv-SE").Clone();
        culture.NumberFormat.NegativeSign = "\u2212";
        string expected = result.Source("Samples.Separable.g.cs");
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = culture;
            Assert.Equal(expected, Generate(SeparableSource, "Samples.Separable.g.cs"));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    private static string Generate(string source, string hintName)
    {
        var result = GeneratorHarness.Run(source);
        Assert.Empty(result.GeneratorDiagnostics);
        return result.Source(hintName);
    }
}
