using System;
using System.Diagnostics;
using System.Threading;

namespace NetGen.Training;

/// <summary>
/// A manual-reset event that allocates nothing after construction: <see cref="Wait"/> spins briefly (a run usually
/// follows the last one closely), then blocks on a monitor whose lock object exists from the start.
/// </summary>
internal sealed class Signal
{
    private const int SpinIterations = 40;
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

    public void Reset() => _set = false;

    /// <summary>
    /// Waits until set; false if <paramref name="millisecondsTimeout"/> passed first. Spins for
    /// <paramref name="spinTicks"/> (<see cref="Stopwatch"/> ticks) before blocking, besides the brief spin every wait has:
    /// where the next set usually comes within microseconds, blocking would add a thread wake-up to each.
    /// </summary>
    public bool Wait(int millisecondsTimeout = Timeout.Infinite, long spinTicks = 0)
    {
        var spinner = default(SpinWait);
        for (int i = 0; i < SpinIterations && !_set; i++)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        if (spinTicks > 0 && !_set)
        {
            long end = Stopwatch.GetTimestamp() + spinTicks;
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
