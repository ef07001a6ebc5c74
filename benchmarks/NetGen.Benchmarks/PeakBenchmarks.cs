using BenchmarkDotNet.Attributes;

namespace NetGen.Benchmarks;

/// <summary>
/// The single-thread FMA peak of this machine as .NET reaches it: 12 independent register-resident accumulators
/// (enough to cover the FMA latency × throughput of current x64 cores), Vector512 when accelerated, else
/// Vector256. Every other benchmark's GFLOP/s is reported as a fraction of this number.
/// </summary>
[BenchmarkCategory("Peak")]
public class PeakBenchmarks
{
    /// <summary>FLOPs of one invocation: 2 per lane per FMA.</summary>
    public static double FlopsPerInvocation => PeakLoop.FlopsPerRun;

    [Benchmark, Work(Impl.Peak, Work.FmaPeak, 1, 1)]
    public float Fma() => PeakLoop.Run();
}
