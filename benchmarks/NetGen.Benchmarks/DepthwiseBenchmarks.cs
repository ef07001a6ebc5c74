using System;
using BenchmarkDotNet.Attributes;
using NetGen.Kernels;
using NetGen.Benchmarks.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NetGen.Benchmarks;

/// <summary>A depthwise 3×3 convolution alone (32×14×14 → 32×14×14, padding 1), as generated: its plan and its code, in obj/…/generated.</summary>
[Input(32, 14, 14)]
[Conv2D(32, 3, Padding = 1, Groups = 32)]
[Softmax]
public partial class DepthwiseConv { }

/// <summary>
/// A depthwise 3×3 convolution, 32×14×14 → 32×14×14 with padding 1 (a MobileNet layer at 14×14), over 16 samples (one chunk
/// of a batch, what a worker runs a layer over) on one thread: the depthwise kernels the generated layer calls (forward;
/// forward and backward: dL/dw, the spread of dL/dy and dL/dx), the direct convolution kernel run channel by channel (what
/// a grouped layer without the depthwise kernels would call), and TorchSharp's Conv2d(groups=32) with the same weights. Inputs
/// are padded once in setup, as the generated layer's padded copy (which costs a copy per sample besides). 56,448
/// multiply-adds per sample forward (32 · 9 · 196): 1.8 MFLOP per call forward, 5.4 MFLOP forward and backward. Setup checks
/// the kernels against TorchSharp. Not part of the Markdown report (no [Work]); BenchmarkDotNet's table has the times.
/// </summary>
[BenchmarkCategory("Depthwise")]
public class DepthwiseBenchmarks
{
    private const int Channels = 32, Size = 14, Padded = Size + 2, Batch = 16, Taps = 9;
    private const int Plane = Size * Size, PaddedPlane = Padded * Padded, Slack = 64;

    private readonly float[] _weight = new float[Channels * Taps], _flipped = new float[Channels * Taps], _bias = new float[Channels];
    private readonly float[] _padded = new float[Batch * Channels * PaddedPlane + Slack];
    private readonly float[] _y = new float[Batch * Channels * Plane + Slack], _dy = new float[Batch * Channels * Plane + Slack];
    private readonly float[] _dx = new float[Batch * Channels * Plane + Slack], _dw = new float[Channels * Taps];
    private readonly float[] _spread = new float[Channels * PaddedPlane + Slack];
    private Conv2d _torch = null!;
    private Tensor _x = null!, _xGrad = null!, _dyTensor = null!;

    [GlobalSetup]
    public void Setup()
    {
        var net = new DepthwiseConv();
        net.InitializeParameters(Workload.Seed);
        net.Conv1Weight.CopyTo(_weight);
        var random = new SeededRandom(7);
        float[] input = new float[Batch * Channels * Plane];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = random.NextSingle() * 2f - 1f;
            _dy[i] = random.NextSingle() * 2f - 1f;
        }

        for (int k = 0; k < Channels; k++)
        {
            _bias[k] = random.NextSingle() * 0.2f - 0.1f;
            for (int r = 0; r < Taps; r++)
            {
                _flipped[k * Taps + r] = _weight[k * Taps + Taps - 1 - r];
            }
        }

        for (int p = 0; p < Batch * Channels; p++)
        {
            for (int u = 0; u < Size; u++)
            {
                input.AsSpan(p * Plane + u * Size, Size).CopyTo(_padded.AsSpan(p * PaddedPlane + (u + 1) * Padded + 1));
            }
        }

