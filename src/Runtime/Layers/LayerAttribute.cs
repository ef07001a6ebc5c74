using System;

namespace NetGen;

/// <summary>
/// Base class of every NetGen layer attribute. The layers of a network are the layer attributes on its
/// partial class, in the order they are written; the NetGen source generator reads them at compile time.
/// </summary>
/// <example>
/// A network is a partial class with one <see cref="InputAttribute"/> first and one <see cref="SoftmaxAttribute"/> last:
/// <code>
/// [Input(1, 28, 28)]
/// [Conv2D(8, 3, Padding = 1)]
/// [ReLU]
/// [MaxPool2D(2)]
/// [Dense(10, Name = "classifier")]
/// [Softmax]
/// public partial class SmallNet { }   // generated: new SmallNet(), Forward, TrainBatch, Save, ClassifierWeight, …
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public abstract class LayerAttribute : Attribute
{
    /// <summary>
    /// The layer's name: the prefix of its generated members (<c>conv1</c> gives <c>Conv1Weight</c>,
    /// <c>Conv1Forward</c>, …) and of its tensors in a weights file (<c>conv1.weight</c>). Defaults to the
    /// kind and its ordinal among layers of that kind: <c>conv1</c>, <c>conv2</c>, <c>pool1</c>, <c>dense1</c>, …
    /// </summary>
    public string? Name { get; set; }

    /// <summary>
    /// The name of an earlier layer (or of the input layer) whose output this layer reads, instead of the output of the
    /// layer written just before it. Unset, a layer reads the layer before it.
    /// </summary>
    public string? Input { get; set; }
}
