using System;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NetGen;
using NetGen.Benchmarks;
using NetGen.Optimizers;
using NetGen.Profiling;
using Spectre.Console;

// The per-layer profile: for one network, times every generated layer method over training steps (batch 64, TrainBatch
// and an SGD step), inference batches (ForwardBatch, 256) and single-image forwards, and prints each method's time,
// GFLOP/s and share of this machine's single-thread FMA peak, measured first. Usage:
//   NetGen.Profile.dll --network WideNet [--threads 1] [--steps 20]
var networkOption = new Option<string>("--network") { Description = "LeNet5, WideNet, ResNet or ResNetBN", DefaultValueFactory = _ => "WideNet" };
var threadsOption = new Option<int>("--threads") { Description = "DegreeOfParallelism of the network", DefaultValueFactory = _ => 1 };
var stepsOption = new Option<int>("--steps") { Description = "timed training steps; inference runs as many batches", DefaultValueFactory = _ => 20 };
var root = new RootCommand("Per-layer profile of a generated network (compiled with NETGEN_PROFILE).") { networkOption, threadsOption, stepsOption };
root.SetAction(result =>
{
    string name = result.GetValue(networkOption)!;
    int threads = result.GetValue(threadsOption), steps = result.GetValue(stepsOption);
    if (threads < 1 || steps < 1)
    {
        Console.Error.WriteLine("--threads and --steps must be at least 1.");
        return 2;
    }

    (INetwork? network, LayerTimings? timings) = name.ToLowerInvariant() switch
    {
        "lenet5" => (new LeNet5(), LeNet5.LayerTimings),
        "widenet" => (new WideNet(), WideNet.LayerTimings),
        "resnet" => (new ResNet(), ResNet.LayerTimings),
        "resnetbn" => ((INetwork?)new ResNetBN(), ResNetBN.LayerTimings),
        _ => (null, null),
    };
    if (network is null || timings is null)
    {
        Console.Error.WriteLine($"--network {name}: expected LeNet5, WideNet, ResNet or ResNetBN.");
        return 2;
    }

    Profile.Run(name, network, timings, threads, steps);
    return 0;
});
return root.Parse(args).Invoke();

internal static class Profile
{
    private const int TrainingBatch = 64, InferenceBatch = 256;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(string name, INetwork network, LayerTimings timings, int threads, int steps)
    {
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 120; // a file or a pipe: no terminal width to fit
        }

        double peak = MeasurePeak();
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(name)}[/], {threads} thread(s), " +
                               $"{Markup.Escape(BenchmarkInputs.CpuName())}; FMA peak {peak.ToString("F1", Inv)} GFLOP/s per thread ({PeakLoop.Accumulators} × Vector{PeakLoop.Lanes * 32})");

        network.InitializeParameters(1);
        network.DegreeOfParallelism = threads;
        (float[] inputs, int[] labels) = BenchmarkInputs.Random(InferenceBatch, network.InputLength, network.OutputLength, seed: 7);
        var sgd = new Sgd(0.001f) { DegreeOfParallelism = threads };
        var probabilities = new float[InferenceBatch * network.OutputLength];

        Measure("Training step: TrainBatch(64) + SGD step", timings, threads, peak, steps, warmups: 5, () =>
        {
            network.TrainBatch(inputs.AsSpan(0, TrainingBatch * network.InputLength), labels.AsSpan(0, TrainingBatch));
            sgd.Step(network.Parameters, network.Gradients);
        });
        Measure("Inference: ForwardBatch(256)", timings, threads, peak, Math.Max(steps / 4, 3), warmups: 2, () =>
            network.ForwardBatch(inputs, probabilities));
        Measure("Single image: Forward", timings, threads, peak, steps * 20, warmups: 50, () =>
            network.Forward(inputs.AsSpan(0, network.InputLength), probabilities.AsSpan(0, network.OutputLength)));
    }

    /// <summary>Runs <paramref name="call"/> after warm-up, then prints each timed site's share of it.</summary>
    private static void Measure(string title, LayerTimings timings, int threads, double peak, int runs, int warmups, Action call)
    {
        // Warm up for at least a second as well, so the runtime code around the layer methods (which are optimized from
        // the start) has been through tiered compilation too.
        long warming = Stopwatch.GetTimestamp();
        for (int i = 0; i < warmups || Stopwatch.GetElapsedTime(warming).TotalSeconds < 1; i++)
        {
            call();
        }

        timings.Reset();
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; i < runs; i++)
        {
            call();
        }

        double wallUs = Stopwatch.GetElapsedTime(started).TotalMicroseconds / runs;
        var table = new Table().Title($"{Markup.Escape(title)}: {wallUs.ToString("N1", Inv)} µs per call (wall), {runs} calls")
            .AddColumn("site").AddColumn(new TableColumn("calls").RightAligned()).AddColumn(new TableColumn("µs per call").RightAligned())
            .AddColumn(new TableColumn("% of call").RightAligned()).AddColumn(new TableColumn("GFLOP/s").RightAligned())
            .AddColumn(new TableColumn("% of peak").RightAligned());
        double sitesUs = 0, flops = 0;
        for (int site = 0; site < timings.Sites.Count; site++)
        {
            long calls = timings.Calls(site);
            if (calls == 0)
            {
                continue;
            }

            double us = timings.Time(site).TotalMicroseconds / runs, siteFlops = timings.Flops(site) / (double)runs;
            sitesUs += us;
            flops += siteFlops;
            // Time summed over threads: a thread's share of the call is us / (wall × threads).
            double share = us / (wallUs * threads);
            string gflops = siteFlops > 0 ? (siteFlops / us / 1e3).ToString("F1", Inv) : "";
            string ofPeak = siteFlops > 0 ? (siteFlops / us / 1e3 / peak).ToString("P0", Inv) : "";
            table.AddRow(Markup.Escape(timings.Sites[site]), (calls / (double)runs).ToString("0.##", Inv), us.ToString("N1", Inv),
                share.ToString("P1", Inv), gflops, ofPeak);
        }

        double outside = wallUs * threads - sitesUs;
        table.AddRow("[grey]outside the layer methods[/]", "", outside.ToString("N1", Inv),
            (outside / (wallUs * threads)).ToString("P1", Inv), "", "");
        table.AddRow("[bold]whole call[/]", "", (wallUs * threads).ToString("N1", Inv), "100.0%",
            (flops / wallUs / 1e3).ToString("F1", Inv), (flops / wallUs / 1e3 / (peak * threads)).ToString("P0", Inv));
        table.Caption("µs per call: summed over the threads. Outside the layer methods: copies, hand-offs, the optimizer, idle workers. GFLOP/s: per thread for a site, across the threads for the whole call.");
        AnsiConsole.Write(table);
    }

    /// <summary>The single-thread FMA peak: the best of several runs of the benchmarks' loop.</summary>
    private static double MeasurePeak()
    {
        double best = 0;
        for (int i = 0; i < 12; i++)
        {
            long started = Stopwatch.GetTimestamp();
            PeakLoop.Run();
            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (i >= 2)
            {
                best = Math.Max(best, PeakLoop.FlopsPerRun / seconds / 1e9);
            }
        }

        return best;
    }
}
