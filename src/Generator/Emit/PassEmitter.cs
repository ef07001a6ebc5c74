using System.Collections.Generic;
using System.Linq;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator.Emit;

/// <summary>
/// Writes the passes over the layers, in the user's class: the forward pass calls each layer's forward method in
/// declaration order; the backward pass calls each backward method in reverse order, and after a layer whose input
/// feeds several layers, adds its share of that input's gradient to the others' (see <see cref="BufferPlan"/>).
/// </summary>
internal static class PassEmitter
{
    private const string ReadOnlySpan = "global::System.ReadOnlySpan";
    private const string Span = "global::System.Span";

    /// <summary>The constraint of every method generic over the vector type.</summary>
    public const string VectorConstraint = "    where TVector : struct, global::NetGen.Kernels.IFloatVector<TVector>";

    public static void EmitPasses(SourceWriter w, NetworkModel model, BufferPlan buffers)
    {
        LayerPlan last = model.Last;
        string trainParameters = $"int count, {ReadOnlySpan}<float> inputs, {model.TargetsParameter}, {ReadOnlySpan}<float> parameters, " +
                                 $"{Span}<float> gradients, bool inputGradient, bool batchWeightGradients, Workspace ws";
        string backwardArguments = $"count, {model.TargetsName}, parameters, gradients, inputGradient, batchWeightGradients, ws";
        w.Summary($"Forward and backward pass of <paramref name=\"count\"/> samples: adds their dL/dθ into <paramref name=\"gradients\"/>, returns the sum of their losses; dL/d(input) only when <paramref name=\"inputGradient\"/>; dense layers' dL/dW not when <paramref name=\"batchWeightGradients\"/> (the batch computes them).");
        w.Line($"private static float TrainSamples({trainParameters})");
        w.Open();
        if (model.IsStaged)
        {
            w.Line($"// The samples are the whole batch: each stage, then its batch-wide reduction over this one workspace.");
            w.Line($"inputs.CopyTo(ws.Input);");
            w.Line($"float loss = 0f;");
            w.Line($"for (int stage = 0; stage < TrainingStageCount; stage++)");
            w.Open();
            w.Line($"loss += TrainStage(stage, {backwardArguments});");
            w.Line($"FinishStage(stage, new {ReadOnlySpan}<Workspace>(in ws), count);");
            w.Close();
            w.Line();
            w.Line($"return loss;");
        }
        else
        {
            w.Line($"ForwardPass(count, inputs, parameters, ws{NetworkEmitter.Training(model, true)});");
            w.Line($"BackwardPass({backwardArguments});");
            w.Line($"return LossSum(count, {model.TargetsName}, ws);");
        }

        w.Close();
        w.Line();
        w.Summary($"Σ over the samples of their loss, from the last forward pass: {NetworkEmitter.Xml(last.Layer.ForwardFormula(last).Split('\n')[0])}.");
        w.Line($"private static float LossSum(int count, {model.TargetsParameter}, Workspace ws) =>");
        string lossArguments = string.Join(", ", new[] { "count" }.Concat(last.Layer.LossOperands(last).Select(o => buffers.Bind(last, o, "false"))));
        w.Line($"    {NetworkEmitter.Layers(model)}.{buffers.Methods(last)}Loss({lossArguments});");
        w.Line();

        string mode = model.HasModes ? ", bool training" : "";
        string modeArgument = model.HasModes ? ", training" : "";
        w.Summary($"Copies the samples into ws.Input and runs every layer's forward method in order{(model.Folds && model.IsStaged ? ", in inference mode, with each BatchNorm that follows a convolution folded into it (see <c>PrepareWeights</c>)" : model.Folds ? ", over the weights prepared by <c>PrepareWeights</c> where a kernel reads them" : model.HasModes ? ", in training or inference mode" : "")}, leaving each activation in <paramref name=\"ws\"/>, with the vector type <c>VectorWidth.Kernel</c> chooses for this machine.");
        w.Line($"private static void ForwardPass(int count, {ReadOnlySpan}<float> inputs, {ReadOnlySpan}<float> parameters, Workspace ws{mode})");
        w.Open();
        w.Line($"inputs.CopyTo(ws.Input);");
        EmitKernelSwitch(w, "ForwardPass", $"count, parameters, ws{modeArgument}");
        w.Close();
        w.Line();
        NetworkEmitter.WriteOptimizedQualified(w);
        w.Line($"private static void ForwardPass<TVector>(int count, {ReadOnlySpan}<float> parameters, Workspace ws{mode})");
        w.Line($"{VectorConstraint}");
        w.Open();
        if (model.Folds && model.IsStaged)
        {
            // BatchNorms are folded only in networks that train in stages (ShapeInference.FoldForInference): this pass is inference only.
            w.Line($"// Inference only (this network trains in stages, TrainStage): each BatchNorm after a convolution is folded into its weights and bias.");
        }

        SplitEmitter.EmitSplitterLocal(w, model);
        foreach (LayerPlan plan in model.Layers.Where(static p => !p.FusedIntoNext))
        {
            if (plan.FoldedIntoInput)
            {
                LayerPlan host = model.FoldHost(plan.Index);
                string wrote = host.Fold!.Node == plan.Index ? "which wrote its output" : $"which went on to {model.NameOf(host.Fold.Node)}'s output";
                w.Line($"// {plan.Name}: folded into {host.Name}, {wrote}.");
            }
            else if (plan.Fold is not null)
            {
                EmitFoldedCall(w, model, plan, buffers);
            }
            else
            {
                (string call, string label, string flops) = Call(model, plan, forward: true, buffers, "training");
                SplitEmitter.EmitForwardCall(w, model, plan, buffers, call, label, flops);
            }
        }

        w.Close();
        w.Line();
        if (model.IsStaged)
        {
            EmitStages(w, model, buffers, trainParameters, backwardArguments);
            return;
        }

        string backwardParameters = $"int count, {model.TargetsParameter}, {ReadOnlySpan}<float> parameters, {Span}<float> gradients, " +
                                    "bool inputGradient, bool batchWeightGradients, Workspace ws";
        w.Summary($"Runs every layer's backward method in reverse order, after <see cref=\"ForwardPass\"/> on the same samples, with the vector type <c>VectorWidth.Kernel</c> chooses for this machine.");
        w.Line($"private static void BackwardPass({backwardParameters})");
        w.Open();
        EmitKernelSwitch(w, "BackwardPass", backwardArguments);
        w.Close();
        w.Line();
        NetworkEmitter.WriteOptimizedQualified(w);
        w.Line($"private static void BackwardPass<TVector>({backwardParameters})");
        w.Line($"{VectorConstraint}");
        w.Open();
        foreach (LayerPlan plan in model.Layers.Reverse().Where(static p => !p.FusedIntoNext))
        {
            EmitCall(w, model, plan, forward: false, buffers, "true");
            EmitBranchSums(w, model, plan, buffers);
        }

        w.Close();
        w.Line();
    }

