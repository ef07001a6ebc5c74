using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [Concat("name")]: the input and the named earlier layer's output joined along the channels, the input's first, as
/// <c>torch.cat([x, joined], dim=1)</c>. Heights and widths must be equal. Its backward pass splits dL/dy by channels.
/// </summary>
internal sealed record ConcatLayer(string Joined) : Layer
{
    public const string AttributeName = "NetGen.ConcatAttribute";

    public static Layer Parse(AttributeArguments a) => new ConcatLayer(a.ConstructorString(0) ?? "");

    public override string Kind => "Concat";

    public override string DefaultNamePrefix => "concat";

    public override IReadOnlyList<string> JoinedNames => [Joined];

    public override Layer CodeIdentity => this with { Joined = "" };

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer)
    {
        Shape x = inputs[0], joined = inputs[1];
        if (x.Height != joined.Height || x.Width != joined.Width)
        {
            layer.Report(Diagnostics.JoinShapeMismatch, "[Concat]", "equal heights and widths", x.ToFullString(), Joined, joined.ToFullString());
            return null;
        }

        return Check.Fits(layer, "its output", x.LongLength + joined.LongLength) ? new Shape(x.Channels + joined.Channels, x.Height, x.Width) : null;
    }

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) => [Operand.X, Operand.Joined, Operand.Y];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) =>
        [Operand.Dy, Operand.Dx, Operand.ComputeDx, Operand.JoinedGradient, Operand.ComputeJoinedGradient];

    public override string Describe(LayerPlan plan) => $"channels of x, then of {Joined}";

    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) =>
        [new("Concat", OnnxRank.Any, [Operand.X, Operand.Joined], OnnxAttribute.Int("axis", 1))];

    public override string ForwardFormula(LayerPlan plan) =>
        $"y(c) = x(c) for c < {plan.InputShapes[0].Channels};  y({plan.InputShapes[0].Channels} + c) = {Joined}(c)";

    public override string BackwardFormula(LayerPlan plan) =>
        $"dL/dx(c) = dL/dy(c);  dL/d{Joined}(c) = dL/dy({plan.InputShapes[0].Channels} + c)";

    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        int first = plan.InputShapes[0].Length, second = plan.InputShapes[1].Length, total = plan.Output.Length;
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"x.Slice(s * {first}, {first}).CopyTo(y.Slice(s * {total}, {first}));");
        w.Line($"joined.Slice(s * {second}, {second}).CopyTo(y.Slice(s * {total} + {first}, {second}));");
        w.Close();
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        int first = plan.InputShapes[0].Length, second = plan.InputShapes[1].Length, total = plan.Output.Length;
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"if (computeDx)");
        w.Open();
        w.Line($"dy.Slice(s * {total}, {first}).CopyTo(dx.Slice(s * {first}, {first}));");
        w.Close();
        w.Line();
        w.Line($"if (computeDJoined)");
        w.Open();
        w.Line($"dy.Slice(s * {total} + {first}, {second}).CopyTo(dJoined.Slice(s * {second}, {second}));");
        w.Close();
        w.Close();
    }
}
