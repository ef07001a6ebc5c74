using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [Dense(units)]: y = W·x + b over the input flattened in CHW order (PyTorch's flatten + Linear).
/// Each output is one contiguous dot product over a row of W.
/// </summary>
internal sealed record DenseLayer(int Units) : Layer
{
    public const string AttributeName = "NetGen.DenseAttribute";

    public static Layer Parse(AttributeArguments a) => new DenseLayer(a.Constructor(0));

    public override string Kind => "Dense";

    public override string DefaultNamePrefix => "dense";

    public override bool ValidateArguments(string name, List<DiagnosticInfo> diagnostics) =>
        Check.Positive(this, name, "units", Units, diagnostics);

    public override Shape? InferOutputShape(Shape input, string name, List<DiagnosticInfo> diagnostics)
    {
        if (!Check.Fits(this, name, "its weight", (long)Units * input.Length, diagnostics))
        {
            return null;
        }

        return new Shape(Units, 1, 1);
    }

    public override IReadOnlyList<ParameterTensor> GetParameters(Shape input, Shape output) =>
    [
        new("weight", new[] { Units, input.Length }.ToEquatableArray(), input.Length),
        new("bias", new[] { Units }.ToEquatableArray(), 0),
    ];

    public override IReadOnlyList<string> ForwardArguments => ["x", "weight", "bias", "y"];

    public override IReadOnlyList<string> BackwardArguments => ["x", "dy", "weight", "weightGradient", "biasGradient", "dx"];

    public override string Describe(LayerPlan plan) => plan.Input.IsFlat ? "" : $"input flattened to {plan.Input.Length}";

    public override string ForwardFormula(LayerPlan plan) =>
        $"{plan.Name}: {plan.Input} → {Units}{(plan.Input.IsFlat ? "" : " (input flattened in CHW order)")}\n" +
        $"y(o) = b(o) + Σ_i W(o,i) · x(i),  W is {Units}×{plan.Input.Length}";

    public override string BackwardFormula(LayerPlan plan) =>
        $"{plan.Name}: {Units} → {plan.Input}\n" +
        "dL/dW(o,i) += dL/dy(o) · x(i)     (dL/dy · xᵀ)\n" +
        "dL/db(o)   += dL/dy(o)\n" +
        "dL/dx(i)    = Σ_o W(o,i) · dL/dy(o)   (Wᵀ · dL/dy)";

    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        int inputs = plan.Input.Length;
        w.Line($"for (int o = 0; o < {Units}; o++)");
        w.Open();
        w.Line($"y[o] = bias[o] + TensorPrimitives.Dot(weight.Slice(o * {inputs}, {inputs}), x);");
        w.Close();
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        int inputs = plan.Input.Length;
        w.Line($"dx.Clear();");
        w.Line($"for (int o = 0; o < {Units}; o++)");
        w.Open();
        w.Line($"float g = dy[o];");
        w.Line($"Span<float> dwo = weightGradient.Slice(o * {inputs}, {inputs});");
        w.Line($"biasGradient[o] += g;");
        w.Line($"TensorPrimitives.MultiplyAdd(x, g, dwo, dwo);");
        w.Line($"TensorPrimitives.MultiplyAdd(weight.Slice(o * {inputs}, {inputs}), g, dx, dx);");
        w.Close();
    }
}