    /// <summary>A step of a staged training pass: a layer method to call, or a batch-wide reduction that ends a stage.</summary>
    private sealed record Step(LayerPlan Plan, bool Forward, BatchReduction? Reduction = null, bool Loss = false);

    /// <summary>
    /// The training pass of a network with batch-wide reductions, cut into stages at each of them: <c>TrainStage</c> runs one
    /// stage over a workspace's samples (returning the loss from the stage that computes it), <c>FinishStage</c> combines the
    /// chunks' partial sums, in chunk order, into what every chunk reads in the next stage.
    /// </summary>
    private static void EmitStages(SourceWriter w, NetworkModel model, BufferPlan buffers, string trainParameters, string backwardArguments)
    {
        var steps = new List<Step>();
        foreach (LayerPlan plan in model.Layers.Where(static p => !p.FusedIntoNext))
        {
            steps.AddRange(plan.Layer.GetReductions(plan).Where(static r => r.Forward).Select(r => new Step(plan, true, r)));
            steps.Add(new Step(plan, true));
        }

        steps.Add(new Step(model.Last, true, Loss: true));
        foreach (LayerPlan plan in model.Layers.Reverse().Where(static p => !p.FusedIntoNext))
        {
            steps.AddRange(plan.Layer.GetReductions(plan).Where(static r => !r.Forward).Select(r => new Step(plan, false, r)));
            steps.Add(new Step(plan, false));
        }

        var stages = new List<List<Step>> { new() };
        foreach (Step step in steps)
        {
            stages[stages.Count - 1].Add(step);
            if (step.Reduction is not null)
            {
                stages.Add([]);
            }
        }

        string stageParameters = trainParameters.Replace($"int count, {ReadOnlySpan}<float> inputs, ", "int count, ");
        w.Summary($"Stages of the training pass: each batch-wide reduction (a BatchNorm's statistics) needs every chunk's part before any chunk goes on.");
        w.Line($"private const int TrainingStageCount = {stages.Count};");
        w.Line();
        w.Summary($"Stage <paramref name=\"stage\"/> of the training pass over the samples in <paramref name=\"ws\"/> (copied into ws.Input before stage 0); returns the sum of their losses from the stage that computes it, 0 from the others.");
        w.Line($"private static float TrainStage(int stage, {stageParameters})");
        w.Open();
        EmitKernelSwitch(w, "TrainStage", $"stage, {backwardArguments}", returns: true);
        w.Close();
        w.Line();
        NetworkEmitter.WriteOptimizedQualified(w);
        w.Line($"private static float TrainStage<TVector>(int stage, {stageParameters})");
        w.Line($"{VectorConstraint}");
        w.Open();
        w.Line($"float loss = 0f;");
        w.Line($"switch (stage)");
        w.Open();
        for (int i = 0; i < stages.Count; i++)
        {
            w.Line($"case {i}:");
            w.Open();
            foreach (Step step in stages[i])
            {
                if (step.Loss)
                {
                    w.Line($"loss = LossSum(count, {model.TargetsName}, ws);");
                }
                else if (step.Reduction is { } reduction)
                {
                    string arguments = string.Join(", ", new[] { "count" }.Concat(reduction.Operands.Select(o => buffers.Bind(step.Plan, o, "true"))));
                    w.Line($"// {step.Plan.Name}: this chunk's part of the batch's {Describe(reduction)}");
                    ProfileSites.Call(w, $"{step.Plan.Name} {Describe(reduction)}",
                        $"{NetworkEmitter.Layers(model)}.{buffers.Methods(step.Plan)}{reduction.Name}({arguments});", "0L");
                }
                else if (step.Forward && step.Plan.Training?.Layer is not null)
                {
                    EmitTrainingFormCall(w, model, step.Plan, buffers);
                }
                else
                {
                    EmitCall(w, model, step.Plan, step.Forward, buffers, "true");
                    if (!step.Forward)
                    {
                        EmitBranchSums(w, model, step.Plan, buffers);
                    }
                }
            }

            w.Line($"break;");
            w.Close();
        }

        w.Close();
        w.Line();
        w.Line($"return loss;");
        w.Close();
        w.Line();

        w.Summary($"After every chunk ran stage <paramref name=\"stage\"/>: sums the chunks' parts of the reduction that ends it, in chunk order, finishes it over the <paramref name=\"count\"/> samples of the batch, and hands the result to every chunk.");
        w.Line($"private static void FinishStage(int stage, {ReadOnlySpan}<Workspace> chunks, int count)");
        w.Open();
        w.Line($"switch (stage)");
        w.Open();
        for (int i = 0; i < stages.Count - 1; i++)
        {
            Step step = stages[i][stages[i].Count - 1];
            BatchReduction reduction = step.Reduction!;
            string partial = BufferPlan.Scratch(step.Plan, reduction.Partial), result = BufferPlan.Scratch(step.Plan, reduction.Result);
            w.Line($"case {i}:");
            w.Open();
            w.Line($"// {step.Plan.Name}: the batch's {Describe(reduction)}");
            w.Line($"for (int c = 1; c < chunks.Length; c++)");
            w.Open();
            w.Line($"global::System.Numerics.Tensors.TensorPrimitives.Add<{reduction.Partial.ElementType}>(chunks[0].{partial}, chunks[c].{partial}, chunks[0].{partial});");
            w.Close();
            w.Line();
            string arguments = string.Join(", ", new[] { "count" }.Concat(reduction.FinishOperands.Select(o => buffers.Bind(step.Plan, o, "true").Replace("ws.", "chunks[0]."))));
            w.Line($"{NetworkEmitter.Layers(model)}.{buffers.Methods(step.Plan)}Finish{reduction.Name}({arguments});");
            w.Line($"for (int c = 1; c < chunks.Length; c++)");
            w.Open();
            w.Line($"chunks[0].{result}.CopyTo(chunks[c].{result}, 0);");
            w.Close();
            w.Line();
            w.Line($"break;");
            w.Close();
        }

        w.Close();
        w.Close();
        w.Line();
    }

