using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Threading;

namespace NetGen.Profiling;

/// <summary>
/// Time and floating-point work per layer method of a generated network, summed over calls. A network gets one, as its
/// static <c>LayerTimings</c> property, when its project defines the <c>NETGEN_PROFILE</c> compilation symbol: then the
/// generated passes time each call site (a layer's forward, backward, folded or batch-gradient method, a BatchNorm's
/// statistics) with <see cref="Stopwatch.GetTimestamp"/>. Without the symbol nothing is timed and this class is unused.
/// </summary>
/// <remarks>
/// Calls on several threads (a batch split over workers) add up: <see cref="Time"/> is the sum of the threads' time in
/// the method, so with one thread it is the method's share of the pass's wall time. Updates are interlocked additions,
/// allocation-free.
/// </remarks>
public sealed class LayerTimings
{
    private readonly string[] _sites;
    private readonly long[] _ticks;
    private readonly long[] _calls;
    private readonly long[] _flops;

    /// <summary>Creates the counters of a network's call sites, all zero.</summary>
    /// <param name="sites">Each call site's label, e.g. <c>conv2 forward</c>; the generated code numbers them from 0.</param>
    public LayerTimings(params string[] sites)
    {
        ArgumentNullException.ThrowIfNull(sites);
        _sites = (string[])sites.Clone();
        _ticks = new long[sites.Length];
        _calls = new long[sites.Length];
        _flops = new long[sites.Length];
    }

    /// <summary>The call sites' labels, in the generated code's numbering: the forward pass's in layer order, then the backward pass's, …</summary>
    public IReadOnlyList<string> Sites => _sites;

    /// <summary>Time spent in call site <paramref name="site"/> since the last <see cref="Reset"/>, summed over threads.</summary>
    /// <param name="site">The site's number (its index in <see cref="Sites"/>).</param>
    /// <returns>The summed time.</returns>
    public TimeSpan Time(int site) => Stopwatch.GetElapsedTime(0, Volatile.Read(ref _ticks[site]));

    /// <summary>Calls of site <paramref name="site"/> since the last <see cref="Reset"/>.</summary>
    /// <param name="site">The site's number.</param>
    /// <returns>The number of calls.</returns>
    public long Calls(int site) => Volatile.Read(ref _calls[site]);

    /// <summary>
    /// Floating-point operations of site <paramref name="site"/> since the last <see cref="Reset"/> (2 per multiply-add of
    /// the convolutions' and dense layers' products; 0 for the layers that only move or compare data).
    /// </summary>
    /// <param name="site">The site's number.</param>
    /// <returns>The operations counted.</returns>
    public long Flops(int site) => Volatile.Read(ref _flops[site]);

    /// <summary>Sets every counter back to zero; call it between runs, not while a pass runs.</summary>
    public void Reset()
    {
        Array.Clear(_ticks);
        Array.Clear(_calls);
        Array.Clear(_flops);
    }

    /// <summary>Adds one call of <paramref name="site"/> that began at <paramref name="started"/> and did <paramref name="flops"/> operations: called by generated code.</summary>
    /// <param name="site">The site's number.</param>
    /// <param name="started">The <see cref="Stopwatch.GetTimestamp"/> taken before the call.</param>
    /// <param name="flops">The call's floating-point operations.</param>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void Add(int site, long started, long flops)
    {
        long elapsed = Stopwatch.GetTimestamp() - started;
        Interlocked.Add(ref _ticks[site], elapsed);
        Interlocked.Increment(ref _calls[site]);
        Interlocked.Add(ref _flops[site], flops);
    }
}
