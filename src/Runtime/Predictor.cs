using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace NetGen;

/// <summary>
/// Thread-safe inference with one network: any number of threads call <see cref="Predict"/> and <see cref="Forward"/> at
/// once, each call running on one of a fixed set of clones of the network. A network instance keeps its activations
/// inside and allows one call at a time; a predictor owns several and lends each to one call at a time.
/// </summary>
/// <remarks>
/// The instances are <see cref="INeuralNetwork.Clone"/>s of the prototype made by the constructor: a snapshot of its
/// parameters and running statistics, which later changes to the prototype do not reach (make a new predictor after
/// training more). A call takes a free instance, or waits for one when every instance is busy, and gives it back when
/// it returns; the result is the instance's, so it is bit-for-bit what the prototype's own method returns. Calls
/// allocate nothing.
/// </remarks>
/// <example>
/// <code>
/// var predictor = new Predictor&lt;LeNet5&gt;(trained);      // Environment.ProcessorCount clones of it
/// app.MapPost("/classify", (float[] image) =&gt; predictor.Predict(image));
/// </code>
/// </example>
/// <typeparam name="TNetwork">The network's type: a generated class, or <see cref="INetwork"/> or <see cref="INeuralNetwork"/>.</typeparam>
[SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable",
    Justification = "SemaphoreSlim holds an operating-system handle only once its AvailableWaitHandle is read, which this class never does; a predictor needs no disposing.")]
public sealed class Predictor<TNetwork>
    where TNetwork : class, INeuralNetwork
{
    private readonly TNetwork[] _instances;

    /// <summary>The same instances as classifiers; empty for a regression network.</summary>
    private readonly INetwork[] _classifiers;

    /// <summary>Per instance, 1 while a call has it, 0 while it is free.</summary>
    private readonly int[] _rented;

    /// <summary>Counts the free instances, so that a call waits only when there is none.</summary>
    private readonly SemaphoreSlim _free;

    /// <summary>A predictor over <see cref="Environment.ProcessorCount"/> clones of <paramref name="prototype"/>.</summary>
    /// <param name="prototype">The trained network; cloned, not kept.</param>
    /// <exception cref="InvalidOperationException">Another thread is inside a call on <paramref name="prototype"/>.</exception>
    public Predictor(TNetwork prototype)
        : this(prototype, Environment.ProcessorCount)
    {
    }

    /// <summary>A predictor over <paramref name="instances"/> clones of <paramref name="prototype"/>.</summary>
    /// <param name="prototype">The trained network; cloned, not kept.</param>
    /// <param name="instances">How many calls may run at once; more wait for a free instance.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="instances"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="prototype"/>'s <c>Clone()</c> does not return a <typeparamref name="TNetwork"/> (a class derived from a generated network clones as the generated class).</exception>
    /// <exception cref="InvalidOperationException">Another thread is inside a call on <paramref name="prototype"/>.</exception>
    public Predictor(TNetwork prototype, int instances)
    {
        ArgumentNullException.ThrowIfNull(prototype);
        ArgumentOutOfRangeException.ThrowIfLessThan(instances, 1);
        _instances = new TNetwork[instances];
        _classifiers = prototype is INetwork ? new INetwork[instances] : [];
        for (int i = 0; i < instances; i++)
        {
            _instances[i] = prototype.Clone() as TNetwork ?? throw new ArgumentException(
                $"The prototype's Clone() does not return a {typeof(TNetwork).Name}: a class derived from a generated network clones as the generated class; use that class or an interface as the type argument.",
                nameof(prototype));
            if (_classifiers.Length > 0)
            {
                _classifiers[i] = (INetwork)_instances[i];
            }
        }

        // The cores are shared out among the instances: with one per core, each call runs on its own thread instead of
        // splitting its largest layers onto threads the other calls are using.
        DegreeOfParallelism = Math.Max(1, Math.Min(prototype.DegreeOfParallelism, Environment.ProcessorCount / instances));
        foreach (TNetwork instance in _instances)
        {
            instance.DegreeOfParallelism = DegreeOfParallelism;
        }

        _rented = new int[instances];
        _free = new SemaphoreSlim(instances, instances);
        InputLength = prototype.InputLength;
        OutputLength = prototype.OutputLength;
    }

    /// <summary>How many calls may run at once: the number of instances.</summary>
    public int InstanceCount => _instances.Length;

    /// <summary>
    /// Threads one call may use for its largest layers (see the network's <c>DegreeOfParallelism</c>): the prototype's,
    /// but no more than <see cref="Environment.ProcessorCount"/> ÷ <see cref="InstanceCount"/>, and at least 1. With the
    /// default of one instance per core, each call runs on its own thread.
    /// </summary>
    public int DegreeOfParallelism { get; }

    /// <summary>Floats in one input sample.</summary>
    public int InputLength { get; }

    /// <summary>Floats in one output: the number of classes of a classifier.</summary>
    public int OutputLength { get; }

    /// <summary>Runs the network on one sample and returns the most probable class, as <see cref="INetwork.Predict"/>.</summary>
    /// <param name="input"><see cref="InputLength"/> floats.</param>
    /// <exception cref="ArgumentException"><paramref name="input"/> does not have <see cref="InputLength"/> floats.</exception>
    /// <exception cref="InvalidOperationException">The network is a regression network (it has no classes; use <see cref="Forward"/>).</exception>
    public int Predict(ReadOnlySpan<float> input)
    {
        if (_classifiers.Length == 0)
        {
            throw new InvalidOperationException(
                $"{typeof(TNetwork).Name} is a regression network ([MeanSquaredError]): it has no classes to predict; use Forward.");
        }

        int slot = Rent();
        try
        {
            return _classifiers[slot].Predict(input);
        }
        finally
        {
            Return(slot);
        }
    }

    /// <summary>Runs the network on one sample (inference mode) and writes its output, as <see cref="INeuralNetwork.Forward"/>.</summary>
    /// <param name="input"><see cref="InputLength"/> floats.</param>
    /// <param name="output">Receives <see cref="OutputLength"/> floats: a classifier's class probabilities, a regression's outputs.</param>
    /// <exception cref="ArgumentException">A span does not have the length above.</exception>
    public void Forward(ReadOnlySpan<float> input, Span<float> output)
    {
        int slot = Rent();
        try
        {
            _instances[slot].Forward(input, output);
        }
        finally
        {
            Return(slot);
        }
    }

    /// <summary>Takes a free instance, waiting for one if every instance is busy.</summary>
    private int Rent()
    {
        _free.Wait();

        // The semaphore let this call in, so fewer than InstanceCount others hold an instance and one is free: find it,
        // starting where this thread's id points so that threads seldom race for the same one.
        int count = _rented.Length;
        int slot = (int)((uint)Environment.CurrentManagedThreadId % (uint)count);
        while (Volatile.Read(ref _rented[slot]) != 0 || Interlocked.CompareExchange(ref _rented[slot], 1, 0) != 0)
        {
            slot = slot + 1 == count ? 0 : slot + 1;
        }

        return slot;
    }

    private void Return(int slot)
    {
        Volatile.Write(ref _rented[slot], 0);
        _free.Release();
    }
}
