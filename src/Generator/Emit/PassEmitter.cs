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
        string logits = buffers.Activation(model.Source(last, 0));
        w.Summary($"Forward and backward pass of <paramref name=\"count\"/> samples: adds their dL/dθ into <paramref name=\"gradients\"/>, returns the sum of their losses; dL/d(input) only when <paramref name=\"inputGradient\"/>; dense layers' dL/dW not when <paramref name=\"batchWeightGradients\"/> (the batch computes them).");
        string trainParameters = $"int count, {ReadOnlySpan}<float> inputs, {ReadOnlySpan}<int> labels, {ReadOnlySpan}<float> parameters, " +
                                 $"{Span}<float> gradients, bool inputGradient, bool batchWeightGradients, Workspace ws";
        w.Line($"private static float TrainSamples({trainParameters})");
        w.Open();
        w.Line($"ForwardPass(count, inputs, parameters, ws);");
        w.Line($"BackwardPass(count, labels, parameters, gradients, inputGradient, batchWeightGradients, ws);");
        w.Line($"return LossSum(count, labels, ws);");
        w.Close();
        w.Line();
        w.Summary($"Σ over the samples of L = −log p(label) = log Σ_j exp z(j) − z(label), from the logits of the last forward pass: finite even where p(label) underflows.");
        w.Line($"private static float LossSum(int count, {ReadOnlySpan}<int> labels, Workspace ws)");
        w.Open();
        w.Line($"float sum = 0f;");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"sum += ws.{BufferPlan.Scratch(last, SoftmaxLayer.LogSumExp)}[s] - {logits}[s * {last.Output.Length} + labels[s]];");
        w.Close();
        w.Line();
        w.Line($"return sum;");
        w.Close();
        w.Line();

        const string ForwardParameters = "int count, global::System.ReadOnlySpan<float> parameters, Workspace ws";
        string backwardParameters = $"int count, {ReadOnlySpan}<int> labels, {ReadOnlySpan}<float> parameters, {Span}<float> gradients, " +
                                    "bool inputGradient, bool batchWeightGradients, Workspace ws";
        w.Summary($"Copies the samples into ws.Input and runs every layer's forward method in order, leaving each activation in <paramref name=\"ws\"/>, with the vector type <c>VectorWidth.Kernel</c> chooses for this machine.");
        w.Line($"private static void ForwardPass(int count, {ReadOnlySpan}<float> inputs, {ReadOnlySpan}<float> parameters, Workspace ws)");
        w.Open();
        w.Line($"inputs.CopyTo(ws.Input);");
        EmitKernelSwitch(w, "ForwardPass", "count, parameters, ws");
        w.Close();
        w.Line();
        NetworkEmitter.WriteOptimizedQualified(w);
        w.Line($"private static void ForwardPass<TVector>({ForwardParameters})");
        w.Line($"{VectorConstraint}");
        w.Open();
        foreach (LayerPlan plan in model.Layers.Where(static p => !p.FusedIntoNext))
        {
            EmitCall(w, model, plan, forward: true, buffers);
        }

        w.Close();
        w.Line();

        w.Summary($"Runs every layer's backward method in reverse order, after <see cref=\"ForwardPass\"/> on the same samples, with the vector type <c>VectorWidth.Kernel</c> chooses for this machine.");
        w.Line($"private static void BackwardPass({backwardParameters})");
        w.Open();
        EmitKernelSwitch(w, "BackwardPass", "count, labels, parameters, gradients, inputGradient, batchWeightGradients, ws");
        w.Close();
        w.Line();
        NetworkEmitter.WriteOptimizedQualified(w);
        w.Line($"private static void BackwardPass<TVector>({backwardParameters})");
        w.Line($"{VectorConstraint}");
        w.Open();
        foreach (LayerPlan plan in model.Layers.Reverse().Where(static p => !p.FusedIntoNext))
        {
            EmitCall(w, model, plan, forward: false, buffers);
            EmitBranchSums(w, model, plan, buffers);
        }

        w.Close();
        w.Line();
    }

    private static void EmitCall(SourceWriter w, NetworkModel model, LayerPlan plan, bool forward, BufferPlan buffers)
    {
        IReadOnlyList<Operand> operands = forward ? plan.Layer.ForwardOperands(plan) : plan.Layer.BackwardOperands(plan);
        string generic = plan.Layer.IsVectorized(forward) ? "<TVector>" : "";
        string arguments = string.Join(", ", new[] { "count" }.Concat(operands.Select(o => buffers.Bind(plan, o))));
        w.Line($"{NetworkEmitter.Layers(model)}.{plan.Pascal}{(forward ? "Forward" : "Backward")}{generic}({arguments});");
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
