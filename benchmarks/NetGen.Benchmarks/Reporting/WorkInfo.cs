using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NetGen.Benchmarks.Reporting;

/// <summary>What a benchmark case computes, and its measured speed.</summary>
public sealed record WorkInfo(string Implementation, Work Work, int Batch, int Threads, NetworkKind? Network, double FlopsPerOp)
{
    public static WorkInfo? Of(BenchmarkCase benchmark)
    {
        WorkAttribute? work = benchmark.Descriptor.WorkloadMethod.GetCustomAttribute<WorkAttribute>();
        if (work is null)
        {
            return null;
        }

        if (work.Work == Work.FmaPeak)
        {
            return new WorkInfo(work.Implementation, work.Work, 1, 1, null, PeakBenchmarks.FlopsPerInvocation);
        }

        var network = (NetworkKind)benchmark.Parameters["Network"];
        double flops = Workload.FlopsPerSample(network, work.Work == Work.TrainStep) * work.Batch;
        return new WorkInfo(work.Implementation, work.Work, work.Batch, work.Threads, network, flops);
    }

    /// <summary>Median time per operation in nanoseconds, or null when the case did not run.</summary>
    public static double? MedianNanoseconds(Summary summary, BenchmarkCase benchmark) =>
        summary[benchmark]?.ResultStatistics?.Median;

    public static double? Gflops(Summary summary, BenchmarkCase benchmark)
    {
        WorkInfo? info = Of(benchmark);
        double? ns = MedianNanoseconds(summary, benchmark);
        double? flops = info?.FlopsPerOp
            ?? (benchmark.Descriptor.Type == typeof(KernelBenchmarks) ? KernelBenchmarks.FlopsOf(benchmark.Descriptor.WorkloadMethod.Name) : null);
        return flops is null || ns is null or <= 0 ? null : flops / ns.Value; // FLOP/ns = GFLOP/s
    }

    /// <summary>GFLOP/s of the FMA peak benchmark in this summary, if it ran.</summary>
    public static double? PeakGflops(Summary summary)
    {
        BenchmarkCase? peak = summary.BenchmarksCases.FirstOrDefault(b => Of(b)?.Work == Work.FmaPeak);
        return peak is null ? null : Gflops(summary, peak);
    }

    /// <summary>GFLOP/s over (single-thread peak × threads).</summary>
    public static double? FractionOfPeak(Summary summary, BenchmarkCase benchmark)
    {
        double? gflops = Gflops(summary, benchmark), peak = PeakGflops(summary);
        WorkInfo? info = Of(benchmark);
        return gflops is null || peak is null or <= 0 ? null : gflops / (peak * (info?.Threads ?? 1)); // a kernel case: one thread
    }
}
