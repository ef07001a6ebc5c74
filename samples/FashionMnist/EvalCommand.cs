using System;
using System.CommandLine;
using System.Globalization;
using NetGen;
using NetGen.Data;
using NetGen.Metrics;
using NetGen.Training;
using Spectre.Console;

namespace FashionMnist;

/// <summary>'eval': a trained network's accuracy on the test set, per class, and its confusion matrix.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        Option<string> weights = Cli.WeightsOption();
        Option<string?> network = Cli.NetworkOverrideOption();
        Option<string?> data = Cli.DataOption();
        Option<int> threads = Cli.ThreadsOption();
        var command = new Command("eval", "Evaluate trained weights on the Fashion-MNIST test set: accuracy, per-class accuracy and confusion matrix.")
        {
            weights, network, data, threads,
        };
        command.SetAction(parse => Run(AnsiConsole.Console, parse.GetValue(weights)!, parse.GetValue(network), parse.GetValue(data), parse.GetValue(threads)));
        return command;
    }

    public static int Run(IAnsiConsole console, string weights, string? networkName, string? data, int threads)
    {
        try
        {
            (INetwork network, ModelInfo info) = ModelFile.Load(weights, networkName);
            network.DegreeOfParallelism = threads;
            string? directory = SampleData.Locate(console, data);
            if (directory is null)
            {
                return 1;
            }

            LabeledImages test = SampleData.LoadTest(directory, info.Mean, info.StandardDeviation);
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{NetworkCatalog.DisplayName(info.Network)} from {weights} ({Trained(info)}); {test.Count} test images from {directory}."));
            EvaluationResult result = Trainer.Evaluate(network, test);
            ConfusionMatrix confusion = result.Confusion!;
            console.Write(Rendering.ConfusionTable(confusion, NetGen.Data.FashionMnist.ClassNames));
            console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"test accuracy [bold]{result.Accuracy:F4}[/] ({confusion.Correct}/{confusion.Total}), mean loss {result.Loss:F4}");
            return 0;
        }
        catch (Exception e) when (Cli.IsExpected(e))
        {
            return Cli.Fail(console, e.Message);
        }
    }

    internal static string Trained(ModelInfo info) =>
        info.Epochs > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{info.Epochs} epoch(s){(info.Training.Length > 0 ? ", " + info.Training : "")}")
            : "training not recorded";
}
