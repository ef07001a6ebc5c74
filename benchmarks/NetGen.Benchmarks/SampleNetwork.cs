using System;

namespace NetGen.Benchmarks;

/// <summary>
/// The per-sample members the benchmarks drive: NetGen's generated classes have them (through
/// <see cref="GeneratedNetwork"/>), and so does the runtime-shaped <see cref="RuntimeShaped.RuntimeNetwork"/>.
/// Separate from <see cref="INetwork"/> so that the runtime-shaped network need not implement all of INetwork
/// (safetensors, parameter layout, …).
/// </summary>
public interface ISampleNetwork
{
    int InputLength { get; }
    int OutputLength { get; }
    int ParameterCount { get; }
    float[] Parameters { get; }
    float[] Gradients { get; }
    ReadOnlySpan<float> InputGradient { get; }
    void InitializeParameters(int seed);
    void Forward(ReadOnlySpan<float> input, Span<float> probabilities);
    float TrainSample(ReadOnlySpan<float> input, int label);
    void ZeroGradients();

    /// <summary>Threads the batch calls may use (the calling thread included).</summary>
    int DegreeOfParallelism { get; set; }

    /// <summary>Forward + backward over a batch in chunks of the network's size (16 or 32 samples): Gradients = batch mean of dL/dθ; returns the mean loss.</summary>
    float TrainBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels);

    /// <summary>Forward pass over a batch in chunks of the network's size (16 or 32 samples); one row of probabilities per sample.</summary>
    void ForwardBatch(ReadOnlySpan<float> inputs, Span<float> probabilities);
}

/// <summary>A NetGen-generated network seen as an <see cref="ISampleNetwork"/> (one interface call per sample).</summary>
public sealed class GeneratedNetwork(INetwork inner) : ISampleNetwork
{
    /// <summary>The generated class itself.</summary>
    public INetwork Inner { get; } = inner;

    public int InputLength => Inner.InputLength;
    public int OutputLength => Inner.OutputLength;
    public int ParameterCount => Inner.ParameterCount;
    public float[] Parameters => Inner.Parameters;
    public float[] Gradients => Inner.Gradients;
    public ReadOnlySpan<float> InputGradient => Inner.InputGradient;
    public void InitializeParameters(int seed) => Inner.InitializeParameters(seed);
    public void Forward(ReadOnlySpan<float> input, Span<float> probabilities) => Inner.Forward(input, probabilities);
    public float TrainSample(ReadOnlySpan<float> input, int label) => Inner.TrainSample(input, label);
    public void ZeroGradients() => Inner.ZeroGradients();
    public int DegreeOfParallelism { get => Inner.DegreeOfParallelism; set => Inner.DegreeOfParallelism = value; }
    public float TrainBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels) => Inner.TrainBatch(inputs, labels);
    public void ForwardBatch(ReadOnlySpan<float> inputs, Span<float> probabilities) => Inner.ForwardBatch(inputs, probabilities);
}
