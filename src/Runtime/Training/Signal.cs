using System;
using System.Diagnostics;
using System.Threading;

namespace NetGen.Training;

/// <summary>
/// A manual-reset event that allocates nothing after construction: <see cref="Wait"/> spins briefly (a run usually
/// follows the last one closely), then blocks on a monitor whose lock object exists from the start.
/// </summary>
/// <remarks>
/// The spin only pauses (<see cref="Thread.SpinWait"/>); it never yields the processor: a waiting thread that yielded
/// (<see cref="Thread.Yield"/>, <c>Thread.Sleep(0)</c>, a system call each time) slowed the thread it waited for by
/// nearly half on a 2-vCPU VM (docs/benchmarks.md).
/// </remarks>
internal sealed class Signal
{
    /// <summary>How long every wait spins before blocking, in <see cref="Stopwatch"/> ticks: 50 µs.</summary>
    private static readonly long BriefSpinTicks = Stopwatch.Frequency / 20_000;

    private readonly object _gate = new();
    private volatile bool _set;

    public void Set()
    {
        lock (_gate)
        {
            _set = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Clears the signal, with a full fence: the caller's next read (the count of finished items, the open run) must not
    /// be done before the clear is visible. Without it the processor may read first and clear later, over a
    /// <see cref="Set"/> made in between, and the waiter then blocks for a wake-up that already came.
    /// </summary>
    public void Reset()
    {
        _set = false;
        Interlocked.MemoryBarrier();
    }

    /// <summary>
    /// Waits until set; false if <paramref name="millisecondsTimeout"/> passed first. Spins for
    /// <paramref name="spinTicks"/> (<see cref="Stopwatch"/> ticks), or at least 50 µs, before blocking: where the next
    /// set usually comes within microseconds, blocking would add a thread wake-up to each.
    /// </summary>
    public bool Wait(int millisecondsTimeout = Timeout.Infinite, long spinTicks = 0)
    {
        if (!_set)
        {
            long end = Stopwatch.GetTimestamp() + Math.Max(spinTicks, BriefSpinTicks);
            while (!_set && Stopwatch.GetTimestamp() < end)
            {
                Thread.SpinWait(16);
            }
        }

        if (_set)
        {
            return true;
        }

        long start = Environment.TickCount64;
        lock (_gate)
        {
            while (!_set)
            {
                int wait = Timeout.Infinite;
                if (millisecondsTimeout != Timeout.Infinite)
                {
                    long left = millisecondsTimeout - (Environment.TickCount64 - start);
                    if (left <= 0)
                    {
                        return false;
                    }

                    wait = (int)left;
                }

                Monitor.Wait(_gate, wait);
            }
        }

        return true;
    }
}
