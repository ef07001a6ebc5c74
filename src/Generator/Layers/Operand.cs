using System;

namespace NetGen.Generator.Layers;

/// <summary>What a buffer or flag passed to a layer's forward or backward method is.</summary>
internal enum OperandKind
{
    /// <summary>An input activation (<see cref="Operand.Slot"/> 0: the main input; 1: the joined layer's output).</summary>
    Input,

    /// <summary>The layer's output activation.</summary>
    Output,

    /// <summary>dL/d(an input), to write (never to add into: the network sums branches itself).</summary>
    InputGradient,

    /// <summary>dL/d(output), to read.</summary>
    OutputGradient,

    /// <summary>Whether to compute an input's gradient at all (false for the network's input unless asked).</summary>
    ComputeInputGradient,

    /// <summary>A trainable tensor (<see cref="Operand.Role"/>).</summary>
    Parameter,

    /// <summary>The gradient of a trainable tensor (<see cref="Operand.Role"/>), to add into, summed over the samples.</summary>
    ParameterGradient,

    /// <summary>The samples' labels (a classifier's).</summary>
    Labels,

    /// <summary>The samples' target values (a regression's), one row of outputs per sample.</summary>
    Targets,

    /// <summary>Whether the batch computes the weight gradient itself (see <see cref="Layer.HasBatchWeightGradient"/>).</summary>
    BatchWeightGradient,

    /// <summary>One of the layer's own buffers (<see cref="Operand.Buffer"/>).</summary>
    Scratch,

    /// <summary>Whether the pass trains (batch statistics, dropout) or infers (running statistics, no dropout).</summary>
    Training,

    /// <summary>A float buffer of the network's state that is not a parameter (<see cref="Operand.Role"/>: running mean or variance).</summary>
    StateBuffer,

    /// <summary>A counter of the network's state (<see cref="Operand.Role"/>: batches tracked), a span of one long.</summary>
    Counter,

    /// <summary>The key of this training step's random draws (dropout masks).</summary>
    NoiseKey,

    /// <summary>The index in the batch of the first sample the call processes.</summary>
    FirstSample,

    /// <summary>
    /// In an inference form with an [Add] after it folded in (<see cref="InferenceFold.Residual"/>): the Add's other input,
    /// added to each output as it is stored.
    /// </summary>
    Residual,
}

/// <summary>The role of a layer's tensor, in PyTorch's <c>state_dict()</c> naming: a parameter's or a buffer's.</summary>
internal enum TensorRole
{
    Weight,
    Bias,
    RunningMean,
    RunningVar,
    BatchesTracked,

    /// <summary>
    /// A weight in the layout a kernel reads rather than PyTorch's (Conv2D's Winograd transform), made from the weight by
    /// the inference form it belongs to; never saved.
    /// </summary>
    TransformedWeight,

    /// <summary>
    /// The Winograd transform of the weight turned for dL/dx (Conv2D's), made from the weight before each training call of a
    /// network that trains in stages (see <see cref="Layer.TrainingPrepared"/>); never saved.
    /// </summary>
    TurnedTransformedWeight,
}

/// <summary>
/// One argument of a layer's generated forward or backward method: the typed contract between a layer and the network
/// emitter. The layer lists the operands it takes; the emitter declares the method's parameters from them and binds
/// each to a buffer of the workspace, so no layer names a buffer by a string the emitter must recognize.
/// </summary>
internal sealed record Operand(OperandKind Kind, int Slot = 0, TensorRole Role = TensorRole.Weight, ScratchBuffer? Buffer = null)
{
    public static readonly Operand X = new(OperandKind.Input);
    public static readonly Operand Y = new(OperandKind.Output);
    public static readonly Operand Dx = new(OperandKind.InputGradient);
    public static readonly Operand Dy = new(OperandKind.OutputGradient);
    public static readonly Operand ComputeDx = new(OperandKind.ComputeInputGradient);
    public static readonly Operand Weight = new(OperandKind.Parameter, Role: TensorRole.Weight);
    public static readonly Operand Bias = new(OperandKind.Parameter, Role: TensorRole.Bias);

    /// <summary>A weight in a kernel's own layout (<see cref="TensorRole.TransformedWeight"/>), in an inference form.</summary>
    public static readonly Operand TransformedWeight = new(OperandKind.Parameter, Role: TensorRole.TransformedWeight);

    /// <summary>The turned weight's transform for a Winograd dL/dx (<see cref="TensorRole.TurnedTransformedWeight"/>), made before the training call.</summary>
    public static readonly Operand TurnedTransformedWeight = new(OperandKind.Parameter, Role: TensorRole.TurnedTransformedWeight);
    public static readonly Operand WeightGradient = new(OperandKind.ParameterGradient, Role: TensorRole.Weight);
    public static readonly Operand BiasGradient = new(OperandKind.ParameterGradient, Role: TensorRole.Bias);
    public static readonly Operand Labels = new(OperandKind.Labels);
    public static readonly Operand Targets = new(OperandKind.Targets);
    public static readonly Operand BatchWeightGradient = new(OperandKind.BatchWeightGradient);

