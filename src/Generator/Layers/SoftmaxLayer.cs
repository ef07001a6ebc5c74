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

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer) => new Shape(inputs[0].Length, 1, 1);

    /// <summary>log Σ_j exp(z_j) of each sample, which the network reads for the loss.</summary>
    public static readonly ScratchBuffer LogSumExp = new("logSumExp", "float", 1, "log Σ_j exp(z_j), for the loss", PerSample: true);

    public override IReadOnlyList<ScratchBuffer> GetScratchBuffers(Shape input, Shape output) => [LogSumExp];

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) => [Operand.X, Operand.Y, Operand.Of(LogSumExp)];

    public override TargetKind Targets => TargetKind.Labels;

    public override IReadOnlyList<Operand> LossOperands(LayerPlan plan) => [Operand.X, Operand.Of(LogSumExp), Operand.Labels];

    /// <summary>L = −log p(label) = log Σ_j exp z(j) − z(label), from the logits: finite even where p(label) underflows.</summary>
    public override void EmitLoss(SourceWriter w, LayerPlan plan)
    {
        int n = plan.Output.Length;
        w.Line($"// L = −log p(label) = log Σ_j exp z(j) − z(label), from the logits: finite even where p(label) underflows");
        w.Line($"float sum = 0f;");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"sum += logSumExp[s] - x[s * {n} + labels[s]];");
        w.Close();
        w.Line();
        w.Line($"return sum;");
    }

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) => [Operand.Y, Operand.Labels, Operand.Dx];

    /// <summary>Softmax over axis 1 of the flattened input (opset 13 and later: that axis alone), as NetGen's over the whole sample.</summary>
    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) =>
        [new("Softmax", OnnxRank.Flat, [Operand.X], OnnxAttribute.Int("axis", 1))];

    public override string ForwardFormula(LayerPlan plan) =>
        "p(i) = exp(z(i) − max z) / Σ_j exp(z(j) − max z)\n" +
        "log Σ_j exp z(j) is kept for the loss −log p(label) = logSumExp − z(label)";

    public override string BackwardFormula(LayerPlan plan) =>
        "with cross-entropy L = −log p(label): dL/dz(i) = p(i) − [i = label]";

    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        int n = plan.Output.Length;
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"ReadOnlySpan<float> z = x.Slice(s * {n}, {n});");
        w.Line($"Span<float> p = y.Slice(s * {n}, {n});");
        w.Line($"float max = TensorPrimitives.Max(z);");
        w.Line($"TensorPrimitives.Subtract(z, max, p);");
        w.Line($"TensorPrimitives.Exp(p, p);");
        w.Line($"float sum = TensorPrimitives.Sum(p);");
        w.Line($"TensorPrimitives.Divide(p, sum, p);");
        w.Line($"logSumExp[s] = max + MathF.Log(sum);");
        w.Close();
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        int n = plan.Output.Length;
        w.Line($"y.Slice(0, count * {n}).CopyTo(dx);");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"dx[s * {n} + labels[s]] -= 1f;");
        w.Close();
    }
}
