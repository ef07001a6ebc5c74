using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using NetGen.Benchmarks.Onnx;
using NetGen.Benchmarks.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace NetGen.Benchmarks;

/// <summary>What one benchmark invocation computes: used by the GFLOP/s columns and the Markdown report.</summary>
public enum Work
{
    Forward,
    TrainStep,
    FmaPeak,
}

/// <summary>Marks a benchmark with its implementation, work, batch size and thread count.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class WorkAttribute(string implementation, Work work, int batch, int threads) : Attribute
{
    public string Implementation { get; } = implementation;
    public Work Work { get; } = work;
    public int Batch { get; } = batch;
    public int Threads { get; } = threads;
}

public static class Impl
{
    public const string NetGen = "NetGen";
    public const string RuntimeShaped = "Runtime-shaped";
    public const string TorchSharp = "TorchSharp";
    public const string OnnxRuntime = "ONNX Runtime";
    public const string Peak = "FMA peak";
}

/// <summary>
/// Sets up the implementations of one network with the same parameters (NetGen's He-uniform init, seed 1, copied to
/// the runtime-shaped network, TorchSharp and ONNX Runtime) and the same data. TorchSharp's intra-op thread count
/// is set per benchmark by the targeted [GlobalSetup]s of the derived classes. The runtime-shaped baseline has no
/// ResNet or ResNetBN: <see cref="RuntimeShapedFilter"/> leaves those cases out of the run. ResNetBN's BatchNorm starts
/// from PyTorch's initial running statistics everywhere (mean 0, variance 1; NetGen's, TorchSharp's and, copied, ONNX
/// Runtime's); its inference cases use them, its training cases normalize with each batch's statistics.
/// </summary>
public abstract class NetworkBenchmarks
{
    protected BatchDriver NetGen = null!;
    protected BatchDriver? RuntimeShapedDriver;
    protected TorchModel Torch = null!;
    protected OnnxModel? Onnx;
    protected OnnxModel.Binding? OnnxBinding;
    protected float[] Inputs = null!;
    protected int[] Labels = null!;
    protected float[] Probabilities = null!;

    [Params(NetworkKind.LeNet5, NetworkKind.WideNet, NetworkKind.ResNet, NetworkKind.ResNetBN)]
    public NetworkKind Network { get; set; }

    /// <summary>The runtime-shaped network; only its own cases use it, and those exist only where it does.</summary>
    protected BatchDriver RuntimeShaped => RuntimeShapedDriver ?? throw new InvalidOperationException($"No runtime-shaped {Network}.");

    protected abstract int Batch { get; }

    protected void Setup(int threads)
    {
        NetGen = new BatchDriver(() => Workload.CreateNetGen(Network), threads);
        if (Workload.HasRuntimeShaped(Network))
        {
            RuntimeShapedDriver = new BatchDriver(() => Workload.CreateRuntimeShaped(Network), threads);
            // Same parameters everywhere (the runtime-shaped init gives the same bits; copying makes that irrelevant).
            RuntimeShapedDriver.CopyParametersFrom(NetGen.Network.Parameters);
        }

        torch.set_num_threads(threads);
        Torch = new TorchModel(Network, NetGen.Network.Parameters);
        (Inputs, Labels) = Workload.CreateData(Batch);
        Probabilities = new float[Batch * Workload.Classes];
        TorchSetup();
        if (UsesOnnx)
        {
            Onnx = new OnnxModel(Network, NetGen.Network.Parameters, Workload.Buffers(NetGen.Network), threads);
            OnnxBinding = new OnnxModel.Binding(Inputs, Probabilities, Batch);
        }
    }

    /// <summary>Whether the class has ONNX Runtime cases (inference only).</summary>
    protected virtual bool UsesOnnx => false;

    protected float RunOnnx()
    {
        Onnx!.Run(OnnxBinding!);
        return Probabilities[0];
    }

    protected abstract void TorchSetup();

    [GlobalCleanup]
    public void Cleanup()
    {
        TorchCleanup();
        Torch.Dispose();
        OnnxBinding?.Dispose();
        Onnx?.Dispose();
        (Onnx, OnnxBinding) = (null, null);
        RuntimeShapedDriver = null;
        torch.set_num_threads(1);
    }

    protected abstract void TorchCleanup();
}

