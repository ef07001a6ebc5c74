using System;
using NetGen;

namespace FashionMnist;

/// <summary>The networks the CLI can train, by their command-line name; no reflection, one switch per question.</summary>
internal static class NetworkCatalog
{
    public const string LeNet5Name = "lenet5";
    public const string WideNetName = "widenet";
    public const string ResNetName = "resnet";

    public static readonly string[] Names = [LeNet5Name, WideNetName, ResNetName];

    public static INetwork Create(string name) => name switch
    {
        LeNet5Name => new LeNet5(),
        WideNetName => new WideNet(),
        ResNetName => new ResNet(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, $"Unknown network; expected one of {string.Join(", ", Names)}."),
    };

    /// <summary>The Keras-style summary NetGen generated for the network, a compile-time constant.</summary>
    public static string Summary(string name) => name switch
    {
        LeNet5Name => LeNet5.Summary,
        WideNetName => WideNet.Summary,
        ResNetName => ResNet.Summary,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, $"Unknown network; expected one of {string.Join(", ", Names)}."),
    };

    public static string DisplayName(string name) => name switch
    {
        LeNet5Name => "LeNet-5",
        WideNetName => "WideNet",
        ResNetName => "ResNet",
        _ => name,
    };

    public static bool IsKnown(string name) => Array.IndexOf(Names, name) >= 0;
}
