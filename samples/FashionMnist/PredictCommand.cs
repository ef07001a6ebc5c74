using System;
using System.CommandLine;
using NetGen;
using NetGen.Data;
using Spectre.Console;

namespace FashionMnist;

/// <summary>'predict': one test image drawn in the terminal, with the class probabilities the network gives it.</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        Option<string> weights = Cli.WeightsOption();
        Option<string?> network = Cli.NetworkOverrideOption();
        Option<string?> data = Cli.DataOption();
        var index = new Option<int>("--index", "-i") { Description = "The test image to classify, from 0.", DefaultValueFactory = _ => 0 };
        Cli.AtLeast(index, 0);
        var command = new Command("predict", "Classify one Fashion-MNIST test image with trained weights; draw it and the class probabilities.")
        {
            weights, network, index, data,
        };
        command.SetAction(parse => Run(AnsiConsole.Console, parse.GetValue(weights)!, parse.GetValue(network), parse.GetValue(index), parse.GetValue(data)));
        return command;
    }

    public static int Run(IAnsiConsole console, string weights, string? networkName, int index, string? data)
    {
        try
        {
            (INetwork network, ModelInfo info) = ModelFile.Load(weights, networkName);
            string? directory = SampleData.Locate(console, data);
            if (directory is null)
            {
                return 1;
            }

            LabeledImages test = FashionMnistFiles.LoadTest(directory); // raw pixels in [0, 1], for drawing
            if (index >= test.Count)
            {
                return Cli.Fail(console, $"--index {index} is outside the {test.Count} test images (0 to {test.Count - 1}).");
            }

            ReadOnlySpan<float> pixels = test.Image(index);
            var input = new float[pixels.Length];
            for (int i = 0; i < input.Length; i++)
            {
                input[i] = (pixels[i] - info.Mean) / info.StandardDeviation; // as LabeledImages.Normalize did in training
            }

            var probabilities = new float[network.OutputLength];
            network.Forward(input, probabilities);
            int predicted = network.Predict(input);
            int label = test.Labels[index];
            var names = NetGen.Data.FashionMnist.ClassNames;

            console.WriteLine($"Test image {index} of {directory}; {NetworkCatalog.DisplayName(info.Network)} from {weights} ({EvalCommand.Trained(info)}).");
            var grid = new Grid().AddColumn(new GridColumn().NoWrap().PadRight(3)).AddColumn();
            grid.AddRow(Rendering.Image(pixels, test.Height, test.Width, console.Profile.Capabilities), Rendering.ProbabilityChart(probabilities, names, predicted, label));
            console.Write(grid);
            console.MarkupInterpolated(
                $"predicted [bold]{names[predicted]}[/] ({Rendering.Percent(probabilities[predicted])}); true class {names[label]}: ");
            console.MarkupLine(predicted == label ? "[green]right[/]" : "[red]wrong[/]");
            return 0;
        }
        catch (Exception e) when (Cli.IsExpected(e))
        {
            return Cli.Fail(console, e.Message);
        }
    }
}
