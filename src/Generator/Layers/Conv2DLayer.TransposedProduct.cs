using NetGen.Generator.Emit;
using NetGen.Generator.Model;

namespace NetGen.Generator.Layers;

/// <summary>
/// Conv2D's inference forms, and the one that multiplies with pixels as rows: where a sample's output has few pixels (see
/// <see cref="ConvolutionStrategy.TransposedProductPays"/>), the one-sample unfolded pass computes yᵀ = columnsᵀ · wᵀ, its
/// register tiles holding vectors of filters, over the weight transposed each time the parameters may have changed
/// (<see cref="EmitPrepareForm"/>), then copies yᵀ out to the planes. Every sum adds the same products in the same order
/// as y = w · columns, so the results are the same bits.
/// </summary>
internal sealed partial record Conv2DLayer
{
    /// <summary>
    /// The Winograd form where it pays (<see cref="WinogradFormPays"/>); otherwise, in inference passes that training does not
    /// share, the product with pixels as rows where it pays. Training would transpose the weight after every step for the
    /// few samples a batch leaves to the one-sample loop.
    /// </summary>
    public override Layer InferenceForm(Shape input, Shape output, bool training) =>
        WinogradFormPays(input, training) ? this with { Strategy = Strategy with { Winograd = true } }
        : !training && !Strategy.ConvolvesDirectly && !Strategy.ConvolvesDepthwise && Strategy.SamplesPerProduct > 1
          && ConvolutionStrategy.TransposedProductPays(Filters, Groups, Rows(input), output.Height, output.Width)
            ? this with { Strategy = Strategy with { TransposesProduct = true } }
        : this;

    /// <summary>The tensor an inference form's kernel reads in place of the weight, which <see cref="EmitPrepareForm"/> makes: the Winograd transform, wᵀ, or none.</summary>
    private ParameterTensor? PreparedWeight(Shape input) =>
        Strategy.Winograd ? TransformedWeight(input) : Strategy.TransposesProduct ? TransposedWeight(input) : null;

    /// <summary>The form's prepared weight (<see cref="PreparedWeight"/>) from <paramref name="weight"/> (W', or the layer's own W).</summary>
    public override void EmitPrepareForm(SourceWriter w, LayerPlan form, string weight)
    {
        if (Strategy.Winograd)
        {
            EmitTransformWeight(w, form, weight);
        }
        else if (Strategy.TransposesProduct)
        {
            int rows = Rows(form.Input);
            string of = weight == "weight" ? "w" : "W'";
            w.Line($"// wᵀ(r, k) = {of}(k, r): {rows} rows (input channel, kernel tap) × {Filters} filters, the B of the product with pixels as rows.");
            w.Line($"Rows.Transpose({weight}, {rows}, {Filters}, {rows}, transformedWeight, {Filters});");
        }
    }

    /// <summary>wᵀ: the weight as rows × filters, one vector of filters per row (input channel, kernel tap).</summary>
    private ParameterTensor TransposedWeight(Shape input) =>
        new(TensorRole.TransformedWeight, new[] { Rows(input), Filters }.ToEquatableArray(), 0);

    /// <summary>
    /// Steps 2 and 3 of the one-sample unfolded pass with pixels as rows: yᵀ starts as the bias in every row, the product adds
    /// columnsᵀ · wᵀ to it, and the copy out does the epilogue.
    /// </summary>
    private void EmitTransposedProduct(SourceWriter w, LayerPlan plan)
    {
        int rows = Rows(plan.Input), pixels = Pixels(plan.Output);
        string start = HasBias ? "b(k)" : "0";
        w.Line($"// 2. yᵀ(q, k) = {start} + Σ_r columns(r, q) · wᵀ(r, k): [{pixels}×{rows}] · [{rows}×{Filters}] with pixels as rows, register tiles of up to 8 pixels × 2 vectors of filters, blocked for the caches: as columns, {pixels} pixels would fill their vectors of 16 to {(200 * pixels / ((pixels + 15) / 16 * 16) + 1) / 2} %; as rows, every vector of filters is full.");
        if (HasBias)
        {
            w.Line($"for (int q = 0; q < {pixels}; q++)");
            w.Open();
            w.Line($"bias.CopyTo(products.Slice(q * {Filters}, {Filters}));");
            w.Close();
            w.Line();
        }
        else
        {
            w.Line($"products.Slice(0, {pixels * Filters}).Clear();");
        }

        w.Line($"Gemm.MultiplyAdd<TVector>(ref c0, 1, {pixels}, ref MemoryMarshal.GetReference(transformedWeight), {Filters}, ref MemoryMarshal.GetReference(products), {Filters}, m: {pixels}, k: {rows}, n: {Filters}, paddedTail: false);");
        w.Line();
        string formula = HasEpilogue ? EpilogueFormula("yᵀ(q, k)", "residual(k, q)") : "yᵀ(q, k)";
        w.Line($"// 3. y(k, q) = {formula}.");
        w.Line($"Rows.TransposeOut(products, {pixels}, {Filters}, ys, {EpilogueAt($"s * {plan.Output.Length}")});");
    }
}
