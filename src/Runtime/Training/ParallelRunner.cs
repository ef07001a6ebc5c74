using System;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace NetGen.Training;

/// <summary>Work that a <see cref="ParallelRunner"/> splits into numbered items.</summary>
internal interface IParallelJob
{
    /// <summary>Processes item <paramref name="item"/> on worker <paramref name="worker"/> (0 is the calling thread).</summary>
    void Execute(int item, int worker);
}

/// <summary>
/// Runs the items of a job on the calling thread and up to <c>degree − 1</c> thread-pool threads, each
/// worker claiming the next unprocessed item. Its work items are allocated once and reused, so a run
/// allocates nothing. Which worker runs which item varies from run to run; jobs must not depend on it.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A ManualResetEventSlim whose WaitHandle is never read holds no OS handle; nothing to dispose.")]
internal sealed class ParallelRunner(IParallelJob job)
{
    private WorkItem[] _helpers = [];
    private int _next;
    private int _count;
    private int _pending;
    private ExceptionDispatchInfo? _error;
    private readonly ManualResetEventSlim _done = new(false);

    /// <summary>Runs items 0 … <paramref name="itemCount"/> − 1; rethrows the first exception any of them threw.</summary>
    public void Run(int itemCount, int degree)
    {
        int helpers = Math.Min(degree, itemCount) - 1;
        _next = 0;
        _count = itemCount;
        _error = null;
        if (helpers > 0)
        {
            if (_helpers.Length < helpers)
            {
                Array.Resize(ref _helpers, helpers);
                for (int h = 0; h < helpers; h++)
                {
                    _helpers[h] ??= new WorkItem(this, h + 1);
                }
            }

            _pending = helpers;
            _done.Reset();
            for (int h = 0; h < helpers; h++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(_helpers[h], preferLocal: false);
            }
        }

        Work(0);
        if (helpers > 0)
        {
            _done.Wait();
        }

        _error?.Throw();
    }

    private void Work(int worker)
    {
        try
        {
            int item;
            while ((item = Interlocked.Increment(ref _next) - 1) < _count)
            {
                job.Execute(item, worker);
            }
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            Volatile.Write(ref _next, int.MaxValue / 2); // the others stop at their next item
        }
    }

    private sealed class WorkItem(ParallelRunner runner, int worker) : IThreadPoolWorkItem
    {
        public void Execute()
        {
            runner.Work(worker);
            if (Interlocked.Decrement(ref runner._pending) == 0)
            {
                runner._done.Set();
            }
        }
    }
}
