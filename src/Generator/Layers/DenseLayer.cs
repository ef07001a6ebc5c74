using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [Dense(units)]: y = W·x + b over the input flattened in CHW order (PyTorch's flatten + Linear).
/// Each output is one contiguous dot product over a row of W; for a batch through a weight larger than a core's L2, one
/// matrix product with the samples in the vector lanes instead (see <see cref="MultipliesBatch"/>).
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

    /// <summary>
    /// Whether the forward pass computes a chunk of two samples or more as one product Yᵀ = W · Xᵀ + b, with the samples
    /// in the vector lanes: when W is larger than a core's L2 (WideNet's dense1, 12.8 MB). Dot products along the inputs
    /// (a single sample's way) read such a W from L3 for every 4 samples at about 40 % of the FMA peak; the product reads
    /// it once per chunk, in register tiles of 8 outputs × 2 vectors of samples. WideNet's dense1 over 32 samples, transposes
    /// included: 2.0 → 1.06 ms. The two orders of summation differ in rounding, so such a layer's batch results match the
    /// single-sample calls to rounding, not bit for bit (a one-sample chunk takes the dot products, as <c>Forward</c>).
    /// </summary>
    private bool MultipliesBatch(Shape input) => StreamsLargeWeight(input);

    /// <summary>A weight larger than L2, read twice per chunk (forward, dL/dx).</summary>
    public override bool StreamsLargeWeight(Shape input) => (long)Units * input.Length * sizeof(float) > LargeWeightBytes;

    public override IReadOnlyList<ScratchBuffer> GetScratchBuffers(Shape input, Shape output) =>
        MultipliesBatch(input)
            ?
            [
                new("inputT", "float", input.Length, $"a chunk's inputs transposed, {input.Length} rows × its samples rounded up to whole vectors", PerSample: true),
                new("outputT", "float", Units, $"a chunk's outputs transposed, {Units} rows × its samples rounded up to whole vectors", PerSample: true),
            ]
            : [];

    public override IReadOnlyList<string> ForwardArguments(LayerPlan plan) =>
        MultipliesBatch(plan.Input) ? ["x", "weight", "bias", "y", "inputT", "outputT"] : ["x", "weight", "bias", "y"];

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
        if (MultipliesBatch(plan.Input))
        {
            w.Line($"if (count > 1)");
            w.Open();
            w.Line($"// A chunk: yᵀ(o, s) = b(o) + Σ_i W(o, i) · xᵀ(i, s), [{Units}×{inputs}] · [{inputs}×count], one product with the samples in the vector");
            w.Line($"// lanes (register tiles of 8 outputs × 2 vectors of samples, blocked for the caches), so W, larger than a core's L2, streams once per");
            w.Line($"// chunk, not once per 4 samples. Rows of xᵀ and yᵀ are whole vectors of samples; lanes past count hold stale values, never read back.");
            w.Line($"int lanes = (count + TVector.Count - 1) / TVector.Count * TVector.Count;");
            w.Line($"Span<float> xT = inputT.Slice(0, {inputs} * lanes), yT = outputT.Slice(0, {Units} * lanes);");
            w.Line($"Rows.Transpose(x, {inputs}, count, {inputs}, xT, lanes);");
            w.Line($"Gemm.MultiplyBias<TVector>(ref w0, {inputs}, 1, ref MemoryMarshal.GetReference(xT), lanes, ref MemoryMarshal.GetReference(yT), lanes, ref MemoryMarshal.GetReference(bias), m: {Units}, k: {inputs}, n: count, paddedTail: true);");
            w.Line($"Rows.Transpose(yT, lanes, {Units}, count, y, {Units});");
            w.Line($"return;");
            w.Close();
            w.Line();
            w.Line($"// One sample (Forward, TrainSample, a chunk of one): dot products.");
        }

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