    private static string Describe(BatchReduction reduction) => reduction.Forward ? "statistics" : "gradient sums";

    /// <summary>A layer's forward or backward call, timed as a site of its own.</summary>
    private static void EmitCall(SourceWriter w, NetworkModel model, LayerPlan plan, bool forward, BufferPlan buffers, string training)
    {
        (string call, string label, string flops) = Call(model, plan, forward, buffers, training);
        ProfileSites.Call(w, label, call, flops);
    }

    /// <summary>A layer's forward or backward call as a statement, with its profile label and work.</summary>
    private static (string Call, string Label, string Flops) Call(NetworkModel model, LayerPlan plan, bool forward, BufferPlan buffers, string training)
    {
        IReadOnlyList<Operand> operands = forward ? plan.Layer.ForwardOperands(plan) : plan.Layer.BackwardOperands(plan);
        string generic = plan.Layer.IsVectorized(forward) ? "<TVector>" : "";
        string arguments = string.Join(", ", new[] { "count" }.Concat(operands.Select(o => buffers.Bind(plan, o, training))));
        string call = $"{NetworkEmitter.Layers(model)}.{buffers.Methods(plan)}{(forward ? "Forward" : "Backward")}{generic}({arguments});";
        return (call, $"{plan.Name} {(forward ? "forward" : "backward")}", forward ? ProfileSites.ForwardFlops(plan) : ProfileSites.BackwardFlops(plan));
    }

