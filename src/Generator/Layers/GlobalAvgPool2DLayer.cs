using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [GlobalAvgPool2D]: the mean of each channel, C×H×W → C×1×1, as PyTorch's AdaptiveAvgPool2d(1). The backward pass
/// spreads each channel's gradient evenly over its plane.
/// </summary>
internal sealed record GlobalAvgPool2DLayer : Layer
{
    public const string AttributeName = "NetGen.GlobalAvgPool2DAttribute";

    public static Layer Parse(AttributeArguments a) => new GlobalAvgPool2DLayer();

    public override string Kind => "GlobalAvgPool2D";

    public override string DefaultNamePrefix => "global_pool";

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer) => new Shape(inputs[0].Channels, 1, 1);

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) => [Operand.X, Operand.Y];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) => [Operand.Dy, Operand.Dx];

    public override string Describe(LayerPlan plan) => $"the mean of each {plan.Input.Height}×{plan.Input.Width} plane";

    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) => [new("GlobalAveragePool", OnnxRank.Spatial, [Operand.X])];

    public override string ForwardFormula(LayerPlan plan) =>
        $"y(c) = (1 / {Area(plan)}) · Σ over u < {plan.Input.Height}, v < {plan.Input.Width} of x(c,u,v)";

    public override string BackwardFormula(LayerPlan plan) => $"dL/dx(c,u,v) = dL/dy(c) / {Area(plan)}";

    private static int Area(LayerPlan plan) => plan.Input.Height * plan.Input.Width;

    // The planes of all samples' channels lie one after the other: plane q is sample q / C's channel q % C.
    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        int area = Area(plan);
        w.Line($"for (int q = 0; q < count * {plan.Input.Channels}; q++)");
        w.Open();
        w.Line($"y[q] = TensorPrimitives.Sum(x.Slice(q * {area}, {area})) / {Literal.Float(area)};");
        w.Close();
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        int area = Area(plan);
        w.Line($"for (int q = 0; q < count * {plan.Input.Channels}; q++)");
        w.Open();
        w.Line($"dx.Slice(q * {area}, {area}).Fill(dy[q] / {Literal.Float(area)});");
        w.Close();
    }
}
