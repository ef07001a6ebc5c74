using System.Collections.Generic;
using System.Linq;
using NetGen.Generator.Layers;

namespace NetGen.Generator.Model;

/// <summary>What the parser read off a network class: where it lives and its layer attributes in order, unchecked.</summary>
internal sealed record NetworkSpec(HierarchyInfo Hierarchy, EquatableArray<LayerDeclaration> Layers)
{
    /// <summary>The <c>[Weights("…")]</c> on the class, or null.</summary>
    public WeightsDeclaration? Weights { get; init; }
}

/// <summary>
/// A <c>[Weights("lenet5.safetensors")]</c> attribute: the path as written (null when the argument is null) and where the
/// attribute is, for diagnostics.
/// </summary>
internal sealed record WeightsDeclaration(string? Path, LocationInfo? Location)
{
    /// <summary>The folder of the source file declaring the class, which a relative path is looked up from first.</summary>
    public string SourceDirectory { get; init; } = "";
}

/// <summary>
/// One layer attribute as written: its kind and arguments, the name given with <c>Name = "…"</c>, the layer named with
/// <c>Input = "…"</c>, and where the attribute is. The location serves diagnostics only and is never copied into the
/// <see cref="NetworkModel"/>, so that moving a declaration does not regenerate its source.
/// </summary>
internal sealed record LayerDeclaration(Layer Layer, string? Name, string? InputName, LocationInfo? Location)
{
    /// <summary>
    /// The prefix of the layer's tensor names where it differs from its name: an imported PyTorch module's
    /// (<c>features.0</c>, whose layer is named <c>features_0</c>), so that weights files keep the model's names.
    /// </summary>
    public string? TensorPrefix { get; init; }
}

