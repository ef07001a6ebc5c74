using System;
using System.ComponentModel;
using System.Threading;

namespace NetGen.Training;

/// <summary>
/// What the batch engines' worker threads (the threads besides the caller's that run a batch's chunks) have allocated,
/// for allocation checks. For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WorkerThreads
{
    private static long s_allocatedBytes;

    /// <summary>
    /// Bytes the worker threads of every batch engine in the process have allocated while running chunks. With
    /// <see cref="GC.GetAllocatedBytesForCurrentThread"/> on the calling thread it accounts for every allocation a batch
    /// call makes, without the rest of the process; it stays unchanged across steady-state calls.
    /// </summary>
    public static long AllocatedBytes => Interlocked.Read(ref s_allocatedBytes);

    internal static void Allocated(long bytes)
    {
        if (bytes != 0)
        {
            Interlocked.Add(ref s_allocatedBytes, bytes);
        }
    }
}
