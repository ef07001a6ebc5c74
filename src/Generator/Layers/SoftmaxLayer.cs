using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [Softmax]: the class probabilities over the flattened input, and with them the training loss. It must be
/// last. Its backward pass is that of softmax and cross-entropy together, dL/dz = p − onehot(label), which is
/// both simpler and numerically safer than chaining the two Jacobians.
/// </summary>
internal sealed record SoftmaxLayer : Layer
{
    public const string AttributeName = "NetGen.SoftmaxAttribute";

    public static Layer Parse(AttributeArguments a) => new SoftmaxLayer();

    public override string Kind => "Softmax";

    public override string DefaultNamePrefix => "softmax";

    public override Shape? InferOutputShape(Shape input, string name, List<DiagnosticInfo> diagnostics) =>
        new Shape(input.Length, 1, 1);

    public override IReadOnlyList<ScratchBuffer> GetScratchBuffers(Shape input, Shape output) =>
        [new("logSumExp", "float", 1, "log Σ_j exp(z_j), for the loss")];

    public override IReadOnlyList<string> ForwardArguments => ["x", "y", "logSumExp"];

    public override IReadOnlyList<string> BackwardArguments => ["y", "label", "dx"];

    public override string ForwardFormula(LayerPlan plan) =>
        $"{plan.Name}: {plan.Input} → {plan.Output}\n" +
        "p(i) = exp(z(i) − max z) / Σ_j exp(z(j) − max z); log Σ_j exp z(j) is kept for the loss −log p(label) = logSumExp − z(label)";

    public override string BackwardFormula(LayerPlan plan) =>
        $"{plan.Name} with cross-entropy L = −log p(label):\n" +
        "dL/dz(i) = p(i) − [i = label]";

    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        w.Line($"float max = TensorPrimitives.Max(x);");
        w.Line($"TensorPrimitives.Subtract(x, max, y);");
        w.Line($"TensorPrimitives.Exp(y, y);");
        w.Line($"float sum = TensorPrimitives.Sum(y);");
        w.Line($"TensorPrimitives.Divide(y, sum, y);");
        w.Line($"logSumExp[0] = max + MathF.Log(sum);");
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        w.Line($"y.CopyTo(dx);");
        w.Line($"dx[label] -= 1f;");
    }
}
