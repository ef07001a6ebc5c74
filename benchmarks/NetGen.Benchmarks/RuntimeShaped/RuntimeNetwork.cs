using System;
using System.Collections.Generic;
using System.Numerics.Tensors;

namespace NetGen.Benchmarks.RuntimeShaped;

/// <summary>
/// A network as a list of <see cref="Layer"/> objects with run-time shapes, with the per-sample members of
/// <see cref="INetwork"/> (as <see cref="ISampleNetwork"/>), the same parameter layout (PyTorch's <c>parameters()</c> order) and the same per-sample semantics as the
/// generated classes.
/// </summary>
public sealed class RuntimeNetwork : ISampleNetwork
{
    private readonly Layer[] _layers;
    private readonly Softmax _softmax;
    private readonly int[] _parameterOffsets;
    private readonly float[][] _outputs;          // activation after each layer
    private readonly float[][] _outputGradients;  // dL/d(activation) after each layer
    private readonly float[] _inputGradient;

    private RuntimeNetwork(int channels, int height, int width, List<Layer> layers)
    {
        _layers = layers.ToArray();
        _softmax = _layers[^1] as Softmax ?? throw new ArgumentException("The last layer must be Softmax.", nameof(layers));
        InputChannels = channels;
        InputHeight = height;
        InputWidth = width;
        _parameterOffsets = new int[_layers.Length];
        _outputs = new float[_layers.Length][];
        _outputGradients = new float[_layers.Length][];
        int offset = 0;
        for (int l = 0; l < _layers.Length; l++)
        {
            _parameterOffsets[l] = offset;
            offset += _layers[l].ParameterCount;
            _outputs[l] = new float[_layers[l].OutLength];
            _outputGradients[l] = new float[_layers[l].OutLength];
        }

        Parameters = new float[offset];
        Gradients = new float[offset];
        _inputGradient = new float[InputLength];
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

    public IReadOnlyList<Layer> Layers => _layers;
    public int InputLength => InputChannels * InputHeight * InputWidth;
    public int InputChannels { get; }
    public int InputHeight { get; }
    public int InputWidth { get; }
    public int OutputLength => _softmax.OutLength;
    public int ParameterCount => Parameters.Length;
    public float[] Parameters { get; }
    public float[] Gradients { get; }
    public ReadOnlySpan<float> InputGradient => _inputGradient;

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
        var random = new SeededRandom(seed);
        for (int l = 0; l < _layers.Length; l++)
        {
            Layer layer = _layers[l];
            if (layer.ParameterCount == 0)
            {
                continue;
            }

            Span<float> slice = Parameters.AsSpan(_parameterOffsets[l], layer.ParameterCount);
            ParameterInitializer.HeUniform(slice.Slice(0, layer.WeightCount), layer.FanIn, ref random);
            slice.Slice(layer.WeightCount).Clear();
        }
    }

    public void Forward(ReadOnlySpan<float> input, Span<float> probabilities)
    {
        Guard.Length(input.Length, InputLength, nameof(input));
        Guard.Length(probabilities.Length, OutputLength, nameof(probabilities));
        ForwardPass(input);
        _outputs[^1].CopyTo(probabilities);
    }

    public int Predict(ReadOnlySpan<float> input)
    {
        Guard.Length(input.Length, InputLength, nameof(input));
        ForwardPass(input);
        return TensorPrimitives.IndexOfMax(_outputs[^1]);
    }

    public float TrainSample(ReadOnlySpan<float> input, int label)
    {
        Guard.Length(input.Length, InputLength, nameof(input));
        Guard.Label(label, OutputLength, nameof(label));
        ForwardPass(input);
        BackwardPass(input, label);
        return _softmax.LogSumExp - _outputs[^2][label];
    }

    public float Loss(ReadOnlySpan<float> input, int label)
    {
        Guard.Length(input.Length, InputLength, nameof(input));
        Guard.Label(label, OutputLength, nameof(label));
        ForwardPass(input);
        return _softmax.LogSumExp - _outputs[^2][label];
    }

    public void ZeroGradients() => Array.Clear(Gradients);

    private void ForwardPass(ReadOnlySpan<float> input)
    {
        ReadOnlySpan<float> parameters = Parameters;
        ReadOnlySpan<float> x = input;
        for (int l = 0; l < _layers.Length; l++)
        {
            Layer layer = _layers[l];
            layer.Forward(x, parameters.Slice(_parameterOffsets[l], layer.ParameterCount), _outputs[l]);
            x = _outputs[l];
        }
    }

    private void BackwardPass(ReadOnlySpan<float> input, int label)
    {
        ReadOnlySpan<float> parameters = Parameters;
        Span<float> gradients = Gradients;
        int last = _layers.Length - 1;
        // Softmax + cross-entropy writes dL/d(logits), the gradient of the layer before it.
        Softmax.Backward(_outputs[last], label, _outputGradients[last - 1]);
        for (int l = last - 1; l >= 0; l--)
        {
            Layer layer = _layers[l];
            ReadOnlySpan<float> x = l == 0 ? input : _outputs[l - 1];
            Span<float> dx = l == 0 ? _inputGradient : _outputGradients[l - 1];
            int offset = _parameterOffsets[l], count = layer.ParameterCount;
            layer.Backward(x, _outputs[l], _outputGradients[l], parameters.Slice(offset, count), gradients.Slice(offset, count), dx);
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
