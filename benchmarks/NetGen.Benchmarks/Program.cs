using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using NetGen.Benchmarks;
using NetGen.Benchmarks.Reporting;

// usage: NetGen.Benchmarks.dll [verify] [--quick] [--report <file.md>] [--no-verify] [BenchmarkDotNet options, e.g. --filter *Latency*]
//   verify      only the correctness check (runtime-shaped, TorchSharp and ONNX Runtime against the generated code;
//               TorchSharp loading NetGen's weights files) and the allocation check (NetGen's calls allocate 0 bytes on
//               any thread after warm-up)
//   --no-verify skip both checks
//   --quick     a short job for development (2 warm-ups, 3 iterations of 100 ms)
//   --report    where to write the Markdown table (default: BenchmarkDotNet.Artifacts/netgen-report.md)
//   --cpu-clock time by the benchmark thread's CPU time instead of wall time (ThreadCpuClock): for single-threaded cases
//               (the kernels, the FMA peak) on a machine other work shares
//   --network   only the cases of one network (LeNet5, WideNet, ResNet, ResNetBN, …) and the FMA peak, e.g. --network ResNetBN
// Must run under a dotnet host that finds a libstdc++ with GLIBCXX_3.4.32 (see benchmarks/run.sh).
// torchsharp-env.sh puts Debian 13's libc first on LD_LIBRARY_PATH for this process; the loader has read it by now,
// so drop it for child processes (BenchmarkDotNet runs a few system tools), which need the system's own libc.
Environment.SetEnvironmentVariable("LD_LIBRARY_PATH", null);

MarkdownReport.LoadAtStart = MarkdownReport.LoadAverage();
var rest = new List<string>(args);
bool Flag(string name) => rest.Remove(name);
string? Option(string name)
{
    int i = rest.IndexOf(name);
    if (i < 0 || i + 1 >= rest.Count)
    {
        return null;
    }

    string value = rest[i + 1];
    rest.RemoveRange(i, 2);
    return value;
}

bool verifyOnly = Flag("verify");
bool quick = Flag("--quick");
bool skipVerify = Flag("--no-verify");
bool cpuClock = Flag("--cpu-clock");
string report = Option("--report") ?? "BenchmarkDotNet.Artifacts/netgen-report.md";
string? onlyNetwork = Option("--network");
NetworkKind? only = null;
if (onlyNetwork is not null)
{
    if (!Enum.TryParse(onlyNetwork, ignoreCase: true, out NetworkKind parsed))
    {
        Console.Error.WriteLine($"--network {onlyNetwork}: expected one of {string.Join(", ", Enum.GetNames<NetworkKind>())}.");
        return 2;
    }

    only = parsed;
}

if (!skipVerify && !Verify.Run())
{
    return 1;
}

// Printed before the timed run; a non-zero count fails `verify` but does not stop the benchmarks.
bool allocationsOk = skipVerify || AllocationCheck.Run();
if (verifyOnly)
{
    return allocationsOk ? 0 : 1;
}

// Everything runs inside this process (InProcessEmitToolchain): BenchmarkDotNet's usual child process would be
// started with the plain dotnet host, which does not find the newer libstdc++ that TorchSharp needs.
Job job = (quick
        ? Job.Default.WithWarmupCount(2).WithIterationCount(3).WithIterationTime(TimeInterval.FromMilliseconds(100))
        : Job.Default.WithWarmupCount(6).WithIterationCount(30).WithIterationTime(TimeInterval.FromMilliseconds(150)))
    .WithLaunchCount(1)
    .WithToolchain(InProcessEmitToolchain.Instance)
    .WithId(quick ? "Quick" : "Full");
if (cpuClock)
{
    job = job.WithClock(new ThreadCpuClock());
}


IConfig config = DefaultConfig.Instance
    .AddJob(job)
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddFilter(new RuntimeShapedFilter())
    // --network: BenchmarkDotNet's --filter matches type and method names, not [Params] values.
    .AddFilter(new BenchmarkDotNet.Filters.SimpleFilter(b => only is null
        || b.Parameters.Items.FirstOrDefault(p => p.Name == nameof(NetworkBenchmarks.Network))?.Value is not NetworkKind network
        || network == only))
    .AddColumn(StatisticColumn.Median, new ThreadsColumn(), new SamplesPerSecondColumn(), new GflopsColumn(), new PeakFractionColumn())
    .WithOptions(ConfigOptions.JoinSummary)
    // Ratios (BenchmarkDotNet's Ratio column) against each class's NetGen baseline, per network.
    .AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)
    .WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));

if (!rest.Any(a => a is "--filter" or "-f" or "--list" or "--help" or "-h"))
{
    rest.AddRange(["--filter", "*"]);
}

Type[] types = [typeof(PeakBenchmarks), typeof(LatencyBenchmarks), typeof(InferenceBenchmarks), typeof(TrainingBenchmarks), typeof(ConvForwardBenchmarks), typeof(DepthwiseBenchmarks)];
// The kernels alone (KernelBenchmarks) only when a filter names them: they are not part of the full run's report.
if (rest.Any(a => a.Contains("Kernel", StringComparison.Ordinal)))
{
    types = [.. types, typeof(KernelBenchmarks)];
}

// One optimizer step against TorchSharp's (OptimizerBenchmarks) likewise.
if (rest.Any(a => a.Contains("Optimizer", StringComparison.Ordinal)))
{
    types = [.. types, typeof(OptimizerBenchmarks)];
}

// What a one-sample split across cores costs (SplitBenchmarks) likewise.
if (rest.Any(a => a.Contains("Split", StringComparison.Ordinal)))
{
    types = [.. types, typeof(SplitBenchmarks)];
}

// The compile-time cost (GeneratorBenchmarks) likewise.
if (rest.Any(a => a.Contains("Generator", StringComparison.Ordinal)))
{
    types = [.. types, typeof(GeneratorBenchmarks)];
    config = config.AddColumn(new GeneratorBenchmarks.SourceColumn());
}

Summary[] summaries = BenchmarkSwitcher.FromTypes(types).Run([.. rest], config).ToArray();
foreach (Summary summary in summaries.Where(s => s.BenchmarksCases.Length > 0))
{
    // The command as typed: run.sh adds --report and --artifacts itself.
    var shown = new List<string>();
    for (int i = 0; i < args.Length; i++)
    {
        if (args[i] is "--report" or "--artifacts")
        {
            i++;
            continue;
        }

        shown.Add(args[i]);
    }

    string command = "benchmarks/run.sh " + string.Join(' ', shown);
    MarkdownReport.Write(summary, report, command.Trim());
    Console.WriteLine();
    Console.WriteLine(MarkdownReport.Build(summary, command.Trim()));
    Console.WriteLine($"Markdown report: {System.IO.Path.GetFullPath(report)}");
}

return 0;