/// <summary>
/// Leaves out the runtime-shaped cases of networks the baseline does not implement (ResNet, ResNetBN): BenchmarkDotNet crosses
/// every method with every [Params] value, and this drops those pairs before anything runs.
/// </summary>
public sealed class RuntimeShapedFilter : BenchmarkDotNet.Filters.IFilter
{
    public bool Predicate(BenchmarkDotNet.Running.BenchmarkCase benchmarkCase) =>
        benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttributes(typeof(WorkAttribute), false) is not [WorkAttribute { Implementation: Impl.RuntimeShaped }]
        || benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == nameof(NetworkBenchmarks.Network))?.Value is not NetworkKind network
        || Workload.HasRuntimeShaped(network);
}

/// <summary>Batch-1 latency: one 1×28×28 image through the network, probabilities out.</summary>
[BenchmarkCategory("Latency")]
public class LatencyBenchmarks : NetworkBenchmarks
{
    private Tensor _x = null!;
    private readonly float[] _input = new float[Workload.InputLength];

    protected override int Batch => Workload.LatencyBatch;

    [GlobalSetup]
    public void Setup1() => Setup(1);

    [GlobalSetup(Targets = [nameof(NetGen_2T), nameof(TorchSharp_2T), nameof(OnnxRuntime_2T)])]
    public void Setup2() => Setup(2);

    protected override bool UsesOnnx => true;

    protected override void TorchSetup()
    {
        _x = TorchModel.Inputs(Inputs, 1);
        Inputs.AsSpan(0, Workload.InputLength).CopyTo(_input);
    }

    protected override void TorchCleanup() => _x.Dispose();

    [Benchmark(Baseline = true), Work(Impl.NetGen, Work.Forward, 1, 1)]
    public float NetGen_1T()
    {
        NetGen.Network.Forward(_input, Probabilities);
        return Probabilities[0];
    }

    /// <summary>One image on two threads: the large layers split their output units between them.</summary>
    [Benchmark, Work(Impl.NetGen, Work.Forward, 1, 2)]
    public float NetGen_2T()
    {
        NetGen.Network.Forward(_input, Probabilities);
        return Probabilities[0];
    }

    [Benchmark, Work(Impl.RuntimeShaped, Work.Forward, 1, 1)]
    public float RuntimeShaped_1T()
    {
        RuntimeShaped.Network.Forward(_input, Probabilities);
        return Probabilities[0];
    }

    [Benchmark, Work(Impl.TorchSharp, Work.Forward, 1, 1)]
    public float TorchSharp_1T()
    {
        Torch.Forward(_x, Probabilities);
        return Probabilities[0];
    }

    [Benchmark, Work(Impl.TorchSharp, Work.Forward, 1, 2)]
    public float TorchSharp_2T()
    {
        Torch.Forward(_x, Probabilities);
        return Probabilities[0];
    }

    [Benchmark, Work(Impl.OnnxRuntime, Work.Forward, 1, 1)]
    public float OnnxRuntime_1T() => RunOnnx();

    [Benchmark, Work(Impl.OnnxRuntime, Work.Forward, 1, 2)]
    public float OnnxRuntime_2T() => RunOnnx();
}

/// <summary>Batch-256 inference throughput: 256 images, probabilities out.</summary>
[BenchmarkCategory("Inference")]
public class InferenceBenchmarks : NetworkBenchmarks
{
    private Tensor _x = null!;

    protected override int Batch => Workload.InferenceBatch;

    [GlobalSetup]
    public void Setup1() => Setup(1);

    [GlobalSetup(Targets = [nameof(NetGen_2T), nameof(RuntimeShaped_2T), nameof(TorchSharp_2T), nameof(OnnxRuntime_2T)])]
    public void Setup2() => Setup(2);

    protected override bool UsesOnnx => true;

    protected override void TorchSetup() => _x = TorchModel.Inputs(Inputs, Batch);

    protected override void TorchCleanup() => _x.Dispose();

    [Benchmark(Baseline = true), Work(Impl.NetGen, Work.Forward, Workload.InferenceBatch, 1)]
    public float NetGen_1T() => Run(NetGen);

    [Benchmark, Work(Impl.NetGen, Work.Forward, Workload.InferenceBatch, 2)]
    public float NetGen_2T() => Run(NetGen);

    [Benchmark, Work(Impl.RuntimeShaped, Work.Forward, Workload.InferenceBatch, 1)]
    public float RuntimeShaped_1T() => Run(RuntimeShaped);

    [Benchmark, Work(Impl.RuntimeShaped, Work.Forward, Workload.InferenceBatch, 2)]
    public float RuntimeShaped_2T() => Run(RuntimeShaped);

    [Benchmark, Work(Impl.TorchSharp, Work.Forward, Workload.InferenceBatch, 1)]
    public float TorchSharp_1T()
    {
        Torch.Forward(_x, Probabilities);
        return Probabilities[0];
    }

