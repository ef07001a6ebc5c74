using System;
using System.Diagnostics;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace NetGen.Tests.EndToEnd;

/// <summary>
/// As a new user would: a fresh console project that references the runtime and the generator, declares
/// LeNet-5, builds, runs a forward pass and a training step, and has a generated file one can open; and the JIT
/// inlines the runtime's kernels into every optimized generated method.
/// </summary>
[Collection(nameof(EndToEnd))]
public sealed class NewProjectTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "netgen-newproject-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void A_new_project_referencing_the_two_projects_compiles_runs_and_has_a_readable_generated_file()
    {
        Directory.CreateDirectory(_directory);
        FreshProject.WriteSourceReferencingProject(_directory);
        File.WriteAllText(Path.Combine(_directory, "Program.cs"), """
            using System;
            using NetGen;

            var net = new UserApp.LeNet5();
            net.InitializeParameters(42);
            var image = new float[UserApp.LeNet5.InputLength];
            for (int i = 0; i < image.Length; i++) image[i] = (i % 28) / 28f;
            var probabilities = new float[UserApp.LeNet5.OutputLength];
            net.Forward(image, probabilities);
            float before = net.Loss(image, 3);
            for (int step = 0; step < 20; step++)
            {
                net.ZeroGradients();
                net.TrainSample(image, 3);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(net.Gradients, -0.01f, net.Parameters, net.Parameters);
            }
            float after = net.Loss(image, 3);
            var batch = new float[40 * UserApp.LeNet5.InputLength];
            var labels = new int[40];
            for (int i = 0; i < batch.Length; i++) batch[i] = (i % 31) / 31f;
            // Long enough for the tiered JIT to recompile the batch engine's dispatch methods (Tier1), which may inline more.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.ElapsedMilliseconds < 1500) net.TrainBatch(batch, labels);
            Console.WriteLine($"sum={MathF.Round(System.Linq.Enumerable.Sum(probabilities), 4)} before={before} after={after} predicted={net.Predict(image)}");

            namespace UserApp
            {
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
            }
            """);

        (int exit, string output) = FreshProject.Dotnet("run -c Release", _directory);
        Assert.True(exit == 0, output);
        string line = output.Trim().Split('\n')[^1];
        Assert.StartsWith("sum=1 ", line);
        Assert.EndsWith("predicted=3", line);
        float before = float.Parse(line.Split("before=")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        float after = float.Parse(line.Split("after=")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(after < before / 10, line);

        // The runtime's kernels (vector operations, Gemm, Rows) are inlined into every optimized generated method, the batch
        // engine's included: a method that inlined too much would run out of the JIT's inlining budget and leave them as
        // calls, several times slower.
        string listing = Path.Combine(_directory, "jit.txt");
        var start = new ProcessStartInfo("dotnet", FreshProject.AppDll) { WorkingDirectory = _directory, RedirectStandardOutput = true };
        start.Environment["DOTNET_JitDisasm"] = "UserApp.LeNet5:* UserApp.LeNet5+Engine:* *UserApp_LeNet5_g*Layers:*"; // the layers' file-local class
        start.Environment["DOTNET_JitStdOutFile"] = listing;
        using (var run = Process.Start(start)!)
        {
            run.StandardOutput.ReadToEnd();
            run.WaitForExit();
            Assert.Equal(0, run.ExitCode);
        }

        // Kernels the runtime marks NoInlining on purpose (a rarely taken part of a kernel, kept out of its callers' budget).
        var notInlined = new HashSet<string>(
            from type in typeof(NetGen.Kernels.Gemm).Assembly.GetTypes()
            where type.Namespace == "NetGen.Kernels"
            from m in type.GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
            where (m.MethodImplementationFlags & System.Reflection.MethodImplAttributes.NoInlining) != 0
            select type.Name + "." + m.Name);
        Assert.Contains("Gemm.DotTile", notInlined);
        int optimized = 0;
        string method = "";
        bool checking = false;
        foreach (string jitLine in File.ReadLines(listing))
        {
            if (jitLine.StartsWith("; Assembly listing for method ", StringComparison.Ordinal))
            {
                method = jitLine;
                checking = jitLine.Contains("(FullOpts)", StringComparison.Ordinal) || jitLine.Contains("(Tier1", StringComparison.Ordinal);
                optimized += checking ? 1 : 0;
            }
            else if (checking && System.Text.RegularExpressions.Regex.Match(jitLine, @"call\s+\[NetGen\.Kernels\.((Float|Gemm|Rows)\w*):(\w+)") is { Success: true } call
                && !notInlined.Contains(call.Groups[1].Value + "." + call.Groups[3].Value))
            {
                Assert.Fail($"{method}\n{jitLine.Trim()}: a kernel was not inlined");
            }
        }

        Assert.True(optimized >= 10, $"only {optimized} optimized generated methods in the JIT listing");
        Assert.Contains("Conv2Forward", File.ReadAllText(listing)); // the layer methods were among them

        string generated = Path.Combine(FreshProject.GeneratedFolder(_directory), "UserApp.LeNet5.g.cs");
        Assert.True(File.Exists(generated), $"no generated file at {generated}");
        string text = File.ReadAllText(generated);
        Assert.StartsWith("// <auto-generated/>", text.TrimStart('\uFEFF'));
        Assert.Contains("internal static void Conv1Forward<TVector>(int count, ", text);
        Assert.Contains("// conv2 (Conv2D): 6×14×14 → 16×10×10, kernel 5×5, stride 1, padding 0", text);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
