using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using NetGen.Tests.Onnx;
using Xunit;

namespace NetGen.Tests.EndToEnd;

/// <summary>
/// As a user would: a fresh project with an ONNX model among its AdditionalFiles and an [OnnxModel] class, built by the
/// .NET SDK's own compiler (its C# version, MSBuild's AdditionalFiles paths), run without the model file beside it, and
/// giving ONNX Runtime's outputs.
/// </summary>
[Collection(nameof(EndToEnd))]
public sealed class OnnxProjectTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "netgen-onnxproject-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void A_project_compiles_an_ONNX_model_and_runs_it_without_the_file_as_ONNX_Runtime_does()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "models"));
        (byte[] model, _) = OnnxImportTests.LeNet5();
        string modelPath = Path.Combine(_directory, "models", "lenet.onnx");
        File.WriteAllBytes(modelPath, model);
        FreshProject.WriteSourceReferencingProject(_directory, "models/lenet.onnx");
        File.WriteAllText(Path.Combine(_directory, "Program.cs"), """
            using System;
            using System.Globalization;
            using System.Linq;
            using NetGen;

            var net = new UserApp.LeNet();
            var inputs = new float[2 * UserApp.LeNet.InputLength];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = (i % 29) / 29f - 0.4f;
            var probabilities = new float[2 * UserApp.LeNet.OutputLength];
            net.ForwardBatch(inputs, probabilities);
            Console.WriteLine(string.Join(";", probabilities.Select(p => p.ToString("R", CultureInfo.InvariantCulture))));

            namespace UserApp
            {
                [OnnxModel("models/lenet.onnx")]
                public partial class LeNet { }
            }
            """);

        (int exit, string output) = FreshProject.Dotnet("build -c Release", _directory);
        Assert.True(exit == 0, output);

        // The weights are in the assembly: the model file is not needed to run.
        File.Delete(modelPath);
        var start = new ProcessStartInfo("dotnet", FreshProject.AppDll) { WorkingDirectory = _directory, RedirectStandardOutput = true };
        string line;
        using (var run = Process.Start(start)!)
        {
            line = run.StandardOutput.ReadToEnd().Trim();
            run.WaitForExit();
            Assert.Equal(0, run.ExitCode);
        }

        float[] actual = line.Split(';').Select(p => float.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        float[] inputs = Enumerable.Range(0, 2 * 784).Select(i => (i % 29) / 29f - 0.4f).ToArray();
        float[] expected = OnnxImportHarness.RunOnnxRuntime(model, inputs, 2, 1, 28, 28);
        Assert.Equal(expected.Length, actual.Length);
        double worst = expected.Select((e, i) => Math.Abs(e - actual[i])).Max();
        Assert.True(worst <= 1e-5, $"the compiled model's outputs differ from ONNX Runtime's by up to {worst:E2}");

        string generated = FreshProject.GeneratedFolder(_directory);
        Assert.Contains("from the ONNX model models/lenet.onnx", File.ReadAllText(Path.Combine(generated, "UserApp.LeNet.g.cs")), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(generated, "UserApp.LeNet.Weights.g.cs")));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
