using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [Dropout(p)]: PyTorch's Dropout, inverted: in training passes each element is zeroed with probability p and the others
/// scaled by 1 / (1 − p); in <c>Forward</c>, <c>Predict</c> and the batch inference calls it is the identity. The mask is a
/// pure function of the step's key, the layer, the sample's index in the batch and the element (<c>NetGen.Kernels.Dropout</c>),
/// so a batch draws the same masks on any number of threads and the backward pass recomputes it instead of storing it.
/// </summary>
internal sealed record DropoutLayer(float Probability) : Layer
{
    public const string AttributeName = "NetGen.DropoutAttribute";

    public static Layer Parse(AttributeArguments a) => new DropoutLayer(a.ConstructorSingle(0));

    public override string Kind => "Dropout";

    public override string DefaultNamePrefix => "dropout";

    public override bool ValidateArguments(LayerContext layer)
    {
        if (Probability >= 0f && Probability < 1f)
        {
            return true;
        }

        layer.Report(Diagnostics.InvalidArgument, "p", "at least 0 and less than 1", Literal.Float(Probability).TrimEnd('f'));
        return false;
    }

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer) => inputs[0];

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) => [Operand.X, Operand.Y, Operand.Training, Operand.NoiseKey, Operand.FirstSample];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) => [Operand.Dy, Operand.Dx, Operand.NoiseKey, Operand.FirstSample];

    /// <summary>The masks are salted with the layer's index, so two dropouts never draw the same masks.</summary>
    public override bool CodeDependsOnPosition => true;

    public override string Describe(LayerPlan plan) => $"p {Literal.Float(Probability).TrimEnd('f')}";

    /// <summary>The keep threshold of 32 random bits and the scale of kept elements, as literals.</summary>
    private string Arguments(LayerPlan plan) =>
        $"noiseKey, layer: {plan.Index}, firstSample, threshold: {Threshold}u, scale: {Literal.Float((float)(1.0 / (1.0 - Probability)))}";

    private uint Threshold => (uint)System.Math.Min(System.Math.Round(Probability * 4294967296.0), uint.MaxValue);

    /// <summary>None: the identity in inference, left out of the graph.</summary>
    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) => [];

    public override string ForwardFormula(LayerPlan plan) =>
        $"training: y = x · m / (1 − p), m = 1 with probability 1 − p = {Literal.Float(1f - Probability).TrimEnd('f')} (element kept), else 0; inference: y = x";

    public override string BackwardFormula(LayerPlan plan) => "dL/dx = dL/dy · m / (1 − p), with the forward pass's mask m";

    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        int length = plan.Output.Length;
        w.Line($"if (!training)");
        w.Open();
        w.Line($"x.Slice(0, count * {length}).CopyTo(y);");
        w.Line($"return;");
        w.Close();
        w.Line();
        w.Line($"Dropout.Forward(x, y, count, {length}, {Arguments(plan)});");
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan) =>
        w.Line($"Dropout.Backward(dy, dx, count, {plan.Output.Length}, {Arguments(plan)});");
}
