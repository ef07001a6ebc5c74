using System;
using System.Collections.Generic;
using NetGen;
using NetGen.Weights;

namespace FashionMnist;

/// <summary>
/// What a network keeps besides its parameters: BatchNorm's running statistics (<c>Buffers</c>, F32) and batch counts
/// (<c>Counters</c>, I64), with their PyTorch names. Empty for a network without BatchNorm.
/// </summary>
internal readonly record struct NetworkState(float[] Buffers, IReadOnlyList<TensorSlot> BufferLayout, long[] Counters, IReadOnlyList<TensorSlot> CounterLayout)
{
    public static readonly NetworkState None = new([], [], [], []);
}

/// <summary>The networks the CLI can train, by their command-line name; no reflection, one switch per question.</summary>
internal static class NetworkCatalog
{
    public const string LeNet5Name = "lenet5";
    public const string WideNetName = "widenet";
    public const string ResNetName = "resnet";
    public const string ResNetBNName = "resnet-bn";

    public static readonly string[] Names = [LeNet5Name, WideNetName, ResNetName, ResNetBNName];

    public static INetwork Create(string name) => name switch
    {
        LeNet5Name => new LeNet5(),
        WideNetName => new WideNet(),
        ResNetName => new ResNet(),
        ResNetBNName => new ResNetBN(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, $"Unknown network; expected one of {string.Join(", ", Names)}."),
    };

    /// <summary>The Keras-style summary NetGen generated for the network, a compile-time constant.</summary>
    public static string Summary(string name) => name switch
    {
        LeNet5Name => LeNet5.Summary,
        WideNetName => WideNet.Summary,
        ResNetName => ResNet.Summary,
        ResNetBNName => ResNetBN.Summary,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, $"Unknown network; expected one of {string.Join(", ", Names)}."),
    };

    public static string DisplayName(string name) => name switch
    {
        LeNet5Name => "LeNet-5",
        WideNetName => "WideNet",
        ResNetName => "ResNet",
        ResNetBNName => "ResNet-BN",
        _ => name,
    };

    /// <summary>
    /// The network's running statistics, which <see cref="INeuralNetwork"/> does not expose: the generated class has them
    /// (<c>Buffers</c>, <c>Counters</c> and their static layouts) only when it has BatchNorm layers.
    /// </summary>
    public static NetworkState State(INetwork network) => network switch
    {
        ResNetBN n => new NetworkState(n.Buffers, ResNetBN.BufferLayout, n.Counters, ResNetBN.CounterLayout),
        _ => NetworkState.None,
    };

    public static bool IsKnown(string name) => Array.IndexOf(Names, name) >= 0;
}
