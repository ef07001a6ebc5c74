using System;
using System.Runtime.InteropServices;
using Perfolizer.Horology;

namespace NetGen.Benchmarks;

/// <summary>
/// A BenchmarkDotNet clock that counts the calling thread's CPU time (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>), not wall
/// time: on a shared machine a single-threaded case is then not charged for the time other processes hold its core (it
/// still pays for what they do to the caches). For single-threaded cases only (<c>--cpu-clock</c>, e.g. the kernels):
/// work on other threads is not counted.
/// </summary>
public sealed class ThreadCpuClock : IClock
{
    private const int ClockThreadCpuTimeId = 3;

    public string Title => "Thread CPU time";

    public bool IsAvailable => OperatingSystem.IsLinux();

    public Frequency Frequency => Frequency.GHz; // nanoseconds

    public long GetTimestamp()
    {
        clock_gettime(ClockThreadCpuTimeId, out TimeSpec time);
        return time.Seconds * 1_000_000_000 + time.Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", SetLastError = false)]
    private static extern int clock_gettime(int clock, out TimeSpec time);
}
