using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using NetGen.Training;

using NetGen.Generator.Layers;

namespace NetGen.Benchmarks.RuntimeShaped;

/// <summary>
/// A network as a list of <see cref="Layer"/> objects with run-time shapes, with the members of
/// <see cref="ISampleNetwork"/>, the same parameter layout (PyTorch's <c>parameters()</c> order) and the same semantics as
/// the generated classes. Batches run through the runtime's own <see cref="BatchEngine{TWorkspace}"/> (the engine the
/// generated classes derive from): chunks of 16 samples (32 when a dense weight is larger than 1 MB, as in the generated engine), one workspace per worker thread, the same fixed-order reduction.
/// </summary>
public sealed class RuntimeNetwork : ISampleNetwork
{
    private readonly Layer[] _layers;
    private readonly Softmax _softmax;
    private readonly int[] _parameterOffsets;
    private readonly bool[] _fused;
    private readonly Workspace _workspace;
    private readonly Engine _engine;

    private RuntimeNetwork(int channels, int height, int width, List<Layer> layers)
    {
        _layers = layers.ToArray();
        _softmax = _layers[^1] as Softmax ?? throw new ArgumentException("The last layer must be Softmax.", nameof(layers));
        InputLength = channels * height * width;
        OutputLength = _softmax.OutLength;
        _parameterOffsets = new int[_layers.Length];
        int offset = 0;
        for (int l = 0; l < _layers.Length; l++)
        {
            _parameterOffsets[l] = offset;
            offset += _layers[l].ParameterCount;
        }

        // A ReLU before a max pooling is done by the pooling, as the generator does.
        _fused = new bool[_layers.Length];
        for (int l = 0; l + 1 < _layers.Length; l++)
        {
            if (_layers[l] is ReLU && _layers[l + 1] is MaxPool2D pool)
            {
                _fused[l] = true;
                pool.RectifiesInput = true;
            }
        }

        _parameters = new float[offset];
        Gradients = new float[offset];
        _workspace = new Workspace(this, capacity: 1);
        _engine = new Engine(this);
    }

    /// <summary>Builds LeNet-5 as <see cref="LeNet5"/> declares it.</summary>
    public static RuntimeNetwork LeNet5() => new Builder(1, 28, 28)
        .Conv2D(6, 5, padding: 2).ReLU().MaxPool2D(2)
        .Conv2D(16, 5).ReLU().MaxPool2D(2)
        .Dense(120).ReLU().Dense(84).ReLU().Dense(10).Softmax();

    /// <summary>Builds the wide network as <see cref="WideNet"/> declares it.</summary>
    public static RuntimeNetwork WideNet() => new Builder(1, 28, 28)
        .Conv2D(32, 5, padding: 2).ReLU().MaxPool2D(2)
        .Conv2D(64, 5, padding: 2).ReLU().MaxPool2D(2)
        .Dense(1024).ReLU().Dense(10).Softmax();

    /// <summary>LeNet-5's second convolution alone, as <see cref="LeNet5Conv2"/> declares it.</summary>
    public static RuntimeNetwork LeNet5Conv2() => new Builder(6, 14, 14).Conv2D(16, 5).Softmax();

    /// <summary>WideNet's second convolution alone, as <see cref="WideNetConv2"/> declares it.</summary>
    public static RuntimeNetwork WideNetConv2() => new Builder(32, 14, 14).Conv2D(64, 5, padding: 2).Softmax();

    public IReadOnlyList<Layer> Layers => _layers;
    public int InputLength { get; }
    public int OutputLength { get; }
    public int ParameterCount => _parameters.Length;
    private readonly float[] _parameters;

    /// <summary>Whether the convolutions' Winograd weights may be out of date, as the generated <c>_foldedStale</c>.</summary>
    private bool _stale = true;

    /// <summary>The parameters; getting them marks the Winograd weights stale, as the generated getter does.</summary>
    public float[] Parameters
    {
        get
        {
            _stale = true;
            return _parameters;
        }
    }

