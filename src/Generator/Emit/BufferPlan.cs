using System.Collections.Generic;
using System.Linq;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator.Emit;

/// <summary>
/// The workspace's buffers, planned from the network's graph, and what each layer method's operands are bound to: each
/// node's activation and the gradient flowing back into it, each layer's own buffers, and, where a node feeds several
/// layers, where each reader's share of its gradient goes before the shares are summed.
/// </summary>
/// <remarks>
/// The backward pass runs the layers in reverse declaration order. The first reader of a node to run (the last declared)
/// writes the node's gradient buffer directly; every later one writes a shared branch buffer whose values are added into
/// the node's gradient right after, so layers only ever write their input gradients, never add into them.
/// </remarks>
internal sealed class BufferPlan
{
    private readonly NetworkModel _model;
    private readonly Dictionary<(int Layer, int Slot), GradientRoute> _routes = new();

    /// <summary>Names of the shared branch buffers, by input slot (a join's two inputs may both be a branch's).</summary>
    private static readonly string[] BranchBuffers = ["BranchGradient", "JoinedBranchGradient"];

    private BufferPlan(NetworkModel model)
    {
        _model = model;
        var firstWithKey = new Dictionary<LayerCode, LayerPlan>();
        foreach (LayerPlan plan in model.Layers)
        {
            if (!firstWithKey.TryGetValue(plan.CodeKey, out LayerPlan? owner))
            {
                owner = plan;
                firstWithKey.Add(plan.CodeKey, plan);
            }

            _codeOwners[plan.Index] = owner;
        }

        var written = new HashSet<int>();
        foreach (LayerPlan plan in model.Layers.Reverse().Where(static p => !p.FusedIntoNext))
        {
            foreach (Operand operand in plan.Layer.BackwardOperands(plan).Where(static o => o.Kind == OperandKind.InputGradient))
            {
                int node = model.Source(plan, operand.Slot);
                _routes[(plan.Index, operand.Slot)] = written.Add(node)
                    ? new GradientRoute(node, Gradient(node), null)
                    : new GradientRoute(node, $"ws.{BranchBuffers[operand.Slot]}", BranchBuffers[operand.Slot]);
            }
        }
    }

    public static BufferPlan For(NetworkModel model) => new(model);

    /// <summary>Each layer's code owner by layer index, found once when the plan is made.</summary>
    private readonly Dictionary<int, LayerPlan> _codeOwners = new();

    /// <summary>
    /// The layer whose methods <paramref name="plan"/> calls: the first layer with the same <see cref="LayerPlan.CodeKey"/>
    /// (itself, unless an earlier layer has the same kind, arguments and shapes).
    /// </summary>
    public LayerPlan CodeOwner(LayerPlan plan) => _codeOwners[plan.Index];

    /// <summary>The prefix of the methods <paramref name="plan"/> calls in the layers' class: its code owner's member prefix.</summary>
    public string Methods(LayerPlan plan) => CodeOwner(plan).Pascal;

    /// <summary>The buffer holding a node's output activation.</summary>
    public string Activation(int node) => _model.Node(node) is { } plan ? $"ws.{plan.Pascal}Output" : "ws.Input";

    /// <summary>The buffer holding dL/d(a node's output).</summary>
    public string Gradient(int node) => _model.Node(node) is { } plan ? $"ws.{plan.Pascal}OutputGradient" : "ws.InputGradient";

    /// <summary>Where a layer's backward method writes the gradient of its input <paramref name="slot"/>.</summary>
    public GradientRoute Route(LayerPlan plan, int slot) => _routes[(plan.Index, slot)];

