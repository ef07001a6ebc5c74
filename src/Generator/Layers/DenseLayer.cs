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

    public override long MultiplyAdds(LayerPlan plan) => (long)Units * plan.Input.Length;

    public override bool ValidateArguments(LayerContext layer) => Check.Positive(layer, "units", Units);

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer) =>
        Check.Fits(layer, "its weight", (long)Units * inputs[0].Length) ? new Shape(Units, 1, 1) : null;

    /// <summary>
    /// The plan: whether a chunk of two samples or more is computed as one product with the samples in the vector lanes
    /// (<see cref="DenseStrategy.MultipliesBatch"/>: a weight larger than a core's L2).
    /// </summary>
    public bool MultipliesBatch { get; init; }

    public override Layer Plan(IReadOnlyList<Shape> inputs, Shape output) =>
        this with { MultipliesBatch = DenseStrategy.MultipliesBatch(Units, inputs[0].Length) };

    public override IReadOnlyList<ParameterTensor> GetParameters(Shape input, Shape output) =>
    [
        new(TensorRole.Weight, new[] { Units, input.Length }.ToEquatableArray(), input.Length),
        new(TensorRole.Bias, new[] { Units }.ToEquatableArray(), 0),
    ];

    public override bool IsVectorized(bool forward) => true;

    /// <summary>The weight, larger than L2, is read twice per chunk (forward, dL/dx), so the network takes larger chunks.</summary>
    public override bool StreamsLargeWeight => MultipliesBatch;

    public override IReadOnlyList<ScratchBuffer> GetScratchBuffers(Shape input, Shape output) =>
        MultipliesBatch ? [InputT(input), OutputT()] : [];

    private static ScratchBuffer InputT(Shape input) =>
        new("inputT", "float", input.Length, $"a chunk's inputs transposed, {input.Length} rows × its samples rounded up to whole vectors", PerSample: true);

    private ScratchBuffer OutputT() =>
        new("outputT", "float", Units, $"a chunk's outputs transposed, {Units} rows × its samples rounded up to whole vectors", PerSample: true);

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) =>
        MultipliesBatch
            ? [Operand.X, Operand.Weight, Operand.Bias, Operand.Y, Operand.Of(InputT(plan.Input)), Operand.Of(OutputT())]
            : [Operand.X, Operand.Weight, Operand.Bias, Operand.Y];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) =>
        [Operand.X, Operand.Dy, Operand.Weight, Operand.WeightGradient, Operand.BiasGradient, Operand.Dx, Operand.ComputeDx, Operand.BatchWeightGradient];

    public override bool HasBatchWeightGradient => true;

    public override string Describe(LayerPlan plan) => plan.Input.IsFlat ? "" : $"input flattened to {plan.Input.Length}";

    /// <summary>Gemm with the weight transposed (y = x·Wᵀ + b) over the flattened input: the exporter puts a Flatten before a C×H×W input.</summary>
    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) =>
        [new("Gemm", OnnxRank.Flat, [Operand.X, Operand.Weight, Operand.Bias], OnnxAttribute.Int("transB", 1))];

    public override string ForwardFormula(LayerPlan plan) =>
        $"y(o) = b(o) + Σ_i W(o,i) · x(i),  W is {Units}×{plan.Input.Length}";

    public override string BackwardFormula(LayerPlan plan) =>
        "dL/dW(o,i) += dL/dy(o) · x(i)     (dL/dy · xᵀ)\n" +
        "dL/db(o)   += dL/dy(o)\n" +
        "dL/dx(i)    = Σ_o W(o,i) · dL/dy(o)   (Wᵀ · dL/dy)";

    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        int inputs = plan.Input.Length;
        w.Line($"ref float w0 = ref MemoryMarshal.GetReference(weight);");
        if (MultipliesBatch)
        {
            w.Line($"if (count > 1)");
            w.Open();
            w.Line($"// A chunk: yᵀ(o, s) = b(o) + Σ_i W(o, i) · xᵀ(i, s), [{Units}×{inputs}] · [{inputs}×count], one product with the samples in the vector lanes (register tiles of 8 outputs × 2 vectors of samples, blocked for the caches), so W, larger than a core's L2, streams once per chunk, not once per 4 samples. Rows of xᵀ and yᵀ are whole vectors of samples; lanes past count hold stale values, never read back.");
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

    /// <summary>
    /// A one-sample forward pass splits the outputs, in 16 parts of whole 4-output tiles (at least 16 outputs each): each
    /// output is one dot product, whichever part computes it.
    /// </summary>
    public override SplitPlan? SplitForward(LayerPlan plan) =>
        new(Units, System.Math.Max(16, (Units + 63) / 64 * 4), Prepares: false, "outputs");

    /// <summary>Outputs first … first + units − 1 of one sample: the bias, then the dot products of <see cref="EmitForward"/>.</summary>
    public override void EmitForwardUnits(SourceWriter w, LayerPlan plan)
    {
        int inputs = plan.Input.Length;
        w.Line($"bias.Slice(first, units).CopyTo(y.Slice(first, units));");
        w.Line($"// y(o) += Σ_i W(o, i) · x(i) for the outputs [first, first + units): dot products along i.");
        w.Line($"Gemm.Dot<TVector>(ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), first * {inputs}), {inputs}, ref MemoryMarshal.GetReference(x), {inputs}, {inputs}, ref Unsafe.Add(ref MemoryMarshal.GetReference(y), first), 1, {Units}, m: units, n: 1);");
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
        EmitExitWithoutInputGradient(w);
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