    /// <summary>
    /// In a staged training pass, a layer whose forward pass runs a form of its own (<see cref="LayerPlan.Training"/>):
    /// <c>{Layer}ForwardTraining</c> over the tensors <c>PrepareTrainingWeights</c> made from the layer's weight and bias.
    /// </summary>
    private static void EmitTrainingFormCall(SourceWriter w, NetworkModel model, LayerPlan plan, BufferPlan buffers)
    {
        Layer layer = plan.Training!.Layer!;
        string generic = layer.IsVectorized(forward: true) ? "<TVector>" : "";
        string arguments = string.Join(", ", new[] { "count" }.Concat(layer.ForwardOperands(plan with { Layer = layer }).Select(o => buffers.BindTraining(plan, o))));
        ProfileSites.Call(w, $"{plan.Name} forward", $"{NetworkEmitter.Layers(model)}.{buffers.Methods(plan)}ForwardTraining{generic}({arguments});", ProfileSites.ForwardFlops(plan));
    }

    /// <summary>In the inference pass, a layer with another folded into it: its inference form over the recomputed weight and bias, into the folded layer's output.</summary>
    private static void EmitFoldedCall(SourceWriter w, NetworkModel model, LayerPlan plan, BufferPlan buffers)
    {
        InferenceFold fold = plan.Fold!;
        LayerPlan form = plan with { Layer = fold.Layer };
        string generic = fold.Layer.IsVectorized(forward: true) ? "<TVector>" : "";
        string arguments = string.Join(", ", new[] { "count" }.Concat(fold.Layer.ForwardOperands(form).Select(o => buffers.BindFolded(plan, o))));
        string folded = string.Join(", ", fold.Covers.Select(model.NameOf));
        if (fold.Folding is not null)
        {
            w.Line($"// {plan.Name} with {model.NameOf(fold.FoldedNode)} folded in: W' = W·s, b' = β + (b − μ)·s, s = γ / √(running_var + ε).");
        }

        if (fold.Steps.Any())
        {
            string steps = string.Join(" and ", fold.Steps.Select(n => model.NameOf(n) + (model.Layers[n].Layer.OutputStep == OutputStep.AddResidual ? $" (+ {model.NameOf(fold.Residual)})" : "")));
            string then = fold.Folding is null ? $"{plan.Name}, then" : "Then";
            w.Line($"// {then} {steps}, on each output as it is stored.");
        }

        string label = folded.Length > 0 ? $"{plan.Name} forward, {folded} folded" : $"{plan.Name} forward", flops = ProfileSites.ForwardFlops(plan);
        string call = $"{NetworkEmitter.Layers(model)}.{buffers.Methods(plan)}ForwardFolded{generic}({arguments});";
        SplitEmitter.EmitForwardCall(w, model, plan, buffers, call, label, flops);
    }

