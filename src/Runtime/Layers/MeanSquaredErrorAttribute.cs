using System;

namespace NetGen;

/// <summary>
/// A regression head, as the last layer instead of <see cref="SoftmaxAttribute"/>: the network's output is its input, and
/// training minimizes PyTorch's <c>MSELoss()</c>, the mean over the output's elements (and over the batch) of (y − t)².
/// The network then implements <see cref="IRegressionNetwork"/>: <c>TrainSample(input, target)</c> and
/// <c>TrainBatch(inputs, targets)</c> take one row of target values per sample.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MeanSquaredErrorAttribute : LayerAttribute
{
}
