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
/// Runs the items of a job on the calling thread and up to <c>degree − 1</c> worker threads of its own, each thread
/// claiming the next unprocessed item. Which thread runs which item varies from run to run; jobs must not depend on it.
/// </summary>
/// <remarks>
/// <para>
/// A run ends when its last item is done, not when every worker has looked in: a worker that wakes late finds nothing
/// left to claim, and the caller, who claims items too, never waits for a thread that is not working. Items are claimed
/// from one 64-bit word holding the run's number and its next item, so a worker still looking at an earlier run cannot
/// claim an item of a later one: its compare-and-swap fails and it reads the word again. A run's parameters (its item
/// count, and whatever the job reads) are written before the run is opened and stay until its last item is done.
/// </para>
/// <para>
/// The workers are dedicated background threads, not thread-pool work items: waking a worker is setting its
/// <see cref="Signal"/>, which allocates nothing, so a steady stream of runs allocates nothing on any thread (the thread
/// pool's queues allocate now and then, and <see cref="ManualResetEventSlim"/> allocates its lock object the first time
/// a thread blocks on it, which may be any call). A worker left idle for <see cref="IdleMilliseconds"/> exits, so an
/// unused runner holds no thread and can be collected; the next run starts a new one.
/// </para>
/// </remarks>
/// <param name="job">The work.</param>
/// <param name="spinTicks">
/// How long (<see cref="System.Diagnostics.Stopwatch"/> ticks) an idle worker, and the caller waiting for the last items,
/// spin before blocking: for runs that follow one another within microseconds, such as the layers of one forward pass.
/// </param>
internal sealed class ParallelRunner(IParallelJob job, long spinTicks = 0)
{
    /// <summary>How long a worker waits for the next run before its thread exits.</summary>
    public const int IdleMilliseconds = 2000;

    /// <summary>The low half of <see cref="_claims"/> between runs: no item can be claimed.</summary>
    private const long Closed = int.MaxValue;

    private readonly long _spinTicks = spinTicks;
    private readonly Signal _done = new();
    private Worker?[] _workers = [];

    /// <summary>The run's number (high 32 bits) and its next unclaimed item (low 32 bits, <see cref="Closed"/> between runs).</summary>
    private long _claims = Closed;

    private int _count;
    private int _helpers;
    private int _completed;
    private ExceptionDispatchInfo? _error;

    /// <summary>Runs items 0 … <paramref name="itemCount"/> − 1; rethrows the first exception any of them threw.</summary>
    public void Run(int itemCount, int degree)
    {
        int helpers = Math.Max(0, Math.Min(degree, itemCount) - 1);
        long run = (Volatile.Read(ref _claims) >> 32) + 1;
        _count = itemCount;
        _helpers = helpers;
        _completed = 0;
        _error = null;
        _done.Reset();
        Volatile.Write(ref _claims, run << 32); // open: item 0 is next
        if (helpers > 0)
        {
            if (_workers.Length < helpers)
            {
                Array.Resize(ref _workers, helpers);
            }

            for (int h = 0; h < helpers; h++)
            {
                if (_workers[h] is not { } worker || !worker.Wake())
                {
                    _workers[h] = new Worker(this, h + 1);
                }
            }
        }

        Work(0);
        while (Volatile.Read(ref _completed) < itemCount)
        {
            // The last item's thread sets the signal after counting it; a set left over from the previous run only
            // makes this loop look at the count again.
            _done.Wait(spinTicks: _spinTicks);
            _done.Reset();
        }

        Volatile.Write(ref _claims, (run << 32) | Closed);
        _error?.Throw();
    }

    /// <summary>Claims and runs items of the open run until none is left; a worker whose number the run does not use claims none.</summary>
    private void Work(int worker)
    {
        while (true)
        {
            long claims = Volatile.Read(ref _claims);
            int next = (int)(claims & 0xFFFF_FFFF);
            if (next >= _count || worker > _helpers)
            {
                return; // closed, all claimed, or (read while a later run was being set up) not this worker's run
            }

            if (Interlocked.CompareExchange(ref _claims, claims + 1, claims) != claims)
            {
                continue; // another thread claimed it, or a new run opened: look again
            }

            // Claimed in the open run: its parameters hold until this item is counted.
            try
            {
                if (Volatile.Read(ref _error) is null)
                {
                    job.Execute(next, worker);
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null); // the rest are skipped
            }

            if (Interlocked.Increment(ref _completed) == _count)
            {
                _done.Set();
            }
        }
    }

    /// <summary>One worker thread: waiting on its signal between runs, exiting after an idle wait.</summary>
    private sealed class Worker
    {
        private const int Alive = 0, Exited = 1;

        private readonly ParallelRunner _runner;
        private readonly int _index;
        private readonly Signal _go = new();
        private int _state = Alive;

        public Worker(ParallelRunner runner, int index)
        {
            _runner = runner;
            _index = index;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"NetGen worker {index}" };
            thread.UnsafeStart();
        }

        /// <summary>Wakes the worker for the open run; false if its thread has exited (a new worker is needed).</summary>
        public bool Wake()
        {
            if (Volatile.Read(ref _state) == Exited)
            {
                return false;
            }

            _go.Set(); // if the thread exits right now instead, the run goes on without it
            return true;
        }

        private void Loop()
        {
            // A new worker starts on the open run. Afterwards each wake-up (a set of its signal, or one left over from a
            // run it had already finished) sends it to claim whatever the open run has left, which may be nothing.
            while (true)
            {
                _go.Reset();
                long before = GC.GetAllocatedBytesForCurrentThread();
                _runner.Work(_index);
                WorkerThreads.Allocated(GC.GetAllocatedBytesForCurrentThread() - before);
                if (!_go.Wait(IdleMilliseconds, _runner._spinTicks))
                {
                    // Idle: exit, for good. A wake-up that read Alive just before is lost, which only leaves that run to
                    // the other threads; the next run sees Exited and starts a new worker for this number. Staying on for
                    // such a wake-up could leave two threads with one number, which a job may use to pick a workspace.
                    Volatile.Write(ref _state, Exited);
                    return;
                }
            }
        }
    }
}
