using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [MeanSquaredError], as the last layer instead of [Softmax]: a regression head. Its output is its input, the network's
/// raw output; training minimizes PyTorch's <c>MSELoss()</c>, the mean over the output's elements (and over the batch) of
/// (y − t)², against one row of target values per sample.
/// </summary>
internal sealed record MeanSquaredErrorLayer : Layer
{
    public const string AttributeName = "NetGen.MeanSquaredErrorAttribute";

    public static Layer Parse(AttributeArguments a) => new MeanSquaredErrorLayer();

    public override string Kind => "MeanSquaredError";

    public override string DefaultNamePrefix => "mse";

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer) => inputs[0];

    public override TargetKind Targets => TargetKind.Values;

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) => [Operand.X, Operand.Y];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) => [Operand.Y, Operand.Targets, Operand.Dx];

    public override IReadOnlyList<Operand> LossOperands(LayerPlan plan) => [Operand.Y, Operand.Targets];

    /// <summary>Identity: the network's output is the layer's input; the loss is not part of an inference graph.</summary>
    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) => [new("Identity", OnnxRank.Any, [Operand.X])];

    public override string ForwardFormula(LayerPlan plan) =>
        $"y = x (the network's output); L = (1/{plan.Output.Length}) Σ_k (y(k) − t(k))², the mean over the output's {plan.Output.Length} elements";

    public override string BackwardFormula(LayerPlan plan) => $"dL/dx(k) = 2 (y(k) − t(k)) / {plan.Output.Length}";

    public override void EmitForward(SourceWriter w, LayerPlan plan) => w.Line($"x.Slice(0, count * {plan.Output.Length}).CopyTo(y);");

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        int n = plan.Output.Length;
        w.Line($"int length = count * {n};");
        w.Line($"TensorPrimitives.Subtract(y.Slice(0, length), targets.Slice(0, length), dx);");
        w.Line($"TensorPrimitives.Multiply(dx.Slice(0, length), {Literal.Float(2f / n)}, dx);");
    }

    public override void EmitLoss(SourceWriter w, LayerPlan plan)
    {
        int n = plan.Output.Length;
        w.Line($"// L = (1/{n}) Σ_k (y(k) − t(k))² per sample, summed over the samples");
        w.Line($"float total = 0f;");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"float sum = 0f;");
        w.Line($"for (int k = s * {n}; k < (s + 1) * {n}; k++)");
        w.Open();
        w.Line($"float d = y[k] - targets[k];");
        w.Line($"sum += d * d;");
        w.Close();
        w.Line();
        w.Line($"total += sum / {n};");
        w.Close();
        w.Line();
        w.Line($"return total;");
    }
}
