using System;

namespace NetGen;

/// <summary>
/// What every NetGen-generated network offers, whatever its loss, so that optimizers and tools can work with any network
/// without reflection: shapes, parameters and gradients, initialization, inference, weights I/O. A network that ends with
/// <c>[Softmax]</c> is an <see cref="INetwork"/> (a classifier); one that ends with <c>[MeanSquaredError]</c> an
/// <see cref="IRegressionNetwork"/>.
/// </summary>
/// <remarks>
/// An instance keeps its activations inside, so it runs one call at a time: a thread that calls a method while another
/// thread is inside one on the same instance gets an <see cref="InvalidOperationException"/>. For concurrent inference use
/// <see cref="Clone"/> (one instance per thread) or a <see cref="Predictor{TNetwork}"/>.
/// </remarks>
public interface INeuralNetwork
{
    /// <summary>Floats in one input sample (channels × height × width).</summary>
    int InputLength { get; }

    /// <summary>Channels of the input.</summary>
    int InputChannels { get; }

    /// <summary>Height of the input.</summary>
    int InputHeight { get; }

    /// <summary>Width of the input.</summary>
    int InputWidth { get; }

    /// <summary>Floats in one output: the number of classes of a classifier, the output's length of a regression.</summary>
    int OutputLength { get; }

    /// <summary>Total number of trainable parameters.</summary>
    int ParameterCount { get; }

    /// <summary>All parameters, layer by layer, weight then bias, each in PyTorch's layout.</summary>
    float[] Parameters { get; }

    /// <summary>Gradients of the loss with respect to <see cref="Parameters"/>, same layout; accumulated by training.</summary>
    float[] Gradients { get; }

    /// <summary>dL/d(input) of the last single-sample training call.</summary>
    ReadOnlySpan<float> InputGradient { get; }

    /// <summary>
    /// The output of the layer named <paramref name="layer"/> for the sample of the last single-sample call (Forward,
    /// Predict, Loss, TrainSample), CHW row-major: intermediate features, valid until the next call. The generated class
    /// also has a property per layer (<c>Conv2Output</c>).
    /// </summary>
    /// <param name="layer">The layer's name, as in the generated <c>Summary</c>.</param>
    /// <returns>A view of the instance's workspace.</returns>
    /// <exception cref="ArgumentException">No layer has that name, or its output is not kept (a ReLU computed inside the
    /// max pooling after it, a convolution with its BatchNorm folded in); the message says which layer to read instead.</exception>
    ReadOnlySpan<float> LayerOutput(string layer);

    /// <summary>He (Kaiming) uniform weights, zero biases; the same seed gives the same bits.</summary>
    void InitializeParameters(int seed);

