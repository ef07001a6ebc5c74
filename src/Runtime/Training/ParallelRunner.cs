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
/// Runs the items of a job on the calling thread and up to <c>degree − 1</c> worker threads of its own, each worker
/// claiming the next unprocessed item. Which worker runs which item varies from run to run; jobs must not depend on it.
/// </summary>
/// <remarks>
/// The workers are dedicated background threads, not thread-pool work items: handing a run to a parked worker is
/// setting its <see cref="Signal"/>, which allocates nothing, so a steady stream of runs allocates nothing on any thread
/// (the thread pool's queues allocate now and then, and <see cref="ManualResetEventSlim"/> allocates its lock object
/// the first time a thread blocks on it, which may be any call). A worker left idle for <see cref="IdleMilliseconds"/> exits, so an
/// unused runner holds no thread and can be collected; the next run starts a new one.
/// </remarks>
/// <param name="job">The work.</param>
/// <param name="spinTicks">
/// How long (<see cref="System.Diagnostics.Stopwatch"/> ticks) a parked worker, and the caller waiting for the workers,
/// spin before blocking: for runs that follow one another within microseconds, such as the layers of one forward pass.
/// </param>
internal sealed class ParallelRunner(IParallelJob job, long spinTicks = 0)
{
    /// <summary>How long a worker waits for the next run before its thread exits.</summary>
    public const int IdleMilliseconds = 2000;

    private Worker?[] _workers = [];
    private int _next;
    private int _count;
    private int _pending;
    private ExceptionDispatchInfo? _error;
    private readonly Signal _done = new();
    private readonly long _spinTicks = spinTicks;

    /// <summary>Runs items 0 … <paramref name="itemCount"/> − 1; rethrows the first exception any of them threw.</summary>
    public void Run(int itemCount, int degree)
    {
        int helpers = Math.Min(degree, itemCount) - 1;
        _next = 0;
        _count = itemCount;
        _error = null;
        if (helpers > 0)
        {
            if (_workers.Length < helpers)
            {
                Array.Resize(ref _workers, helpers);
            }

            _pending = helpers;
            _done.Reset();
            for (int h = 0; h < helpers; h++)
            {
                if (_workers[h] is not { } worker || !worker.TryHandOver())
                {
                    _workers[h] = new Worker(this, h + 1);
                }
            }
        }

        Work(0);
        if (helpers > 0)
        {
            _done.Wait(spinTicks: _spinTicks);
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

    private void Finished()
    {
        if (Interlocked.Decrement(ref _pending) == 0)
        {
            _done.Set();
        }
    }

    /// <summary>One worker thread: parked on its event between runs, exiting after an idle wait.</summary>
    private sealed class Worker
    {
        private const int Parked = 0, HandedOver = 1, Exited = 2;

        private readonly ParallelRunner _runner;
        private readonly int _index;
        private readonly Signal _go = new();
        private int _state = HandedOver; // a new worker starts with the current run

        public Worker(ParallelRunner runner, int index)
        {
            _runner = runner;
            _index = index;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"NetGen worker {index}" };
            thread.UnsafeStart();
        }

        /// <summary>Gives the current run to this worker if it is parked; false if its thread has exited.</summary>
        public bool TryHandOver()
        {
            if (Interlocked.CompareExchange(ref _state, HandedOver, Parked) != Parked)
            {
                return false;
            }

            _go.Set();
            return true;
        }

        private void Loop()
        {
            // A new worker starts with the current run, which has no Set of its own. Every later run is waited for, even when
            // the state already says HandedOver: each hand-over's Set is consumed by the Reset after its wait, so a Set never
            // outlives its run to start a run of nothing, whose Finished would count against the next one.
            bool started = true;
            while (true)
            {
                if (!started && !_go.Wait(IdleMilliseconds, _runner._spinTicks))
                {
                    if (Interlocked.CompareExchange(ref _state, Exited, Parked) == Parked)
                    {
                        return; // idle: the runner starts a new worker next time
                    }

                    _go.Wait(); // a run was handed over as the wait timed out: its Set is coming
                }

                started = false;
                _go.Reset();
                long before = GC.GetAllocatedBytesForCurrentThread();
                _runner.Work(_index);
                WorkerThreads.Allocated(GC.GetAllocatedBytesForCurrentThread() - before);
                Volatile.Write(ref _state, Parked); // before Finished: once the run is done, every live worker is parked
                _runner.Finished();
            }
        }
    }
}
