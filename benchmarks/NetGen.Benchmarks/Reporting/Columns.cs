using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NetGen.Benchmarks.Reporting;

/// <summary>Base of the computed columns: shown for every case, values from <see cref="WorkInfo"/>.</summary>
public abstract class WorkColumn(string id, string name, string legend) : IColumn
{
    public string Id => id;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);
    public abstract string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style);
}

/// <summary>Threads the case uses.</summary>
public sealed class ThreadsColumn() : WorkColumn("NetGen.Threads", "Threads", "Threads the benchmark uses")
{
    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        WorkInfo.Of(benchmarkCase)?.Threads.ToString(CultureInfo.InvariantCulture) ?? "-";
}

/// <summary>Samples per second at the median time.</summary>
public sealed class SamplesPerSecondColumn() : WorkColumn("NetGen.SamplesPerSecond", "Samples/s", "Samples per second at the median time")
{
    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        WorkInfo? info = WorkInfo.Of(benchmarkCase);
        double? ns = WorkInfo.MedianNanoseconds(summary, benchmarkCase);
        return info is null || info.Work == Work.FmaPeak || ns is null
            ? "-"
            : (info.Batch * 1e9 / ns.Value).ToString("N0", CultureInfo.InvariantCulture);
    }
}

/// <summary>GFLOP/s at the median time, from the known FLOP count of the case.</summary>
public sealed class GflopsColumn() : WorkColumn("NetGen.Gflops", "GFLOP/s", "Billions of floating-point operations per second at the median time (2 per multiply-add; training = 3 × forward)")
{
    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        WorkInfo.Gflops(summary, benchmarkCase)?.ToString("F2", CultureInfo.InvariantCulture) ?? "-";
}

/// <summary>GFLOP/s as a fraction of the measured single-thread FMA peak times the thread count.</summary>
public sealed class PeakFractionColumn() : WorkColumn("NetGen.PeakFraction", "Peak", "GFLOP/s ÷ (FMA peak of one thread × threads), the peak measured in the same run")
{
    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        WorkInfo.FractionOfPeak(summary, benchmarkCase)?.ToString("P1", CultureInfo.InvariantCulture) ?? "-";
}
