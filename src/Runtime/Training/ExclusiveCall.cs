using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;

namespace NetGen.Training;

/// <summary>
/// The check that one thread at a time is inside a call on a network instance, which every public method of a generated
/// network that touches its workspaces or state makes on entry (<c>using var call = ExclusiveCall.Enter(ref
/// _callingThread, "LeNet5");</c>). A network keeps its activations inside, so two threads in it at once would
/// silently corrupt each other's results: the second one throws instead, as <c>Dictionary</c> does on concurrent writes.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
/// <remarks>
/// The instance's field holds the managed thread id of the thread inside a call, 0 when none is. Entering is one
/// compare-and-swap on it; leaving, one write; neither allocates. A call from the thread already inside (a public method
/// calling another) passes and leaves the field to the outermost call, which clears it when it returns or throws.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public ref struct ExclusiveCall
{
    /// <summary>The instance's field, or a null reference when this call is nested in another on the same thread.</summary>
    private readonly ref int _callingThread;

    private ExclusiveCall(ref int callingThread)
    {
        _callingThread = ref callingThread;
    }

    /// <summary>
    /// Enters a call on the instance whose field <paramref name="callingThread"/> is: claims it for the current thread, or
    /// passes if the current thread already holds it.
    /// </summary>
    /// <param name="callingThread">The instance's field: the id of the thread inside a call, 0 when none is.</param>
    /// <param name="network">The network's type name, for the message.</param>
    /// <returns>What to dispose when the call returns, which frees the instance unless the call was nested.</returns>
    /// <exception cref="InvalidOperationException">Another thread is inside a call on the same instance.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ExclusiveCall Enter(ref int callingThread, string network)
    {
        int thread = Environment.CurrentManagedThreadId;
        int inside = Interlocked.CompareExchange(ref callingThread, thread, 0);
        if (inside == 0)
        {
            return new ExclusiveCall(ref callingThread);
        }

        if (inside != thread)
        {
            ThrowConcurrentUse(network);
        }

        return default;
    }

    /// <summary>Frees the instance, unless this call was nested in another on the same thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Dispose()
    {
        if (!Unsafe.IsNullRef(ref _callingThread))
        {
            Volatile.Write(ref _callingThread, 0);
        }
    }

    /// <summary>The message of the exception a second thread gets.</summary>
    internal static string Message(string network) =>
        $"{network} is not thread-safe: one call at a time per instance; use Clone() or Predictor<T> for concurrent " +
        "inference. Another thread was inside a call on this instance.";

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowConcurrentUse(string network) => throw new InvalidOperationException(Message(network));
}
