using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NetGen.Weights;

/// <summary>
/// Reads and writes parameters in the safetensors format (Hugging Face): an 8-byte little-endian header length
/// N, N bytes of UTF-8 JSON mapping each tensor name to
/// <c>{"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}</c> (plus an optional
/// <c>"__metadata__"</c> object of strings), then the tensors' little-endian bytes, offsets counted from the
/// start of that byte buffer. Files written here load in PyTorch with <c>safetensors.torch.load_file</c>.
/// </summary>
/// <remarks>
/// A generated network's <c>Save</c> and <c>Load</c> call
/// <see cref="Save(string, ReadOnlySpan{float}, ReadOnlySpan{TensorSlot}, IReadOnlyDictionary{string, string})"/> and
/// <see cref="Load(string, Span{float}, ReadOnlySpan{TensorSlot})"/> with its <c>ParameterLayout</c>; call them
/// directly to store metadata beside the weights. A network with state that is not a parameter — BatchNorm's
/// <c>running_mean</c> and <c>running_var</c> (F32) and <c>num_batches_tracked</c> (I64), as in a PyTorch
/// <c>state_dict</c> — uses the overloads that also take a float buffer vector and a long counter vector, each
/// with its own layout. A training checkpoint (<c>TrainerOptions.Checkpoint</c>) lists the tensors that are training state
/// rather than weights (<c>optimizer.exp_avg</c>, …) under the metadata key <c>netgen.training_state</c>; the loads skip
/// those that no layout asks for, so a network loads its weights from a checkpoint as from its own file.
/// </remarks>
/// <example>
/// <code>
/// var metadata = new Dictionary&lt;string, string&gt; { ["mean"] = "0.286", ["std"] = "0.353" };
/// SafeTensors.Save("lenet5.safetensors", net.Parameters, [.. LeNet5.ParameterLayout], metadata);
///
/// net.Load("lenet5.safetensors");                                  // checks every tensor before changing anything
/// string mean = SafeTensors.ReadMetadata("lenet5.safetensors")["mean"];
///
/// // Parameters, BatchNorm buffers and the I64 batch counter, all or nothing:
/// TensorSlot[] bufferLayout = [new("bn1.running_mean", [16], 0), new("bn1.running_var", [16], 16)];
/// TensorSlot[] counterLayout = [new("bn1.num_batches_tracked", [], 0)];
/// SafeTensors.Load("resnet.safetensors", parameters, layout, buffers, bufferLayout, counters, counterLayout);
/// </code>
/// </example>
public static class SafeTensors
{
    /// <summary>The reserved header key holding string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>
    /// The metadata key under which a training checkpoint lists, comma-separated, the tensors that are training state
    /// rather than the network's (<c>optimizer.exp_avg</c>, …): loading a network from the file skips them.
    /// </summary>
    internal const string TrainingStateKey = "netgen.training_state";

    /// <summary>The largest header accepted, in bytes (100 MB, as the reference implementation).</summary>
    public const long MaxHeaderLength = 100_000_000;

    private const string F32 = "F32";
    private const string I64 = "I64";
    private const string F16 = "F16";
    private const string BF16 = "BF16";

    /// <summary>Which vector a layout indexes, which decides the dtype of its tensors in a file.</summary>
    private enum Role
    {
        /// <summary>A float parameter, F32.</summary>
        Parameter,

        /// <summary>A float buffer (not a parameter, such as a running mean), F32.</summary>
        Buffer,

        /// <summary>A long counter (such as <c>num_batches_tracked</c>), I64.</summary>
        Counter,
    }

    private sealed class Entry(string name)
    {
        public string Name { get; } = name;
        public string? Dtype { get; set; }
        public long[]? Shape { get; set; }
        public long Begin { get; set; } = -1;
        public long End { get; set; } = -1;
        public string Offsets => string.Create(CultureInfo.InvariantCulture, $"[{Begin}, {End}]");
    }

    /// <summary>
    /// Writes the tensors of <paramref name="layout"/>, in that order, as F32. The file is written under a
    /// temporary name in the same directory and then moved over <paramref name="path"/>, so that a crash never
    /// leaves a half-written file behind and an existing file is replaced only by a complete one.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="parameters">The flat parameter vector.</param>
    /// <param name="layout">The tensors to save; names must be unique and every slot inside <paramref name="parameters"/>.</param>
    /// <param name="metadata">Optional strings stored under <c>__metadata__</c>.</param>
    /// <exception cref="ArgumentException">Duplicate names, or a slot outside <paramref name="parameters"/>.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(string path, ReadOnlySpan<float> parameters, ReadOnlySpan<TensorSlot> layout,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(path, parameters, layout, [], [], [], [], metadata);

