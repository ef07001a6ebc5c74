using System;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using FashionMnist;
using NetGen;
using NetGen.Data;
using NetGen.Optimizers;

// Trains LeNet-5, generated at compile time by NetGen from the attributes in Networks.cs, on Fashion-MNIST
// with per-sample SGD, and prints the loss and the test accuracy after each epoch.

var epochsOption = new Option<int>("--epochs") { Description = "Passes over the training set.", DefaultValueFactory = _ => 1 };
var learningRateOption = new Option<float>("--learning-rate", "--lr") { Description = "SGD step size.", DefaultValueFactory = _ => 0.01f };
var momentumOption = new Option<float>("--momentum") { Description = "SGD momentum (0: plain SGD).", DefaultValueFactory = _ => 0f };
var scheduleOption = new Option<string>("--schedule") { Description = "Learning rate over the run: 'constant', or 'cosine' (annealed per step to 0).", DefaultValueFactory = _ => "cosine" };
scheduleOption.AcceptOnlyFromAmong("constant", "cosine");
var seedOption = new Option<int>("--seed") { Description = "Seed of the initial weights and of the shuffles.", DefaultValueFactory = _ => 1 };
var dataOption = new Option<string?>("--data") { Description = $"Folder with the Fashion-MNIST IDX files (default: {FashionMnistFiles.DefaultDirectory}, else the subset bundled with this sample)." };
var limitOption = new Option<int?>("--limit") { Description = "Train on the first N training images only." };

var root = new RootCommand("Train NetGen's LeNet-5 on Fashion-MNIST.")
{
    epochsOption, learningRateOption, momentumOption, scheduleOption, seedOption, dataOption, limitOption,
};
root.SetAction(parse => Train(
    parse.GetValue(epochsOption), parse.GetValue(learningRateOption), parse.GetValue(momentumOption), parse.GetValue(scheduleOption)!, parse.GetValue(seedOption),
    parse.GetValue(dataOption), parse.GetValue(limitOption)));
return root.Parse(args).Invoke();

static int Train(int epochs, float learningRate, float momentum, string schedule, int seed, string? dataDirectory, int? limit)
{
    if (!FashionMnistFiles.TryLocate(dataDirectory, out string? directory, out bool bundled))
    {
        Console.Error.WriteLine($"Fashion-MNIST not found in {dataDirectory ?? FashionMnistFiles.DefaultDirectory} nor beside the sample.");
        return 1;
    }

    if (bundled)
    {
        Console.WriteLine($"Fashion-MNIST is not installed ({FashionMnistFiles.DefaultDirectory}); using the 4,000 + 1,000 image subset bundled with the sample.");
        Console.WriteLine("For the full data set: apt-get install dataset-fashion-mnist, or --data <folder>.");
    }

    LabeledImages train = FashionMnistFiles.LoadTrain(directory);
    LabeledImages test = FashionMnistFiles.LoadTest(directory);
    if (limit is int n && n < train.Count)
    {
        train = train.Subset(0, n);
    }

    // Standardize with the training set's statistics (Fashion-MNIST: mean ≈ 0.286, std ≈ 0.353).
    (float mean, float std) = train.ComputeMeanAndStandardDeviation();
    train.Normalize(mean, std);
    test.Normalize(mean, std);
    Console.WriteLine($"{train.Count} training and {test.Count} test images from {directory}; per-sample SGD, learning rate {learningRate} ({schedule}), momentum {momentum}, seed {seed}.");
    Console.WriteLine(LeNet5.Summary);

    var network = new LeNet5();
    network.InitializeParameters(seed);
    var optimizer = new Sgd(learningRate, momentum);
    var order = new BatchOrder(train.Count, batchSize: 1);
    ILearningRateSchedule? steps = schedule == "cosine" ? new CosineAnnealing(learningRate, epochs * train.Count) : null;
    int step = 0;

    for (int epoch = 1; epoch <= epochs; epoch++)
    {
        order.Shuffle(BatchOrder.EpochSeed(seed, epoch));
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        foreach (int index in order.Order)
        {
            if (steps is not null)
            {
                optimizer.LearningRate = steps.LearningRateAt(step++);
            }

            network.ZeroGradients();
            lossSum += network.TrainSample(train.Image(index), train.Labels[index]);
            optimizer.Step(network.Parameters, network.Gradients);
        }

        double seconds = clock.Elapsed.TotalSeconds;
        double accuracy = Accuracy(network, test);
        Console.WriteLine($"epoch {epoch}: train loss {lossSum / train.Count:F4}, test accuracy {accuracy:F4} ({test.Count} images), {seconds:F1} s ({train.Count / seconds:F0} samples/s)");
    }

    return 0;
}

static double Accuracy(INetwork network, LabeledImages data)
{
    int correct = 0;
    for (int i = 0; i < data.Count; i++)
    {
        correct += network.Predict(data.Image(i)) == data.Labels[i] ? 1 : 0;
    }

    return (double)correct / data.Count;
}
