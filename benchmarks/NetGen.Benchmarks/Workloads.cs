using System;
using System.Numerics.Tensors;
using System.Threading.Tasks;
using NetGen.Benchmarks.RuntimeShaped;
using NetGen.Optimizers;

namespace NetGen.Benchmarks;

/// <summary>The networks under test.</summary>
public enum NetworkKind
{
    LeNet5,
    WideNet,
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
    /// </summary>
    public static long MultiplyAddsPerSample(NetworkKind network) => network switch
    {
        NetworkKind.LeNet5 => 416_520,
        NetworkKind.WideNet => 13_883_904,
        _ => throw new ArgumentOutOfRangeException(nameof(network)),
    };

    /// <summary>FLOPs (2 per multiply-add) of one forward pass; a training step counts 3× (forward, dL/dx, dL/dW).</summary>
    public static double FlopsPerSample(NetworkKind network, bool training) =>
        2.0 * MultiplyAddsPerSample(network) * (training ? 3 : 1);

    public static GeneratedNetwork CreateNetGen(NetworkKind network) => network switch
    {
        NetworkKind.LeNet5 => new GeneratedNetwork(new LeNet5()),
        NetworkKind.WideNet => new GeneratedNetwork(new WideNet()),
        _ => throw new ArgumentOutOfRangeException(nameof(network)),
    };

    public static RuntimeNetwork CreateRuntimeShaped(NetworkKind network) => network switch
    {
        NetworkKind.LeNet5 => RuntimeNetwork.LeNet5(),
        NetworkKind.WideNet => RuntimeNetwork.WideNet(),
        _ => throw new ArgumentOutOfRangeException(nameof(network)),
    };

    /// <summary>Deterministic inputs in [−1, 1) and labels, <paramref name="count"/> samples.</summary>
    public static (float[] Inputs, int[] Labels) CreateData(int count, int seed = 7)
    {
        var random = new SeededRandom(seed);
        var inputs = new float[count * InputLength];
        var labels = new int[count];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = random.NextSingle() * 2f - 1f;
        }

        for (int i = 0; i < count; i++)
        {
            labels[i] = random.NextInt32(Classes);
        }

        return (inputs, labels);
    }
}

/// <summary>Trains on a batch and returns the mean loss, leaving the batch-mean gradient in <c>Gradients</c>.</summary>
public delegate float TrainBatchFunction(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels);

/// <summary>
/// Drives an <see cref="ISampleNetwork"/> (a NetGen-generated class or the runtime-shaped <see cref="RuntimeNetwork"/>)
/// over a batch: inference on one or more threads, and an SGD training step.
/// </summary>
public sealed class BatchDriver
{
    private readonly ISampleNetwork[] _replicas;
    private readonly TrainBatchFunction _trainBatch;
    private readonly Sgd _sgd = new(Workload.LearningRate);
    private readonly Action<int> _forwardChunk;
    private float[] _chunkInputs = [];
    private float[] _chunkOutputs = [];
    private int _chunkCount;

    /// <param name="create">Makes a network; called once per inference thread.</param>
    /// <param name="threads">Threads for <see cref="ForwardBatch"/>.</param>
    public BatchDriver(Func<ISampleNetwork> create, int threads)
    {
        _replicas = new ISampleNetwork[threads];
        _replicas[0] = create();
        _replicas[0].InitializeParameters(Workload.Seed);
        for (int t = 1; t < threads; t++)
        {
            _replicas[t] = create();
            _replicas[0].Parameters.CopyTo(_replicas[t].Parameters, 0);
        }

        ISampleNetwork network = _replicas[0];
        // TODO(TrainBatch): main now has the batched, multi-threaded ISampleNetwork.TrainBatch (same contract: mean loss,
        // Gradients = batch mean) and DegreeOfParallelism. After merging, for the generated networks this line becomes
        //     _trainBatch = network is GeneratedNetwork g ? Batched(g.Inner, threads) : (x, y) => TrainBatchPerSample(network, x, y);
        // with Batched(inner, threads) { inner.DegreeOfParallelism = threads; return inner.TrainBatch; }, and the
        // TrainingBenchmarks get their NetGen 2-thread case (TODO there).
        _trainBatch = (inputs, labels) => TrainBatchPerSample(network, inputs, labels);
        _forwardChunk = ForwardChunk;
    }

    public ISampleNetwork Network => _replicas[0];

    /// <summary>Sets the parameters of the network and of every replica.</summary>
    public void CopyParametersFrom(float[] parameters)
    {
        foreach (ISampleNetwork replica in _replicas)
        {
            parameters.CopyTo(replica.Parameters, 0);
        }
    }

    /// <summary>
    /// Forward pass of <paramref name="count"/> samples. With one thread, a plain loop of <see cref="ISampleNetwork.Forward"/>;
    /// with more, the batch is split into one contiguous chunk per thread, each on its own replica of the network
    /// (one workspace each, same parameters).
    /// </summary>
    /// TODO(ForwardBatch): use the generated ForwardBatch (DegreeOfParallelism = threads) when it lands on main.
    public void ForwardBatch(float[] inputs, float[] probabilities, int count)
    {
        if (_replicas.Length == 1)
        {
            ISampleNetwork network = _replicas[0];
            int inLength = network.InputLength, outLength = network.OutputLength;
            for (int i = 0; i < count; i++)
            {
                network.Forward(inputs.AsSpan(i * inLength, inLength), probabilities.AsSpan(i * outLength, outLength));
            }

            return;
        }

        (_chunkInputs, _chunkOutputs, _chunkCount) = (inputs, probabilities, count);
        Parallel.For(0, _replicas.Length, _forwardChunk);
    }

    /// <summary>One SGD step on a batch: forward + backward over every sample, then θ −= lr · mean gradient.</summary>
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels)
    {
        float loss = _trainBatch(inputs, labels);
        _sgd.Step(_replicas[0].Parameters, _replicas[0].Gradients);
        return loss;
    }

    /// <summary>
    /// The per-sample stand-in for TrainBatch, with its contract: returns the mean loss and leaves the batch mean of
    /// dL/dθ in <see cref="ISampleNetwork.Gradients"/>. Single-threaded.
    /// </summary>
    public static float TrainBatchPerSample(ISampleNetwork network, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels)
    {
        int count = labels.Length, inLength = network.InputLength;
        network.ZeroGradients();
        float sum = 0f;
        for (int i = 0; i < count; i++)
        {
            sum += network.TrainSample(inputs.Slice(i * inLength, inLength), labels[i]);
        }

        TensorPrimitives.Multiply(network.Gradients, 1f / count, network.Gradients);
        return sum / count;
    }

    private void ForwardChunk(int t)
    {
        ISampleNetwork network = _replicas[t];
        int threads = _replicas.Length, inLength = network.InputLength, outLength = network.OutputLength;
        int first = (int)((long)_chunkCount * t / threads), end = (int)((long)_chunkCount * (t + 1) / threads);
        for (int i = first; i < end; i++)
        {
            network.Forward(_chunkInputs.AsSpan(i * inLength, inLength), _chunkOutputs.AsSpan(i * outLength, outLength));
        }
    }
}
