using System;
using System.Linq;
using NetGen.Benchmarks.Onnx;
using NetGen.Benchmarks.RuntimeShaped;
using NetGen.Benchmarks.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace NetGen.Benchmarks;

/// <summary>
/// A quick, untimed check that the three implementations compute the same thing from the same parameters:
/// forward probabilities, the loss and the batch-mean gradient of a training batch. It also checks the
/// multiply-add counts the GFLOP/s figures use against the layer shapes. Runs before every benchmark run.
/// </summary>
public static class Verify
{
    private const int Samples = 8;

    /// <summary>Runtime-shaped vs generated: the same algorithm, so expected to agree to rounding (≤ 1e-5).</summary>
    private const float RuntimeShapedTolerance = 1e-5f;

    /// <summary>TorchSharp vs generated: different kernels and summation orders, so a looser bound.</summary>
    private const float TorchTolerance = 1e-4f;

    public static bool Run()
    {
        bool ok = true;
        torch.set_num_threads(1);
        Console.WriteLine($"TorchSharp: libtorch {torch.__version__}, {torch.get_num_threads()} thread(s); Vector512 accelerated: {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");
        foreach (NetworkKind kind in Enum.GetValues<NetworkKind>())
        {
            ok &= Check(kind);
        }

        Console.WriteLine(ok ? "verify: all checks passed" : "verify: FAILED");
        return ok;
    }

    private static bool Check(NetworkKind kind)
    {
        bool ok = true;
        void Report(string what, double value, double tolerance)
        {
            bool pass = value <= tolerance && !double.IsNaN(value);
            ok &= pass;
            Console.WriteLine($"  {what,-58} {value,12:E2}  (≤ {tolerance:E0}) {(pass ? "ok" : "FAIL")}");
        }

        Console.WriteLine($"{kind}:");
        GeneratedNetwork generated = Workload.CreateNetGen(kind);
        RuntimeNetwork runtime = Workload.CreateRuntimeShaped(kind);
        generated.InitializeParameters(Workload.Seed);
        runtime.InitializeParameters(Workload.Seed);

        long macs = runtime.MultiplyAdds;
        bool macsOk = macs == Workload.MultiplyAddsPerSample(kind);
        ok &= macsOk && runtime.ParameterCount == generated.ParameterCount;
        Console.WriteLine($"  multiply-adds per sample from the shapes: {macs:N0} (table: {Workload.MultiplyAddsPerSample(kind):N0}) {(macsOk ? "ok" : "FAIL")}; parameters {runtime.ParameterCount:N0} vs generated {generated.ParameterCount:N0}");
        Console.WriteLine($"  runtime-shaped InitializeParameters gives the generated bits: {generated.Parameters.AsSpan().SequenceEqual(runtime.Parameters)}");
        generated.Parameters.CopyTo(runtime.Parameters, 0);

        (float[] inputs, int[] labels) = Workload.CreateData(Samples, seed: 11);
        float[] pg = Probabilities(generated, inputs), pr = Probabilities(runtime, inputs);
        Report("runtime-shaped: forward probabilities, max |Δ|", MaxAbsDiff(pg, pr), RuntimeShapedTolerance);

        float lossG = BatchDriver.TrainBatchPerSample(generated, inputs, labels);
        float lossR = BatchDriver.TrainBatchPerSample(runtime, inputs, labels);
        Report("runtime-shaped: mean loss, |Δ|", Math.Abs(lossG - lossR), RuntimeShapedTolerance);
        Report("runtime-shaped: batch-mean gradient, max |Δ| / max |g|", MaxAbsDiff(generated.Gradients, runtime.Gradients) / MaxAbs(generated.Gradients), RuntimeShapedTolerance);
        Report("runtime-shaped: input gradient (last sample), max |Δ|", MaxAbsDiff(generated.InputGradient.ToArray(), runtime.InputGradient.ToArray()), RuntimeShapedTolerance);

        using var model = new TorchModel(kind, generated.Parameters);
        using Tensor x = TorchModel.Inputs(inputs, Samples);
        using Tensor y = TorchModel.Labels(labels, Samples);
        var pt = new float[Samples * Workload.Classes];
        model.Forward(x, pt);
        Report("TorchSharp: forward probabilities, max |Δ|", MaxAbsDiff(pg, pt), TorchTolerance);
        float lossT = model.LossAndGradients(x, y);
        Report("TorchSharp: mean loss (nll_loss of log_softmax), |Δ|", Math.Abs(lossG - lossT), TorchTolerance);
        float[] gt = model.FlatGradients();
        Report("TorchSharp: batch-mean gradient, max |Δ| / max |g|", MaxAbsDiff(generated.Gradients, gt) / MaxAbs(generated.Gradients), TorchTolerance);

        using var onnx = new OnnxModel(kind, generated.Parameters, threads: 1);
        var po = new float[Samples * Workload.Classes];
        using (var binding = new OnnxModel.Binding(inputs, po, Samples))
        {
            onnx.Run(binding);
        }

        Report("ONNX Runtime: forward probabilities, max |Δ|", MaxAbsDiff(pg, po), TorchTolerance);
        return ok;
    }

    private static float[] Probabilities(ISampleNetwork network, float[] inputs)
    {
        var p = new float[Samples * Workload.Classes];
        for (int i = 0; i < Samples; i++)
        {
            network.Forward(inputs.AsSpan(i * Workload.InputLength, Workload.InputLength), p.AsSpan(i * Workload.Classes, Workload.Classes));
        }

        return p;
    }

    private static double MaxAbsDiff(float[] a, float[] b)
    {
        if (a.Length != b.Length)
        {
            return double.PositiveInfinity;
        }

        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        }

        return max;
    }

    private static double MaxAbs(float[] a) => a.Max(v => Math.Abs((double)v));
}
