using System;
using System.IO;
using System.Linq;
using NetGen.Data;
using NetGen.Optimizers;
using NetGen.Tests.EndToEnd;
using NetGen.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace NetGen.Tests.Training;

/// <summary>Training on real Fashion-MNIST images: the loss falls and the network learns.</summary>
public class RealDataTests(ITestOutputHelper output)
{
    /// <summary>Where Debian's dataset-fashion-mnist package installs the data set.</summary>
    private const string DebianDirectory = "/usr/share/datasets/fashion-mnist";

    [Fact]
    public void A_few_hundred_batch_steps_on_Fashion_MNIST_lower_the_loss_and_learn()
    {
        // The full data set where it is installed (CI installs Debian's dataset-fashion-mnist), else the
        // subset bundled with the sample, which is always in the repository.
        string bundled = Path.Combine(NewProjectTests.RepositoryRoot(), "samples", "FashionMnist", "data");
        Assert.True(FashionMnist.TryFind(DebianDirectory, out string? directory) || FashionMnist.TryFind(bundled, out directory));
        output.WriteLine($"data: {directory}");
        LabeledImages train = FashionMnist.LoadTrain(directory!);
        LabeledImages test = FashionMnist.LoadTest(directory!);
        (float mean, float std) = train.ComputeMeanAndStandardDeviation();
        train.Normalize(mean, std);
        test.Normalize(mean, std);

        var net = new LeNet5();
        net.InitializeParameters(1);
        var sgd = new Sgd(0.02f, momentum: 0.9f);
        const int batch = 32, steps = 300;
        var order = new BatchOrder(train.Count, batch, dropLast: true);
        var inputs = new float[batch * LeNet5.InputLength];
        var labels = new int[batch];
        var losses = new float[steps];
        for (int step = 0, epoch = 0; step < steps; epoch++)
        {
            order.Shuffle(BatchOrder.EpochSeed(7, epoch));
            for (int b = 0; b < order.BatchCount && step < steps; b++, step++)
            {
                train.Gather(order.Batch(b), inputs, labels);
                losses[step] = net.TrainBatch(inputs, labels);
                Assert.True(float.IsFinite(losses[step]), $"step {step}: loss {losses[step]}");
                sgd.Step(net.Parameters, net.Gradients);
            }
        }

        float first = losses.Take(20).Average(), last = losses.TakeLast(20).Average();
        int testCount = Math.Min(test.Count, 1000);
        var predictions = new int[testCount];
        net.PredictBatch(test.Images.AsSpan(0, testCount * LeNet5.InputLength), predictions);
        double accuracy = predictions.Where((p, i) => p == test.Labels[i]).Count() / (double)testCount;
        output.WriteLine($"mean loss of the first 20 steps {first:F3}, of the last 20 {last:F3}; accuracy on {testCount} test images {accuracy:F3}");

        // From ln 10 ≈ 2.30 at random; 300 steps of 32 images bring LeNet-5 well under half of that.
        Assert.InRange(first, 1.2f, 2.6f);
        Assert.True(last < 0.5f * first, $"the loss fell only from {first} to {last}");
        Assert.True(accuracy > 0.7, $"test accuracy {accuracy} after {steps} steps");
    }
}
