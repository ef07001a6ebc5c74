using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [Input(channels, height, width)]: the sample's CHW shape. It computes nothing; it must be first and unique
/// (checked by shape inference), and its shape rule only validates its own arguments.
/// </summary>
internal sealed record InputLayer(int Channels, int Height, int Width) : Layer
{
    public const string AttributeName = "NetGen.InputAttribute";

    public static Layer Parse(AttributeArguments a) =>
        new InputLayer(a.Constructor(0), a.Constructor(1), a.Constructor(2));

    public override string Kind => "Input";

    public override string DefaultNamePrefix => "input";

    public override bool ValidateArguments(LayerContext layer) =>
        Check.Positive(layer, "channels", Channels)
        & Check.Positive(layer, "height", Height)
        & Check.Positive(layer, "width", Width);

    /// <summary>The input's own shape (its argument is ignored: nothing comes before the input).</summary>
    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer)
    {
        var shape = new Shape(Channels, Height, Width);
        return Check.Fits(layer, "its input", shape.LongLength) ? shape : null;
    }

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) => [];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) => [];

    /// <summary>None: the input is the graph's input, not a node.</summary>
    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) => [];

    public override string ForwardFormula(LayerPlan plan) => "";

    public override string BackwardFormula(LayerPlan plan) => "";

    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
    }
}
