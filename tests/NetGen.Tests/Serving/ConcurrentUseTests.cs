using System;
using System.IO;
using System.Threading;
using NetGen.Tests.Numerics;
using Xunit;

namespace NetGen.Tests.Serving;

/// <summary>
/// A network instance runs one call at a time: a second thread that enters while another is inside a call gets an
/// <see cref="InvalidOperationException"/> naming the rule, instead of silently corrupting both results.
/// </summary>
public sealed class ConcurrentUseTests
{
    private const string Rule =
        "ServingNet is not thread-safe: one call at a time per instance; use Clone() or Predictor<T> for concurrent inference";

    private static ServingNet Trained(out float[] input)
    {
        var net = new ServingNet();
        net.InitializeParameters(seed: 7);
        input = TestData.Uniform(ServingNet.InputLength, seed: 1);
        return net;
    }

    /// <summary>Runs <paramref name="held"/> on another thread while that thread is inside a call on <paramref name="net"/>.</summary>
    private static void WhileAnotherThreadIsInside(ServingNet net, Action held)
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() => net.InsideCall(() =>
        {
            entered.Set();
            release.Wait();
        }));
        holder.Start();
        entered.Wait();
        try
        {
            held();
        }
        finally
        {
            release.Set();
            holder.Join();
        }
    }

    private static void AssertRejected(Action call)
    {
        var error = Assert.Throws<InvalidOperationException>(call);
        Assert.StartsWith(Rule, error.Message);
    }

    [Fact]
    public void Every_public_method_that_touches_the_instance_rejects_a_second_thread_and_changes_nothing()
    {
        ServingNet net = Trained(out float[] input);
        var probabilities = new float[ServingNet.OutputLength];
        net.Forward(input, probabilities);
        int predicted = net.Predict(input);
        net.TrainSample(input, 2);
        float[] parameters = (float[])net.Parameters.Clone(), gradients = (float[])net.Gradients.Clone();
        float[] batch = TestData.Uniform(3 * ServingNet.InputLength, seed: 2);
        string directory = Directory.CreateTempSubdirectory("netgen-serving-").FullName;
        string weights = Path.Combine(directory, "serving.safetensors"), other = Path.Combine(directory, "other.safetensors");
        net.Save(weights);

        WhileAnotherThreadIsInside(net, () =>
        {
            var output = new float[ServingNet.OutputLength];
            AssertRejected(() => net.Forward(input, output));
            AssertRejected(() => net.Predict(input));
            AssertRejected(() => net.TrainSample(input, 1));
            AssertRejected(() => net.Loss(input, 1));
            AssertRejected(() => net.ForwardBatch(batch, new float[3 * ServingNet.OutputLength]));
            AssertRejected(() => net.PredictBatch(batch, new int[3]));
            AssertRejected(() => net.TrainBatch(batch, [0, 1, 2]));
            AssertRejected(() => _ = net.InputGradient.Length);
            AssertRejected(() => net.ZeroGradients());
            AssertRejected(() => net.InitializeParameters(seed: 8));
            AssertRejected(() => net.Save(other));
            AssertRejected(() => net.Load(weights));
            AssertRejected(() => net.Clone());
            AssertRejected(() => _ = net.DegreeOfParallelism);
            AssertRejected(() => net.DegreeOfParallelism = 1);
            AssertRejected(() => ((INetwork)net).Predict(input));

            // A rejected call leaves the instance to the thread inside: the checks above ran one after the other, each
            // rejected, and none touched the parameters or gradients.
            Assert.Equal(parameters, net.Parameters);
            Assert.Equal(gradients, net.Gradients);
            Assert.False(File.Exists(other));
        });

        // Once the other thread has left, this one uses the instance as before.
        var after = new float[ServingNet.OutputLength];
        net.Forward(input, after);
        Assert.Equal(probabilities, after);
        Assert.Equal(predicted, net.Predict(input));
        Assert.Equal(parameters, net.Parameters);
        net.ZeroGradients();
        net.TrainSample(input, 2);
        Assert.Equal(gradients, net.Gradients);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void Calls_nested_on_the_thread_inside_pass_and_leave_the_instance_held()
    {
        ServingNet net = Trained(out float[] input);
        int expected = net.Predict(input);
        int nested = -1;
        Exception? fromOtherThread = null;
        net.InsideCall(() =>
        {
            // A public method called from inside a call on the same thread (as a method calling another would) passes.
            nested = net.Predict(input);
            net.InsideCall(() => nested = net.Predict(input));

            // Its return did not free the instance: the outermost call still holds it.
            var other = new Thread(() => fromOtherThread = Record(() => net.Predict(input)));
            other.Start();
            other.Join();
        });

        Assert.Equal(expected, nested);
        Assert.IsType<InvalidOperationException>(fromOtherThread);
        Assert.StartsWith(Rule, fromOtherThread!.Message);

        // The outermost call's return freed it.
        int fromAnotherThread = -1;
        var after = new Thread(() => fromAnotherThread = net.Predict(input));
        after.Start();
        after.Join();
        Assert.Equal(expected, fromAnotherThread);
    }

    [Fact]
    public void An_exception_inside_a_call_frees_the_instance()
    {
        ServingNet net = Trained(out float[] input);
        Assert.Throws<ArgumentException>(() => net.Predict(new float[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => net.TrainSample(input, label: 9));

        Exception? error = new InvalidOperationException("not run");
        var other = new Thread(() => error = Record(() => net.Predict(input)));
        other.Start();
        other.Join();
        Assert.Null(error);
    }

    [Fact]
    public void A_batch_call_running_on_one_thread_rejects_a_single_sample_call_from_another()
    {
        // One thread runs large batches back to back, in a call nearly all of the time; this one calls Predict until a call
        // lands inside one of them. The number of tries varies from run to run, never the outcome.
        ServingNet net = Trained(out float[] input);
        int expected = net.Predict(input);
        const int Samples = 1024;
        float[] batch = TestData.Uniform(Samples * ServingNet.InputLength, seed: 3);
        var expectedBatch = new float[Samples * ServingNet.OutputLength];
        net.ForwardBatch(batch, expectedBatch);

        var outputs = new float[Samples * ServingNet.OutputLength];
        int stop = 0, batches = 0, batchMismatches = 0;
        var runner = new Thread(() =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                try
                {
                    net.ForwardBatch(batch, outputs);
                    batches++;
                    batchMismatches += outputs.AsSpan().SequenceEqual(expectedBatch) ? 0 : 1;
                }
                catch (InvalidOperationException)
                {
                    // This thread's Predict was inside: the batch did not start, try again.
                }
            }
        });
        runner.Start();

        InvalidOperationException? rejected = null;
        while (rejected is null)
        {
            try
            {
                Assert.Equal(expected, net.Predict(input));
            }
            catch (InvalidOperationException error)
            {
                rejected = error;
            }
        }

        Volatile.Write(ref stop, 1);
        runner.Join();
        Assert.StartsWith(Rule, rejected.Message);
        Assert.Equal(0, batchMismatches);

        // Afterwards the instance works on any thread.
        Assert.Equal(expected, net.Predict(input));
        net.ForwardBatch(batch, outputs);
        Assert.Equal(expectedBatch, outputs);
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception error)
        {
            return error;
        }
    }
}