    public float[] Gradients { get; }
    public ReadOnlySpan<float> InputGradient => _workspace.InputGradient.AsSpan(0, InputLength);

    public int DegreeOfParallelism
    {
        get => _engine.DegreeOfParallelism;
        set => _engine.DegreeOfParallelism = value;
    }

    /// <summary>Multiply-adds of one forward pass of one sample.</summary>
    public long MultiplyAdds
    {
        get
        {
            long sum = 0;
            foreach (Layer layer in _layers)
            {
                sum += layer.MultiplyAdds;
            }

            return sum;
        }
    }

    public void InitializeParameters(int seed)
    {
        // Same scheme as the generated code (He uniform weights, zero biases, one random sequence in layer order),
        // so the same seed gives the same parameters as the generated network.
        _stale = true;
        var random = new SeededRandom(seed);
        for (int l = 0; l < _layers.Length; l++)
        {
            Layer layer = _layers[l];
            if (layer.ParameterCount == 0)
            {
                continue;
            }

            Span<float> slice = _parameters.AsSpan(_parameterOffsets[l], layer.ParameterCount);
            ParameterInitializer.HeUniform(slice.Slice(0, layer.WeightCount), layer.FanIn, ref random);
            slice.Slice(layer.WeightCount).Clear();
        }
    }

    /// <summary>Before a pass: the convolutions' Winograd weights from the parameters, if stale (always before training), as the generated <c>PrepareWeights</c>.</summary>
    private void PrepareWeights(bool training)
    {
        if (!_stale && !training)
        {
            return;
        }

        for (int l = 0; l < _layers.Length; l++)
        {
            if (_layers[l] is Conv2D { Winograd: true } convolution)
            {
                convolution.PrepareWeights(_parameters.AsSpan(_parameterOffsets[l], convolution.ParameterCount));
            }
        }

        _stale = training;
    }

    public void Forward(ReadOnlySpan<float> input, Span<float> probabilities)
    {
        Guard.Length(input.Length, InputLength, nameof(input));
        Guard.Length(probabilities.Length, OutputLength, nameof(probabilities));
        PrepareWeights(training: false);
        input.CopyTo(_workspace.Input);
        ForwardPass(1, _parameters, _workspace);
        _workspace.Layers[^1].Output.AsSpan(0, OutputLength).CopyTo(probabilities);
    }

    public float TrainSample(ReadOnlySpan<float> input, int label)
    {
        Guard.Length(input.Length, InputLength, nameof(input));
        Guard.Label(label, OutputLength, nameof(label));
        PrepareWeights(training: true);
        return TrainSamples(1, input, new ReadOnlySpan<int>(in label), _parameters, Gradients, inputGradient: true, _workspace);
    }

    public float TrainBatch(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels)
    {
        PrepareWeights(training: true);
        return _engine.TrainBatch(_parameters, Gradients, inputs, labels);
    }

    public void ForwardBatch(ReadOnlySpan<float> inputs, Span<float> probabilities)
    {
        PrepareWeights(training: false);
        _engine.ForwardBatch(_parameters, inputs, probabilities);
    }

    public void ZeroGradients() => Array.Clear(Gradients);

    private float TrainSamples(int count, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> parameters, Span<float> gradients, bool inputGradient, Workspace ws)
    {
        inputs.CopyTo(ws.Input);
        ForwardPass(count, parameters, ws);
        BackwardPass(count, labels, parameters, gradients, inputGradient, ws);
        float sum = 0f;
        int classes = OutputLength;
        float[] logits = ws.Layers[^2].Output, logSumExp = ws.Layers[^1].LogSumExp;
        for (int s = 0; s < count; s++)
        {
            sum += logSumExp[s] - logits[s * classes + labels[s]];
        }

        return sum;
    }

    private void ForwardPass(int count, ReadOnlySpan<float> parameters, Workspace ws)
    {
        ReadOnlySpan<float> x = ws.Input;
        for (int l = 0; l < _layers.Length; l++)
        {
            if (_fused[l])
            {
                continue; // the next layer reads this one's input
            }

            Layer layer = _layers[l];
            layer.Forward(count, x, parameters.Slice(_parameterOffsets[l], layer.ParameterCount), ws.Layers[l]);
            x = ws.Layers[l].Output;
        }
    }