/// <summary>The parser's output: a spec (null when the class cannot be a network) and the diagnostics found so far.</summary>
internal sealed record ParseResult(NetworkSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>The inferred model (null on any error) and every diagnostic, as data.</summary>
internal sealed record InferenceResult(NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics)
{
    /// <summary>The class's <c>[Weights]</c>, passed on from the spec to the step that bakes them.</summary>
    public WeightsDeclaration? Weights { get; init; }
}

/// <summary>
/// A network after shape inference: a graph of computing layers in declaration order, each knowing which layers it
/// reads, with every shape, plan choice and parameter offset resolved. Everything the emitter needs; nothing from
/// Roslyn, no source locations.
/// </summary>
internal sealed record NetworkModel(HierarchyInfo Hierarchy, Shape Input, EquatableArray<LayerPlan> Layers, int ParameterCount)
{
    /// <summary>Floats of state that are not parameters (running statistics), and counters (longs).</summary>
    public int StateCount { get; init; }

    /// <summary>Counters of the state (a BatchNorm's batches tracked).</summary>
    public int CounterCount { get; init; }

    /// <summary>
    /// Floats of the network's folded buffer: the weights and biases its inference passes read for the layers with another
    /// folded in (<see cref="LayerPlan.Fold"/>), recomputed from the parameters and running statistics when they change.
    /// </summary>
    public int FoldedLength { get; init; }

    /// <summary>
    /// The weights file baked into the assembly (<c>[Weights("…")]</c> as written), or null: when set, a new instance
    /// starts with the baked parameters, running statistics and counters of <c>Namespace.Class.Weights.g.cs</c>.
    /// </summary>
    public string? BakedFrom { get; init; }

    /// <summary>The ONNX model the network was imported from (<c>[OnnxModel("…")]</c> as written), or null for a declared one.</summary>
    public string? ImportedFrom { get; init; }

    /// <summary>
    /// Whether some layer's inference pass runs over recomputed weights (a convolution with its BatchNorm folded in; a fold of
    /// output steps alone, <see cref="InferenceFold.StepsOnly"/>, reads the layer's own).
    /// </summary>
    public bool Folds => FoldedLength > 0;

    /// <summary>Whether a BatchNorm is folded into a convolution for inference (<see cref="InferenceFold.Folding"/>).</summary>
    public bool FoldsBatchNorms => Layers.Any(static p => p.Fold?.Folding is not null);

    /// <summary>Whether a layer computes over a weight transformed for its kernel (<see cref="InferenceFold.Prepared"/>: a Winograd transform, a transposed weight).</summary>
    public bool TransformsWeights => Layers.Any(static p => p.Fold?.Prepared.Any() == true);

    /// <summary>Whether training runs in stages separated by batch-wide reductions (BatchNorm statistics).</summary>
    public bool IsStaged => TrainsInStages(Layers);

    /// <summary>Whether some layers' training forward pass runs their inference form's kernel (<see cref="LayerPlan.TrainingForm"/>).</summary>
    public bool TrainsByForms => Layers.Any(static p => p.Training is not null);

    /// <summary><see cref="IsStaged"/> of these layers, for shape inference, before there is a model.</summary>
    public static bool TrainsInStages(IEnumerable<LayerPlan> layers) => layers.Any(static p => !p.FusedIntoNext && p.Layer.GetReductions(p).Count > 0);

    /// <summary>Whether some layer behaves differently in training and inference passes.</summary>
    public bool HasModes => Layers.Any(static p => p.Layer.ForwardOperands(p).Any(static o => o.Kind == OperandKind.Training));

    /// <summary>Whether the network ends with a regression loss (target values) rather than a classifier's (labels).</summary>
    public bool IsRegression => Last.Layer.Targets == TargetKind.Values;

    /// <summary>The targets parameter of the passes: a classifier's labels or a regression's values, with its type.</summary>
    public string TargetsParameter => IsRegression ? "global::System.ReadOnlySpan<float> targets" : "global::System.ReadOnlySpan<int> labels";

    /// <summary>The targets argument's name in the passes.</summary>
    public string TargetsName => IsRegression ? "targets" : "labels";

    /// <summary>Whether some layer draws random numbers in training (dropout), so the network keeps a step count.</summary>
    public bool DrawsNoise => Layers.Any(static p => p.Layer.ForwardOperands(p).Any(static o => o.Kind == OperandKind.NoiseKey));

    public LayerPlan Last => Layers[Layers.Count - 1];

    /// <summary>Whether any layer reads something other than the layer before it, or joins a second one.</summary>
    public bool IsBranched => Layers.Any(static p => p.Inputs.Count != 1 || p.Inputs[0] != p.Index - 1);

    /// <summary>The layer a node index stands for, or null for <see cref="LayerPlan.NetworkInput"/>.</summary>
    public LayerPlan? Node(int index) => index == LayerPlan.NetworkInput ? null : Layers[index];

    /// <summary>The layer's name, or the network input's.</summary>
    public string NameOf(int index) => Node(index)?.Name ?? InputName;

    /// <summary>The layer whose inference form does the work of a node folded into it (<see cref="LayerPlan.FoldedIntoInput"/>).</summary>
    public LayerPlan FoldHost(int node) => FoldHostIn(Layers, node);

    /// <summary><see cref="FoldHost"/> among these layers, for shape inference, before there is a model.</summary>
    public static LayerPlan FoldHostIn(IEnumerable<LayerPlan> layers, int node) => layers.First(p => p.Fold?.Covers.Contains(node) == true);

    /// <summary>
    /// Whether the inference passes leave a layer's output unwritten: a fold's host (which writes the last folded layer's
    /// output instead) and the folded layers before that last one.
    /// </summary>
    public bool InferenceSkipsOutput(LayerPlan plan) => plan.Fold is { } fold && fold.Node != plan.Index || (plan.FoldedIntoInput && FoldHost(plan.Index).Fold!.Node != plan.Index);

    /// <summary>
    /// Whether a layer's output buffer is ever written: not where the inference passes skip it and the network does not
    /// train in stages, its forward pass being the inference pass too.
    /// </summary>
    public bool KeepsOutput(LayerPlan plan) => IsStaged || !InferenceSkipsOutput(plan);

    /// <summary>The name of the network's input (<c>input</c>, or the <c>Name</c> given to [Input]).</summary>
    public string InputName { get; init; } = "input";

    /// <summary>The output shape of a node.</summary>
    public Shape ShapeOf(int index) => Node(index)?.Output ?? Input;

    /// <summary>Every (layer, input slot) that reads <paramref name="node"/>, in declaration order.</summary>
    public IEnumerable<(LayerPlan Reader, int Slot)> Readers(int node)
    {
        foreach (LayerPlan plan in Layers)
        {
            for (int slot = 0; slot < plan.Inputs.Count; slot++)
            {
                if (plan.Inputs[slot] == node)
                {
                    yield return (plan, slot);
                }
            }
        }
    }

    /// <summary>
    /// The node whose activation a layer's input slot reads once fusion is taken into account: a layer fused into the
    /// one after it has no buffers, so its reader reads what it read.
    /// </summary>
    public int Source(LayerPlan plan, int slot)
    {
        int node = plan.Inputs[slot];
        while (Node(node) is { FusedIntoNext: true } fused)
        {
            node = fused.Inputs[0];
        }

        return node;
    }
}

/// <summary>A computing layer (everything after Input) placed in its network.</summary>
/// <param name="Layer">The layer kind, its arguments and its plan (every choice its emitters make).</param>
/// <param name="Name">The layer's name (<c>conv1</c>), used for tensor names.</param>
/// <param name="Pascal">The member prefix derived from the name (<c>Conv1</c>).</param>
/// <param name="Index">Position among the computing layers, from 0: the layer's node index.</param>
/// <param name="Inputs">The nodes it reads, main input first (<see cref="NetworkInput"/> for the network's input).</param>
/// <param name="InputShapes">Their shapes, in the same order.</param>
/// <param name="Output">Output activation shape.</param>
/// <param name="Parameters">Trainable tensors and their offsets in the flat parameter vector.</param>
/// <param name="Scratch">The layer's own buffers besides its output.</param>
internal sealed record LayerPlan(
    Layer Layer, string Name, string Pascal, int Index, EquatableArray<int> Inputs, EquatableArray<Shape> InputShapes, Shape Output,
    EquatableArray<ParameterSlot> Parameters, EquatableArray<ScratchBuffer> Scratch)
{
    /// <summary>The layer's state tensors at their offsets in the network's state vectors (floats, or longs for counters).</summary>
    public EquatableArray<StateSlot> State { get; init; } = EquatableArray<StateSlot>.Empty;

    /// <summary>The prefix of the layer's tensor names where it differs from <see cref="Name"/> (see <see cref="LayerDeclaration.TensorPrefix"/>).</summary>
    public string? TensorPrefix { get; init; }

    /// <summary>The name of one of the layer's tensors in weights files and ONNX models: <c>conv1.weight</c>, <c>features.0.bias</c>.</summary>
    public string TensorName(TensorRole role) => role.TensorName(TensorPrefix ?? Name);

    /// <summary>The slot of a state tensor by role, or null.</summary>
    public StateSlot? StateOf(TensorRole role) => State.FirstOrDefault(p => p.Tensor.Role == role);

    /// <summary>The node index of the network's input.</summary>
    public const int NetworkInput = -1;

    /// <summary>The main input's shape.</summary>
    public Shape Input => InputShapes[0];

    /// <summary>
    /// Whether the next layer does this one's work (a ReLU before a max pooling, which takes the maximum and then max(·, 0):
    /// the same values and gradients in one pass instead of two). Its methods are not emitted and it has no buffers; the next
    /// layer reads this one's input and writes its input gradient.
    /// </summary>
    public bool FusedIntoNext { get; init; }

    /// <summary>
    /// For the inference passes: the layer folded into this one, its host (a BatchNorm into the convolution it reads), this
    /// layer's form that does the work of both and where its recomputed weight and bias live; null for most layers.
    /// </summary>
    public InferenceFold? Fold { get; init; }

    /// <summary>
    /// Whether the inference passes skip this layer, folded into the layer it reads (<see cref="Fold"/>), which writes this
    /// layer's output instead of its own. Training passes run it as declared.
    /// </summary>
    public bool FoldedIntoInput { get; init; }

    /// <summary>
    /// In a network that trains in stages: the form the training passes' forward pass runs this layer by (<see cref="Layer.TrainingForm"/>),
    /// over tensors made from the layer's own before each training call; null for most layers.
    /// </summary>
    public TrainingForm? Training { get; init; }

    public int ParameterCount
    {
        get
        {
            int n = 0;
            foreach (ParameterSlot p in Parameters)
            {
                n += p.Tensor.Length;
            }

            return n;
        }
    }

    /// <summary>
    /// What the layer's emitted methods depend on: its kind, arguments and plan (<see cref="Layer.CodeIdentity"/>), its shapes and its tensors' shapes, and its
    /// position only where <see cref="Layer.CodeDependsOnPosition"/>. Layers with equal keys share one set of methods, so a
    /// network of repeated blocks does not repeat their code.
    /// </summary>
    public LayerCode CodeKey => new(Layer.CodeIdentity, InputShapes, Output, Scratch,
        Parameters.Select(static p => p.Tensor).ToEquatableArray(), State.Select(static s => s.Tensor).ToEquatableArray(),
        Layer.CodeDependsOnPosition ? Index : -1, FusedIntoNext, Fold?.Layer, Fold?.Folding);

    /// <summary>The slot of a parameter tensor by role, or null.</summary>
    public ParameterSlot? Parameter(TensorRole role) => Parameters.FirstOrDefault(p => p.Tensor.Role == role);
}

/// <summary>
/// What a layer's training passes read that <c>PrepareTrainingWeights</c> makes from its weight and bias before each training
/// call, in a network that trains in stages, at offsets in the folded buffer: the form its
/// forward pass runs by (<see cref="Layer.TrainingForm"/>: <c>{Layer}ForwardTraining</c>, a Winograd form) with that form's bias
/// (the layer's, zero without one) and prepared weight, and the tensors its backward pass reads
/// (<see cref="Layer.TrainingPrepared"/>: a turned weight's transform).
/// </summary>
/// <param name="Layer">The form the forward pass runs by, or null where only the backward pass reads prepared tensors.</param>
/// <param name="Form">The form's bias and prepared weight; empty without a form.</param>
/// <param name="Backward">The tensors the backward pass reads; empty where it makes its own.</param>
internal sealed record TrainingForm(Layer? Layer, EquatableArray<ParameterSlot> Form, EquatableArray<ParameterSlot> Backward)
{
    /// <summary>The slot of one of the form's tensors by role.</summary>
    public ParameterSlot FormParameter(TensorRole role) => Form.First(p => p.Tensor.Role == role);

    /// <summary>The slot of a tensor the backward pass reads, by role, or null.</summary>
    public ParameterSlot? BackwardParameter(TensorRole role) => Backward.FirstOrDefault(p => p.Tensor.Role == role);

    /// <summary>The tensors made from the layer's weight, in the order <c>{Layer}PrepareTrainingWeights</c> takes them: all but the form's bias.</summary>
    public IEnumerable<ParameterSlot> Prepared => Form.Where(static p => p.Tensor.Role != TensorRole.Bias).Concat(Backward);
}

/// <summary>A trainable tensor at its offset (in floats) in <c>Parameters</c> and <c>Gradients</c>.</summary>
internal sealed record ParameterSlot(ParameterTensor Tensor, int Offset);

/// <summary>A state tensor at its offset in the network's <c>State</c> floats (or, for a counter, its <c>Counters</c>).</summary>
internal sealed record StateSlot(StateTensor Tensor, int Offset);

/// <summary>What a layer's emitted methods depend on (see <see cref="LayerPlan.CodeKey"/>): with a fold, its inference form and the folded layer too.</summary>
internal sealed record LayerCode(
    Layer Layer, EquatableArray<Shape> InputShapes, Shape Output, EquatableArray<ScratchBuffer> Scratch,
    EquatableArray<ParameterTensor> Parameters, EquatableArray<StateTensor> State, int Position, bool Fused,
    Layer? Folded, Layer? Folding);

/// <summary>
/// A layer folded, for the inference passes, into the layer it reads and alone reads, its host (a BatchNorm into a
/// convolution): the inference passes run <paramref name="Layer"/>, the host's form that does the work of both, over
/// <paramref name="Parameters"/>, a weight and bias in the network's folded buffer, writing the folded layer's output; the
/// folded layer does not run. Any [Add] and [ReLU] that then alone read that output are done by the form too, on each output
/// as it is stored (<see cref="Layer.WithOutputStep"/>), writing the last one's output instead. <c>{Host}FoldBatchNorm</c> recomputes those tensors from the host's weight and bias and the
/// folded layer's γ, β and running statistics, before an inference pass, only when any of them may have changed.
/// </summary>
/// <param name="Layer">The host's inference form (a convolution with a bias, whether or not its own has one).</param>
/// <param name="Folding">The folded layer (its arguments, ε, are part of the fold's code); null for output steps alone (<see cref="StepsOnly"/>).</param>
/// <param name="Node">The node whose output the inference passes write instead of the host's: the folded layer's, or the last output step's (<see cref="Covers"/>).</param>
/// <param name="Parameters">The recomputed weight and bias at their offsets in the folded buffer.</param>
internal sealed record InferenceFold(Layer Layer, Layer? Folding, int Node, EquatableArray<ParameterSlot> Parameters)
{
    /// <summary>
    /// Output steps alone (<see cref="Layer.WithOutputStep"/>), in a network that does not train in stages: no folded layer,
    /// the host's own weight and bias, and one forward pass for training and inference, which this fold then changes for
    /// both (the steps' backward passes read only their outputs and dL/dy, which the host still provides).
    /// </summary>
    public static InferenceFold StepsOnly(LayerPlan host) => new(host.Layer, null, host.Index, EquatableArray<ParameterSlot>.Empty) { Covers = EquatableArray<int>.Empty };

    /// <summary>
    /// The nodes whose work the inference form does, in order: the folded layer, then any [Add] and [ReLU] after it done as
    /// the form's output steps (<see cref="Layer.WithOutputStep"/>); <see cref="Node"/> is the last. The inference passes
    /// skip them all, and only the last one's output is written.
    /// </summary>
    public EquatableArray<int> Covers { get; init; }

    /// <summary>The node whose output a folded [Add] adds (the form's <c>residual</c> operand), or <see cref="LayerPlan.NetworkInput"/> − 1 for none.</summary>
    public int Residual { get; init; } = NoResidual;

    /// <summary>No residual.</summary>
    public const int NoResidual = LayerPlan.NetworkInput - 1;

    /// <summary>The folded layer's node (the BatchNorm's): the first of <see cref="Covers"/>; only with a <see cref="Folding"/>.</summary>
    public int FoldedNode => Covers[0];

    /// <summary>The nodes done as output steps (<see cref="Layer.WithOutputStep"/>): <see cref="Covers"/> after the folded layer's.</summary>
    public IEnumerable<int> Steps => Folding is null ? Covers : Covers.Skip(1);

    /// <summary>The slot of a recomputed tensor by role.</summary>
    public ParameterSlot Parameter(TensorRole role) => Parameters.First(p => p.Tensor.Role == role);

    /// <summary>The form's tensors besides its weight and bias, made from them (<see cref="Layer.InferenceForm"/>): a transformed weight.</summary>
    public IEnumerable<ParameterSlot> Prepared => Parameters.Where(static p => p.Tensor.Role is not (TensorRole.Weight or TensorRole.Bias));
}
