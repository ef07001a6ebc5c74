using System;
using NetGen;

namespace NetGen.Tests.Serving;

/// <summary>A small classifier for the serving tests: a few microseconds a sample, so that load tests run in seconds.</summary>
[Input(1, 8, 8)]
[Conv2D(4, 3)]
[ReLU]
[MaxPool2D(2)]
[Dense(5)]
[Softmax]
public partial class ServingNet
{
    /// <summary>
    /// Runs <paramref name="action"/> inside a call on this instance, entering it exactly as the generated public methods do
    /// (through the generated private field, which this partial declaration sees): a test can hold the instance for as long
    /// as it likes without any public API for it.
    /// </summary>
    internal void InsideCall(Action action)
    {
        using var call = NetGen.Training.ExclusiveCall.Enter(ref _callingThread, nameof(ServingNet));
        action();
    }
}
