using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>[ReLU]: y = max(x, 0) elementwise; the gradient passes where x &gt; 0 (equivalently y &gt; 0).</summary>
internal sealed record ReLULayer : Layer
{
    public const string AttributeName = "NetGen.ReLUAttribute";

    public static Layer Parse(AttributeArguments a) => new ReLULayer();

    public override string Kind => "ReLU";

    public override string DefaultNamePrefix => "relu";

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer) => inputs[0];

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) => [Operand.X, Operand.Y];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) => [Operand.Y, Operand.Dy, Operand.Dx];

    public override OutputStep OutputStep => OutputStep.Rectify;

    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) => [new("Relu", OnnxRank.Any, [Operand.X])];

    public override string ForwardFormula(LayerPlan plan) =>
        "y = max(x, 0)";

    public override string BackwardFormula(LayerPlan plan) =>
        "dL/dx = dL/dy where y > 0 (that is, x > 0), else 0";

    public override void EmitForward(SourceWriter w, LayerPlan plan) =>
        w.Line($"TensorPrimitives.Max(x.Slice(0, count * {plan.Output.Length}), 0f, y);");

    public override bool IsVectorized(bool forward) => !forward;

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        w.Line($"int length = count * {plan.Output.Length};");
        w.Line($"y = y.Slice(0, length);");
        w.Line($"dy = dy.Slice(0, length);");
        w.Line($"dx = dx.Slice(0, length);");
        w.Line($"ref float y0 = ref MemoryMarshal.GetReference(y);");
        w.Line($"ref float dy0 = ref MemoryMarshal.GetReference(dy);");
        w.Line($"ref float dx0 = ref MemoryMarshal.GetReference(dx);");
        w.Line($"int i = 0;");
        w.Line($"for (; i <= length - TVector.Count; i += TVector.Count)");
        w.Open();
        w.Line($"TVector gradient = TVector.Load(ref Unsafe.Add(ref dy0, i));");
        w.Line($"TVector passed = TVector.SelectGreater(TVector.Load(ref Unsafe.Add(ref y0, i)), TVector.Zero, gradient, TVector.Zero);");
        w.Line($"TVector.Store(passed, ref Unsafe.Add(ref dx0, i));");
        w.Close();
        w.Line();
        w.Line($"for (; i < length; i++)");
        w.Open();
        w.Line($"dx[i] = y[i] > 0f ? dy[i] : 0f;");
        w.Close();
    }
}
