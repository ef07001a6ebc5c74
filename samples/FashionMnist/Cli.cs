using System;
using System.CommandLine;
using System.IO;
using Spectre.Console;

namespace FashionMnist;

/// <summary>Options and error reporting shared by the commands.</summary>
internal static class Cli
{
    public static Option<string?> DataOption() => new("--data")
    {
        Description = $"Folder with the Fashion-MNIST IDX files (default: {FashionMnistFiles.DefaultDirectory}, else the subset bundled with this sample).",
    };

    public static Option<int> ThreadsOption()
    {
        var option = new Option<int>("--threads")
        {
            Description = "Threads for batch training and evaluation (results do not depend on it).",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        AtLeast(option, 1);
        return option;
    }

    public static Option<string> WeightsOption() => new("--weights")
    {
        Description = "The weights file written by 'train' (safetensors; network and input statistics in its metadata).",
        DefaultValueFactory = _ => NetworkCatalog.LeNet5Name + ".safetensors",
    };

    /// <summary>--network for eval and predict: only needed for weights files without this sample's metadata.</summary>
    public static Option<string?> NetworkOverrideOption()
    {
        var option = new Option<string?>("--network")
        {
            Description = "The network of the weights file (default: the one recorded in it).",
        };
        option.AcceptOnlyFromAmong(NetworkCatalog.Names);
        return option;
    }

    public static void AtLeast(Option<int> option, int minimum) =>
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < minimum)
            {
                result.AddError($"{result.Option.Name} must be at least {minimum}.");
            }
        });

    public static void AtLeast(Option<int?> option, int minimum) =>
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is int value && value < minimum)
            {
                result.AddError($"{result.Option.Name} must be at least {minimum}.");
            }
        });

    public static void NonNegative(Option<float?> option) =>
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<float?>() is float value && !(value >= 0f && float.IsFinite(value)))
            {
                result.AddError($"{result.Option.Name} must be a finite number ≥ 0.");
            }
        });

    /// <summary>Writes an expected failure (a missing, unreadable or invalid file) without a stack trace.</summary>
    public static int Fail(IAnsiConsole console, string message)
    {
        console.MarkupLineInterpolated($"[red]error:[/] {message}");
        return 1;
    }

    /// <summary>Whether <paramref name="exception"/> is a user-facing failure to report with <see cref="Fail"/>.</summary>
    public static bool IsExpected(Exception exception) =>
        exception is IOException or InvalidDataException or UnauthorizedAccessException or NetGen.Training.NonFiniteTrainingException;
}
