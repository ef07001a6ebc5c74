using System.Collections.Generic;
using System.Linq;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator.Emit;

/// <summary>
/// Writes the file-local class that holds every layer's methods: for each layer, its formulas as comments, then its
/// forward and backward methods (and any helpers), whose bodies the layer writes. The class lives in
/// <c>NetGen.Generated</c> and imports what the bodies use, so nothing a user declares can change what a name means there.
/// </summary>
internal static class LayerEmitter
{
    public static void EmitLayersClass(SourceWriter w, NetworkModel model, BufferPlan buffers)
    {
        w.Line($"namespace NetGen.Generated");
        w.Open();
        w.Line($"using global::System;");
        w.Line($"using global::System.Numerics.Tensors;");
        w.Line($"using global::System.Runtime.CompilerServices;");
        w.Line($"using global::System.Runtime.InteropServices;");
        w.Line($"using global::NetGen.Kernels;");
        w.Line();
        w.Summary($"The layers of <c>{NetworkEmitter.Xml(model.Hierarchy.FullyQualifiedName)}</c>: a forward and a backward method each, over <c>count</c> samples stored one after the other in every buffer, with every size a literal.");
        w.Line($"{NetworkEmitter.GeneratedCodeAttribute}");
        w.Line($"file static class {NetworkEmitter.LayersClass(model)}");
        w.Open();
        if (HasBranchPoint(model))
        {
            w.Summary($"sum += part over the first <paramref name=\"length\"/> floats: one reader's share of a branch point's gradient.");
            w.Line($"internal static void AddBranch(float[] sum, float[] part, int length) =>");
            w.Line($"    TensorPrimitives.Add(new ReadOnlySpan<float>(sum, 0, length), new ReadOnlySpan<float>(part, 0, length), sum);");
            w.Line();
        }

        foreach (LayerPlan plan in model.Layers)
        {
            if (plan.FusedIntoNext)
            {
                w.Comment($"{Header(model, plan)}: done by {model.Layers[plan.Index + 1].Name}, into which it is fused");
                w.Line();
                continue;
            }

            if (buffers.CodeOwner(plan) is { } owner && owner != plan)
            {
                w.Comment($"{Header(model, plan)}: calls the methods of {owner.Name}, which computes the same on the same shapes");
                w.Line();
                continue;
            }

            EmitLayer(w, model, plan, CallsForward(model, buffers, plan)); // ends with a blank line
        }

        w.Close();
        w.Close();
    }

    /// <summary>
    /// Whether a pass calls the forward method of <paramref name="owner"/> (shared by the layers of equal code): in a network
    /// that trains in stages, every layer's but those whose training forward pass runs a form of its own
    /// (<see cref="LayerPlan.Training"/>); otherwise those of layers the forward pass runs as they are, without a fold
    /// (whose form has a forward method of its own) and not folded into another.
    /// </summary>
    private static bool CallsForward(NetworkModel model, BufferPlan buffers, LayerPlan owner) =>
        model.IsStaged
            ? owner.Training?.Layer is null
            : model.Layers.Any(p => buffers.CodeOwner(p) == owner && !p.FusedIntoNext && !p.FoldedIntoInput && p.Fold is null);

    /// <summary>Whether some layer's output (or the input) is read by more than one layer.</summary>
    private static bool HasBranchPoint(NetworkModel model) =>
        Enumerable.Range(-1, model.Layers.Count + 1).Any(node => model.Readers(node).Count() > 1);

    /// <summary>"conv1 (Conv2D): 1×28×28 → 6×28×28, kernel 5×5, stride 1, padding 2".</summary>
    private static string Header(NetworkModel model, LayerPlan plan)
    {
        string describe = plan.Layer.Describe(plan);
        return $"{plan.Name} ({plan.Layer.Kind}): {Inputs(model, plan)} → {plan.Output}{(describe.Length > 0 ? ", " + describe : "")}";
    }

    /// <summary>The input shape, or with several inputs each shape and the layer it comes from.</summary>
    private static string Inputs(NetworkModel model, LayerPlan plan) =>
        plan.Inputs.Count == 1
            ? plan.Input.ToString()
            : string.Join(" and ", plan.Inputs.Select((node, i) => $"{plan.InputShapes[i]} ({model.NameOf(node)})"));

