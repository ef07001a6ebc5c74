using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using NetGen;
using Spectre.Console;

namespace FashionMnist;

/// <summary>'export': a trained network as an ONNX model, for ONNX Runtime, Netron or PyTorch.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        Option<string> weights = Cli.WeightsOption();
        Option<string?> network = Cli.NetworkOverrideOption();
        var output = new Option<string?>("--output", "-o")
        {
            Description = "The ONNX file to write (default: the weights file's name with .onnx).",
        };
        var command = new Command("export", "Export trained weights as an ONNX model (opset 17): input 'input' [N, 1, 28, 28], output 'output' [N, 10] probabilities.")
        {
            weights, network, output,
        };
        command.SetAction(parse => Run(AnsiConsole.Console, parse.GetValue(weights)!, parse.GetValue(network), parse.GetValue(output)));
        return command;
    }

    public static int Run(IAnsiConsole console, string weights, string? networkName, string? output)
    {
        try
        {
            (INetwork network, ModelInfo info) = ModelFile.Load(weights, networkName);
            string path = output ?? Path.ChangeExtension(weights, ".onnx");
            network.ExportOnnx(path);
            // The model holds the network only: its input is standardized as in training, which the caller must repeat.
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{NetworkCatalog.DisplayName(info.Network)} from {weights} ({EvalCommand.Trained(info)}) written to {path} "
                + $"({new FileInfo(path).Length:N0} bytes). Input 'input' [N, 1, 28, 28]: pixels in [0, 1] standardized as in "
                + $"training, (x − {info.Mean:R}) / {info.StandardDeviation:R}; output 'output' [N, 10]: class probabilities."));
            return 0;
        }
        catch (Exception e) when (Cli.IsExpected(e))
        {
            return Cli.Fail(console, e.Message);
        }
    }
}
