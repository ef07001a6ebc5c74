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
        foreach (NetworkKind kind in new[] { NetworkKind.LeNet5, NetworkKind.WideNet, NetworkKind.ResNet })
        {
            ok &= Check(kind);
        }

        foreach (NetworkKind kind in new[] { NetworkKind.LeNet5Conv2, NetworkKind.WideNetConv2 })
        {
            ok &= CheckRuntimeShaped(kind);
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
        generated.InitializeParameters(Workload.Seed);
        (float[] inputs, int[] labels) = Workload.CreateData(Samples, seed: 11);
        float[] pg = Probabilities(generated, inputs);
        RuntimeNetwork? runtime = null;
        if (Workload.HasRuntimeShaped(kind))
        {
            runtime = Workload.CreateRuntimeShaped(kind);
            runtime.InitializeParameters(Workload.Seed);
            long macs = runtime.MultiplyAdds;
            bool macsOk = macs == Workload.MultiplyAddsPerSample(kind);
            ok &= macsOk && runtime.ParameterCount == generated.ParameterCount;
            Console.WriteLine($"  multiply-adds per sample from the shapes: {macs:N0} (table: {Workload.MultiplyAddsPerSample(kind):N0}) {(macsOk ? "ok" : "FAIL")}; parameters {runtime.ParameterCount:N0} vs generated {generated.ParameterCount:N0}");
            Console.WriteLine($"  runtime-shaped InitializeParameters gives the generated bits: {generated.Parameters.AsSpan().SequenceEqual(runtime.Parameters)}");
            generated.Parameters.CopyTo(runtime.Parameters, 0);

            float[] pr = Probabilities(runtime, inputs);
            Report("runtime-shaped: forward probabilities, max |Δ|", MaxAbsDiff(pg, pr), RuntimeShapedTolerance);
            ok &= CompareBatches(generated, runtime, Report);
        }
        else
        {
            // No runtime-shaped version (the graph layers): the multiply-adds from the generated shapes and weight layout,
            // and the generated batches alone, 1 against 2 threads.
            long macs = GeneratedMultiplyAdds(generated.Inner);
            bool macsOk = macs == Workload.MultiplyAddsPerSample(kind);
            ok &= macsOk;
            Console.WriteLine($"  multiply-adds per sample from the generated shapes: {macs:N0} (table: {Workload.MultiplyAddsPerSample(kind):N0}) {(macsOk ? "ok" : "FAIL")}; parameters {generated.ParameterCount:N0}; no runtime-shaped version");
            ok &= CompareThreads(generated);
        }

        // The per-sample input gradient (TrainSample), then the batch-mean gradient of TrainBatch for the TorchSharp checks.
        generated.ZeroGradients();
        generated.TrainSample(inputs.AsSpan(0, Workload.InputLength), labels[0]);
        float[] inputGradient = generated.InputGradient.ToArray();
        if (runtime is not null)
        {
            runtime.ZeroGradients();
            runtime.TrainSample(inputs.AsSpan(0, Workload.InputLength), labels[0]);
            Report("runtime-shaped: input gradient (TrainSample), max |Δ|", MaxAbsDiff(inputGradient, runtime.InputGradient.ToArray()), RuntimeShapedTolerance);
        }

        generated.DegreeOfParallelism = 1;
        float lossG = generated.TrainBatch(inputs, labels);

        using var model = new TorchModel(kind, generated.Parameters);
        bool layoutOk = SameLayout(generated.Inner.ParameterLayout, model.ParameterLayout(), out string layoutText);
        ok &= layoutOk;
        Console.WriteLine($"  TorchSharp named_parameters() = NetGen's ParameterLayout (names, shapes, order): {layoutText} {(layoutOk ? "ok" : "FAIL")}");
        using Tensor x = TorchModel.Inputs(inputs, Samples);
        using Tensor y = TorchModel.Labels(labels, Samples);
        var pt = new float[Samples * Workload.Classes];
        model.Forward(x, pt);
        Report("TorchSharp: forward probabilities, max |Δ|", MaxAbsDiff(pg, pt), TorchTolerance);
        if (runtime is null)
        {
            // Without a runtime-shaped version, TorchSharp checks TrainSample's input gradient too. (Not for LeNet5: on
            // this project's Zen 5 libtorch 2.10's autograd gives an input gradient for LeNet5's conv1, 1 → 6 channels,
            // 5×5, padding 2, that disagrees with central differences of its own forward pass, e.g. −0.0166 against
            // 0.1923 at pixel 370, where NetGen's matches them; its parameter gradients agree with NetGen's.)
            using Tensor x0 = TorchModel.Inputs(inputs, 1);
            using Tensor y0 = TorchModel.Labels(labels, 1);
            float[] ti = model.InputGradient(x0, y0);
            Report("TorchSharp: input gradient (TrainSample), max |Δ| / max |g|", MaxAbsDiff(inputGradient, ti) / MaxAbs(inputGradient), TorchTolerance);
        }

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

    /// <summary>
    /// Runtime-shaped vs generated on a batch of 40 samples (two full chunks of 16 and one of 8; for WideNet one of 32 and one of 8): ForwardBatch, TrainBatch's
    /// mean loss and batch-mean gradient, at 1 and 2 threads; each network must also give the same bits at 1 and 2 threads.
    /// </summary>
    private static bool CompareBatches(ISampleNetwork generated, ISampleNetwork runtime, Action<string, double, double> report)
    {
        const int batch = 40;
        int inLength = generated.InputLength, outLength = generated.OutputLength;
        var random = new SeededRandom(13);
        var inputs = new float[batch * inLength];
        var labels = new int[batch];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = random.NextSingle() * 2f - 1f;
        }

        for (int i = 0; i < batch; i++)
        {
            labels[i] = random.NextInt32(outLength);
        }

        bool ok = true;
        var results = new (float[] P, float Loss, float[] G)[2, 2];
        ISampleNetwork[] networks = [generated, runtime];
        for (int n = 0; n < 2; n++)
        {
            for (int threads = 1; threads <= 2; threads++)
            {
                ISampleNetwork network = networks[n];
                network.DegreeOfParallelism = threads;
                var p = new float[batch * outLength];
                network.ForwardBatch(inputs, p);
                float loss = network.TrainBatch(inputs, labels);
                results[n, threads - 1] = (p, loss, (float[])network.Gradients.Clone());
            }
        }

        for (int t = 0; t < 2; t++)
        {
            var (pg, lg, gg) = results[0, t];
            var (pr, lr, gr) = results[1, t];
            report($"runtime-shaped, {t + 1} thread(s): ForwardBatch({batch}), max |Δ|", MaxAbsDiff(pg, pr), RuntimeShapedTolerance);
            report($"runtime-shaped, {t + 1} thread(s): TrainBatch({batch}) mean loss, |Δ|", Math.Abs(lg - lr), RuntimeShapedTolerance);
            report($"runtime-shaped, {t + 1} thread(s): batch-mean gradient, max |Δ| / max |g|", MaxAbsDiff(gg, gr) / MaxAbs(gg), RuntimeShapedTolerance);
        }

        for (int n = 0; n < 2; n++)
        {
            bool same = results[n, 0].P.AsSpan().SequenceEqual(results[n, 1].P) && results[n, 0].Loss == results[n, 1].Loss
                && results[n, 0].G.AsSpan().SequenceEqual(results[n, 1].G);
            ok &= same;
            Console.WriteLine($"  {(n == 0 ? "generated" : "runtime-shaped")}: 1 and 2 threads give the same bits: {same}");
        }

        foreach (ISampleNetwork network in networks)
        {
            network.DegreeOfParallelism = 1;
        }

        return ok;
    }

    /// <summary>A network without a runtime-shaped version: ForwardBatch and TrainBatch on 40 samples, 1 thread against 2.</summary>
    private static bool CompareThreads(ISampleNetwork network)
    {
        const int batch = 40;
        (float[] inputs, int[] labels) = Workload.CreateData(batch, seed: 13);
        var results = new (float[] P, float Loss, float[] G)[2];
        for (int threads = 1; threads <= 2; threads++)
        {
            network.DegreeOfParallelism = threads;
            var p = new float[batch * network.OutputLength];
            network.ForwardBatch(inputs, p);
            float loss = network.TrainBatch(inputs, labels);
            results[threads - 1] = (p, loss, (float[])network.Gradients.Clone());
        }

        network.DegreeOfParallelism = 1;
        bool same = results[0].P.AsSpan().SequenceEqual(results[1].P) && results[0].Loss == results[1].Loss
            && results[0].G.AsSpan().SequenceEqual(results[1].G);
        Console.WriteLine($"  generated: ForwardBatch({batch}) and TrainBatch({batch}) give the same bits at 1 and 2 threads: {same}");
        return same;
    }

    /// <summary>
    /// Multiply-adds of one forward pass from the generated network itself: each convolution's weight elements times its
    /// output pixels (ParameterLayout and the generated Shapes), each dense layer's weight elements.
    /// </summary>
    private static long GeneratedMultiplyAdds(INetwork network)
    {
        if (network is not ResNet)
        {
            throw new ArgumentOutOfRangeException(nameof(network), "Only ResNet has no runtime-shaped version.");
        }

        var outputs = new System.Collections.Generic.Dictionary<string, TensorShape>
        {
            ["stem"] = ResNet.Shapes.Stem,
            ["block1_conv1"] = ResNet.Shapes.Block1Conv1,
            ["block1_conv2"] = ResNet.Shapes.Block1Conv2,
            ["block2_conv1"] = ResNet.Shapes.Block2Conv1,
            ["block2_conv2"] = ResNet.Shapes.Block2Conv2,
            ["block2_shortcut"] = ResNet.Shapes.Block2Shortcut,
            ["block3_conv1"] = ResNet.Shapes.Block3Conv1,
            ["block3_conv2"] = ResNet.Shapes.Block3Conv2,
            ["block3_shortcut"] = ResNet.Shapes.Block3Shortcut,
            ["head"] = ResNet.Shapes.Head,
        };
        long macs = 0;
        foreach (NetGen.Weights.TensorSlot slot in network.ParameterLayout)
        {
            if (slot.Name.EndsWith(".weight", StringComparison.Ordinal))
            {
                TensorShape output = outputs[slot.Name[..^".weight".Length]];
                macs += (long)slot.Length * (slot.Shape.Length == 4 ? output.Height * output.Width : 1);
            }
        }

        return macs;
    }

    /// <summary>Whether TorchSharp's named parameters are NetGen's tensors, in the same order with the same shapes.</summary>
    private static bool SameLayout(System.Collections.Generic.IReadOnlyList<NetGen.Weights.TensorSlot> netgen, (string Name, long[] Shape)[] torch, out string text)
    {
        text = $"{netgen.Count} tensors vs {torch.Length}";
        if (netgen.Count != torch.Length)
        {
            return false;
        }

        for (int i = 0; i < torch.Length; i++)
        {
            if (netgen[i].Name != torch[i].Name || !netgen[i].Shape.ToArray().Select(d => (long)d).SequenceEqual(torch[i].Shape))
            {
                text = $"tensor {i}: {netgen[i]} vs {torch[i].Name} [{string.Join(", ", torch[i].Shape)}]";
                return false;
            }
        }

        text = $"{netgen.Count} tensors ({netgen[0].Name} … {netgen[^1].Name})";
        return true;
    }

    /// <summary>The conv-only networks of the conv-forward benchmark: runtime-shaped vs generated only.</summary>
    private static bool CheckRuntimeShaped(NetworkKind kind)
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
        generated.Parameters.CopyTo(runtime.Parameters, 0);
        bool macsOk = runtime.MultiplyAdds == Workload.MultiplyAddsPerSample(kind) && runtime.ParameterCount == generated.ParameterCount;
        ok &= macsOk;
        Console.WriteLine($"  multiply-adds per sample from the shapes: {runtime.MultiplyAdds:N0} (table: {Workload.MultiplyAddsPerSample(kind):N0}) {(macsOk ? "ok" : "FAIL")}");
        ok &= CompareBatches(generated, runtime, Report);
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