    /// <summary>"dL/dy 6×28×28 → dL/dx 1×28×28": the backward pass's direction.</summary>
    private static string BackwardHeader(NetworkModel model, LayerPlan plan)
    {
        string inputs = plan.Inputs.Count == 1
            ? $"dL/dx {plan.Input}"
            : string.Join(", ", plan.Inputs.Select((node, i) => $"dL/d{model.NameOf(node)} {plan.InputShapes[i]}"));
        return $"{plan.Name} ({plan.Layer.Kind}) backward: dL/dy {plan.Output} → {inputs}";
    }

    private static void EmitLayer(SourceWriter w, NetworkModel model, LayerPlan plan, bool forward)
    {
        Layer layer = plan.Layer;
        if (forward)
        {
            w.Comment($"{Header(model, plan)}\n{layer.ForwardFormula(plan)}");
            w.Summary($"Forward pass of {NetworkEmitter.Xml(Header(model, plan))}.");
            EmitSignature(w, plan, forward: true);
            w.Open();
            layer.EmitForward(w, plan);
            w.Close();
            w.Line();
            SplitEmitter.EmitMethods(w, plan, folded: false);
        }
        else
        {
            string by = plan.Fold is not null ? $"{plan.Pascal}ForwardFolded" : $"{model.FoldHost(plan.Index).Pascal}ForwardFolded";
            w.Comment($"{Header(model, plan)}: its forward pass is done by {by}");
            w.Line();
        }

        w.Comment($"{BackwardHeader(model, plan)}\n{layer.BackwardFormula(plan)}");
        w.Summary($"Backward pass of {NetworkEmitter.Xml(BackwardHeader(model, plan).Replace(" backward:", ":"))}.");
        EmitSignature(w, plan, forward: false);
        w.Open();
        layer.EmitBackward(w, plan);
        w.Close();
        w.Line();
        foreach (BatchReduction reduction in layer.GetReductions(plan))
        {
            string parameters = string.Join(", ", new[] { "int count" }.Concat(reduction.Operands.Select(o => $"{o.Type(reduction.Forward)} {o.Name}")));
            w.Summary($"{NetworkEmitter.Xml(plan.Name)}, training: this chunk's part of the batch's {(reduction.Forward ? "statistics" : "gradient sums")} (per-chunk step of a batch-wide reduction).");
            w.Line($"{NetworkEmitter.Optimized}");
            w.Line($"internal static void {plan.Pascal}{reduction.Name}({parameters})");
            w.Open();
            layer.EmitReduction(w, plan, reduction);
            w.Close();
            w.Line();
            string finish = string.Join(", ", new[] { "int count" }.Concat(reduction.FinishOperands.Select(o => $"{o.Type(reduction.Forward)} {o.Name}")));
            w.Summary($"{NetworkEmitter.Xml(plan.Name)}, training: from the batch's summed parts over its <paramref name=\"count\"/> samples, what every chunk reads next.");
            w.Line($"internal static void {plan.Pascal}Finish{reduction.Name}({finish})");
            w.Open();
            layer.EmitFinish(w, plan, reduction);
            w.Close();
            w.Line();
        }

        if (layer.Targets != TargetKind.None)
        {
            string loss = string.Join(", ", new[] { "int count" }.Concat(layer.LossOperands(plan).Select(o => $"{o.Type(forward: false)} {o.Name}")));
            w.Summary($"The loss of {NetworkEmitter.Xml(plan.Name)}, summed over the <paramref name=\"count\"/> samples of its last forward pass.");
            w.Line($"internal static float {plan.Pascal}Loss({loss})");
            w.Open();
            layer.EmitLoss(w, plan);
            w.Close();
            w.Line();
        }

        if (layer.HasBatchWeightGradient)
        {
            w.Summary($"dL/dW of {NetworkEmitter.Xml(plan.Name)} over a whole training batch (<paramref name=\"count\"/> samples), rows <paramref name=\"first\"/> to <paramref name=\"end\"/> − 1: one work item of the batch-gradient phase.");
            w.Line($"{NetworkEmitter.Optimized}");
            w.Line($"internal static void {plan.Pascal}BatchWeightGradient<TVector>(");
            w.Line($"    int first, int end, int count, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> weightGradient)");
            w.Line($"    where TVector : struct, IFloatVector<TVector>");
            w.Open();
            layer.EmitBatchWeightGradient(w, plan);
            w.Close();
            w.Line();
        }

        if (plan.Fold is { } fold)
        {
            EmitFolded(w, model, plan, fold);
        }

        if (plan.Training is { } training)
        {
            EmitTrainingForm(w, model, plan, training);
        }

        layer.EmitHelpers(w, plan);
    }