        torch.set_num_threads(1);
        _torch = nn.Conv2d(Channels, Channels, 3, padding: 1, groups: Channels);
        TorchModel.CopyParameters(_torch, [.. _weight, .. _bias]);
        _x = tensor(input, [Batch, Channels, Size, Size]);
        _xGrad = tensor(input, [Batch, Channels, Size, Size]).requires_grad_(true);
        _dyTensor = tensor(_dy.AsSpan(0, input.Length).ToArray(), [Batch, Channels, Size, Size]);
        Check();
    }

    /// <summary>
    /// Before timing: the depthwise kernel gives the per-channel direct kernel's bits (bias, then the taps in order, one
    /// multiply-add each), and TorchSharp's forward pass, dL/dx and dL/dw to rounding.
    /// </summary>
    private void Check()
    {
        int length = Batch * Channels * Plane;
        Dispatch(Kernel.PerChannelForward);
        float[] perChannel = _y.AsSpan(0, length).ToArray();
        Dispatch(Kernel.Forward);
        if (!perChannel.AsSpan().SequenceEqual(_y.AsSpan(0, length)))
        {
            throw new InvalidOperationException("The depthwise kernel and the per-channel direct kernel give different bits.");
        }

        Array.Clear(_dw);
        Dispatch(Kernel.Backward);
        using var scope = NewDisposeScope();
        float[] torchY;
        using (no_grad())
        {
            torchY = _torch.forward(_x).data<float>().ToArray();
        }

        Tensor y = _torch.forward(_xGrad);
        y.backward([_dyTensor]);
        float[] torchDx = _xGrad.grad!.data<float>().ToArray(), torchDw = _torch.weight!.grad!.data<float>().ToArray();
        double forward = MaxDifference(torchY, _y), dx = MaxDifference(torchDx, _dx), dw = MaxDifference(torchDw, _dw);
        Console.WriteLine($"// Depthwise 32×14×14, 3×3, 16 samples against TorchSharp: max |Δ| forward {forward:E2}, dL/dx {dx:E2}, dL/dw {dw:E2} (dL/dw sums 3,136 products)");
        if (forward > 1e-5 || dx > 1e-5 || dw > 1e-3)
        {
            throw new InvalidOperationException("The depthwise kernels do not match TorchSharp's Conv2d(groups=32).");
        }

        _xGrad.grad!.zero_();
        _torch.zero_grad();
    }

    private static double MaxDifference(float[] expected, float[] actual)
    {
        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            max = Math.Max(max, Math.Abs(expected[i] - actual[i]));
        }

        return max;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _x.Dispose();
        _xGrad.Dispose();
        _dyTensor.Dispose();
        _torch.Dispose();
    }

    [Benchmark(Baseline = true)]
    public float NetGen_depthwise_forward()
    {
        Dispatch(Kernel.Forward);
        return _y[0];
    }

    [Benchmark]
    public float NetGen_per_channel_direct_forward()
    {
        Dispatch(Kernel.PerChannelForward);
        return _y[0];
    }

    [Benchmark]
    public float NetGen_depthwise_forward_backward()
    {
        Dispatch(Kernel.Forward);
        Dispatch(Kernel.Backward);
        return _dx[0];
    }

    [Benchmark]
    public float TorchSharp_forward()
    {
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            return _torch.forward(_x).data<float>()[0];
        }
    }

    [Benchmark]
    public float TorchSharp_forward_backward()
    {
        using var scope = NewDisposeScope();
        Tensor y = _torch.forward(_xGrad);
        y.backward([_dyTensor]);
        return _xGrad.grad!.data<float>()[0];
    }

    private enum Kernel
    {
        Forward,
        PerChannelForward,
        Backward,
    }

    private void Dispatch(Kernel kernel)
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512:
                Run<Float512>(kernel);
                break;
            case VectorKernel.Float256:
                Run<Float256>(kernel);
                break;
            case VectorKernel.Float128:
                Run<Float128>(kernel);
                break;
            case VectorKernel.Float128Unfused:
                Run<Float128Unfused>(kernel);
                break;
            default:
                Run<Float1>(kernel);
                break;
        }
    }

    private void Run<TVector>(Kernel kernel)
        where TVector : struct, IFloatVector<TVector>
    {
        float zero = 0f;
        for (int s = 0; s < Batch; s++)
        {
            ref float x = ref _padded[s * Channels * PaddedPlane];
            ref float y = ref _y[s * Channels * Plane];
            switch (kernel)
            {
                case Kernel.Forward:
                    DepthwiseConvolution.Forward<TVector>(ref _weight[0], ref _bias[0], 1, ref x, ref y, Channels, 1, 1, 3, 3, 1, Padded, PaddedPlane, Size, Size);
                    break;
                case Kernel.PerChannelForward:
                    for (int k = 0; k < Channels; k++)
                    {
                        NetGen.Kernels.Convolution.Forward<TVector>(ref _weight[k * Taps], ref _bias[k], ref _padded[(s * Channels + k) * PaddedPlane], ref _y[(s * Channels + k) * Plane],
                            1, 1, 3, 3, Padded, PaddedPlane, Size, Size);
                    }

                    break;
                default:
                    ref float dy = ref _dy[s * Channels * Plane];
                    DepthwiseConvolution.WeightGradient<TVector>(ref dy, ref x, ref _dw[0], Channels, 1, 3, 3, 1, Padded, PaddedPlane, Size, Size);
                    for (int k = 0; k < Channels; k++)
                    {
                        for (int i = 0; i < Size; i++)
                        {
                            _dy.AsSpan((s * Channels + k) * Plane + i * Size, Size).CopyTo(_spread.AsSpan(k * PaddedPlane + (i + 1) * Padded + 1));
                        }
                    }

                    // dL/dy spread into 16×16 planes at (i + 1, j + 1) (kh − 1 − p = 1), where dL/dx(u, v) reads from (u, v): the
                    // generated layer's 17×17 planes with the same reads, one row and column smaller.
                    DepthwiseConvolution.Forward<TVector>(ref _flipped[0], ref zero, 0, ref _spread[0], ref _dx[s * Channels * Plane], Channels, 1, 1, 3, 3, 1, Padded, PaddedPlane, Size, Size);
                    break;
            }
        }
    }
}