    /// <summary>After a backward method that wrote a branch buffer: add it into the gradient of the node it belongs to.</summary>
    private static void EmitBranchSums(SourceWriter w, NetworkModel model, LayerPlan plan, BufferPlan buffers)
    {
        foreach (Operand operand in plan.Layer.BackwardOperands(plan).Where(static o => o.Kind == OperandKind.InputGradient))
        {
            GradientRoute route = buffers.Route(plan, operand.Slot);
            if (route.Branch is not { } branch)
            {
                continue;
            }

            string sum = buffers.Gradient(route.Node), length = $"count * {model.ShapeOf(route.Node).Length}";
            string add = $"{NetworkEmitter.Layers(model)}.AddBranch({sum}, ws.{branch}, {length});";
            w.Line($"// {model.NameOf(route.Node)} feeds several layers: add {plan.Name}'s share of its gradient to the others'.");
            if (route.Node == LayerPlan.NetworkInput)
            {
                w.Line($"if (inputGradient)");
                w.Open();
                w.Line($"{add}");
                w.Close();
            }
            else
            {
                w.Line($"{add}");
            }
        }
    }

    /// <summary>
    /// Calls <paramref name="method"/>&lt;TVector&gt; with the vector type <c>VectorWidth.Kernel</c> chooses for this machine (under the JIT
    /// the choice is a constant and the switch compiles away).
    /// </summary>
    public static void EmitKernelSwitch(SourceWriter w, string method, string arguments, bool returns = false)
    {
        w.Line($"switch (global::NetGen.Kernels.VectorWidth.Kernel)");
        w.Open();
        string call = returns ? "return " : "";
        foreach (string kernel in new[] { "Float512", "Float256", "Float128", "Float128Unfused" })
        {
            w.Line($"case global::NetGen.Kernels.VectorKernel.{kernel}:");
            w.Line($"    {call}{method}<global::NetGen.Kernels.{kernel}>({arguments});");
            if (!returns)
            {
                w.Line($"    break;");
            }
        }

        w.Line($"default:");
        w.Line($"    {call}{method}<global::NetGen.Kernels.Float1>({arguments});");
        if (!returns)
        {
            w.Line($"    break;");
        }

        w.Close();
    }
}
