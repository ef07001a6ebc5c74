using System;

namespace NetGen.Weights;

/// <summary>
/// How <see cref="SafeTensors.Load(string, Span{float}, ReadOnlySpan{TensorSlot}, SafeTensorsLoadOptions)"/> matches
/// a file written elsewhere (PyTorch's <c>save_file</c> of a <c>state_dict</c>) to a layout: a rename of the file's
/// tensor names, and whether tensors the layout does not use are an error. F16 and BF16 tensors are converted to F32
/// exactly, whatever the options.
/// </summary>
/// <example>
/// <code>
/// // "model.conv1.weight" → "conv1.weight"; tensors the network does not have are ignored and returned.
/// var options = SafeTensorsLoadOptions.StripPrefix("model.") with { Strict = false };
/// IReadOnlyList&lt;string&gt; ignored = net.Load("pytorch.safetensors", options);
/// </code>
/// </example>
public sealed record SafeTensorsLoadOptions
{
    /// <summary>
    /// Maps a tensor name in the file to the layout's name for it; <see langword="null"/> (the default) keeps every
    /// name. When the function returns <see langword="null"/> the tensor is ignored (and reported as ignored), in
    /// strict mode too. Two file tensors that map to the same name are an error.
    /// </summary>
    public Func<string, string?>? Rename { get; init; }

    /// <summary>
    /// <see langword="true"/> (the default): every file tensor that <see cref="Rename"/> does not ignore must be in
    /// the layout. <see langword="false"/>: file tensors that are in no layout are ignored and reported. A tensor of
    /// the layout that is missing from the file is an error either way.
    /// </summary>
    public bool Strict { get; init; } = true;

    /// <summary>
    /// Options whose <see cref="Rename"/> removes <paramref name="prefix"/> from the names that start with it
    /// (<c>model.conv1.weight</c> → <c>conv1.weight</c>) and keeps the other names as they are.
    /// </summary>
    /// <param name="prefix">The prefix to remove, such as <c>model.</c> or <c>module.</c>; not empty.</param>
    /// <returns>Strict options with that rename.</returns>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is null or empty.</exception>
    public static SafeTensorsLoadOptions StripPrefix(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return new SafeTensorsLoadOptions
        {
            Rename = name => name.StartsWith(prefix, StringComparison.Ordinal) ? name[prefix.Length..] : name,
        };
    }
}