    /// <summary>
    /// What an operand of <paramref name="plan"/>'s forward or backward method is bound to in the passes;
    /// <paramref name="training"/> is what a <see cref="OperandKind.Training"/> operand is bound to there.
    /// </summary>
    public string Bind(LayerPlan plan, Operand operand, string training = "training") => operand.Kind switch
    {
        OperandKind.Input => Activation(_model.Source(plan, operand.Slot)),
        OperandKind.Output => Activation(plan.Index),
        OperandKind.OutputGradient => Gradient(plan.Index),
        OperandKind.InputGradient => Route(plan, operand.Slot).Destination,
        OperandKind.ComputeInputGradient => _model.Source(plan, operand.Slot) == LayerPlan.NetworkInput ? "inputGradient" : "true",
        OperandKind.Parameter when plan.Training?.BackwardParameter(operand.Role) is { } prepared => Folded(prepared, "ws.Folded", "ReadOnlySpan"),
        OperandKind.Parameter => plan.Parameter(operand.Role) is { } p ? $"parameters.Slice({p.Offset}, {p.Tensor.Length})" : "default",
        OperandKind.ParameterGradient => plan.Parameter(operand.Role) is { } p ? $"gradients.Slice({p.Offset}, {p.Tensor.Length})" : "default",
        OperandKind.Labels => "labels",
        OperandKind.Targets => "targets",
        OperandKind.BatchWeightGradient => "batchWeightGradients",
        OperandKind.Scratch => $"ws.{Scratch(plan, operand.Buffer!)}",
        OperandKind.Training => training,
        OperandKind.StateBuffer => plan.StateOf(operand.Role) is { } b ? $"new global::System.Span<float>(ws.Buffers, {b.Offset}, {b.Tensor.Length})" : "default",
        OperandKind.Counter => plan.StateOf(operand.Role) is { } c ? $"new global::System.Span<long>(ws.Counters, {c.Offset}, {c.Tensor.Length})" : "default",
        OperandKind.NoiseKey => "ws.NoiseKey",
        OperandKind.FirstSample => "ws.FirstSample",
        _ => throw new System.ArgumentOutOfRangeException(nameof(operand)),
    };

    /// <summary>
    /// What an operand of the forward method of <paramref name="plan"/>'s inference form (<see cref="LayerPlan.Fold"/>) is bound
    /// to in the inference pass: its weight and bias to the recomputed ones in the folded buffer, its output to the last
    /// folded layer's output, its residual to the folded [Add]'s other input; the rest as for <see cref="Bind"/>.
    /// </summary>
    public string BindFolded(LayerPlan plan, Operand operand, string training = "training") => operand.Kind switch
    {
        OperandKind.Parameter when plan.Fold!.Folding is not null || operand.Role == TensorRole.TransformedWeight => Folded(plan.Fold.Parameter(operand.Role), "ws.Folded", "ReadOnlySpan"),
        OperandKind.Output => Activation(plan.Fold!.Node),
        OperandKind.Residual => Activation(plan.Fold!.Residual),
        _ => Bind(plan, operand, training),
    };

    /// <summary>
    /// What an operand of the forward method of <paramref name="plan"/>'s training form (<see cref="LayerPlan.Training"/>) is
    /// bound to in a staged training pass: its prepared weight and bias to their slots in the folded buffer; the rest as for
    /// <see cref="Bind"/>.
    /// </summary>
    public string BindTraining(LayerPlan plan, Operand operand) => operand.Kind == OperandKind.Parameter
        ? Folded(plan.Training!.FormParameter(operand.Role), "ws.Folded", "ReadOnlySpan")
        : Bind(plan, operand, "true");

    /// <summary>A recomputed tensor of a fold, as a span over the folded buffer <paramref name="array"/>.</summary>
    public static string Folded(ParameterSlot slot, string array, string span) =>
        $"new global::System.{span}<float>({array}, {slot.Offset}, {slot.Tensor.Length})";

    /// <summary>The workspace field of a layer's own buffer.</summary>
    public static string Scratch(LayerPlan plan, ScratchBuffer buffer) => plan.Pascal + ShapeInference.Pascal(buffer.Name);

