using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using NetGen;
using NetGen.Weights;

namespace FashionMnist;

/// <summary>What a weights file records besides the parameters: enough for eval and predict to use it as trained.</summary>
/// <param name="Network">The network's command-line name (<see cref="NetworkCatalog"/>).</param>
/// <param name="Mean">The training set's pixel mean the inputs were standardized with.</param>
/// <param name="StandardDeviation">The training set's pixel standard deviation.</param>
/// <param name="Epochs">Epochs trained.</param>
/// <param name="TestAccuracy">Test accuracy after the last epoch.</param>
/// <param name="Training">A one-line description of how it was trained.</param>
internal sealed record ModelInfo(string Network, float Mean, float StandardDeviation, int Epochs, double TestAccuracy, string Training);

/// <summary>
/// A trained network in one safetensors file: the tensors under their PyTorch names, and <see cref="ModelInfo"/> as
/// <c>__metadata__</c> strings (readable from Python with <c>safe_open(path, "pt").metadata()</c>).
/// </summary>
internal static class ModelFile
{
    private const string NetworkKey = "network";
    private const string MeanKey = "mean";
    private const string StandardDeviationKey = "std";
    private const string EpochsKey = "epochs";
    private const string TestAccuracyKey = "test_accuracy";
    private const string TrainingKey = "training";

    public static void Save(string path, INetwork network, ModelInfo info)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [NetworkKey] = info.Network,
            [MeanKey] = info.Mean.ToString("R", CultureInfo.InvariantCulture),
            [StandardDeviationKey] = info.StandardDeviation.ToString("R", CultureInfo.InvariantCulture),
            [EpochsKey] = info.Epochs.ToString(CultureInfo.InvariantCulture),
            [TestAccuracyKey] = info.TestAccuracy.ToString("F4", CultureInfo.InvariantCulture),
            [TrainingKey] = info.Training,
        };
        TensorSlot[] layout = [.. network.ParameterLayout];
        NetworkState state = NetworkCatalog.State(network); // BatchNorm's running statistics, which inference uses
        SafeTensors.Save(path, network.Parameters, layout, state.Buffers, [.. state.BufferLayout], state.Counters, [.. state.CounterLayout], metadata);
    }

    /// <summary>Reads the metadata, creates the network it names (or <paramref name="networkOverride"/>) and loads its parameters.</summary>
    /// <exception cref="InvalidDataException">The file is not a weights file of this sample, or does not match the network.</exception>
    public static (INetwork Network, ModelInfo Info) Load(string path, string? networkOverride)
    {
        IReadOnlyDictionary<string, string> metadata = SafeTensors.ReadMetadata(path);
        string? stored = metadata.GetValueOrDefault(NetworkKey);
        if (networkOverride is not null && stored is not null && networkOverride != stored)
        {
            throw new InvalidDataException($"{path}: holds a {stored} network, not {networkOverride}.");
        }

        string name = networkOverride ?? stored
            ?? throw new InvalidDataException($"{path}: no 'network' in its metadata; pass --network ({string.Join("|", NetworkCatalog.Names)}).");
        if (!NetworkCatalog.IsKnown(name))
        {
            throw new InvalidDataException($"{path}: unknown network '{name}'; this sample has {string.Join(", ", NetworkCatalog.Names)}.");
        }

        if (!TryParseFloat(metadata, MeanKey, out float mean) || !TryParseFloat(metadata, StandardDeviationKey, out float std) || !(std > 0f))
        {
            throw new InvalidDataException($"{path}: no valid 'mean' and 'std' in its metadata, so the inputs cannot be standardized as in training.");
        }

        INetwork network = NetworkCatalog.Create(name);
        network.Load(path);
        int epochs = int.TryParse(metadata.GetValueOrDefault(EpochsKey), NumberStyles.Integer, CultureInfo.InvariantCulture, out int e) ? e : 0;
        double accuracy = double.TryParse(metadata.GetValueOrDefault(TestAccuracyKey), NumberStyles.Float, CultureInfo.InvariantCulture, out double a) ? a : double.NaN;
        return (network, new ModelInfo(name, mean, std, epochs, accuracy, metadata.GetValueOrDefault(TrainingKey) ?? ""));
    }

    private static bool TryParseFloat(IReadOnlyDictionary<string, string> metadata, string key, out float value)
    {
        value = 0f;
        return metadata.TryGetValue(key, out string? text)
            && float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)
            && float.IsFinite(value);
    }
}
