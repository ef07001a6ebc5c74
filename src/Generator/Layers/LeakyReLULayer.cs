using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [LeakyReLU], Slope (default 0.01, PyTorch's negative_slope): y = x where x &gt; 0, else slope · x, elementwise, as
/// PyTorch's LeakyReLU; dL/dx = dL/dy where x &gt; 0, else slope · dL/dy. Both passes test the input, as PyTorch does
/// (the output would not do for a negative slope, and x = 0 takes the slope).
/// </summary>
internal sealed record LeakyReLULayer(float Slope) : Layer
{
    public const string AttributeName = "NetGen.LeakyReLUAttribute";

    /// <summary>PyTorch's default negative_slope.</summary>
    public const float DefaultSlope = 0.01f;

    public static Layer Parse(AttributeArguments a) => new LeakyReLULayer(a.NamedSingle("Slope") ?? DefaultSlope);

    public override string Kind => "LeakyReLU";

    public override string DefaultNamePrefix => "leaky_relu";

    // PyTorch takes any number; NaN or an infinity would only make every non-positive input NaN or infinite.
    public override bool ValidateArguments(LayerContext layer)
    {
        if (!float.IsNaN(Slope) && !float.IsInfinity(Slope))
        {
            return true;
        }

        layer.Report(Diagnostics.InvalidArgument, "slope", "a finite number", Slope);
        return false;
    }

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer) => inputs[0];

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) => [Operand.X, Operand.Y];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) => [Operand.X, Operand.Dy, Operand.Dx];

    public override bool IsVectorized(bool forward) => true;

    public override string Describe(LayerPlan plan) => $"slope {Literal.Float(Slope).TrimEnd('f')}";

    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) =>
        [new("LeakyRelu", OnnxRank.Any, [Operand.X], OnnxAttribute.Float("alpha", Slope))];

    public override string ForwardFormula(LayerPlan plan) => $"y = x where x > 0, else {Literal.Float(Slope)} · x";

    public override string BackwardFormula(LayerPlan plan) => $"dL/dx = dL/dy where x > 0, else {Literal.Float(Slope)} · dL/dy";

    // slope · x is MultiplyAdd(x, slope, zero): the product rounded once (IFloatVector has no plain multiply).
    public override void EmitForward(SourceWriter w, LayerPlan plan) =>
        Elementwise.EmitVectorLoop(w, plan.Output.Length, [("input", "x")], "y",
            [("zero", "TVector.Zero"), ("slope", $"TVector.Broadcast({Literal.Float(Slope)})")],
            ["TVector result = TVector.SelectGreater(input, zero, input, TVector.MultiplyAdd(input, slope, zero));"]);

    public override void EmitBackward(SourceWriter w, LayerPlan plan) =>
        Elementwise.EmitVectorLoop(w, plan.Output.Length, [("input", "x"), ("gradient", "dy")], "dx",
            [("zero", "TVector.Zero"), ("slope", $"TVector.Broadcast({Literal.Float(Slope)})")],
            ["TVector result = TVector.SelectGreater(input, zero, gradient, TVector.MultiplyAdd(gradient, slope, zero));"]);
}
