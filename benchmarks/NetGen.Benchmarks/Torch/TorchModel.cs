using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NetGen.Benchmarks.Torch;

/// <summary>
/// The same network in TorchSharp (torch.nn Conv2d / ReLU / MaxPool2d / Flatten / Linear in a Sequential, or the
/// <see cref="ResNetModule"/> with its own forward), with its parameters copied from a NetGen parameter vector (same
/// layout: PyTorch's parameters() concatenated), trained with log_softmax + nll_loss and torch.optim.SGD.
/// </summary>
public sealed class TorchModel : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly optim.Optimizer _optimizer;

    public TorchModel(NetworkKind network, ReadOnlySpan<float> parameters)
    {
        _model = Build(network);
        CopyParameters(_model, parameters);
        _optimizer = optim.SGD(_model.parameters(), Workload.LearningRate);
    }

    public nn.Module<Tensor, Tensor> Module => _model;

    public static nn.Module<Tensor, Tensor> Build(NetworkKind network) => network switch
    {
        NetworkKind.LeNet5 => nn.Sequential(
            ("conv1", nn.Conv2d(1, 6, 5, padding: 2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(6, 16, 5)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()),
            ("dense1", nn.Linear(400, 120)), ("relu3", nn.ReLU()),
            ("dense2", nn.Linear(120, 84)), ("relu4", nn.ReLU()),
            ("dense3", nn.Linear(84, 10))),
        NetworkKind.WideNet => nn.Sequential(
            ("conv1", nn.Conv2d(1, 32, 5, padding: 2)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(32, 64, 5, padding: 2)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()),
            ("dense1", nn.Linear(3136, 1024)), ("relu3", nn.ReLU()),
            ("dense2", nn.Linear(1024, 10))),
        NetworkKind.ResNet => new ResNetModule(),
        _ => throw new ArgumentOutOfRangeException(nameof(network)),
    };

    /// <summary>Copies a flat vector (parameters() concatenated) into the module's parameters.</summary>
    public static void CopyParameters(nn.Module module, ReadOnlySpan<float> flat)
    {
        long offset = 0;
        using (no_grad())
        {
            foreach (Parameter p in module.parameters())
            {
                int count = checked((int)p.numel());
                using Tensor source = tensor(flat.Slice((int)offset, count).ToArray(), p.shape);
                p.copy_(source);
                offset += count;
            }
        }

        if (offset != flat.Length)
        {
            throw new ArgumentException($"The module has {offset} parameters, the vector {flat.Length}.", nameof(flat));
        }
    }

    /// <summary>The module's parameter names (<c>stem.weight</c>, …) and shapes in parameters() order.</summary>
    public (string Name, long[] Shape)[] ParameterLayout()
    {
        var list = new System.Collections.Generic.List<(string, long[])>();
        foreach ((string name, Parameter p) in _model.named_parameters())
        {
            list.Add((name, p.shape));
        }

        return list.ToArray();
    }

    /// <summary>The module's parameter gradients concatenated in parameters() order.</summary>
    public float[] FlatGradients()
    {
        var list = new System.Collections.Generic.List<float>();
        foreach (Parameter p in _model.parameters())
        {
            list.AddRange(p.grad!.data<float>().ToArray());
        }

        return list.ToArray();
    }

    /// <summary>Softmax probabilities of a batch [n, 1, 28, 28], copied into <paramref name="probabilities"/>.</summary>
    public void Forward(Tensor inputs, Span<float> probabilities)
    {
        using var grad = no_grad();
        using var scope = NewDisposeScope();
        Tensor p = nn.functional.softmax(_model.forward(inputs), 1);
        p.data<float>().CopyTo(probabilities);
    }

    /// <summary>One SGD step: zero_grad, log_softmax + nll_loss (batch mean), backward, step. Returns the loss.</summary>
    public float TrainStep(Tensor inputs, Tensor labels)
    {
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        Tensor loss = nn.functional.nll_loss(nn.functional.log_softmax(_model.forward(inputs), 1), labels);
        loss.backward();
        _optimizer.step();
        return loss.item<float>();
    }

    /// <summary>The loss and gradients of one batch without a step (for verification).</summary>
    public float LossAndGradients(Tensor inputs, Tensor labels)
    {
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        Tensor loss = nn.functional.nll_loss(nn.functional.log_softmax(_model.forward(inputs), 1), labels);
        loss.backward();
        return loss.item<float>();
    }

    /// <summary>dL/d(input) of the loss (log_softmax + nll_loss, batch mean) of <paramref name="inputs"/>, without a step.</summary>
    public float[] InputGradient(Tensor inputs, Tensor labels)
    {
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        Tensor x = inputs.detach().clone().requires_grad_(true);
        Tensor loss = nn.functional.nll_loss(nn.functional.log_softmax(_model.forward(x), 1), labels);
        loss.backward();
        return x.grad!.data<float>().ToArray();
    }

    /// <summary>A tensor [count, 1, 28, 28] holding <paramref name="count"/> samples of <paramref name="inputs"/>.</summary>
    public static Tensor Inputs(float[] inputs, int count) =>
        tensor(inputs.AsSpan(0, count * Workload.InputLength).ToArray(), [count, 1, 28, 28]);

    /// <summary>An int64 tensor of the first <paramref name="count"/> labels.</summary>
    public static Tensor Labels(int[] labels, int count)
    {
        var values = new long[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = labels[i];
        }

        return tensor(values, [count]);
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
    }

    /// <summary>
    /// NetGen's ResNet (benchmarks/NetGen.Benchmarks/Networks.cs) as a torch module: the convolutions registered in the
    /// declaration order, so that parameters() and the state dict names (<c>block2_shortcut.weight</c>) are NetGen's;
    /// forward written out as the attributes read, shortcut + main for the projection blocks.
    /// </summary>
    public sealed class ResNetModule : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d _stem, _block1Conv1, _block1Conv2;
        private readonly Conv2d _block2Conv1, _block2Conv2, _block2Shortcut;
        private readonly Conv2d _block3Conv1, _block3Conv2, _block3Shortcut;
        private readonly Linear _head;

        public ResNetModule() : base("ResNet")
        {
            _stem = Register("stem", nn.Conv2d(1, 16, 3, padding: 1));
            _block1Conv1 = Register("block1_conv1", nn.Conv2d(16, 16, 3, padding: 1));
            _block1Conv2 = Register("block1_conv2", nn.Conv2d(16, 16, 3, padding: 1));
            _block2Conv1 = Register("block2_conv1", nn.Conv2d(16, 32, 3, stride: 2, padding: 1));
            _block2Conv2 = Register("block2_conv2", nn.Conv2d(32, 32, 3, padding: 1));
            _block2Shortcut = Register("block2_shortcut", nn.Conv2d(16, 32, 1, stride: 2));
            _block3Conv1 = Register("block3_conv1", nn.Conv2d(32, 64, 3, stride: 2, padding: 1));
            _block3Conv2 = Register("block3_conv2", nn.Conv2d(64, 64, 3, padding: 1));
            _block3Shortcut = Register("block3_shortcut", nn.Conv2d(32, 64, 1, stride: 2));
            _head = Register("head", nn.Linear(64 * 7 * 7, 10));
        }

        private T Register<T>(string name, T module) where T : nn.Module
        {
            register_module(name, module);
            return module;
        }

        public override Tensor forward(Tensor x)
        {
            Tensor stem = nn.functional.relu(_stem.forward(x));
            Tensor main = _block1Conv2.forward(nn.functional.relu(_block1Conv1.forward(stem)));
            Tensor block1 = nn.functional.relu(main + stem);
            main = _block2Conv2.forward(nn.functional.relu(_block2Conv1.forward(block1)));
            Tensor block2 = nn.functional.relu(_block2Shortcut.forward(block1) + main);
            main = _block3Conv2.forward(nn.functional.relu(_block3Conv1.forward(block2)));
            Tensor block3 = nn.functional.relu(_block3Shortcut.forward(block2) + main);
            return _head.forward(block3.flatten(1));
        }
    }
}
