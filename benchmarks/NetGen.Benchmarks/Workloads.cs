using System;
using NetGen.Benchmarks.RuntimeShaped;
using NetGen.Optimizers;

namespace NetGen.Benchmarks;

/// <summary>The networks under test.</summary>
public enum NetworkKind
{
    LeNet5,
    WideNet,

    /// <summary>The sample's residual network (three basic blocks, projection shortcuts): no runtime-shaped version.</summary>
    ResNet,

    /// <summary>The sample's residual network with BatchNorm (convolutions without bias, global average pooling): no runtime-shaped version.</summary>
    ResNetBN,

    /// <summary>LeNet5's conv2 alone (6×14×14 → 16×10×10), for the conv-forward benchmark.</summary>
    LeNet5Conv2,

    /// <summary>WideNet's conv2 alone (32×14×14 → 64×14×14, padding 2), for the conv-forward benchmark.</summary>
    WideNetConv2,
}

/// <summary>Sizes and FLOP counts shared by every benchmark.</summary>
public static class Workload
{
    public const int InputLength = 784;
    public const int Classes = 10;
    public const int LatencyBatch = 1;
    public const int InferenceBatch = 256;
    public const int TrainingBatch = 64;
    public const float LearningRate = 0.001f;
    public const int Seed = 1;

    /// <summary>
    /// Multiply-adds of one forward pass of one sample, counted over the convolution and dense layers
    /// (filters × rows × output pixels, units × inputs). <c>Verify</c> checks them against the shapes.
    /// LeNet5: 6·25·784 + 16·150·100 + 120·400 + 84·120 + 10·84 = 117,600 + 240,000 + 48,000 + 10,080 + 840.
    /// WideNet: 32·25·784 + 64·800·196 + 1024·3136 + 10·1024 = 627,200 + 10,035,200 + 3,211,264 + 10,240.
    /// ResNet: stem 16·9·784; block 1 2 × 16·144·784; block 2 32·144·196 + 32·288·196 + shortcut 32·16·196; block 3
    /// 64·288·49 + 64·576·49 + shortcut 64·32·49; head 10·3136 = 112,896 + 3,612,672 + 2,809,856 + 2,809,856 + 31,360
    /// (the additions and ReLUs are not counted, as the ReLUs and poolings of the others are not).
    /// ResNetBN: stem 16·9·784; block 1 2 × 16·144·784; block 2 64·144·196 + 64·576·196 + shortcut 64·16·196; block 3
    /// 128·576·49 + 128·1152·49 + shortcut 128·64·49; head 10·128 = 112,896 + 3,612,672 + 9,232,384 + 11,239,424 + 1,280
    /// (BatchNorm, the additions, ReLUs and the global pooling not counted).
    /// </summary>
    public static long MultiplyAddsPerSample(NetworkKind network) => network switch
    {
        NetworkKind.LeNet5 => 416_520,
        NetworkKind.WideNet => 13_883_904,
        NetworkKind.ResNet => 9_376_640,
        NetworkKind.ResNetBN => 24_198_656,
        NetworkKind.LeNet5Conv2 => 240_000,      // 16·150·100
        NetworkKind.WideNetConv2 => 10_035_200,  // 64·800·196
        _ => throw new ArgumentOutOfRangeException(nameof(network)),
    };

    /// <summary>FLOPs (2 per multiply-add) of one forward pass; a training step counts 3× (forward, dL/dx, dL/dW).</summary>
    public static double FlopsPerSample(NetworkKind network, bool training) =>
        2.0 * MultiplyAddsPerSample(network) * (training ? 3 : 1);