    private void BackwardPass(int count, ReadOnlySpan<int> labels, ReadOnlySpan<float> parameters, Span<float> gradients, bool inputGradient, Workspace ws)
    {
        int last = _layers.Length - 1;
        // Softmax + cross-entropy writes dL/d(logits), the output gradient of the layer before it.
        _softmax.Backward(count, ws.Layers[last], labels, ws.Layers[last - 1].OutputGradient);
        for (int l = last - 1; l >= 0; l--)
        {
            if (_fused[l])
            {
                continue; // the next layer wrote this one's input gradient
            }

            Layer layer = _layers[l];
            int before = l > 0 && _fused[l - 1] ? l - 2 : l - 1; // the layer whose output this one reads
            ReadOnlySpan<float> x = before < 0 ? ws.Input : ws.Layers[before].Output;
            Span<float> dx = before < 0 ? ws.InputGradient : ws.Layers[before].OutputGradient;
            int offset = _parameterOffsets[l], parameterCount = layer.ParameterCount;
            layer.Backward(count, x, parameters.Slice(offset, parameterCount), gradients.Slice(offset, parameterCount), ws.Layers[l], dx, computeDx: l > 0 || inputGradient);
        }
    }

    /// <summary>Activations, gradients and scratch of up to <c>capacity</c> samples: one per worker thread.</summary>
    private sealed class Workspace
    {
        public Workspace(RuntimeNetwork network, int capacity)
        {
            Input = new float[capacity * network.InputLength + LayerBuffers.Slack];
            InputGradient = new float[capacity * network.InputLength + LayerBuffers.Slack];
            Layers = new LayerBuffers[network._layers.Length];
            for (int l = 0; l < Layers.Length; l++)
            {
                Layers[l] = network._layers[l].CreateBuffers(capacity);
            }
        }

        public float[] Input { get; }
        public float[] InputGradient { get; }
        public LayerBuffers[] Layers { get; }
    }

    /// <summary>Rows of a dense layer's dL/dW per work item of the batch-gradient phase, as in the generated engine.</summary>
    private const int RowsPerItem = 32;

    /// <summary>The dense layers (their indices), whose weight gradient a batch computes once over all its samples.</summary>
    private int[] DenseLayers()
    {
        var dense = new List<int>();
        for (int l = 0; l < _layers.Length; l++)
        {
            if (_layers[l] is Dense)
            {
                dense.Add(l);
            }
        }

        return dense.ToArray();
    }

    private ParameterRange[] BatchGradientRanges() =>
        Array.ConvertAll(DenseLayers(), l => new ParameterRange(_parameterOffsets[l], _layers[l].WeightCount));

    private int BatchGradientItems()
    {
        int items = 0;
        foreach (int l in DenseLayers())
        {
            items += (_layers[l].OutLength + RowsPerItem - 1) / RowsPerItem;
        }

        return items;
    }

    /// <summary>The generated engine's chunk size: 32 when a dense weight is larger than 1 MB (a core's L2), else 16.</summary>
    private int ChunkSize() =>
        BatchChunking.ChunkSize(Array.Exists(DenseLayers(), l => _layers[l].WeightCount * (long)sizeof(float) > DenseStrategy.LargeWeightBytes));

    /// <summary>The runtime's batch engine, driving this network's passes, with the dense layers' dL/dW computed per batch as in the generated engine.</summary>
    private sealed class Engine(RuntimeNetwork network) : BatchEngine<Workspace>(network.InputLength, network.OutputLength, network.ParameterCount, network.BatchGradientRanges(), network.BatchGradientItems(), network.ChunkSize())
    {
        private readonly int[] _dense = network.DenseLayers();
        private readonly float[][] _inputs = new float[network.DenseLayers().Length][];
        private readonly float[][] _outputGradients = new float[network.DenseLayers().Length][];

