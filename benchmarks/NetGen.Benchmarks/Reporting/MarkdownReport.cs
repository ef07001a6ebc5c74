using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NetGen.Benchmarks.Reporting;

/// <summary>Writes the run as Markdown: every case with its median, GFLOP/s and fraction of peak, then the ratios.</summary>
public static class MarkdownReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>/proc/loadavg when the run started (set by Program), to show how busy the machine was.</summary>
    public static string? LoadAtStart { get; set; }

    public static string LoadAverage()
    {
        try
        {
            string[] parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{parts[0]} / {parts[1]} / {parts[2]}";
        }
        catch (IOException)
        {
            return "?";
        }
    }

    public static string Build(Summary summary, string command)
    {
        var rows = summary.BenchmarksCases
            .Select(b => (Case: b, Info: WorkInfo.Of(b), Ns: WorkInfo.MedianNanoseconds(summary, b)))
            .Where(r => r.Info is not null)
            .ToList();
        double? peak = WorkInfo.PeakGflops(summary);
        var host = summary.HostEnvironmentInfo;
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# NetGen benchmarks, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine();
        sb.AppendLine(Inv, $"- Command: `{command}`");
        sb.AppendLine(Inv, $"- CPU: {BenchmarkInputs.CpuName()}, {Environment.ProcessorCount} logical cores; OS: {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        sb.AppendLine(Inv, $"- Runtime: {host.RuntimeVersion}, {host.Architecture}, JIT {host.JitInfo}; vectors: {host.HardwareIntrinsicsShort}; BenchmarkDotNet {host.BenchmarkDotNetVersion}");
        sb.AppendLine(Inv, $"- Load average (1 / 5 / 15 min) at the start: {LoadAtStart ?? "?"}; at the end: {LoadAverage()} (other work shares the machine)");
        sb.AppendLine(Inv, $"- Job: {string.Join("; ", summary.BenchmarksCases.Select(b => b.Job.DisplayInfo).Distinct())}");
        sb.AppendLine(Inv, $"- FMA peak (one thread, {PeakLoop.Accumulators} × Vector{PeakLoop.Lanes * 32} accumulators): {(peak is null ? "not measured" : peak.Value.ToString("F1", Inv) + " GFLOP/s")}");
        sb.AppendLine();
        sb.AppendLine("Medians. GFLOP/s from the known multiply-add count per sample (LeNet5 416,520, WideNet 13,883,904, ResNet 9,376,640, ResNetBN 24,198,656; 2 FLOPs each; a training step counts 3 × forward); Peak = GFLOP/s ÷ (single-thread FMA peak × threads).");
        sb.AppendLine();
        sb.AppendLine("| Network | Benchmark | Implementation | Threads | Median | Samples/s | GFLOP/s | Peak | Allocated/op |");
        sb.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows.OrderBy(r => r.Info!.Network ?? (NetworkKind)99).ThenBy(r => Order(r.Info!)).ThenBy(r => ImplOrder(r.Info!.Implementation)).ThenBy(r => r.Info!.Threads))
        {
            WorkInfo info = r.Info!;
            string samples = info.Work == Work.FmaPeak || r.Ns is null ? "—" : (info.Batch * 1e9 / r.Ns.Value).ToString("N0", Inv);
            sb.AppendLine(Inv, $"| {info.Network?.ToString() ?? "—"} | {Scenario(info)} | {info.Implementation} | {info.Threads} | {Time(r.Ns)} | {samples} | {Fmt(WorkInfo.Gflops(summary, r.Case), "F2")} | {Fmt(WorkInfo.FractionOfPeak(summary, r.Case), "P1")} | {Bytes(summary, r.Case)} |");
        }

        sb.AppendLine();
        sb.AppendLine("Ratios of throughput (the other implementation's median time ÷ NetGen's, same network, benchmark and threads; > 1 means NetGen is faster). At batch 1 on 2 threads NetGen splits its largest layers (WideNet's, ResNetBN's) between them; where NetGen has no row for the rivals' thread count, its 1-thread figure is compared. — where a row did not run (the runtime-shaped baseline has no ResNet or ResNetBN; ONNX Runtime does inference only).");
        sb.AppendLine();
        sb.AppendLine("| Network | Benchmark | Threads | NetGen | NetGen / TorchSharp | NetGen / runtime-shaped | NetGen / ONNX Runtime |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        var keyed = rows.Where(r => r.Info!.Network is not null && r.Ns is not null)
            .ToDictionary(r => (r.Info!.Network!.Value, Order(r.Info!), r.Info!.Implementation, r.Info!.Threads), r => r.Ns!.Value);
        foreach (var group in keyed.Keys.Select(k => (k.Value, k.Item2, k.Threads)).Distinct().OrderBy(k => k.Value).ThenBy(k => k.Item2).ThenBy(k => k.Threads))
        {
            (NetworkKind network, int order, int threads) = group;
            // Where NetGen has no row at this thread count (a one-layer benchmark), compare its 1-thread figure.
            int netgenThreads = keyed.ContainsKey((network, order, Impl.NetGen, threads)) ? threads : 1;
            if (!keyed.TryGetValue((network, order, Impl.NetGen, netgenThreads), out double netgen))
            {
                continue;
            }

            string Ratio(string impl) => keyed.TryGetValue((network, order, impl, threads), out double other) ? (other / netgen).ToString("F2", Inv) + "×" : "—";
            string netgenLabel = Time(netgen) + (netgenThreads != threads ? " (1 thread)" : "");
            sb.AppendLine(Inv, $"| {network} | {ScenarioName(order)} | {threads} | {netgenLabel} | {Ratio(Impl.TorchSharp)} | {Ratio(Impl.RuntimeShaped)} | {Ratio(Impl.OnnxRuntime)} |");
        }

        return sb.ToString();
    }

    public static void Write(Summary summary, string path, string command)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        File.WriteAllText(path, Build(summary, command));
    }

    private static int Order(WorkInfo info) => info.Work switch
    {
        Work.FmaPeak => 0,
        Work.Forward when info.Batch == 1 => 1,
        Work.Forward => 2,
        _ => 3,
    };

    private static string ScenarioName(int order) => order switch
    {
        0 => "FMA peak",
        1 => "forward, batch 1",
        2 => $"inference, batch {Workload.InferenceBatch}",
        _ => $"training step, batch {Workload.TrainingBatch}",
    };

    private static string Scenario(WorkInfo info) => ScenarioName(Order(info));

    private static int ImplOrder(string impl) => impl switch
    {
        Impl.NetGen => 0,
        Impl.RuntimeShaped => 1,
        Impl.TorchSharp => 2,
        Impl.OnnxRuntime => 3,
        _ => 4,
    };

    private static string Fmt(double? value, string format) => value?.ToString(format, Inv) ?? "—";

    private static string Time(double? ns) => ns switch
    {
        null => "—",
        < 1e3 => ns.Value.ToString("F1", Inv) + " ns",
        < 1e6 => (ns.Value / 1e3).ToString("F1", Inv) + " µs",
        < 1e9 => (ns.Value / 1e6).ToString("F2", Inv) + " ms",
        _ => (ns.Value / 1e9).ToString("F3", Inv) + " s",
    };

    private static string Bytes(Summary summary, BenchmarkCase benchmark)
    {
        BenchmarkReport? report = summary[benchmark];
        if (report is null)
        {
            return "—";
        }

        long bytes = report.GcStats.GetBytesAllocatedPerOperation(benchmark) ?? -1;
        return bytes switch
        {
            < 0 => "—",
            0 => "0 B",
            < 1024 => bytes.ToString(Inv) + " B",
            < 1024 * 1024 => (bytes / 1024.0).ToString("F1", Inv) + " KB",
            _ => (bytes / (1024.0 * 1024)).ToString("F1", Inv) + " MB",
        };
    }

    internal static IEnumerable<BenchmarkCase> Cases(Summary summary) => summary.BenchmarksCases;
}
