using System;
using BenchmarkDotNet.Attributes;
using NetGen.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace NetGen.Benchmarks;

/// <summary>
/// One optimizer step over a parameter vector as long as ResNetBN's (283,770) or WideNet's (3,274,634), on 1 and 2 threads:
/// NetGen's <see cref="Adam"/> and <see cref="Sgd"/> with momentum 0.9 (<c>DegreeOfParallelism</c> = threads) against
/// TorchSharp's <c>torch.optim.Adam</c> and <c>torch.optim.SGD</c> over one parameter tensor of that length
/// (<c>torch.set_num_threads</c>), the gradient fixed. Setup checks that one step of each moves the parameters alike.
/// Opt-in (<c>--filter '*Optimizer*'</c>); BenchmarkDotNet's table only.
/// </summary>
[BenchmarkCategory("Optimizer")]
public class OptimizerBenchmarks
{
    private float[] _theta = null!, _gradient = null!;
    private Adam _adam = null!;
    private Sgd _sgd = null!;
    private Tensor _torchTheta = null!, _torchSgdTheta = null!;
    private optim.Optimizer _torchAdam = null!, _torchSgd = null!;

    [Params(283_770, 3_274_634)]
    public int Parameters { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new SeededRandom(11);
        _theta = new float[Parameters];
        _gradient = new float[Parameters];
        for (int i = 0; i < Parameters; i++)
        {
            _theta[i] = random.NextSingle() * 2f - 1f;
            _gradient[i] = (random.NextSingle() - 0.5f) * 0.01f;
        }

        _adam = new Adam(1e-3f) { DegreeOfParallelism = Threads };
        _sgd = new Sgd(1e-3f, momentum: 0.9f) { DegreeOfParallelism = Threads };
        torch.set_num_threads(Threads);
        (_torchTheta, _torchAdam) = TorchParameter(p => optim.Adam([p], 1e-3));
        (_torchSgdTheta, _torchSgd) = TorchParameter(p => optim.SGD([p], 1e-3, momentum: 0.9));
        Check();
    }

    /// <summary>A parameter tensor holding θ, its gradient set to the fixed one (by backward of Σ θ·g), and its optimizer.</summary>
    private (Tensor Parameter, optim.Optimizer Optimizer) TorchParameter(Func<TorchSharp.Modules.Parameter, optim.Optimizer> create)
    {
        var parameter = new TorchSharp.Modules.Parameter(tensor(_theta));
        using (Tensor g = tensor(_gradient), loss = (parameter * g).sum())
        {
            loss.backward();
        }

        return (parameter, create(parameter));
    }

    /// <summary>One step of each from the same θ gives the same parameters to within rounding.</summary>
    private void Check()
    {
        Compare("Adam", new Adam(1e-3f), p => optim.Adam([p], 1e-3));
        Compare("SGD", new Sgd(1e-3f, momentum: 0.9f), p => optim.SGD([p], 1e-3, momentum: 0.9));
    }

    private void Compare(string name, IOptimizer netgen, Func<TorchSharp.Modules.Parameter, optim.Optimizer> create)
    {
        float[] theta = (float[])_theta.Clone();
        netgen.Step(theta, _gradient);
        (Tensor parameter, optim.Optimizer optimizer) = TorchParameter(create);
        using (parameter)
        using (optimizer)
        {
            optimizer.step();
            using Tensor stepped = parameter.detach();
            float[] expected = stepped.data<float>().ToArray();
            for (int i = 0; i < Parameters; i++)
            {
                if (Math.Abs(expected[i] - theta[i]) > 1e-6f * (1 + Math.Abs(expected[i])))
                {
                    throw new InvalidOperationException($"{name}: parameter {i} is {theta[i]} after one step, TorchSharp's {expected[i]}.");
                }
            }
        }
    }

    [Benchmark(Description = "NetGen Adam")]
    public void NetGenAdam() => _adam.Step(_theta, _gradient);

    [Benchmark(Description = "TorchSharp Adam")]
    public void TorchAdam() => _torchAdam.step();

    [Benchmark(Description = "NetGen SGD, momentum")]
    public void NetGenSgd() => _sgd.Step(_theta, _gradient);

    [Benchmark(Description = "TorchSharp SGD, momentum")]
    public void TorchSgd() => _torchSgd.step();

    [GlobalCleanup]
    public void Cleanup()
    {
        _torchAdam.Dispose();
        _torchSgd.Dispose();
        _torchTheta.Dispose();
        _torchSgdTheta.Dispose();
        torch.set_num_threads(1);
    }
}