    /// <summary>Runs the network on one sample (inference mode) and writes its output: a classifier's class probabilities.</summary>
    void Forward(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Runs the network on a batch (inference mode); one row of outputs per sample.</summary>
    void ForwardBatch(ReadOnlySpan<float> inputs, Span<float> outputs);

    /// <summary>Threads the batch methods may use, the calling thread included.</summary>
    int DegreeOfParallelism { get; set; }

    /// <summary>The tensors of <see cref="Parameters"/>: PyTorch names, shapes and offsets.</summary>
    System.Collections.Generic.IReadOnlyList<Weights.TensorSlot> ParameterLayout { get; }

    /// <summary>Writes the parameters (and any running statistics) to a safetensors file.</summary>
    void Save(string path);

    /// <summary>Reads the parameters (and any running statistics) from a safetensors file, checking it whole before changing anything.</summary>
    void Load(string path);

    /// <summary>Sets every gradient to zero.</summary>
    void ZeroGradients();

    /// <summary>
    /// The float state that is not a parameter, in <c>state_dict()</c> order (BatchNorm's running means and variances);
    /// empty for a network without such layers. Training updates it; an optimizer never does.
    /// </summary>
    float[] Buffers { get; }

    /// <summary>The tensors of <see cref="Buffers"/>: <c>state_dict()</c> names (<c>bn1.running_mean</c>, …), shapes and offsets.</summary>
    System.Collections.Generic.IReadOnlyList<Weights.TensorSlot> BufferLayout { get; }

    /// <summary>The long state (each BatchNorm's <c>num_batches_tracked</c>); empty for a network without such layers.</summary>
    long[] Counters { get; }

    /// <summary>The tensors of <see cref="Counters"/>: <c>state_dict()</c> names, shapes ([], scalars) and offsets.</summary>
    System.Collections.Generic.IReadOnlyList<Weights.TensorSlot> CounterLayout { get; }

    /// <summary>
    /// The seed and step of the dropout masks that the next training call draws; null for a network without a Dropout
    /// layer. A training checkpoint keeps it, so that a resumed run draws the masks it would have drawn.
    /// </summary>
    /// <exception cref="ArgumentNullException">Set to null on a network with a Dropout layer.</exception>
    /// <exception cref="ArgumentException">Set to a value on a network without one.</exception>
    DropoutState? Dropout { get; set; }

    /// <summary>
    /// Writes the network with its current parameters (and running statistics) as an ONNX model, opset 17: input
    /// <c>input</c> [N, C, H, W] (N, the batch size, dynamic), output <c>output</c> (a classifier's class probabilities,
    /// a regression's output); one node per layer, named as the layer (Dropout is left out, a dense layer reads its input
    /// through a <c>Flatten</c>), initializers under the safetensors names (<c>conv1.weight</c>). Written to a temporary
    /// file, then renamed.
    /// </summary>
    /// <param name="path">The file to create or replace (<c>.onnx</c>).</param>
    void ExportOnnx(string path);

    /// <summary>Writes the network as an ONNX model (see <see cref="ExportOnnx(string)"/>) to a stream, left open.</summary>
    /// <param name="stream">A writable stream.</param>
    void ExportOnnx(System.IO.Stream stream);

    /// <summary>
    /// A new instance of the same network class that shares nothing mutable with this one: a copy of the parameters, the
    /// gradients, any running statistics and counters and the dropout step, with workspaces of its own. The two give
    /// the same outputs and are used, trained or loaded independently of each other, each by one thread at a time.
    /// </summary>
    INeuralNetwork Clone();
}

/// <summary>
/// A generated classifier: a network that ends with <c>[Softmax]</c> and trains on class labels with the softmax
/// cross-entropy loss.
/// </summary>
/// <remarks>
/// An instance runs one call at a time (a second thread gets an <see cref="InvalidOperationException"/>); for
/// concurrent inference use <see cref="INeuralNetwork.Clone"/> or a <see cref="Predictor{TNetwork}"/>.
/// </remarks>
/// <example>
/// One training step that works for any generated classifier:
/// <code>
/// static float Step(INetwork net, IOptimizer optimizer, ReadOnlySpan&lt;float&gt; inputs, ReadOnlySpan&lt;int&gt; labels)
/// {
///     float loss = net.TrainBatch(inputs, labels);   // Gradients = the batch's mean dL/dθ
///     optimizer.Step(net.Parameters, net.Gradients);
///     return loss;
/// }
/// </code>
/// </example>
public interface INetwork : INeuralNetwork
{
    /// <summary>Runs the network on one sample and returns the most probable class.</summary>
    int Predict(ReadOnlySpan<float> input);

    /// <summary>Forward and backward pass for one sample: adds dL/dθ into <see cref="INeuralNetwork.Gradients"/> and returns the loss.</summary>
    float TrainSample(ReadOnlySpan<float> input, int label);

    /// <summary>The loss −log p(label) for one sample, without touching <see cref="INeuralNetwork.Gradients"/>.</summary>
    float Loss(ReadOnlySpan<float> input, int label);

    /// <summary>Forward and backward pass over a batch: sets <see cref="INeuralNetwork.Gradients"/> to the mean dL/dθ, returns the mean loss.</summary>
    float TrainBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels);

    /// <summary>The most probable class of each sample of a batch.</summary>
    void PredictBatch(ReadOnlySpan<float> inputs, Span<int> predictions);
}

/// <summary>
/// A generated regression network: one that ends with <c>[MeanSquaredError]</c> and trains on target values with the mean
/// squared error over the output's elements (PyTorch's <c>MSELoss()</c>).
/// </summary>
public interface IRegressionNetwork : INeuralNetwork
{
    /// <summary>Forward and backward pass for one sample: adds dL/dθ into <see cref="INeuralNetwork.Gradients"/> and returns the loss.</summary>
    float TrainSample(ReadOnlySpan<float> input, ReadOnlySpan<float> target);

    /// <summary>The mean squared error of one sample's output against <paramref name="target"/>, without touching <see cref="INeuralNetwork.Gradients"/>.</summary>
    float Loss(ReadOnlySpan<float> input, ReadOnlySpan<float> target);

    /// <summary>Forward and backward pass over a batch: sets <see cref="INeuralNetwork.Gradients"/> to the mean dL/dθ, returns the mean loss.</summary>
    float TrainBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets);
}
