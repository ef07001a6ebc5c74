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

    public override bool IsVectorized(bool forward) => true;

    public override IReadOnlyList<string> ForwardArguments(LayerPlan plan) => ["x", "weight", "bias", "y"];

    public override IReadOnlyList<string> BackwardArguments(LayerPlan plan) => ["x", "dy", "weight", "weightGradient", "biasGradient", "dx", "computeDx", "batchWeightGradient"];

    public override bool HasBatchWeightGradient => true;

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
        w.Line($"ref float w0 = ref MemoryMarshal.GetReference(weight);");
        w.Line($"ref float x0 = ref MemoryMarshal.GetReference(x);");
        w.Line($"ref float y0 = ref MemoryMarshal.GetReference(y);");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"bias.CopyTo(y.Slice(s * {Units}, {Units}));");
        w.Close();
        w.Line();
        w.Line($"// y(s, o) += Σ_i W(o, i) · x(s, i): dot products along i, register tiles of 4 outputs (then 2, then 1) × 4 samples.");
        w.Line($"Gemm.Dot<TVector>(ref w0, {inputs}, ref x0, {inputs}, {inputs}, ref y0, 1, {Units}, m: {Units}, n: count);");
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        int inputs = plan.Input.Length;
        w.Line($"ref float w0 = ref MemoryMarshal.GetReference(weight);");
        w.Line($"ref float x0 = ref MemoryMarshal.GetReference(x);");
        w.Line($"ref float dy0 = ref MemoryMarshal.GetReference(dy);");
        w.Line($"ref float dw0 = ref MemoryMarshal.GetReference(weightGradient);");
        w.Line($"ref float dx0 = ref MemoryMarshal.GetReference(dx);");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"TensorPrimitives.Add(biasGradient, dy.Slice(s * {Units}, {Units}), biasGradient);");
        w.Close();
        w.Line();
        w.Line($"if (!batchWeightGradient) // else the batch computes dL/dW once over all its samples: {plan.Pascal}BatchWeightGradient");
        w.Open();
        w.Line($"// dL/dW(o, i) += Σ_s dL/dy(s, o) · x(s, i): [{Units}×n] · [n×{inputs}], register tiles of 8 outputs × 2 vectors of inputs, blocked for the caches.");
        w.Line($"Gemm.MultiplyAdd<TVector>(ref dy0, 1, {Units}, ref x0, {inputs}, ref dw0, {inputs}, m: {Units}, k: count, n: {inputs}, paddedTail: false);");
        w.Close();
        w.Line();
        w.Line($"if (!computeDx)");
        w.Open();
        w.Line($"return; // the network's input: nobody asked for dL/dx");
        w.Close();
        w.Line();
        w.Line($"// dL/dx(s, i) = Σ_o dL/dy(s, o) · W(o, i): [n×{Units}] · [{Units}×{inputs}], register tiles of 8 samples × 2 vectors of inputs, blocked for the caches, written over dL/dx.");
        w.Line($"Gemm.Multiply<TVector>(ref dy0, {Units}, 1, ref w0, {inputs}, ref dx0, {inputs}, m: count, k: {Units}, n: {inputs}, paddedTail: false);");
    }

    public override void EmitBatchWeightGradient(SourceWriter w, LayerPlan plan)
    {
        int inputs = plan.Input.Length;
        w.Line($"// dL/dW(o, i) = Σ_s dL/dy(s, o) · x(s, i), rows o = first … end − 1: [rows×count] · [count×{inputs}], register tiles of 8 outputs × 2 vectors of inputs, blocked for the caches, written over the rows.");
        w.Line($"Span<float> rows = weightGradient.Slice(first * {inputs}, (end - first) * {inputs});");
        w.Line($"Gemm.Multiply<TVector>(ref Unsafe.Add(ref MemoryMarshal.GetReference(dy), first), 1, {Units}, ref MemoryMarshal.GetReference(x), {inputs}, ref MemoryMarshal.GetReference(rows), {inputs}, m: end - first, k: count, n: {inputs}, paddedTail: false);");
    }
}