    public static GeneratedNetwork CreateNetGen(NetworkKind network) => network switch
    {
        NetworkKind.LeNet5 => new GeneratedNetwork(new LeNet5()),
        NetworkKind.WideNet => new GeneratedNetwork(new WideNet()),
        NetworkKind.ResNet => new GeneratedNetwork(new ResNet()),
        NetworkKind.ResNetBN => new GeneratedNetwork(new ResNetBN()),
        NetworkKind.LeNet5Conv2 => new GeneratedNetwork(new LeNet5Conv2()),
        NetworkKind.WideNetConv2 => new GeneratedNetwork(new WideNetConv2()),
        _ => throw new ArgumentOutOfRangeException(nameof(network)),
    };

    /// <summary>Whether the runtime-shaped baseline implements the network (it has no graph layers: not ResNet or ResNetBN).</summary>
    public static bool HasRuntimeShaped(NetworkKind network) => network is not (NetworkKind.ResNet or NetworkKind.ResNetBN);

    /// <summary>
    /// The network's BatchNorm running statistics (its generated <c>Buffers</c>: each layer's running_mean, then its
    /// running_var), for the ONNX graph's inference-form BatchNormalization nodes; empty for a network without them.
    /// </summary>
    public static float[] Buffers(ISampleNetwork network) =>
        network is GeneratedNetwork { Inner: ResNetBN resNetBN } ? resNetBN.Buffers : [];

    public static RuntimeNetwork CreateRuntimeShaped(NetworkKind network) => network switch
    {
        NetworkKind.LeNet5 => RuntimeNetwork.LeNet5(),
        NetworkKind.WideNet => RuntimeNetwork.WideNet(),
        NetworkKind.LeNet5Conv2 => RuntimeNetwork.LeNet5Conv2(),
        NetworkKind.WideNetConv2 => RuntimeNetwork.WideNetConv2(),
        _ => throw new ArgumentOutOfRangeException(nameof(network)),
    };

    /// <summary>Deterministic inputs in [−1, 1) and labels, <paramref name="count"/> samples.</summary>
    public static (float[] Inputs, int[] Labels) CreateData(int count, int seed = 7) =>
        BenchmarkInputs.Random(count, InputLength, Classes, seed);
}

/// <summary>
/// Drives an <see cref="ISampleNetwork"/> (a NetGen-generated class or the runtime-shaped <see cref="RuntimeNetwork"/>)
/// over a batch: <c>ForwardBatch</c> and <c>TrainBatch</c> + one SGD step, with <c>DegreeOfParallelism</c> = threads (the
/// network's and the optimizer's).
/// Both implementations run their batches through the runtime's BatchEngine: chunks of 16 samples (32 for WideNet, whose dense1 weight is larger than a core's L2), one workspace per
/// worker, results bit-identical for any thread count.
/// </summary>
public sealed class BatchDriver
{
    private readonly Sgd _sgd = new(Workload.LearningRate);

    /// <param name="create">Makes the network.</param>
    /// <param name="threads">DegreeOfParallelism of the batch calls.</param>
    public BatchDriver(Func<ISampleNetwork> create, int threads)
    {
        Network = create();
        Network.InitializeParameters(Workload.Seed);
        Network.DegreeOfParallelism = threads;
        _sgd.DegreeOfParallelism = threads;
    }

    public ISampleNetwork Network { get; }

    /// <summary>Sets the parameters of the network.</summary>
    public void CopyParametersFrom(float[] parameters) => parameters.CopyTo(Network.Parameters, 0);

    /// <summary>Forward pass of <paramref name="count"/> samples through the network's <c>ForwardBatch</c>.</summary>
    public void ForwardBatch(float[] inputs, float[] probabilities, int count) =>
        Network.ForwardBatch(inputs.AsSpan(0, count * Network.InputLength), probabilities.AsSpan(0, count * Network.OutputLength));

    /// <summary>One SGD step on a batch: <c>TrainBatch</c> (mean loss, Gradients = batch mean), then θ −= lr · gradient.</summary>
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels)
    {
        float loss = Network.TrainBatch(inputs, labels);
        _sgd.Step(Network.Parameters, Network.Gradients);
        return loss;
    }
}