        protected override Workspace CreateWorkspace(int capacity)
        {
            var workspace = new Workspace(network, capacity);
            foreach (LayerBuffers buffers in workspace.Layers)
            {
                buffers.BatchWeightGradient = true;
            }

            return workspace;
        }

        protected override void PrepareBatch(int count)
        {
            for (int d = 0; d < _dense.Length; d++)
            {
                Layer layer = network._layers[_dense[d]];
                _inputs[d] ??= [];
                _outputGradients[d] ??= [];
                Grow(ref _inputs[d], count * layer.InLength);
                Grow(ref _outputGradients[d], count * layer.OutLength);
            }
        }

        protected override float TrainChunk(int stage, Workspace workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> gradients, int first)
        {
            int count = labels.Length;
            float loss = network.TrainSamples(count, inputs, labels, parameters, gradients, inputGradient: false, workspace);
            for (int d = 0; d < _dense.Length; d++)
            {
                int l = _dense[d];
                Layer layer = network._layers[l];
                float[] x = l == 0 ? workspace.Input : workspace.Layers[l - 1].Output;
                x.AsSpan(0, count * layer.InLength).CopyTo(_inputs[d].AsSpan(first * layer.InLength));
                workspace.Layers[l].OutputGradient.AsSpan(0, count * layer.OutLength).CopyTo(_outputGradients[d].AsSpan(first * layer.OutLength));
            }

            return loss;
        }

        protected override ParameterRange ComputeBatchGradient(int item, int count, Span<float> gradients)
        {
            for (int d = 0; d < _dense.Length; d++)
            {
                int l = _dense[d];
                var layer = (Dense)network._layers[l];
                int rows = layer.OutLength, items = (rows + RowsPerItem - 1) / RowsPerItem;
                if (item < items)
                {
                    int first = item * RowsPerItem, end = Math.Min(first + RowsPerItem, rows);
                    layer.BatchWeightGradient(first, end, count, _inputs[d], _outputGradients[d], gradients.Slice(network._parameterOffsets[l], layer.WeightCount));
                    return new ParameterRange(network._parameterOffsets[l] + first * layer.InLength, (end - first) * layer.InLength); // scaled to the mean by the engine
                }

                item -= items;
            }

            throw new ArgumentOutOfRangeException(nameof(item));
        }

        protected override void ForwardChunk(Workspace workspace, ReadOnlySpan<float> parameters, ReadOnlySpan<float> inputs, Span<float> probabilities)
        {
            int count = probabilities.Length / network.OutputLength;
            inputs.CopyTo(workspace.Input);
            network.ForwardPass(count, parameters, workspace);
            workspace.Layers[^1].Output.AsSpan(0, probabilities.Length).CopyTo(probabilities);
        }
    }

    /// <summary>Appends layers and carries the current shape, as the generator's shape inference does.</summary>
    private sealed class Builder
    {
        private readonly List<Layer> _layers = [];
        private readonly int _inputChannels, _inputHeight, _inputWidth;
        private int _c, _h, _w;

        public Builder(int channels, int height, int width)
        {
            (_inputChannels, _inputHeight, _inputWidth) = (channels, height, width);
            (_c, _h, _w) = (channels, height, width);
        }

        public Builder Conv2D(int filters, int kernelSize, int stride = 1, int padding = 0) =>
            Add(new Conv2D(_c, _h, _w, filters, kernelSize, stride, padding));

        public Builder ReLU() => Add(new ReLU(_c, _h, _w));

        public Builder MaxPool2D(int size) => Add(new MaxPool2D(_c, _h, _w, size));

        public Builder Dense(int units) => Add(new Dense(_c, _h, _w, units));

        public RuntimeNetwork Softmax()
        {
            Add(new Softmax(_c * _h * _w));
            return new RuntimeNetwork(_inputChannels, _inputHeight, _inputWidth, _layers);
        }

        private Builder Add(Layer layer)
        {
            _layers.Add(layer);
            (_c, _h, _w) = (layer.OutChannels, layer.OutHeight, layer.OutWidth);
            return this;
        }
    }
}