    /// <summary>The second input of a join (Add, Concat): the named layer's output.</summary>
    public static readonly Operand Joined = new(OperandKind.Input, Slot: 1);

    /// <summary>The gradient of the second input of a join.</summary>
    public static readonly Operand JoinedGradient = new(OperandKind.InputGradient, Slot: 1);

    /// <summary>Whether to compute the second input's gradient.</summary>
    public static readonly Operand ComputeJoinedGradient = new(OperandKind.ComputeInputGradient, Slot: 1);

    public static readonly Operand Training = new(OperandKind.Training);
    public static readonly Operand NoiseKey = new(OperandKind.NoiseKey);
    public static readonly Operand FirstSample = new(OperandKind.FirstSample);

    /// <summary>The other input of an [Add] folded into the layer for inference (see <see cref="OperandKind.Residual"/>).</summary>
    public static readonly Operand Residual = new(OperandKind.Residual);

    public static Operand Of(ScratchBuffer buffer) => new(OperandKind.Scratch, Buffer: buffer);

    /// <summary>A state buffer (<see cref="TensorRole.RunningMean"/>, <see cref="TensorRole.RunningVar"/>) or counter (<see cref="TensorRole.BatchesTracked"/>).</summary>
    public static Operand State(TensorRole role) => new(role == TensorRole.BatchesTracked ? OperandKind.Counter : OperandKind.StateBuffer, Role: role);

    /// <summary>The parameter's name in the generated method: what the layer's body calls it.</summary>
    public string Name => Kind switch
    {
        OperandKind.Input => Slot == 0 ? "x" : "joined",
        OperandKind.Output => "y",
        OperandKind.InputGradient => Slot == 0 ? "dx" : "dJoined",
        OperandKind.OutputGradient => "dy",
        OperandKind.ComputeInputGradient => Slot == 0 ? "computeDx" : "computeDJoined",
        OperandKind.Parameter => Role switch
        {
            TensorRole.Weight => "weight",
            TensorRole.TransformedWeight => "transformedWeight",
            TensorRole.TurnedTransformedWeight => "turnedTransformed",
            _ => "bias",
        },
        OperandKind.ParameterGradient => Role == TensorRole.Weight ? "weightGradient" : "biasGradient",
        OperandKind.Labels => "labels",
        OperandKind.Targets => "targets",
        OperandKind.BatchWeightGradient => "batchWeightGradient",
        OperandKind.Scratch => Buffer!.Name,
        OperandKind.Training => "training",
        OperandKind.StateBuffer => Role == TensorRole.RunningMean ? "runningMean" : "runningVar",
        OperandKind.Counter => "batchesTracked",
        OperandKind.NoiseKey => "noiseKey",
        OperandKind.FirstSample => "firstSample",
        OperandKind.Residual => "residual",
        _ => throw new InvalidOperationException($"No operand kind {Kind}."),
    };

    /// <summary>The parameter's C# type, as written in the layers' file-local class (which imports System and NetGen.Kernels).</summary>
    public string Type(bool forward) => Kind switch
    {
        OperandKind.Input or OperandKind.OutputGradient or OperandKind.Parameter or OperandKind.Residual => "ReadOnlySpan<float>",
        OperandKind.Output => forward ? "Span<float>" : "ReadOnlySpan<float>",
        OperandKind.InputGradient or OperandKind.ParameterGradient => "Span<float>",
        OperandKind.Labels => "ReadOnlySpan<int>",
        OperandKind.Targets => "ReadOnlySpan<float>",
        OperandKind.ComputeInputGradient or OperandKind.BatchWeightGradient => "bool",
        OperandKind.Scratch => $"Span<{Buffer!.ElementType}>",
        OperandKind.Training => "bool",
        OperandKind.StateBuffer => "Span<float>",
        OperandKind.Counter => "Span<long>",
        OperandKind.NoiseKey => "ulong",
        OperandKind.FirstSample => "int",
        _ => throw new InvalidOperationException($"No operand kind {Kind}."),
    };
}

/// <summary>The lower-case role name PyTorch uses: <c>weight</c>, <c>bias</c>.</summary>
internal static class TensorRoleNames
{
    public static string TensorName(this TensorRole role) => role switch
    {
        TensorRole.Weight => "weight",
        TensorRole.Bias => "bias",
        TensorRole.RunningMean => "running_mean",
        TensorRole.RunningVar => "running_var",
        TensorRole.BatchesTracked => "num_batches_tracked",
        TensorRole.TransformedWeight => "transformed_weight",
        TensorRole.TurnedTransformedWeight => "turned_transformed_weight",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    /// <summary>The tensor's name in a <c>state_dict()</c>, weights file or ONNX model: <c>conv1.weight</c>, <c>features.0.bias</c>.</summary>
    public static string TensorName(this TensorRole role, string module) => module + "." + role.TensorName();
}
