using System.Linq;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Xunit;

namespace NetGen.Tests.Generator;

/// <summary>
/// The generated source of deep networks: layers that are the same kind, arguments and shapes share one set of methods,
/// so a network of repeated blocks grows by a few calls and buffers per layer. (The generator's and the compiler's time
/// are measured by the benchmarks' GeneratorBenchmarks, not here.)
/// </summary>
public sealed class GeneratedSizeTests
{
    /// <summary>A stem, <paramref name="blocks"/> identical residual blocks with BatchNorm, then the head.</summary>
    internal static string DeepResNet(int blocks)
    {
        string Block(int i) =>
            $"[Conv2D(16, 3, Padding = 1, Bias = false, Input = \"r{i - 1}\")] [BatchNorm2D] [ReLU] " +
            $"[Conv2D(16, 3, Padding = 1, Bias = false)] [BatchNorm2D] [Add(\"r{i - 1}\")] [ReLU(Name = \"r{i}\")]";
        return "using NetGen; [Input(1, 28, 28)] [Conv2D(16, 3, Padding = 1, Bias = false)] [BatchNorm2D] [ReLU(Name = \"r0\")] "
            + string.Join(" ", Enumerable.Range(1, blocks).Select(Block))
            + " [GlobalAvgPool2D] [Dense(10)] [Softmax] public partial class Deep { }";
    }

    [Fact]
    public void A_network_ten_times_deeper_than_the_residual_sample_stays_under_two_megabytes()
    {
        // 4 + 45 × 7 + 3 = 322 layers, ten times the sample's ResNet-BN (32).
        var result = GeneratorHarness.Run(DeepResNet(45));

        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilerWarningsAndErrors);
        long chars = result.Sources.Sum(s => (long)s.SourceText.Length);
        Assert.True(chars < 2_000_000, $"{chars:N0} characters");

        // One forward method per distinct layer, not per layer: the 90 block convolutions share one, and so do the
        // 91 BatchNorms and the 91 ReLUs (the stem's conv reads 1 channel, so it has its own).
        string source = string.Concat(result.Sources.Select(s => s.SourceText.ToString()));
        var forwards = Regex.Matches(source, @"internal static void (\w+Forward)\b").Select(m => m.Groups[1].Value).ToList();
        int forwardMethods = forwards.Count;
        Assert.True(forwardMethods is >= 5 and <= 12, string.Join(", ", forwards));
        Assert.Contains("which computes the same on the same shapes", source);
    }

    [Fact]
    public void Dropout_layers_keep_their_own_methods_because_their_masks_depend_on_their_position()
    {
        var result = GeneratorHarness.Run(
            "using NetGen; [Input(1, 4, 4)] [Dropout(0.5f)] [ReLU] [Dropout(0.5f)] [Dense(3)] [Softmax] public partial class Net { }");

        Assert.Empty(result.CompilerWarningsAndErrors);
        string source = result.Source("Net.g.cs");
        Assert.Contains("Dropout1Forward", source);
        Assert.Contains("Dropout2Forward", source);
    }
}
