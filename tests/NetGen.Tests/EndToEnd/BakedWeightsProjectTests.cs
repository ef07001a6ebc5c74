using System;
using System.IO;
using System.Linq;
using NetGen.Tests.Networks;
using NetGen.Tests.Baking;
using Xunit;

namespace NetGen.Tests.EndToEnd;

/// <summary>
/// As a user deploying a trained network: a fresh project declares it with <c>[Weights]</c> over the file the training
/// saved, builds, and runs with the file gone, giving the trained network's outputs bit for bit.
/// </summary>
[Collection(nameof(EndToEnd))]
public sealed class BakedWeightsProjectTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "netgen-bakedproject-" + Guid.NewGuid().ToString("N"));

    /// <summary>The inputs both the test and the app run: a formula, so that no file carries them.</summary>
    private const string Inputs = "Enumerable.Range(0, 6 * InputLength).Select(i => MathF.Sin(i * 0.37f)).ToArray()";

    [Fact]
    public void A_project_built_with_Weights_runs_without_the_file_and_predicts_as_the_trained_network()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "weights"));
        BatchNormNet trained = BakedWeightsTests.Trained(seed: 3);
        string weights = Path.Combine(_directory, "weights", "trained.safetensors");
        trained.Save(weights);

        FreshProject.WriteSourceReferencingProject(_directory, "weights/trained.safetensors");
        File.WriteAllText(Path.Combine(_directory, "Program.cs"), $$"""
            using System;
            using System.Linq;
            using NetGen;
            using static UserApp.Deployed;

            var net = new UserApp.Deployed();
            float[] inputs = {{Inputs}};
            var outputs = new float[6 * OutputLength];
            net.ForwardBatch(inputs, outputs);
            Console.WriteLine("outputs " + string.Join(" ", outputs.Select(o => BitConverter.SingleToInt32Bits(o).ToString("x8"))));
            Console.WriteLine("predicted " + string.Join(" ", Enumerable.Range(0, 6).Select(s => net.Predict(inputs.AsSpan(s * InputLength, InputLength)))));
            Console.WriteLine("counters " + string.Join(" ", net.Counters));

            namespace UserApp
            {
                [Weights("trained.safetensors")]
                [Input(2, 5, 7)]
                [Conv2D(3, 3, Padding = 1)]
                [BatchNorm2D(Epsilon = 1e-3f, Momentum = 0.3f)]
                [ReLU]
                [Dense(4)]
                [BatchNorm2D]
                [Softmax]
                public partial class Deployed { }
            }
            """);

        (int exit, string output) = FreshProject.Dotnet("build -c Release", _directory);
        Assert.True(exit == 0, output);
        File.Move(weights, Path.Combine(_directory, "moved-away.safetensors"));
        (exit, output) = FreshProject.Dotnet(FreshProject.AppDll, _directory);
        Assert.True(exit == 0, output);

        const int InputLength = BatchNormNet.InputLength, OutputLength = BatchNormNet.OutputLength;
        float[] inputs = Enumerable.Range(0, 6 * InputLength).Select(i => MathF.Sin(i * 0.37f)).ToArray();
        var outputs = new float[6 * OutputLength];
        trained.ForwardBatch(inputs, outputs);
        string[] lines = output.Trim().Split('\n').Select(l => l.Trim()).ToArray();
        Assert.Equal("outputs " + string.Join(" ", outputs.Select(o => BitConverter.SingleToInt32Bits(o).ToString("x8"))), lines[^3]);
        Assert.Equal("predicted " + string.Join(" ", Enumerable.Range(0, 6).Select(s => trained.Predict(inputs.AsSpan(s * InputLength, InputLength)))), lines[^2]);
        Assert.Equal("counters " + string.Join(" ", trained.Counters), lines[^1]);
        Assert.NotEqual("counters 0 0", lines[^1]);

        string generated = FreshProject.GeneratedFolder(_directory);
        Assert.True(File.Exists(Path.Combine(generated, "UserApp.Deployed.Weights.g.cs")));
        Assert.DoesNotContain("\"u8", File.ReadAllText(Path.Combine(generated, "UserApp.Deployed.g.cs")));
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
