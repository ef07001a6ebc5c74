using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using NetGen.Tests.Generator;
using NetGen.Optimizers;
using NetGen.Tests.Networks;
using NetGen.Tests.Numerics;
using Xunit;

namespace NetGen.Tests.Baking;

/// <summary>
/// A network compiled with <c>[Weights]</c> starts with the weights of the file it was compiled against, without the file;
/// <c>InitializeParameters</c>, <c>Load</c> and <c>ResetToBakedWeights</c> replace them as on any network.
/// </summary>
public sealed class BakedWeightsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("netgen-baked-").FullName;

    /// <summary><see cref="BatchNormNet"/>'s layers again, with its weights baked in.</summary>
    private const string Source = """
        using NetGen;
        namespace Baked;
        [Weights("batchnorm.safetensors")]
        [Input(2, 5, 7)]
        [Conv2D(3, 3, Padding = 1)]
        [BatchNorm2D(Epsilon = 1e-3f, Momentum = 0.3f)]
        [ReLU]
        [Dense(4)]
        [BatchNorm2D]
        [Softmax]
        public partial class BakedNet { }
        """;

    /// <summary>A trained <see cref="BatchNormNet"/>: parameters, running statistics and counters all away from their initial values.</summary>
    internal static BatchNormNet Trained(int seed)
    {
        var net = new BatchNormNet();
        net.InitializeParameters(seed);
        var inputs = TestData.Uniform(8 * BatchNormNet.InputLength, seed);
        int[] labels = [0, 1, 2, 3, 3, 2, 1, 0];
        var sgd = new Sgd(0.05f);
        for (int step = 0; step < 3; step++)
        {
            net.ZeroGradients();
            net.TrainBatch(inputs, labels);
            sgd.Step(net.Parameters, net.Gradients);
        }

        return net;
    }

    /// <summary>Compiles <see cref="Source"/> against the file, loads the assembly and makes an instance of the baked network.</summary>
    private INetwork CompileBaked(string weightsFile)
    {
        var result = GeneratorHarness.Run([Source], [new GeneratorHarness.FileOnDisk(weightsFile)]);
        Assert.Empty(result.GeneratorDiagnostics);
        using var image = new MemoryStream();
        var emitted = result.Output.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        Assembly assembly = Assembly.Load(image.ToArray());
        return (INetwork)Activator.CreateInstance(assembly.GetType("Baked.BakedNet")!)!;
    }

    private static float[] Outputs(INeuralNetwork net)
    {
        var inputs = TestData.Uniform(5 * net.InputLength, seed: 99);
        var outputs = new float[5 * net.OutputLength];
        net.ForwardBatch(inputs, outputs);
        return outputs;
    }

    private static T Get<T>(object net, string property) => (T)net.GetType().GetProperty(property)!.GetValue(net)!;

    [Fact]
    public void A_new_instance_has_the_baked_weights_without_the_file_and_InitializeParameters_Load_and_Reset_still_work()
    {
        BatchNormNet trained = Trained(seed: 5);
        string file = Path.Combine(_directory, "batchnorm.safetensors");
        trained.Save(file);
        INetwork baked = CompileBaked(file);
        File.Delete(file);

        // Every vector as trained, to the bit, and the same outputs.
        Assert.Equal(trained.Parameters, Get<float[]>(baked, "Parameters"));
        Assert.Equal(trained.Buffers, Get<float[]>(baked, "Buffers"));
        Assert.Equal(trained.Counters, Get<long[]>(baked, "Counters"));
        Assert.Equal(3, trained.Counters[0]);
        Assert.Equal(Outputs(trained), Outputs(baked));
        Assert.Equal(Outputs(trained), Outputs(CompileBakedAgainInstance(baked)));

        // InitializeParameters replaces them as on the same network without [Weights].
        var fresh = new BatchNormNet();
        fresh.InitializeParameters(11);
        baked.InitializeParameters(11);
        Assert.Equal(fresh.Parameters, Get<float[]>(baked, "Parameters"));
        Assert.Equal(fresh.Counters, Get<long[]>(baked, "Counters"));
        Assert.Equal(Outputs(fresh), Outputs(baked));

        // Load replaces them with another file's.
        BatchNormNet other = Trained(seed: 8);
        string otherFile = Path.Combine(_directory, "other.safetensors");
        other.Save(otherFile);
        baked.Load(otherFile);
        Assert.Equal(other.Parameters, Get<float[]>(baked, "Parameters"));
        Assert.Equal(Outputs(other), Outputs(baked));

        // ResetToBakedWeights brings the compiled-in ones back, folded BatchNorms recomputed.
        baked.GetType().GetMethod("ResetToBakedWeights")!.Invoke(baked, null);
        Assert.Equal(trained.Parameters, Get<float[]>(baked, "Parameters"));
        Assert.Equal(trained.Buffers, Get<float[]>(baked, "Buffers"));
        Assert.Equal(trained.Counters, Get<long[]>(baked, "Counters"));
        Assert.Equal(Outputs(trained), Outputs(baked));
    }

    /// <summary>A second instance of the baked type: every constructor call decodes the baked data afresh.</summary>
    private static INetwork CompileBakedAgainInstance(INetwork baked) => (INetwork)Activator.CreateInstance(baked.GetType())!;

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
