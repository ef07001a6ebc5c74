using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [Add("name")]: y = x + joined elementwise, joined being the named earlier layer's output (a residual connection).
/// The two shapes must be equal. Its backward pass hands dL/dy to both inputs unchanged.
/// </summary>
internal sealed record AddLayer(string Joined) : Layer
{
    public const string AttributeName = "NetGen.AddAttribute";

    public static Layer Parse(AttributeArguments a) => new AddLayer(a.ConstructorString(0) ?? "");

    public override string Kind => "Add";

    public override string DefaultNamePrefix => "add";

    public override IReadOnlyList<string> JoinedNames => [Joined];

    public override Layer CodeIdentity => this with { Joined = "" };

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer)
    {
        if (inputs[0] != inputs[1])
        {
            layer.Report(Diagnostics.JoinShapeMismatch, "[Add]", "equal shapes", inputs[0].ToFullString(), Joined, inputs[1].ToFullString());
            return null;
        }

        return inputs[0];
    }

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) => [Operand.X, Operand.Joined, Operand.Y];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) =>
        [Operand.Dy, Operand.Dx, Operand.ComputeDx, Operand.JoinedGradient, Operand.ComputeJoinedGradient];

    public override string Describe(LayerPlan plan) => $"x + {Joined}";

    public override OutputStep OutputStep => OutputStep.AddResidual;

    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) => [new("Add", OnnxRank.Any, [Operand.X, Operand.Joined])];

    public override string ForwardFormula(LayerPlan plan) => $"y = x + {Joined}, elementwise";

    public override string BackwardFormula(LayerPlan plan) => $"dL/dx = dL/dy;  dL/d{Joined} = dL/dy";

    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        w.Line($"int length = count * {plan.Output.Length};");
        w.Line($"TensorPrimitives.Add(x.Slice(0, length), joined.Slice(0, length), y);");
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        w.Line($"ReadOnlySpan<float> gradient = dy.Slice(0, count * {plan.Output.Length});");
        w.Line($"if (computeDx)");
        w.Open();
        w.Line($"gradient.CopyTo(dx);");
        w.Close();
        w.Line();
        w.Line($"if (computeDJoined)");
        w.Open();
        w.Line($"gradient.CopyTo(dJoined);");
        w.Close();
    }
}