    /// <summary>
    /// Writes the tensors of <paramref name="layout"/> and <paramref name="bufferLayout"/> as F32 and those of
    /// <paramref name="counterLayout"/> as I64, as PyTorch saves a <c>state_dict</c> with BatchNorm buffers. The
    /// file is written under a temporary name in the same directory and then moved over <paramref name="path"/>, so
    /// that a crash never leaves a half-written file behind and an existing file is replaced only by a complete one.
    /// </summary>
    /// <remarks>
    /// The counters come first in the data buffer, then the parameters and the buffers, each in layout order: every
    /// I64 tensor then starts 8-byte aligned, as the reference writer arranges by ordering tensors by alignment.
    /// </remarks>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="parameters">The flat parameter vector.</param>
    /// <param name="layout">The parameter tensors; every slot inside <paramref name="parameters"/>.</param>
    /// <param name="buffers">The flat vector of float state that is not a parameter, such as BatchNorm's running statistics.</param>
    /// <param name="bufferLayout">The buffer tensors; every slot inside <paramref name="buffers"/>.</param>
    /// <param name="counters">The flat vector of long state, such as BatchNorm's <c>num_batches_tracked</c>.</param>
    /// <param name="counterLayout">
    /// The counter tensors; every slot inside <paramref name="counters"/>, its offset and length counted in longs.
    /// </param>
    /// <param name="metadata">Optional strings stored under <c>__metadata__</c>.</param>
    /// <exception cref="ArgumentException">
    /// A name that appears twice, within one layout or across the three, or a slot outside its vector.
    /// </exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters",
        Justification = "The overloads take 3 and 7 required arguments of different types: no call can bind to both.")]
    public static void Save(string path,
        ReadOnlySpan<float> parameters, ReadOnlySpan<TensorSlot> layout,
        ReadOnlySpan<float> buffers, ReadOnlySpan<TensorSlot> bufferLayout,
        ReadOnlySpan<long> counters, ReadOnlySpan<TensorSlot> counterLayout,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckLayouts(layout, parameters.Length, bufferLayout, buffers.Length, counterLayout, counters.Length);

        byte[] header = BuildHeader(layout, bufferLayout, counterLayout, metadata, out long dataLength);
        using var target = AtomicFile.Create(path);
        FileStream file = target.Stream;
        file.SetLength(8 + header.Length + dataLength);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        file.Write(length);
        file.Write(header);

        // The order of BuildHeader.
        WriteTensors(file, counters, counterLayout);
        WriteTensors(file, parameters, layout);
        WriteTensors(file, buffers, bufferLayout);
        target.Commit();
    }

    /// <summary>
    /// Loads the tensors of <paramref name="layout"/> from a safetensors file into <paramref name="parameters"/>.
    /// The whole file is checked first — header length, JSON, every expected tensor present with dtype F32,
    /// the same shape and sound data offsets, no unexpected tensors, no overlaps, buffer length — and
    /// <paramref name="parameters"/> is changed only when everything is right.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <param name="parameters">The flat parameter vector to fill.</param>
    /// <param name="layout">Where each tensor goes; names must be unique and every slot inside <paramref name="parameters"/>.</param>
    /// <exception cref="InvalidDataException">
    /// The file does not hold exactly the expected tensors; the message names the file, the tensor and the
    /// problem. <paramref name="parameters"/> is unchanged.
    /// </exception>
    /// <exception cref="ArgumentException">Duplicate names, or a slot outside <paramref name="parameters"/>.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static void Load(string path, Span<float> parameters, ReadOnlySpan<TensorSlot> layout) =>
        Load(path, parameters, layout, [], [], [], []);

    /// <summary>
    /// Loads the tensors of <paramref name="layout"/>, <paramref name="bufferLayout"/> and
    /// <paramref name="counterLayout"/> from a safetensors file into <paramref name="parameters"/>,
    /// <paramref name="buffers"/> and <paramref name="counters"/>, as PyTorch saves a <c>state_dict</c> with
    /// BatchNorm buffers. The whole file is checked first — header length, JSON, every expected tensor present
    /// with the dtype of its layout (F32 for parameters and buffers, I64 for counters), the same shape and sound
    /// data offsets, no unexpected tensors, no overlaps, buffer length — and the three vectors are changed only
    /// when everything is right.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <param name="parameters">The flat parameter vector to fill.</param>
    /// <param name="layout">Where each parameter tensor goes; every slot inside <paramref name="parameters"/>.</param>
    /// <param name="buffers">The flat vector of float state that is not a parameter, such as BatchNorm's running statistics.</param>
    /// <param name="bufferLayout">Where each buffer tensor goes; every slot inside <paramref name="buffers"/>.</param>
    /// <param name="counters">The flat vector of long state, such as BatchNorm's <c>num_batches_tracked</c>.</param>
    /// <param name="counterLayout">
    /// Where each counter tensor goes; every slot inside <paramref name="counters"/>, its offset and length counted
    /// in longs.
    /// </param>
    /// <exception cref="InvalidDataException">
    /// The file does not hold exactly the expected tensors; the message names the file, the tensor and the
    /// problem. <paramref name="parameters"/>, <paramref name="buffers"/> and <paramref name="counters"/> are
    /// unchanged.
    /// </exception>
    /// <exception cref="ArgumentException">
    /// A name that appears twice, within one layout or across the three, or a slot outside its vector.
    /// </exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static void Load(string path,
        Span<float> parameters, ReadOnlySpan<TensorSlot> layout,
        Span<float> buffers, ReadOnlySpan<TensorSlot> bufferLayout,
        Span<long> counters, ReadOnlySpan<TensorSlot> counterLayout) =>
        LoadCore(path, parameters, layout, buffers, bufferLayout, counters, counterLayout, options: null);

    /// <summary>
    /// Loads the tensors of <paramref name="layout"/> from a safetensors file written elsewhere, such as PyTorch's
    /// <c>save_file</c> of a <c>state_dict</c>: the file's names go through <see cref="SafeTensorsLoadOptions.Rename"/>,
    /// F16 and BF16 tensors are converted to F32 exactly, and with <see cref="SafeTensorsLoadOptions.Strict"/> off the
    /// tensors the layout does not use are ignored. Everything is checked before <paramref name="parameters"/> changes.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <param name="parameters">The flat parameter vector to fill.</param>
    /// <param name="layout">Where each tensor goes; names must be unique and every slot inside <paramref name="parameters"/>.</param>
    /// <param name="options">The rename and the strictness.</param>
    /// <returns>The file's names of the tensors that were ignored, in file order (empty when every tensor was used).</returns>
    /// <exception cref="InvalidDataException">
    /// The file is corrupt, a tensor of the layout is missing or has another shape, or (strict) the file holds a tensor
    /// the layout does not; a name mismatch lists the file's tensor names and the expected ones.
    /// <paramref name="parameters"/> is unchanged.
    /// </exception>
    /// <exception cref="ArgumentException">Duplicate names, or a slot outside <paramref name="parameters"/>.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IReadOnlyList<string> Load(string path, Span<float> parameters, ReadOnlySpan<TensorSlot> layout, SafeTensorsLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return LoadCore(path, parameters, layout, [], [], [], [], options);
    }

    /// <summary>
    /// Loads parameters, buffers and counters as
    /// <see cref="Load(string, Span{float}, ReadOnlySpan{TensorSlot}, Span{float}, ReadOnlySpan{TensorSlot}, Span{long}, ReadOnlySpan{TensorSlot})"/>
    /// does, from a file written elsewhere: the file's names go through <see cref="SafeTensorsLoadOptions.Rename"/>,
    /// F16 and BF16 tensors of parameters and buffers are converted to F32 exactly, and with
    /// <see cref="SafeTensorsLoadOptions.Strict"/> off the tensors in none of the layouts are ignored. Everything is
    /// checked before any of the three vectors changes.
    /// </summary>
    /// <param name="path">The file to read.</param>
    /// <param name="parameters">The flat parameter vector to fill.</param>
    /// <param name="layout">Where each parameter tensor goes; every slot inside <paramref name="parameters"/>.</param>
    /// <param name="buffers">The flat vector of float state that is not a parameter, such as BatchNorm's running statistics.</param>
    /// <param name="bufferLayout">Where each buffer tensor goes; every slot inside <paramref name="buffers"/>.</param>
    /// <param name="counters">The flat vector of long state, such as BatchNorm's <c>num_batches_tracked</c> (I64 in the file).</param>
    /// <param name="counterLayout">Where each counter tensor goes; every slot inside <paramref name="counters"/>, counted in longs.</param>
    /// <param name="options">The rename and the strictness.</param>
    /// <returns>The file's names of the tensors that were ignored, in file order (empty when every tensor was used).</returns>
    /// <exception cref="InvalidDataException">
    /// The file is corrupt, a tensor of a layout is missing or has another dtype or shape, or (strict) the file holds a
    /// tensor in none of the layouts; a name mismatch lists the file's tensor names and the expected ones. The three
    /// vectors are unchanged.
    /// </exception>
    /// <exception cref="ArgumentException">A name that appears twice, within one layout or across the three, or a slot outside its vector.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IReadOnlyList<string> Load(string path,
        Span<float> parameters, ReadOnlySpan<TensorSlot> layout,
        Span<float> buffers, ReadOnlySpan<TensorSlot> bufferLayout,
        Span<long> counters, ReadOnlySpan<TensorSlot> counterLayout,
        SafeTensorsLoadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return LoadCore(path, parameters, layout, buffers, bufferLayout, counters, counterLayout, options);
    }

    /// <summary>
    /// The loads. Without <paramref name="options"/>: the file's names as they are, F32/I64 only, strict, and the
    /// messages of the first loader. With them: renamed, F16/BF16 converted, name mismatches listing both name sets.
    /// </summary>
    private static List<string> LoadCore(string path,
        Span<float> parameters, ReadOnlySpan<TensorSlot> layout,
        Span<float> buffers, ReadOnlySpan<TensorSlot> bufferLayout,
        Span<long> counters, ReadOnlySpan<TensorSlot> counterLayout,
        SafeTensorsLoadOptions? options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Dictionary<string, Role> expected = CheckLayouts(
            layout, parameters.Length, bufferLayout, buffers.Length, counterLayout, counters.Length);

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        Dictionary<string, Entry> fileEntries = ReadHeader(file, path, out Dictionary<string, string> metadata, out long bufferLength);
        var ignored = new List<string>();
        Dictionary<string, Entry> candidates = WithoutTrainingState(fileEntries, metadata, expected, ignored);
        Dictionary<string, Entry> entries = options is null
            ? candidates
            : MatchNames(path, candidates, expected, options, ignored);

        CheckEntries(path, entries, bufferLength, layout, Role.Parameter, options is not null);
        CheckEntries(path, entries, bufferLength, bufferLayout, Role.Buffer, options is not null);
        CheckEntries(path, entries, bufferLength, counterLayout, Role.Counter, options is not null);

        foreach (Entry entry in entries.Values)
        {
            if (!expected.ContainsKey(entry.Name))
            {
                throw Error(path, bufferLayout.IsEmpty && counterLayout.IsEmpty
                    ? $"{entry.Name}: unexpected tensor, not in the layout"
                    : $"{entry.Name}: unexpected tensor, in none of the parameter, buffer and counter layouts");
            }
        }

        // Ignored tensors are still part of the file: their offsets must be sound and the buffer fully covered.
        var ordered = new List<Entry>(fileEntries.Values);
        foreach (Entry entry in ordered)
        {
            if (entry.End < entry.Begin || entry.End > bufferLength)
            {
                throw Error(path, string.Create(CultureInfo.InvariantCulture,
                    $"{entry.Name}: data_offsets {entry.Offsets} are outside the {bufferLength}-byte data buffer or end before they begin"));
            }
        }

        ordered.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long covered = 0;
        for (int i = 0; i < ordered.Count; i++)
        {
            if (i > 0 && ordered[i].Begin < ordered[i - 1].End)
            {
                throw Error(path, $"{ordered[i].Name}: data_offsets {ordered[i].Offsets} overlap those of {ordered[i - 1].Name} {ordered[i - 1].Offsets}");
            }

            covered += ordered[i].End - ordered[i].Begin;
        }

        if (covered != bufferLength)
        {
            throw Error(path, string.Create(CultureInfo.InvariantCulture,
                $"the data buffer is {bufferLength} bytes but the tensors cover {covered}: gaps or trailing bytes"));
        }

        if (bufferLength > Array.MaxLength)
        {
            throw Error(path, string.Create(CultureInfo.InvariantCulture, $"the data buffer of {bufferLength} bytes is too large to load"));
        }

        // Read everything before touching the vectors, so that an I/O error leaves them unchanged too.
        var data = new byte[bufferLength];
        try
        {
            file.ReadExactly(data);
        }
        catch (EndOfStreamException e)
        {
            throw Error(path, "truncated while reading the data buffer", e);
        }

        ReadFloatTensors(data, entries, parameters, layout);
        ReadFloatTensors(data, entries, buffers, bufferLayout);
        ReadTensors(data, entries, counters, counterLayout);
        return ignored;
    }

    /// <summary>
    /// The file's tensors without those a training checkpoint lists under <see cref="TrainingStateKey"/> (an optimizer's
    /// state, a kept best network) that no layout asks for; those are added to <paramref name="ignored"/>. So a network
    /// loads its weights from a checkpoint as from its own <c>Save</c>.
    /// </summary>
    private static Dictionary<string, Entry> WithoutTrainingState(Dictionary<string, Entry> fileEntries, Dictionary<string, string> metadata,
        Dictionary<string, Role> expected, List<string> ignored)
    {
        if (!metadata.TryGetValue(TrainingStateKey, out string? list) || list.Length == 0)
        {
            return fileEntries;
        }

        var entries = new Dictionary<string, Entry>(fileEntries, StringComparer.Ordinal);
        foreach (string name in list.Split(','))
        {
            if (!expected.ContainsKey(name) && entries.Remove(name))
            {
                ignored.Add(name);
            }
        }

        return entries;
    }

    /// <summary>
    /// The file's tensors under the layouts' names: renamed, those renamed to null (and, when not strict, those in no
    /// layout) left out and added to <paramref name="ignored"/>. A missing tensor, or (strict) an unexpected one, is an
    /// error listing the file's names next to the expected ones.
    /// </summary>
    private static Dictionary<string, Entry> MatchNames(string path, Dictionary<string, Entry> fileEntries,
        Dictionary<string, Role> expected, SafeTensorsLoadOptions options, List<string> ignored)
    {
        var entries = new Dictionary<string, Entry>(fileEntries.Count, StringComparer.Ordinal);
        var sources = new Dictionary<string, string>(fileEntries.Count, StringComparer.Ordinal);
        var unexpected = new List<string>();
        foreach (Entry entry in fileEntries.Values)
        {
            string? name = options.Rename is null ? entry.Name : options.Rename(entry.Name);
            if (name is null)
            {
                ignored.Add(entry.Name);
                continue;
            }

            if (!expected.ContainsKey(name))
            {
                if (options.Strict)
                {
                    unexpected.Add(name == entry.Name ? name : $"{entry.Name} (as {name})");
                }
                else
                {
                    ignored.Add(entry.Name);
                }

                continue;
            }

            if (!sources.TryAdd(name, entry.Name))
            {
                throw Error(path, $"{entry.Name} and {sources[name]} are both renamed to {name}");
            }

            entries.Add(name, new Entry(name) { Dtype = entry.Dtype, Shape = entry.Shape, Begin = entry.Begin, End = entry.End });
        }

        var missing = new List<string>();
        foreach (string name in expected.Keys)
        {
            if (!entries.ContainsKey(name))
            {
                missing.Add(name);
            }
        }

        if (missing.Count > 0 || unexpected.Count > 0)
        {
            string problem = missing.Count > 0
                ? $"missing from the file: {FormatNames(missing)}"
                : $"unexpected tensors, in no layout (load with Strict = false to ignore them): {FormatNames(unexpected)}";
            if (missing.Count > 0 && unexpected.Count > 0)
            {
                problem += $"; unexpected: {FormatNames(unexpected)}";
            }

            throw Error(path, $"tensor names do not match the layout; {problem}.{Environment.NewLine}" +
                $"File tensors ({fileEntries.Count}): {FormatNames(fileEntries.Keys)}{Environment.NewLine}" +
                $"Expected ({expected.Count}): {FormatNames(expected.Keys)}");
        }

        return entries;
    }

    /// <summary>Names separated by commas, the first 32 only, then how many more there are.</summary>
    private static string FormatNames(IEnumerable<string> names)
    {
        const int Shown = 32;
        var text = new System.Text.StringBuilder();
        int count = 0;
        foreach (string name in names)
        {
            if (count < Shown)
            {
                text.Append(count == 0 ? "" : ", ").Append(name);
            }

            count++;
        }

        if (count > Shown)
        {
            text.Append(CultureInfo.InvariantCulture, $", … ({count - Shown} more)");
        }

        return count == 0 ? "(none)" : text.ToString();
    }

    /// <summary>The <c>__metadata__</c> strings of a safetensors file (empty when it has none).</summary>
    /// <param name="path">The file to read.</param>
    /// <returns>The metadata, keyed by name.</returns>
    /// <exception cref="InvalidDataException">The header is invalid.</exception>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        ReadHeader(file, path, out Dictionary<string, string> metadata, out _);
        return metadata;
    }

    private static string DtypeOf(Role role) => role == Role.Counter ? I64 : F32;

    private static int ElementSizeOf(Role role) => role == Role.Counter ? sizeof(long) : sizeof(float);

    private static string LayoutNameOf(Role role) => role switch
    {
        Role.Parameter => "parameter layout",
        Role.Buffer => "buffer layout",
        _ => "counter layout",
    };

    /// <summary>Checks the three layouts against their vectors; returns every name with the layout that holds it.</summary>
    private static Dictionary<string, Role> CheckLayouts(
        ReadOnlySpan<TensorSlot> layout, int parameterCount,
        ReadOnlySpan<TensorSlot> bufferLayout, int bufferCount,
        ReadOnlySpan<TensorSlot> counterLayout, int counterCount)
    {
        var names = new Dictionary<string, Role>(layout.Length + bufferLayout.Length + counterLayout.Length, StringComparer.Ordinal);
        CheckLayout(names, layout, parameterCount, Role.Parameter, nameof(layout));
        CheckLayout(names, bufferLayout, bufferCount, Role.Buffer, nameof(bufferLayout));
        CheckLayout(names, counterLayout, counterCount, Role.Counter, nameof(counterLayout));
        return names;
    }

    private static void CheckLayout(Dictionary<string, Role> names, ReadOnlySpan<TensorSlot> layout, int count, Role role, string parameterName)
    {
        for (int i = 0; i < layout.Length; i++)
        {
            TensorSlot slot = layout[i] ?? throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Slot {i} of the {LayoutNameOf(role)} is null."), parameterName);
            if (!names.TryAdd(slot.Name, role))
            {
                Role other = names[slot.Name];
                throw new ArgumentException(other == role
                    ? $"Tensor name '{slot.Name}' appears twice in the {LayoutNameOf(role)}."
                    : $"Tensor name '{slot.Name}' is in both the {LayoutNameOf(other)} and the {LayoutNameOf(role)}.", parameterName);
            }

            if (slot.End > count)
            {
                (string elements, string vector) = role switch
                {
                    Role.Parameter => ("floats", "parameters"),
                    Role.Buffer => ("floats", "buffer floats"),
                    _ => ("longs", "counters"),
                };
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{slot}: {elements} {slot.Offset}..{slot.End - 1} are outside the {count} {vector}."), parameterName);
            }
        }
    }

    /// <summary>Checks that the file holds each tensor of <paramref name="layout"/> with its role's dtype, its shape and sound offsets.</summary>
    private static void CheckEntries(string path, Dictionary<string, Entry> entries, long bufferLength, ReadOnlySpan<TensorSlot> layout, Role role, bool convert)
    {
        foreach (TensorSlot slot in layout)
        {
            string dtype = DtypeOf(role);
            long size = ElementSizeOf(role);
            if (!entries.TryGetValue(slot.Name, out Entry? entry))
            {
                throw Error(path, $"{slot.Name}: missing from the file (expected {dtype}, shape {TensorSlot.FormatShape(slot.Shape)})");
            }

            if (convert && role != Role.Counter && entry.Dtype is F16 or BF16)
            {
                (dtype, size) = (entry.Dtype, sizeof(ushort));
            }

            if (entry.Dtype != dtype)
            {
                throw Error(path, convert && role != Role.Counter
                    ? $"{slot.Name}: dtype {entry.Dtype} found, F32, F16 or BF16 expected by the {LayoutNameOf(role)}"
                    : $"{slot.Name}: dtype {entry.Dtype} found, {dtype} expected by the {LayoutNameOf(role)}");
            }

            if (!ShapeEquals(slot.Shape, entry.Shape!))
            {
                throw Error(path, $"{slot.Name}: shape {TensorSlot.FormatShape(slot.Shape)} expected, file has {TensorSlot.FormatShape(entry.Shape)}");
            }

            if (entry.End < entry.Begin)
            {
                throw Error(path, $"{slot.Name}: data_offsets {entry.Offsets} end before they begin");
            }

            if (entry.End > bufferLength)
            {
                throw Error(path, string.Create(CultureInfo.InvariantCulture,
                    $"{slot.Name}: data_offsets {entry.Offsets} reach past the end of the {bufferLength}-byte data buffer (file truncated?)"));
            }

            if (entry.End - entry.Begin != size * slot.Length)
            {
                throw Error(path, string.Create(CultureInfo.InvariantCulture,
                    $"{slot.Name}: data_offsets {entry.Offsets} span {entry.End - entry.Begin} bytes, {TensorSlot.FormatShape(slot.Shape)} {dtype} needs {size * slot.Length}"));
            }
        }
    }

    private static byte[] BuildHeader(
        ReadOnlySpan<TensorSlot> layout, ReadOnlySpan<TensorSlot> bufferLayout, ReadOnlySpan<TensorSlot> counterLayout,
        IReadOnlyDictionary<string, string>? metadata, out long dataLength)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is not null && metadata.Count > 0)
            {
                json.WriteStartObject(MetadataKey);
                foreach (KeyValuePair<string, string> pair in metadata)
                {
                    ArgumentNullException.ThrowIfNull(pair.Key, nameof(metadata));
                    ArgumentNullException.ThrowIfNull(pair.Value, nameof(metadata));
                    json.WriteString(pair.Key, pair.Value);
                }

                json.WriteEndObject();
            }

            // Counters first, so that every 8-byte tensor starts 8-byte aligned; Save writes the data in this order.
            long offset = 0;
            WriteEntries(json, counterLayout, Role.Counter, ref offset);
            WriteEntries(json, layout, Role.Parameter, ref offset);
            WriteEntries(json, bufferLayout, Role.Buffer, ref offset);
            json.WriteEndObject();
            dataLength = offset;
        }

        // Pad with spaces so that the data buffer starts 8-byte aligned, as the reference writer does.
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteEntries(Utf8JsonWriter json, ReadOnlySpan<TensorSlot> layout, Role role, ref long offset)
    {
        foreach (TensorSlot slot in layout)
        {
            json.WriteStartObject(slot.Name);
            json.WriteString("dtype", DtypeOf(role));
            json.WriteStartArray("shape");
            foreach (int d in slot.Shape)
            {
                json.WriteNumberValue(d);
            }

            json.WriteEndArray();
            json.WriteStartArray("data_offsets");
            json.WriteNumberValue(offset);
            offset += (long)ElementSizeOf(role) * slot.Length;
            json.WriteNumberValue(offset);
            json.WriteEndArray();
            json.WriteEndObject();
        }
    }

    private static Dictionary<string, Entry> ReadHeader(FileStream file, string path, out Dictionary<string, string> metadata, out long bufferLength)
    {
        long fileLength = file.Length;
        if (fileLength < 8)
        {
            throw Error(path, string.Create(CultureInfo.InvariantCulture,
                $"bad header length: the file is {fileLength} bytes, too short for the 8-byte header length"));
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        file.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength < 2)
        {
            throw Error(path, string.Create(CultureInfo.InvariantCulture,
                $"bad header length {headerLength}: at least 2 bytes ({{}}) needed"));
        }

        if (headerLength > MaxHeaderLength)
        {
            throw Error(path, string.Create(CultureInfo.InvariantCulture,
                $"bad header length {headerLength}: more than the {MaxHeaderLength}-byte limit"));
        }

        if ((long)headerLength > fileLength - 8)
        {
            throw Error(path, string.Create(CultureInfo.InvariantCulture,
                $"bad header length {headerLength}: only {fileLength - 8} bytes follow it (file truncated?)"));
        }

        var header = new byte[headerLength];
        file.ReadExactly(header);
        bufferLength = fileLength - 8 - (long)headerLength;

        try
        {
            return ParseHeader(header, path, out metadata);
        }
        catch (JsonException e)
        {
            throw Error(path, "header is not valid JSON: " + e.Message, e);
        }
        catch (InvalidOperationException e)
        {
            throw Error(path, "header is not valid JSON: " + e.Message, e);
        }
    }

    private static Dictionary<string, Entry> ParseHeader(ReadOnlySpan<byte> header, string path, out Dictionary<string, string> metadata)
    {
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        bool sawMetadata = false;

        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw Error(path, $"header is not a JSON object (starts with {reader.TokenType})");
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string name = reader.GetString()!;
            if (name == MetadataKey)
            {
                if (sawMetadata)
                {
                    throw Error(path, $"{MetadataKey} appears twice in the header");
                }

                sawMetadata = true;
                ReadMetadataObject(ref reader, path, metadata);
                continue;
            }

            if (name.Length == 0)
            {
                throw Error(path, "a tensor has an empty name");
            }

            if (entries.ContainsKey(name))
            {
                throw Error(path, $"{name}: appears twice in the header");
            }

            entries.Add(name, ReadEntry(ref reader, path, name));
        }

        if (reader.Read())
        {
            throw Error(path, $"header has content after its JSON object ({reader.TokenType})");
        }

        return entries;
    }

    private static void ReadMetadataObject(ref Utf8JsonReader reader, string path, Dictionary<string, string> metadata)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Error(path, $"{MetadataKey}: a JSON object of strings expected, found {reader.TokenType}");
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                throw Error(path, $"{MetadataKey}: value of '{key}' is {reader.TokenType}, a string expected");
            }

            if (!metadata.TryAdd(key, reader.GetString()!))
            {
                throw Error(path, $"{MetadataKey}: key '{key}' appears twice");
            }
        }
    }

    private static Entry ReadEntry(ref Utf8JsonReader reader, string path, string name)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Error(path, $"{name}: a JSON object with dtype, shape and data_offsets expected, found {reader.TokenType}");
        }

        var entry = new Entry(name);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            reader.Read();
            switch (key)
            {
                case "dtype" when entry.Dtype is null:
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw Error(path, $"{name}: dtype is {reader.TokenType}, a string expected");
                    }

                    entry.Dtype = reader.GetString()!;
                    break;
                case "shape" when entry.Shape is null:
                    entry.Shape = ReadIntegers(ref reader, path, name, key).ToArray();
                    break;
                case "data_offsets" when entry.Begin < 0:
                    List<long> offsets = ReadIntegers(ref reader, path, name, key);
                    if (offsets.Count != 2)
                    {
                        throw Error(path, string.Create(CultureInfo.InvariantCulture,
                            $"{name}: data_offsets has {offsets.Count} numbers, 2 ([begin, end]) expected"));
                    }

                    (entry.Begin, entry.End) = (offsets[0], offsets[1]);
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Error(path, $"{name}: {key} appears twice");
                default:
                    throw Error(path, $"{name}: unknown field '{key}'; only dtype, shape and data_offsets are allowed");
            }
        }

        if (entry.Dtype is null || entry.Shape is null || entry.Begin < 0)
        {
            string missing = entry.Dtype is null ? "dtype" : entry.Shape is null ? "shape" : "data_offsets";
            throw Error(path, $"{name}: {missing} is missing");
        }

        return entry;
    }

    private static List<long> ReadIntegers(ref Utf8JsonReader reader, string path, string name, string key)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw Error(path, $"{name}: {key} is {reader.TokenType}, an array of integers expected");
        }

        var values = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long value) || value < 0)
            {
                string found = reader.TokenType == JsonTokenType.Number
                    ? System.Text.Encoding.UTF8.GetString(reader.ValueSpan)
                    : reader.TokenType.ToString();
                throw Error(path, $"{name}: {key} holds {found}, only integers ≥ 0 are allowed");
            }

            values.Add(value);
        }

        return values;
    }

    private static bool ShapeEquals(ReadOnlySpan<int> expected, long[] actual)
    {
        if (expected.Length != actual.Length)
        {
            return false;
        }

        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i])
            {
                return false;
            }
        }

        return true;
    }

    private static void WriteTensors<T>(Stream stream, ReadOnlySpan<T> vector, ReadOnlySpan<TensorSlot> layout)
        where T : unmanaged
    {
        foreach (TensorSlot slot in layout)
        {
            WriteLittleEndian(stream, vector.Slice(slot.Offset, slot.Length));
        }
    }

    /// <summary>Copies each tensor of <paramref name="layout"/> from the data buffer, whose entries have all been checked.</summary>
    private static void ReadTensors<T>(byte[] data, Dictionary<string, Entry> entries, Span<T> vector, ReadOnlySpan<TensorSlot> layout)
        where T : unmanaged
    {
        foreach (TensorSlot slot in layout)
        {
            Entry entry = entries[slot.Name];
            ReadLittleEndian(data.AsSpan((int)entry.Begin, (int)(entry.End - entry.Begin)), vector.Slice(slot.Offset, slot.Length));
        }
    }

    /// <summary>
    /// Copies each float tensor of <paramref name="layout"/> from the data buffer, converting F16 and BF16 to F32
    /// exactly; the entries have all been checked.
    /// </summary>
    private static void ReadFloatTensors(byte[] data, Dictionary<string, Entry> entries, Span<float> vector, ReadOnlySpan<TensorSlot> layout)
    {
        foreach (TensorSlot slot in layout)
        {
            Entry entry = entries[slot.Name];
            ReadOnlySpan<byte> bytes = data.AsSpan((int)entry.Begin, (int)(entry.End - entry.Begin));
            Span<float> destination = vector.Slice(slot.Offset, slot.Length);
            switch (entry.Dtype)
            {
                case F16:
                    for (int i = 0; i < destination.Length; i++)
                    {
                        destination[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]));
                    }

                    break;
                case BF16:
                    for (int i = 0; i < destination.Length; i++)
                    {
                        destination[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16);
                    }

                    break;
                default:
                    ReadLittleEndian(bytes, destination);
                    break;
            }
        }
    }

    private static void WriteLittleEndian<T>(Stream stream, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(values);
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(bytes);
            return;
        }

        int size = Unsafe.SizeOf<T>();
        Span<byte> chunk = stackalloc byte[4096];
        while (!bytes.IsEmpty)
        {
            int n = Math.Min(bytes.Length, chunk.Length / size * size);
            bytes[..n].CopyTo(chunk);
            ReverseEach(chunk[..n], size);
            stream.Write(chunk[..n]);
            bytes = bytes[n..];
        }
    }

    private static void ReadLittleEndian<T>(ReadOnlySpan<byte> bytes, Span<T> destination)
        where T : unmanaged
    {
        Span<byte> target = MemoryMarshal.AsBytes(destination);
        bytes.CopyTo(target);
        if (!BitConverter.IsLittleEndian)
        {
            ReverseEach(target, Unsafe.SizeOf<T>());
        }
    }

    /// <summary>Reverses the byte order of each <paramref name="size"/>-byte element.</summary>
    private static void ReverseEach(Span<byte> bytes, int size)
    {
        for (int i = 0; i < bytes.Length; i += size)
        {
            bytes.Slice(i, size).Reverse();
        }
    }

    private static InvalidDataException Error(string path, string what, Exception? inner = null) =>
        new($"{path}: {what}", inner);
}
