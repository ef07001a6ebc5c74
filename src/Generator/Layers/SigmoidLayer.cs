using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [Sigmoid]: y = 1 / (1 + exp(−x)) elementwise, as PyTorch's Sigmoid. The backward pass reads the output, as PyTorch's
/// sigmoid_backward: dL/dx = dL/dy · (1 − y) · y, exact since σ'(x) = σ(x)(1 − σ(x)).
/// </summary>
internal sealed record SigmoidLayer : Layer
{
    public const string AttributeName = "NetGen.SigmoidAttribute";

    public static Layer Parse(AttributeArguments a) => new SigmoidLayer();

    public override string Kind => "Sigmoid";

    public override string DefaultNamePrefix => "sigmoid";

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer) => inputs[0];

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) => [Operand.X, Operand.Y];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) => [Operand.Y, Operand.Dy, Operand.Dx];

    public override bool IsVectorized(bool forward) => !forward;

    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) => [new("Sigmoid", OnnxRank.Any, [Operand.X])];

    public override string ForwardFormula(LayerPlan plan) => "y = σ(x) = 1 / (1 + exp(−x))";

    public override string BackwardFormula(LayerPlan plan) => "dL/dx = dL/dy · (1 − y) · y";

    public override void EmitForward(SourceWriter w, LayerPlan plan) => Elementwise.EmitPerSample(w, plan.Output.Length, "Sigmoid");

    // 1 − y is y · (−1) + 1 (exact product, one rounding); products are MultiplyAdd(a, b, zero), rounded once.
    public override void EmitBackward(SourceWriter w, LayerPlan plan) =>
        Elementwise.EmitVectorLoop(w, plan.Output.Length, [("output", "y"), ("gradient", "dy")], "dx",
            [("zero", "TVector.Zero"), ("one", "TVector.Broadcast(1f)"), ("minusOne", "TVector.Broadcast(-1f)")],
            [
                "TVector slope = TVector.MultiplyAdd(TVector.MultiplyAdd(output, minusOne, one), output, zero); // (1 − y) · y",
                "TVector result = TVector.MultiplyAdd(gradient, slope, zero);",
            ]);
}
