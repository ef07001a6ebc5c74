using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NetGen.Benchmarks.Torch;

/// <summary>
/// The same network in TorchSharp (torch.nn Conv2d / ReLU / MaxPool2d / Flatten / Linear in a Sequential, or the
/// <see cref="ResNetModule"/> and <see cref="ResNetBNModule"/> with their own forward), with its parameters copied from
/// a NetGen parameter vector (same layout: PyTorch's parameters() concatenated), trained with log_softmax + nll_loss and
/// torch.optim.SGD. <see cref="Forward"/> runs the module in eval mode (BatchNorm with its running statistics),
/// <see cref="TrainStep"/> in training mode (BatchNorm with the batch's statistics, updating the running ones).
/// </summary>
public sealed class TorchModel : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly optim.Optimizer _optimizer;
    private bool? _training;

    public TorchModel(NetworkKind network, ReadOnlySpan<float> parameters)
    {
        _model = Build(network);
        CopyParameters(_model, parameters);
        _optimizer = optim.SGD(_model.parameters(), Workload.LearningRate);
    }

    /// <summary>Puts the module in training or eval mode, only when it changes (train()/eval() walk every submodule).</summary>
    private void Mode(bool training)
    {
        if (_training != training)
        {
            _model.train(training);
            _training = training;
        }
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
        NetworkKind.ResNetBN => new ResNetBNModule(),
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

    /// <summary>The module's parameters concatenated in parameters() order (NetGen's <c>Parameters</c> layout).</summary>
    public float[] FlatParameters()
    {
        var list = new System.Collections.Generic.List<float>();
        foreach (Parameter p in _model.parameters())
        {
            using Tensor values = p.detach();
            list.AddRange(values.data<float>().ToArray());
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
        Mode(training: false);
        using var grad = no_grad();
        using var scope = NewDisposeScope();
        Tensor p = nn.functional.softmax(_model.forward(inputs), 1);
        p.data<float>().CopyTo(probabilities);
    }

    /// <summary>One SGD step: zero_grad, log_softmax + nll_loss (batch mean), backward, step. Returns the loss.</summary>
    public float TrainStep(Tensor inputs, Tensor labels)
    {
        Mode(training: true);
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
        Mode(training: true);
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        Tensor loss = nn.functional.nll_loss(nn.functional.log_softmax(_model.forward(inputs), 1), labels);
        loss.backward();
        return loss.item<float>();
    }

    /// <summary>dL/d(input) of the loss (log_softmax + nll_loss, batch mean) of <paramref name="inputs"/>, without a step.</summary>
    public float[] InputGradient(Tensor inputs, Tensor labels)
    {
        Mode(training: true);
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

    /// <summary>
    /// NetGen's ResNetBN (benchmarks/NetGen.Benchmarks/Networks.cs) as a torch module: Conv2d(bias: false), BatchNorm2d,
    /// ReLU, AdaptiveAvgPool2d(1), Linear, registered in the declaration order so that parameters(), state_dict() and
    /// the names (<c>block1_bn1.running_mean</c>) are NetGen's; forward written out as the attributes read.
    /// </summary>
    public sealed class ResNetBNModule : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d _stem, _block1Conv1, _block1Conv2;
        private readonly Conv2d _block2Conv1, _block2Conv2, _block2Shortcut;
        private readonly Conv2d _block3Conv1, _block3Conv2, _block3Shortcut;
        private readonly BatchNorm2d _stemBn, _block1Bn1, _block1Bn2, _block2Bn1, _block2Bn2, _block2ShortcutBn;
        private readonly BatchNorm2d _block3Bn1, _block3Bn2, _block3ShortcutBn;
        private readonly ReLU _relu = nn.ReLU();
        private readonly AdaptiveAvgPool2d _pool;
        private readonly Linear _head;

        public ResNetBNModule() : base("ResNetBN")
        {
            _stem = Register("stem", nn.Conv2d(1, 16, 3, padding: 1, bias: false));
            _stemBn = Register("stem_bn", nn.BatchNorm2d(16));
            _block1Conv1 = Register("block1_conv1", nn.Conv2d(16, 16, 3, padding: 1, bias: false));
            _block1Bn1 = Register("block1_bn1", nn.BatchNorm2d(16));
            _block1Conv2 = Register("block1_conv2", nn.Conv2d(16, 16, 3, padding: 1, bias: false));
            _block1Bn2 = Register("block1_bn2", nn.BatchNorm2d(16));
            _block2Conv1 = Register("block2_conv1", nn.Conv2d(16, 64, 3, stride: 2, padding: 1, bias: false));
            _block2Bn1 = Register("block2_bn1", nn.BatchNorm2d(64));
            _block2Conv2 = Register("block2_conv2", nn.Conv2d(64, 64, 3, padding: 1, bias: false));
            _block2Bn2 = Register("block2_bn2", nn.BatchNorm2d(64));
            _block2Shortcut = Register("block2_shortcut", nn.Conv2d(16, 64, 1, stride: 2, bias: false));
            _block2ShortcutBn = Register("block2_shortcut_bn", nn.BatchNorm2d(64));
            _block3Conv1 = Register("block3_conv1", nn.Conv2d(64, 128, 3, stride: 2, padding: 1, bias: false));
            _block3Bn1 = Register("block3_bn1", nn.BatchNorm2d(128));
            _block3Conv2 = Register("block3_conv2", nn.Conv2d(128, 128, 3, padding: 1, bias: false));
            _block3Bn2 = Register("block3_bn2", nn.BatchNorm2d(128));
            _block3Shortcut = Register("block3_shortcut", nn.Conv2d(64, 128, 1, stride: 2, bias: false));
            _block3ShortcutBn = Register("block3_shortcut_bn", nn.BatchNorm2d(128));
            _pool = Register("pool", nn.AdaptiveAvgPool2d(1));
            _head = Register("head", nn.Linear(128, 10));
        }

        private T Register<T>(string name, T module) where T : nn.Module
        {
            register_module(name, module);
            return module;
        }

        public override Tensor forward(Tensor x)
        {
            Tensor stem = _relu.forward(_stemBn.forward(_stem.forward(x)));
            Tensor main = _block1Bn2.forward(_block1Conv2.forward(_relu.forward(_block1Bn1.forward(_block1Conv1.forward(stem)))));
            Tensor block1 = _relu.forward(main + stem);
            main = _block2Bn2.forward(_block2Conv2.forward(_relu.forward(_block2Bn1.forward(_block2Conv1.forward(block1)))));
            Tensor block2 = _relu.forward(_block2ShortcutBn.forward(_block2Shortcut.forward(block1)) + main);
            main = _block3Bn2.forward(_block3Conv2.forward(_relu.forward(_block3Bn1.forward(_block3Conv1.forward(block2)))));
            Tensor block3 = _relu.forward(_block3ShortcutBn.forward(_block3Shortcut.forward(block2)) + main);
            return _head.forward(_pool.forward(block3).flatten(1));
        }
    }
}