    /// <summary>
    /// A layer with another folded into it for inference (<see cref="InferenceFold"/>): its inference form's forward method,
    /// <c>{Layer}ForwardFolded</c>, and <c>{Layer}FoldBatchNorm</c>, which recomputes the weight and bias that form reads (its
    /// body written by the folded layer).
    /// </summary>
    private static void EmitFolded(SourceWriter w, NetworkModel model, LayerPlan plan, InferenceFold fold)
    {
        if (fold.Folding is null)
        {
            EmitOutputSteps(w, model, plan, fold);
            return;
        }

        LayerPlan folding = model.Layers[fold.FoldedNode];
        LayerPlan form = plan with { Layer = fold.Layer };
        string formula = folding.Layer.FoldFormula(folding, plan);
        w.Comment($"{Header(model, plan)}\n{formula}\nthen, with w = W' and b = b':\n{fold.Layer.ForwardFormula(form)}");
        string steps = fold.Steps.Any() ? $", then {string.Join(" and ", fold.Steps.Select(model.NameOf))} on each output as it is stored" : "";
        w.Summary($"Inference forward pass of {NetworkEmitter.Xml(Header(model, plan))}, with the {NetworkEmitter.Xml(folding.Layer.Kind)} after it folded in{NetworkEmitter.Xml(steps)}: over the recomputed weight and bias (see <c>{plan.Pascal}FoldBatchNorm</c>), into {NetworkEmitter.Xml(model.NameOf(fold.Node))}'s output.");
        EmitFoldedForward(w, plan, form);

        w.Summary($"The weight and bias <c>{plan.Pascal}ForwardFolded</c> reads, from {NetworkEmitter.Xml(plan.Name)}'s weight and bias (<paramref name=\"bias\"/> empty without one) and the {NetworkEmitter.Xml(folding.Layer.Kind)}'s weight γ, bias β and running statistics: {NetworkEmitter.Xml(formula)}.");
        w.Line($"internal static void {plan.Pascal}FoldBatchNorm(");
        w.Line($"    ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> normWeight, ReadOnlySpan<float> normBias,");
        string prepared = PreparedParameters(fold);
        w.Line($"    ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar, Span<float> foldedWeight, Span<float> foldedBias{prepared})");
        w.Open();
        folding.Layer.EmitFold(w, folding, plan);
        if (fold.Prepared.Any())
        {
            w.Line();
            fold.Layer.EmitPrepareForm(w, form, "foldedWeight");
        }

        w.Close();
        w.Line();
    }

    /// <summary>
    /// A layer whose training passes read tensors made before each training call (<see cref="LayerPlan.Training"/>): its
    /// training forward pass by a form of its own, <c>{Layer}ForwardTraining</c>, where it has one, and
    /// <c>{Layer}PrepareTrainingWeights</c>, which makes those tensors from the layer's weight.
    /// </summary>
    private static void EmitTrainingForm(SourceWriter w, NetworkModel model, LayerPlan plan, TrainingForm training)
    {
        var readers = new List<string>();
        if (training.Layer is { } layer)
        {
            LayerPlan form = plan with { Layer = layer };
            w.Comment($"{Header(model, plan)}\ntraining, over the weight prepared by {plan.Pascal}PrepareTrainingWeights:\n{layer.ForwardFormula(form)}");
            w.Summary($"Training forward pass of {NetworkEmitter.Xml(Header(model, plan))}, over its weight prepared by <c>{plan.Pascal}PrepareTrainingWeights</c> and its own bias (zero without one).");
            EmitSignature(w, form, forward: true, "ForwardTraining");
            w.Open();
            layer.EmitForward(w, form);
            w.Close();
            w.Line();
            readers.Add($"<c>{plan.Pascal}ForwardTraining</c>");
        }

        if (training.Backward.Count > 0)
        {
            readers.Add($"<c>{plan.Pascal}Backward</c>");
        }

        string parameters = string.Concat(training.Prepared.Select(static p => $", Span<float> {new Operand(OperandKind.Parameter, Role: p.Tensor.Role).Name}"));
        w.Summary($"What {string.Join(" and ", readers)} read{(readers.Count > 1 ? "" : "s")} in place of {NetworkEmitter.Xml(plan.Name)}'s weight, made from it before each training call.");
        w.Line($"internal static void {plan.Pascal}PrepareTrainingWeights(ReadOnlySpan<float> weight{parameters})");
        w.Open();
        training.Layer?.EmitPrepareForm(w, plan with { Layer = training.Layer }, "weight");
        if (training.Backward.Count > 0)
        {
            plan.Layer.EmitPrepareTraining(w, plan);
        }

        w.Close();
        w.Line();
    }

