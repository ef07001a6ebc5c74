using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using ApprovalTests;
using ApprovalTests.Reporters;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NetGen.Generator;
using NetGen.Generator.Weights;
using NetGen.Tests.Baking;
using Xunit;

namespace NetGen.Tests.Generator;

/// <summary>
/// <c>[Weights("…")]</c>: the generator reads a safetensors AdditionalFile at compile time, checks it against the declared
/// network and bakes it into a file of its own; each problem is a diagnostic on the attribute.
/// </summary>
public sealed class WeightsGeneratorTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("netgen-weights-").FullName;

    /// <summary>A dense classifier behind a BatchNorm: parameters, running statistics and a counter.</summary>
    private const string Network = """
        using NetGen;
        namespace Baking;
        [[|Weights("models/net.safetensors")|]]
        [Input(2, 3, 3)]
        [BatchNorm2D]
        [Dense(2)]
        [Softmax]
        public partial class Net { }
        """;

    /// <summary>The tensors <see cref="Network"/> declares, with recognizable values.</summary>
    private static List<RawTensor> Tensors() =>
    [
        RawTensor.F32("bn1.weight", [2], i => 1.5f + i),
        RawTensor.F32("bn1.bias", [2], i => -0.25f * i),
        RawTensor.F32("bn1.running_mean", [2], i => 0.125f + i),
        RawTensor.F32("bn1.running_var", [2], i => 2f + i),
        RawTensor.I64("bn1.num_batches_tracked", 42),
        RawTensor.F32("dense1.weight", [2, 18], i => MathF.Sin(i) / 3),
        RawTensor.F32("dense1.bias", [2], i => i == 0 ? 0.5f : -0f),
    ];

    private string Write(byte[] bytes, string relative = "models/net.safetensors")
    {
        string path = Path.Combine(_directory, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static GeneratorHarness.Result Run(string markup, params string[] files) =>
        GeneratorHarness.Run([markup.Replace("[|", "").Replace("|]", "")], files.Select(f => new GeneratorHarness.FileOnDisk(f)));

    /// <summary>Exactly the listed diagnostics, in order, each on the [Weights] attribute; no source for the class.</summary>
    private static void AssertDiagnostics(GeneratorHarness.Result result, params (string Id, string Message)[] expected)
    {
        int start = Network.IndexOf("[|", StringComparison.Ordinal), end = Network.IndexOf("|]", StringComparison.Ordinal) - 2;
        Assert.Empty(result.Exceptions);
        Assert.Equal(expected.Select(e => e.Id), result.GeneratorDiagnostics.Select(d => d.Id));
        for (int i = 0; i < expected.Length; i++)
        {
            Diagnostic d = result.GeneratorDiagnostics[i];
            Assert.Equal(DiagnosticSeverity.Error, d.Severity);
            Assert.Contains(expected[i].Message, d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal((start, end), (d.Location.SourceSpan.Start, d.Location.SourceSpan.End));
        }

        Assert.Empty(result.Sources);
        Assert.DoesNotContain(result.CompilerWarningsAndErrors, d => d.Severity == DiagnosticSeverity.Error);
    }

    [Fact]
    public void A_counter_above_two_to_the_24_is_baked_exactly()
    {
        // 2^24 + 1 batches: a float would round it to 2^24.
        List<RawTensor> tensors = Tensors();
        tensors[4] = RawTensor.I64("bn1.num_batches_tracked", 16_777_217);
        string path = Write(SafeTensorsBytes.Build(tensors));
        var result = Run(Network, path);

        Assert.Empty(result.GeneratorDiagnostics);
        string literal = Convert.ToBase64String(BitConverter.GetBytes(16_777_217L));
        Assert.Contains($"\"{literal}\"u8", result.Source("Baking.Net.Weights.g.cs"));
    }

    [Fact]
    public void A_matching_file_is_baked_into_its_own_file_and_the_network_compiles()
    {
        string path = Write(SafeTensorsBytes.Build(Tensors()));
        var result = Run(Network, path);

        Assert.Empty(result.Exceptions);
        Assert.Empty(result.GeneratorDiagnostics);
        Assert.Empty(result.CompilerWarningsAndErrors);
        Assert.Equal(["Baking.Net.g.cs", "Baking.Net.Weights.g.cs"], result.Sources.Select(s => s.HintName).Order());
        string main = result.Source("Baking.Net.g.cs"), weights = result.Source("Baking.Net.Weights.g.cs");
        Assert.Contains("BakedParameters(new float[42])", main);
        Assert.Contains("BakedBuffers(new float[4])", main);
        Assert.Contains("BakedCounters(new long[1])", main);
        Assert.Contains("// dense1.weight [2, 18]: Parameters[4..40)", weights);
        Assert.Contains("\"u8);", weights);
        Assert.DoesNotContain("\"u8", main); // the data stays out of the readable file
    }

    /// <summary>
    /// The weights file as a reader sees it, compared with the approved copy beside this file
    /// (<c>WeightsGeneratorTests.The_weights_file_reads_as_approved.approved.cs</c>).
    /// </summary>
    [Fact]
    [UseReporter(typeof(QuietReporter))]
    public void The_weights_file_reads_as_approved()
    {
        var result = Run(Network, Write(SafeTensorsBytes.Build(Tensors(), metadata: "{\"mean\":\"0.286\"}")));
        Assert.Empty(result.GeneratorDiagnostics);
        Approvals.VerifyWithExtension(result.Source("Baking.Net.Weights.g.cs"), ".cs");
    }

    [Fact]
    public void The_files_metadata_is_published_as_BakedMetadata_escaped_for_CSharp()
    {
        string path = Write(SafeTensorsBytes.Build(Tensors(), metadata: "{\"mean\":\"0.286\",\"note\":\"line\\u2028\\\"quoted\\\"\"}"));
        var result = Run(Network, path);

        Assert.Empty(result.GeneratorDiagnostics);
        string weights = result.Source("Baking.Net.Weights.g.cs");
        Assert.Equal("\"a\\u2028b\"", NetGen.Generator.Emit.Literal.String("a\u2028b"));
        Assert.Contains("[\"mean\"] = \"0.286\",", weights);
        Assert.Contains("[\"note\"] = \"line\\u2028\\\"quoted\\\"\",", weights);
        Assert.Empty(result.CompilerWarningsAndErrors);
    }

    [Fact]
    public void NG0040_the_file_is_not_an_additional_file() =>
        AssertDiagnostics(Run(Network, Write(SafeTensorsBytes.Build(Tensors()), "models/other.safetensors")),
            ("NG0040", "Network 'Net': weights file 'models/net.safetensors' is not among the project's AdditionalFiles ending in .safetensors (it has other.safetensors); add <AdditionalFiles Include=\"models/net.safetensors\" />"));

    [Fact]
    public void NG0040_no_additional_files_at_all() =>
        AssertDiagnostics(Run(Network), ("NG0040", "is not among the project's AdditionalFiles ending in .safetensors; add"));

    [Fact]
    public void NG0041_truncated_header() =>
        AssertDiagnostics(Run(Network, Write(SafeTensorsBytes.Build(Tensors())[..40])),
            ("NG0041", "weights file 'models/net.safetensors' is not a valid safetensors file: bad header length"));

    [Fact]
    public void NG0041_file_shorter_than_the_header_length() =>
        AssertDiagnostics(Run(Network, Write([1, 2, 3])), ("NG0041", "the file is 3 bytes, too short for the 8-byte header length"));

    [Fact]
    public void NG0041_header_is_not_json() =>
        AssertDiagnostics(Run(Network, Write(SafeTensorsBytes.WithHeader("{\"bn1.weight\": {\"dtype\": \"F32\",", []))),
            ("NG0041", "the header is not valid JSON"));

    [Fact]
    public void NG0041_offsets_out_of_range()
    {
        byte[] bytes = SafeTensorsBytes.Build(Tensors());
        AssertDiagnostics(Run(Network, Write(bytes[..^8])), ("NG0041", "'dense1.bias': data_offsets [184, 192] are outside the 184-byte data buffer (file truncated?)"));
    }

    [Fact]
    public void NG0041_size_is_not_dtype_times_shape()
    {
        List<RawTensor> tensors = Tensors();
        tensors[5] = tensors[5] with { Shape = [2, 17] };
        AssertDiagnostics(Run(Network, Write(SafeTensorsBytes.Build(tensors))),
            ("NG0041", "'dense1.weight': data_offsets [40, 184] span 144 bytes, shape [2, 17] of F32 needs 136"));
    }

    [Fact]
    public void NG0042_a_tensor_is_missing() =>
        AssertDiagnostics(Run(Network, Write(SafeTensorsBytes.Build(Tensors().Where(t => t.Name != "bn1.running_var")))),
            ("NG0042", "Network 'Net': weights file 'models/net.safetensors' has no tensor 'bn1.running_var' (shape [2]), which the network declares"));

    [Fact]
    public void NG0043_an_extra_tensor() =>
        AssertDiagnostics(Run(Network, Write(SafeTensorsBytes.Build([.. Tensors(), RawTensor.F32("head.weight", [3], i => i)]))),
            ("NG0043", "weights file 'models/net.safetensors' holds tensor 'head.weight' (shape [3]), which the network does not declare"));

    [Fact]
    public void NG0044_a_shape_mismatch_names_the_tensor_and_both_shapes()
    {
        List<RawTensor> tensors = Tensors();
        tensors[5] = RawTensor.F32("dense1.weight", [18, 2], i => i);
        AssertDiagnostics(Run(Network, Write(SafeTensorsBytes.Build(tensors))),
            ("NG0044", "Network 'Net': tensor 'dense1.weight' in weights file 'models/net.safetensors' has shape [18, 2], but the network declares [2, 18]"));
    }

    [Fact]
    public void NG0045_an_unsupported_dtype()
    {
        List<RawTensor> tensors = Tensors();
        tensors[6] = new RawTensor("dense1.bias", "F64", [2], new byte[16]);
        AssertDiagnostics(Run(Network, Write(SafeTensorsBytes.Build(tensors))),
            ("NG0045", "tensor 'dense1.bias' in weights file 'models/net.safetensors' has dtype F64; NetGen bakes F32, F16 and BF16 (converted to F32) and I64 for counters"));
    }

    [Fact]
    public void NG0045_a_counter_that_is_not_an_integer()
    {
        List<RawTensor> tensors = Tensors();
        tensors[4] = RawTensor.F32("bn1.num_batches_tracked", [], _ => 42f);
        AssertDiagnostics(Run(Network, Write(SafeTensorsBytes.Build(tensors))),
            ("NG0045", "tensor 'bn1.num_batches_tracked' in weights file 'models/net.safetensors' has dtype F32; a counter must be I64"));
    }

    [Fact]
    public void A_relative_path_is_looked_up_from_the_declaring_files_folder_first()
    {
        // Two files end with models/net.safetensors; the one beside b/Net.cs is meant (a's is not even valid), as
        // [OnnxModel] finds its model.
        Write([1, 2, 3], "a/models/net.safetensors");
        string chosen = Write(SafeTensorsBytes.Build(Tensors()), "b/models/net.safetensors");
        var compilation = GeneratorHarness.Compilation().AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            Network.Replace("[|", "").Replace("|]", ""), GeneratorHarness.ParseOptions, Path.Combine(_directory, "b", "Net.cs")));
        var files = new[] { Path.Combine(_directory, "a/models/net.safetensors"), chosen }.Select(f => new GeneratorHarness.FileOnDisk(f));
        GeneratorHarness.Driver(additionalFiles: files)
            .RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out var diagnostics);

        Assert.Empty(diagnostics);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Contains(output.SyntaxTrees, t => t.FilePath.EndsWith("Baking.Net.Weights.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void NG0046_a_path_that_matches_two_files()
    {
        byte[] bytes = SafeTensorsBytes.Build(Tensors());
        AssertDiagnostics(Run(Network, Write(bytes, "a/models/net.safetensors"), Write(bytes, "b/models/net.safetensors")),
            ("NG0046", "weights file 'models/net.safetensors' matches 2 AdditionalFiles"));
    }

    [Fact]
    public void F16_and_BF16_tensors_are_converted_exactly()
    {
        // 1.5 and -0.25·i are exact in both 16-bit formats, so the baked floats equal the F32 ones.
        List<RawTensor> tensors = Tensors();
        tensors[0] = new RawTensor("bn1.weight", "F16", [2], [0x00, 0x3E, 0x00, 0x41]);     // 1.5, 2.5
        tensors[1] = new RawTensor("bn1.bias", "BF16", [2], [0x00, 0x00, 0x80, 0xBE]);      // 0, -0.25
        var content = SafeTensorsReader.Read(SafeTensorsBytes.Build(tensors));
        Assert.Equal([1.5f, 2.5f], content.Tensors[0].Values.ToArray());
        Assert.Equal([0f, -0.25f], content.Tensors[1].Values.ToArray());
        Assert.Equal(42f, content.Tensors[4].Values[0]);
        Assert.Empty(Run(Network, Write(SafeTensorsBytes.Build(tensors))).GeneratorDiagnostics);
    }

    [Fact]
    public void A_corrupted_file_is_a_format_error_never_another_exception()
    {
        // Random truncations and byte changes of a valid file, header and data alike: the reader either reads it or says
        // what is wrong (FormatException, or OverflowException for an absurd shape), so the generator never throws.
        byte[] valid = SafeTensorsBytes.Build(Tensors(), metadata: "{\"mean\":\"0.5\"}");
        var random = new Random(1234);
        int rejected = 0;
        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] bytes = valid[..random.Next(valid.Length + 1)];
            for (int k = random.Next(1, 4); k > 0 && bytes.Length > 0; k--)
            {
                int at = random.Next(trial % 2 == 0 ? Math.Min(bytes.Length, 400) : bytes.Length);
                bytes[at] = (byte)random.Next(256);
            }

            try
            {
                SafeTensorsReader.Read(bytes);
            }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                rejected++;
            }
        }

        Assert.InRange(rejected, 2000, 3000); // most corruptions are caught, none crashes
    }

    [Theory]
    [InlineData("/repo/models/net.safetensors", "models/net.safetensors", true)]
    [InlineData("/repo/models/net.safetensors", "net.safetensors", true)]
    [InlineData(@"C:\repo\Models\Net.safetensors", "models/net.safetensors", true)]
    [InlineData("/repo/models/net.safetensors", @".\models\net.safetensors", true)]
    [InlineData("/repo/models/net.safetensors", "../repo/models/net.safetensors", true)]
    [InlineData("/repo/models/net.safetensors", "other/net.safetensors", false)]
    [InlineData("/repo/models/subnet.safetensors", "net.safetensors", false)]
    [InlineData("/repo/net.safetensors", "", false)]
    public void The_attribute_path_matches_by_trailing_segments(string file, string written, bool matches) =>
        Assert.Equal(matches, NetGen.Generator.Parsing.AdditionalFileLookup.EndsWith(file, written));

    [Fact]
    public void An_unrelated_edit_does_not_read_the_file_again()
    {
        string path = Write(SafeTensorsBytes.Build(Tensors()));
        string source = Network.Replace("[|", "").Replace("|]", "");
        CSharpCompilation compilation = GeneratorHarness.Compilation(source, "public class Unrelated { public int A => 1; }");
        GeneratorDriver driver = GeneratorHarness.Driver(trackSteps: true, additionalFiles: [new GeneratorHarness.FileOnDisk(path)]).RunGenerators(compilation);
        Assert.Equal(2, driver.GetRunResult().GeneratedTrees.Length);

        // Were the file read again, the step would see these new bytes: the test would catch a re-read, not only a re-bake.
        File.WriteAllBytes(path, [0]);
        SyntaxTree unrelated = compilation.SyntaxTrees.Last();
        CSharpCompilation edited = compilation.ReplaceSyntaxTree(unrelated,
            CSharpSyntaxTree.ParseText("public class Unrelated { public int A => 2; }", GeneratorHarness.ParseOptions, unrelated.FilePath));
        GeneratorRunResult second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (string step in new[] { NetworkGenerator.TrackingNames.ReadWeights, NetworkGenerator.TrackingNames.Bake, NetworkGenerator.TrackingNames.Model })
        {
            var outputs = second.TrackedSteps[step].SelectMany(s => s.Outputs).ToList();
            Assert.NotEmpty(outputs);
            Assert.All(outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"{step}: {o.Reason}"));
        }

        Assert.Empty(second.Diagnostics);
        Assert.Equal(2, second.GeneratedSources.Length);
        Assert.All(second.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