    [Benchmark, Work(Impl.TorchSharp, Work.Forward, Workload.InferenceBatch, 2)]
    public float TorchSharp_2T()
    {
        Torch.Forward(_x, Probabilities);
        return Probabilities[0];
    }

    [Benchmark, Work(Impl.OnnxRuntime, Work.Forward, Workload.InferenceBatch, 1)]
    public float OnnxRuntime_1T() => RunOnnx();

    [Benchmark, Work(Impl.OnnxRuntime, Work.Forward, Workload.InferenceBatch, 2)]
    public float OnnxRuntime_2T() => RunOnnx();

    private float Run(BatchDriver driver)
    {
        driver.ForwardBatch(Inputs, Probabilities, Batch);
        return Probabilities[0];
    }
}

/// <summary>Batch-64 training step: forward + backward over 64 samples and one SGD step (batch-mean gradient).</summary>
[BenchmarkCategory("Training")]
public class TrainingBenchmarks : NetworkBenchmarks
{
    private Tensor _x = null!, _y = null!;

    protected override int Batch => Workload.TrainingBatch;

    [GlobalSetup]
    public void Setup1() => Setup(1);

    [GlobalSetup(Targets = [nameof(NetGen_2T), nameof(RuntimeShaped_2T), nameof(TorchSharp_2T)])]
    public void Setup2() => Setup(2);

    protected override void TorchSetup()
    {
        _x = TorchModel.Inputs(Inputs, Batch);
        _y = TorchModel.Labels(Labels, Batch);
    }

    protected override void TorchCleanup()
    {
        _x.Dispose();
        _y.Dispose();
    }

    [Benchmark(Baseline = true), Work(Impl.NetGen, Work.TrainStep, Workload.TrainingBatch, 1)]
    public float NetGen_1T() => NetGen.TrainStep(Inputs, Labels);

    [Benchmark, Work(Impl.NetGen, Work.TrainStep, Workload.TrainingBatch, 2)]
    public float NetGen_2T() => NetGen.TrainStep(Inputs, Labels);

    [Benchmark, Work(Impl.RuntimeShaped, Work.TrainStep, Workload.TrainingBatch, 1)]
    public float RuntimeShaped_1T() => RuntimeShaped.TrainStep(Inputs, Labels);

    [Benchmark, Work(Impl.RuntimeShaped, Work.TrainStep, Workload.TrainingBatch, 2)]
    public float RuntimeShaped_2T() => RuntimeShaped.TrainStep(Inputs, Labels);

    [Benchmark, Work(Impl.TorchSharp, Work.TrainStep, Workload.TrainingBatch, 1)]
    public float TorchSharp_1T() => Torch.TrainStep(_x, _y);

    [Benchmark, Work(Impl.TorchSharp, Work.TrainStep, Workload.TrainingBatch, 2)]
    public float TorchSharp_2T() => Torch.TrainStep(_x, _y);
}

/// <summary>
/// One convolution layer's forward pass alone, one sample: LeNet5's conv2 and WideNet's conv2 declared as networks of
/// their own (input, the conv, a softmax because a network must end in one). FLOPs count the convolution only; the
/// time includes copying the input in and the softmax over the conv output (small next to the conv for WideNet's).
/// </summary>
[BenchmarkCategory("ConvForward")]
public class ConvForwardBenchmarks
{
    private ISampleNetwork _netgen = null!, _runtime = null!;
    private float[] _input = null!, _output = null!;

    [Params(NetworkKind.LeNet5Conv2, NetworkKind.WideNetConv2)]
    public NetworkKind Network { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // One thread, as the rows say: a one-sample pass would otherwise split WideNet's conv2 across all cores.
        _netgen = Workload.CreateNetGen(Network);
        _netgen.DegreeOfParallelism = 1;
        _runtime = Workload.CreateRuntimeShaped(Network);
        _runtime.DegreeOfParallelism = 1;
        _netgen.InitializeParameters(Workload.Seed);
        _netgen.Parameters.CopyTo(_runtime.Parameters, 0);
        var random = new SeededRandom(7);
        _input = new float[_netgen.InputLength];
        for (int i = 0; i < _input.Length; i++)
        {
            _input[i] = random.NextSingle() * 2f - 1f;
        }

        _output = new float[_netgen.OutputLength];
    }

    [Benchmark(Baseline = true), Work(Impl.NetGen, Work.Forward, 1, 1)]
    public float NetGen_1T()
    {
        _netgen.Forward(_input, _output);
        return _output[0];
    }

    [Benchmark, Work(Impl.RuntimeShaped, Work.Forward, 1, 1)]
    public float RuntimeShaped_1T()
    {
        _runtime.Forward(_input, _output);
        return _output[0];
    }
}