    /// <summary>
    /// A layer with output steps alone folded in (<see cref="InferenceFold.StepsOnly"/>): <c>{Layer}ForwardFolded</c>, its
    /// forward pass over its own weight and bias that also does the [Add] and [ReLU] after it on each output as it stores it.
    /// </summary>
    private static void EmitOutputSteps(SourceWriter w, NetworkModel model, LayerPlan plan, InferenceFold fold)
    {
        LayerPlan form = plan with { Layer = fold.Layer };
        string steps = string.Join(" and ", fold.Steps.Select(model.NameOf));
        string prepared = fold.Prepared.Any() ? $" over its weights prepared by {plan.Pascal}PrepareWeights" : "";
        w.Comment($"{Header(model, plan)}{(steps.Length > 0 ? $", with {steps} folded in" : "")}{prepared}\n{fold.Layer.ForwardFormula(form)}");
        string done = steps.Length > 0 ? $", with {steps} after it done on each output as it is stored, into {model.NameOf(fold.Node)}'s output" : "";
        w.Summary($"Forward pass of {NetworkEmitter.Xml(Header(model, plan))}{NetworkEmitter.Xml(prepared)}{NetworkEmitter.Xml(done)}.");
        EmitFoldedForward(w, plan, form);
        if (fold.Prepared.Any())
        {
            string parameters = PreparedParameters(fold);
            w.Summary($"The tensors <c>{plan.Pascal}ForwardFolded</c> reads besides {NetworkEmitter.Xml(plan.Name)}'s own, made from its weight: run whenever the parameters may have changed.");
            w.Line($"internal static void {plan.Pascal}PrepareWeights(ReadOnlySpan<float> weight{parameters})");
            w.Open();
            fold.Layer.EmitPrepareForm(w, form, "weight");
            w.Close();
            w.Line();
        }
    }

    /// <summary>The parameters a fold's methods take for the form's prepared tensors, each named as its operand: ", Span&lt;float&gt; transformedWeight".</summary>
    private static string PreparedParameters(InferenceFold fold) =>
        string.Concat(fold.Prepared.Select(static p => $", Span<float> {new Operand(OperandKind.Parameter, Role: p.Tensor.Role).Name}"));

    /// <summary><c>{Layer}ForwardFolded</c>, the inference form's forward method, and its split methods where it has them.</summary>
    private static void EmitFoldedForward(SourceWriter w, LayerPlan plan, LayerPlan form)
    {
        EmitSignature(w, form, forward: true, "ForwardFolded");
        w.Open();
        form.Layer.EmitForward(w, form);
        w.Close();
        w.Line();
        SplitEmitter.EmitMethods(w, plan, folded: true);
    }

    private static void EmitSignature(SourceWriter w, LayerPlan plan, bool forward, string? method = null)
    {
        IReadOnlyList<Operand> operands = forward ? plan.Layer.ForwardOperands(plan) : plan.Layer.BackwardOperands(plan);
        bool vectorized = plan.Layer.IsVectorized(forward);
        string parameters = string.Join(", ", new[] { "int count" }.Concat(operands.Select(o => $"{o.Type(forward)} {o.Name}")));
        w.Line($"{NetworkEmitter.Optimized}");
        w.Line($"internal static void {plan.Pascal}{method ?? (forward ? "Forward" : "Backward")}{(vectorized ? "<TVector>" : "")}({parameters})");
        if (vectorized)
        {
            w.Line($"    where TVector : struct, IFloatVector<TVector>");
        }
    }
}
