using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NetGen.Benchmarks.Torch;

/// <summary>
/// The same network in TorchSharp (torch.nn Conv2d / ReLU / MaxPool2d / Flatten / Linear), with its parameters
/// copied from a NetGen parameter vector (same layout: PyTorch's parameters() concatenated), trained with
/// log_softmax + nll_loss and torch.optim.SGD.
/// </summary>
public sealed class TorchModel : IDisposable
{
    private readonly Sequential _model;
    private readonly optim.Optimizer _optimizer;

    public TorchModel(NetworkKind network, ReadOnlySpan<float> parameters)
    {
        _model = Build(network);
        CopyParameters(_model, parameters);
        _optimizer = optim.SGD(_model.parameters(), Workload.LearningRate);
    }

    public Sequential Module => _model;

    public static Sequential Build(NetworkKind network) => network switch
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
}
