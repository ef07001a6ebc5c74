using System;
using System.CommandLine;
using FashionMnist;
using Spectre.Console;

// NetGen's Fashion-MNIST sample: networks generated at compile time from the attributes in Networks.cs, trained,
// evaluated and run from the command line. Without a command it trains LeNet-5 for one epoch with per-sample SGD,
// as the sample always did; 'train' trains with mini-batches on all cores.

var root = new RootCommand(
    "Train, evaluate and run NetGen-generated networks on Fashion-MNIST. Without a command: train LeNet-5 for one epoch "
    + "with per-sample SGD (the options below; 'train --help' for batch training).");
// Redirected output (CI logs, files) is not a terminal: Spectre.Console then writes plain text without colours or live
// progress, wrapped at 80 columns by default; a wider page keeps each line and table row whole.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 240;
}

TrainCommand.ConfigureRoot(root);
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
// Ctrl+C cancels the token handed to 'train' (System.CommandLine 2.0 enables this only with a timeout); training stops
// before its next step and writes nothing.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(5) });
