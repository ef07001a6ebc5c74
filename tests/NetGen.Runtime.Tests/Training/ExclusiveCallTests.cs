using System;
using System.Threading;
using NetGen.Training;
using Xunit;

namespace NetGen.Runtime.Tests.Training;

/// <summary>The one-call-at-a-time check that generated networks make on entry to each public method.</summary>
public sealed class ExclusiveCallTests
{
    /// <summary>Stands for a network instance: the field its generated methods pass by reference.</summary>
    private sealed class Instance
    {
        public int CallingThread;
    }

    private static Exception? OnAnotherThread(Instance instance)
    {
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var call = ExclusiveCall.Enter(ref instance.CallingThread, "Net");
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.Start();
        thread.Join();
        return error;
    }

    [Fact]
    public void A_call_holds_the_instance_for_its_thread_until_it_returns()
    {
        var instance = new Instance();
        using (ExclusiveCall.Enter(ref instance.CallingThread, "Net"))
        {
            Assert.Equal(Environment.CurrentManagedThreadId, instance.CallingThread);
            var error = Assert.IsType<InvalidOperationException>(OnAnotherThread(instance));
            Assert.Equal(
                "Net is not thread-safe: one call at a time per instance; use Clone() or Predictor<T> for concurrent inference. " +
                "Another thread was inside a call on this instance.",
                error.Message);

            // The rejected entry left the instance to this thread.
            Assert.Equal(Environment.CurrentManagedThreadId, instance.CallingThread);
        }

        Assert.Equal(0, instance.CallingThread);
        Assert.Null(OnAnotherThread(instance));
    }

    [Fact]
    public void A_nested_call_on_the_same_thread_passes_and_leaves_the_release_to_the_outermost()
    {
        var instance = new Instance();
        using (ExclusiveCall.Enter(ref instance.CallingThread, "Net"))
        {
            using (ExclusiveCall.Enter(ref instance.CallingThread, "Net"))
            {
                Assert.Equal(Environment.CurrentManagedThreadId, instance.CallingThread);
            }

            Assert.Equal(Environment.CurrentManagedThreadId, instance.CallingThread);
            Assert.IsType<InvalidOperationException>(OnAnotherThread(instance));
        }

        Assert.Equal(0, instance.CallingThread);
    }

    [Fact]
    public void A_call_that_throws_frees_the_instance()
    {
        var instance = new Instance();
        Assert.Throws<FormatException>(() => Fail(instance));

        Assert.Equal(0, instance.CallingThread);
        Assert.Null(OnAnotherThread(instance));
    }

    private static void Fail(Instance instance)
    {
        using var call = ExclusiveCall.Enter(ref instance.CallingThread, "Net");
        throw new FormatException();
    }

    [Fact]
    public void Entering_and_leaving_allocates_nothing()
    {
        var instance = new Instance();
        using (ExclusiveCall.Enter(ref instance.CallingThread, "Net"))
        {
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            using var call = ExclusiveCall.Enter(ref instance.CallingThread, "Net");
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