    /// <summary>Every buffer of the workspace, in order, each with the line that says what it holds.</summary>
    public IEnumerable<WorkspaceBuffer> Buffers()
    {
        Shape input = _model.Input;
        yield return new("Input", "float", input.Length, true, $"The samples, copied in: n × {input}; read by {Readers(LayerPlan.NetworkInput)}.");
        yield return new("InputGradient", "float", input.Length, true, $"dL/d(input): n × {input}; {GradientWriters(LayerPlan.NetworkInput)}.");
        foreach (LayerPlan plan in _model.Layers.Where(static p => !p.FusedIntoNext))
        {
            string readers = plan == _model.Last ? "the network's output" : $"read by {Readers(plan.Index)}";
            if (plan.Fold is { } fold)
            {
                readers += $", in training (inference runs {plan.Name} with {string.Join(", ", fold.Covers.Select(_model.NameOf))} folded in, into {_model.NameOf(fold.Node)}'s output)";
            }
            else if (_model.InferenceSkipsOutput(plan))
            {
                readers += $", in training (inference runs it inside {_model.FoldHost(plan.Index).Name})";
            }

            if (_model.KeepsOutput(plan))
            {
                yield return new($"{plan.Pascal}Output", "float", plan.Output.Length, true, $"{plan.Name} output: n × {plan.Output}; {readers}.");
            }

            if (plan != _model.Last)
            {
                yield return new($"{plan.Pascal}OutputGradient", "float", plan.Output.Length, true,
                    $"dL/d({plan.Name} output): n × {plan.Output}; {GradientWriters(plan.Index)}.");
            }

            foreach (ScratchBuffer scratch in plan.Scratch)
            {
                yield return new(Scratch(plan, scratch), scratch.ElementType, scratch.Length, scratch.PerSample,
                    $"{plan.Name}: {scratch.Description}{(scratch.PerSample ? ", per sample" : scratch.Samples > 1 ? $", for up to {scratch.Samples} samples at a time" : ", for one sample at a time")}.");
            }
        }

        for (int slot = 0; slot < BranchBuffers.Length; slot++)
        {
            var uses = _routes.Values.Where(r => r.Branch == BranchBuffers[slot]).ToList();
            if (uses.Count > 0)
            {
                yield return new(BranchBuffers[slot], "float", uses.Max(r => _model.ShapeOf(r.Node).Length), true,
                    $"One reader's share of dL/d(a layer's output) read by several ({string.Join(", ", uses.Select(r => _model.NameOf(r.Node)).Distinct())}), " +
                    "added to the others' right after it is written, so one buffer serves every such layer.");
            }
        }
    }

    /// <summary>The layers that read a node's activation (the fused pair named as one).</summary>
    private string Readers(int node)
    {
        var names = new List<string>();
        foreach (LayerPlan plan in _model.Layers.Where(static p => !p.FusedIntoNext))
        {
            for (int slot = 0; slot < plan.Inputs.Count; slot++)
            {
                if (_model.Source(plan, slot) == node)
                {
                    names.Add(plan.Inputs[slot] == node ? plan.Name : $"{plan.Name} (with {_model.NameOf(plan.Inputs[slot])} fused in)");
                }
            }
        }

        return string.Join(", ", names.Distinct());
    }

    /// <summary>Who writes a node's gradient: one reader's backward pass, or the sum of several.</summary>
    private string GradientWriters(int node)
    {
        var writers = _routes.Where(r => r.Value.Node == node).OrderByDescending(static r => r.Key.Layer).Select(r => _model.Layers[r.Key.Layer].Name).ToList();
        return writers.Count == 1 ? $"written by {writers[0]}'s backward pass" : $"the sum of what {string.Join(" and ", writers)} give back";
    }
}

/// <summary>Where a backward method writes one input's gradient: the node's own buffer, or a shared branch buffer then summed into it.</summary>
/// <param name="Node">The node whose gradient it is.</param>
/// <param name="Destination">The buffer the method writes.</param>
/// <param name="Branch">The branch buffer's field when the values are added into the node's gradient afterwards, else null.</param>
internal sealed record GradientRoute(int Node, string Destination, string? Branch);

/// <summary>A workspace field: its name, element type, length (per sample when <paramref name="PerSample"/>) and what it holds.</summary>
internal sealed record WorkspaceBuffer(string Name, string ElementType, int Length, bool PerSample, string Description);
