using System;

namespace NetGen;

/// <summary>
/// What every NetGen-generated network offers, so that training loops, optimizers and tools can work with
/// any network without reflection. The generated class implements it; its own members are the same, with
/// the shapes as compile-time constants.
/// </summary>
/// <remarks>
/// An instance keeps one workspace of activations: it is not safe to call <see cref="Forward"/>,
/// <see cref="Predict"/> or <see cref="TrainSample"/> on the same instance from several threads at once.
/// </remarks>
/// <example>
/// One training step that works for any generated network:
/// <code>
/// static float Step(INetwork net, IOptimizer optimizer, ReadOnlySpan&lt;float&gt; inputs, ReadOnlySpan&lt;int&gt; labels)
/// {
///     float loss = net.TrainBatch(inputs, labels);   // Gradients = the batch's mean dL/dθ
///     optimizer.Step(net.Parameters, net.Gradients);
///     return loss;
/// }
/// </code>
/// </example>
public interface INetwork
{
    /// <summary>Floats in one input sample (channels × height × width).</summary>
    int InputLength { get; }

    /// <summary>Channels of the input.</summary>
    int InputChannels { get; }

    /// <summary>Height of the input.</summary>
    int InputHeight { get; }

    /// <summary>Width of the input.</summary>
    int InputWidth { get; }

    /// <summary>Floats in one output (the number of classes).</summary>
    int OutputLength { get; }

    /// <summary>Total number of trainable parameters.</summary>
    int ParameterCount { get; }

    /// <summary>All parameters, layer by layer, weight then bias, each in PyTorch's layout.</summary>
    float[] Parameters { get; }

    /// <summary>Gradients of the loss with respect to <see cref="Parameters"/>, same layout; accumulated by training.</summary>
    float[] Gradients { get; }

    /// <summary>dL/d(input) of the last <see cref="TrainSample"/> call.</summary>
    ReadOnlySpan<float> InputGradient { get; }

    /// <summary>He (Kaiming) uniform weights, zero biases; the same seed gives the same bits.</summary>
    void InitializeParameters(int seed);

    /// <summary>Runs the network on one sample and writes the class probabilities.</summary>
    void Forward(ReadOnlySpan<float> input, Span<float> probabilities);

    /// <summary>Runs the network on one sample and returns the most probable class.</summary>
    int Predict(ReadOnlySpan<float> input);

    /// <summary>Forward and backward pass for one sample: adds dL/dθ into <see cref="Gradients"/> and returns the loss.</summary>
    float TrainSample(ReadOnlySpan<float> input, int label);

    /// <summary>The loss −log p(label) for one sample, without touching <see cref="Gradients"/>.</summary>
    float Loss(ReadOnlySpan<float> input, int label);

    /// <summary>Forward and backward pass over a batch: sets <see cref="Gradients"/> to the mean dL/dθ, returns the mean loss.</summary>
    float TrainBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels);

    /// <summary>Runs the network on a batch; one row of probabilities per sample.</summary>
    void ForwardBatch(ReadOnlySpan<float> inputs, Span<float> probabilities);

    /// <summary>The most probable class of each sample of a batch.</summary>
    void PredictBatch(ReadOnlySpan<float> inputs, Span<int> predictions);

    /// <summary>Threads the batch methods may use, the calling thread included.</summary>
    int DegreeOfParallelism { get; set; }

    /// <summary>The tensors of <see cref="Parameters"/>: PyTorch names, shapes and offsets.</summary>
    System.Collections.Generic.IReadOnlyList<Weights.TensorSlot> ParameterLayout { get; }

    /// <summary>Writes the parameters to a safetensors file.</summary>
    void Save(string path);

    /// <summary>Reads the parameters from a safetensors file, checking it whole before changing anything.</summary>
    void Load(string path);

    /// <summary>Sets every gradient to zero.</summary>
    void ZeroGradients();
}
