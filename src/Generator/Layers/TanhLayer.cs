using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [Tanh]: y = tanh(x) elementwise, as PyTorch's Tanh. The backward pass reads the output, as PyTorch's tanh_backward:
/// dL/dx = dL/dy · (1 − y²), exact since d tanh(x)/dx = 1 − tanh²(x).
/// </summary>
internal sealed record TanhLayer : Layer
{
    public const string AttributeName = "NetGen.TanhAttribute";

    public static Layer Parse(AttributeArguments a) => new TanhLayer();

    public override string Kind => "Tanh";

    public override string DefaultNamePrefix => "tanh";

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer) => inputs[0];

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) => [Operand.X, Operand.Y];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) => [Operand.Y, Operand.Dy, Operand.Dx];

    public override bool IsVectorized(bool forward) => !forward;

    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) => [new("Tanh", OnnxRank.Any, [Operand.X])];

    public override string ForwardFormula(LayerPlan plan) => "y = tanh(x)";

    public override string BackwardFormula(LayerPlan plan) => "dL/dx = dL/dy · (1 − y²)";

    public override void EmitForward(SourceWriter w, LayerPlan plan) => Elementwise.EmitPerSample(w, plan.Output.Length, "Tanh");

    // 1 − y² is −y · y + 1, one multiply-add (IFloatVector has no plain multiply: a · b is MultiplyAdd(a, b, zero), rounded once).
    public override void EmitBackward(SourceWriter w, LayerPlan plan) =>
        Elementwise.EmitVectorLoop(w, plan.Output.Length, [("output", "y"), ("gradient", "dy")], "dx",
            [("zero", "TVector.Zero"), ("one", "TVector.Broadcast(1f)"), ("minusOne", "TVector.Broadcast(-1f)")],
            [
                "TVector slope = TVector.MultiplyAdd(TVector.MultiplyAdd(output, minusOne, zero), output, one); // 1 − y²",
                "TVector result = TVector.MultiplyAdd(gradient, slope, zero);",
            ]);
}
