using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [Conv2D(filters, kernelSize)] / [Conv2D(filters, kernelHeight, kernelWidth)], Stride, Padding: a 2-D
/// cross-correlation with zero padding, as PyTorch's Conv2d.
/// </summary>
/// <remarks>
/// Computed as an unfold (im2col) followed by a matrix product, Caffe's classic scheme: the input is copied
/// into <c>columns</c>, one row per (input channel, kernel tap) and one column per output pixel, with every
/// offset and range of the copy computed here at compile time (with stride 1, whole rows from a zero-padded copy
/// of the sample; with a larger stride, only the taps inside the input, the others staying zero). Then
/// <c>y = W · columns</c> is one blocked product. Where its <see cref="Strategy"/> says so, the forward pass skips the
/// unfold and reads each tap's rows straight from the (padded) input (<c>Convolution.Forward</c>, the same sums in the
/// same order), or from a copy of the input compacted to output-row width (<c>Convolution.ForwardCompacted</c>, the
/// same bits again). The backward pass unfolds again (or reuses the forward pass's <c>columns</c> for the last sample)
/// for dL/dW and folds dL/dcolumns back (col2im; with stride 1 each row of dL/dx is summed in registers and stored once).
/// </remarks>
internal sealed record Conv2DLayer(int Filters, int KernelHeight, int KernelWidth, int Stride, int Padding) : Layer
{
    public const string AttributeName = "NetGen.Conv2DAttribute";

    public static Layer Parse(AttributeArguments a)
    {
        int filters = a.Constructor(0);
        int kh = a.Constructor(1);
        int kw = a.ConstructorCount > 2 ? a.Constructor(2) : kh;
        return new Conv2DLayer(filters, kh, kw, a.Named("Stride") ?? 1, a.Named("Padding") ?? 0);
    }

    /// <summary>The plan: how the passes compute, chosen from the shapes (see <see cref="ConvolutionStrategy.Choose"/>).</summary>
    public ConvolutionStrategy Strategy { get; init; }

    public override string Kind => "Conv2D";

    public override string DefaultNamePrefix => "conv";

    public override bool ValidateArguments(LayerContext layer) =>
        Check.Positive(layer, "filters", Filters)
        & Check.Positive(layer, "kernel height", KernelHeight)
        & Check.Positive(layer, "kernel width", KernelWidth)
        & Check.Positive(layer, "stride", Stride)
        & Check.NotNegative(layer, "padding", Padding)
        && Check.UnrolledTaps(layer, "kernel", KernelHeight, KernelWidth);

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer)
    {
        Shape input = inputs[0];
        long paddedHeight = input.Height + 2L * Padding, paddedWidth = input.Width + 2L * Padding;
        if (KernelHeight > paddedHeight || KernelWidth > paddedWidth)
        {
            string padded = Padding == 0 ? "" : $" (padded to {paddedHeight}×{paddedWidth})";
            layer.Report(Diagnostics.WindowLargerThanInput, "kernel", KernelHeight, KernelWidth, input.ToFullString(), padded);
            return null;
        }

        long outHeight = (paddedHeight - KernelHeight) / Stride + 1, outWidth = (paddedWidth - KernelWidth) / Stride + 1;
        long rows = (long)input.Channels * KernelHeight * KernelWidth;
        if (!Check.Fits(layer, "its output", Filters * outHeight * outWidth)
            | !Check.Fits(layer, "its weight", Filters * rows)
            | !Check.Fits(layer, "its unfolded input (im2col)", rows * outHeight * outWidth))
        {
            return null;
        }

        return new Shape(Filters, (int)outHeight, (int)outWidth);
    }

    public override Layer Plan(IReadOnlyList<Shape> inputs, Shape output) =>
        this with { Strategy = ConvolutionStrategy.Choose(inputs[0].Channels, Filters, KernelHeight, KernelWidth, Stride, Padding, output.Height, output.Width) };

    public override IReadOnlyList<ParameterTensor> GetParameters(Shape input, Shape output) =>
    [
        new(TensorRole.Weight, new[] { Filters, input.Channels, KernelHeight, KernelWidth }.ToEquatableArray(), input.Channels * KernelHeight * KernelWidth),
        new(TensorRole.Bias, new[] { Filters }.ToEquatableArray(), 0),
    ];

    public override IReadOnlyList<ScratchBuffer> GetScratchBuffers(Shape input, Shape output) =>
    [
        Columns(input, output),
        ColumnsGradient(input, output),
        .. PadsInput ? new[] { Padded(input) } : [],
        .. Strategy.TransposesWeightGradient ? new[] { OutputGradientT(input, output), WeightGradientT(input) } : [],
    ];

    private ScratchBuffer Columns(Shape input, Shape output) =>
        new("columns", "float", (long)Rows(input) * Pixels(output),
            $"the unfolded input (im2col) of one sample, {Rows(input)} rows (input channel, kernel tap) × {Pixels(output)} columns (output pixel)"
            + (Strategy.Compacts ? $"; in the forward pass, the compacted copy of the input ({input.Channels * KernelWidth} planes (input channel, kernel column) × {CompactedHeight(output)}×{output.Width})" : ""),
            PerSample: false);

    private ScratchBuffer ColumnsGradient(Shape input, Shape output) =>
        new("columnsGradient", "float", (long)Rows(input) * Pixels(output), "dL/dcolumns, same layout", PerSample: false);

    private ScratchBuffer Padded(Shape input) =>
        new("padded", "float", (long)input.Channels * (input.Height + 2 * Padding) * (input.Width + 2 * Padding),
            $"one sample's input with its zero padding, {input.Channels}×{input.Height + 2 * Padding}×{input.Width + 2 * Padding}; the border is never written",
            PerSample: false);

    private ScratchBuffer OutputGradientT(Shape input, Shape output) =>
        new("outputGradientT", "float", (long)Pixels(output) * Filters, $"one sample's dL/dy transposed, {Pixels(output)} pixels × {Filters} filters", PerSample: false);

    private ScratchBuffer WeightGradientT(Shape input) =>
        new("weightGradientT", "float", (long)Rows(input) * Filters, $"dL/dw transposed, {Rows(input)} rows × {Filters} filters, summed over the samples of one call", PerSample: false);

    /// <summary>The input rows the compacted copy holds per plane.</summary>
    private int CompactedHeight(Shape output) => ConvolutionStrategy.CompactedHeight(output.Height, KernelHeight);

    private bool PadsInput => Strategy.PadsInput;

    private string PaddedArgument => PadsInput ? ", padded" : "";

    public override bool IsVectorized(bool forward) => true;

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) =>
    [
        Operand.X, Operand.Weight, Operand.Bias, Operand.Y,
        .. Strategy.ConvolvesDirectly && !Strategy.Compacts ? [] : new[] { Operand.Of(Columns(plan.Input, plan.Output)) },
        .. PadsInput ? new[] { Operand.Of(Padded(plan.Input)) } : [],
    ];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) =>
    [
        Operand.X, Operand.Dy, Operand.Weight, Operand.WeightGradient, Operand.BiasGradient, Operand.Dx, Operand.ComputeDx,
        Operand.Of(Columns(plan.Input, plan.Output)), Operand.Of(ColumnsGradient(plan.Input, plan.Output)),
        .. PadsInput ? new[] { Operand.Of(Padded(plan.Input)) } : [],
        .. Strategy.TransposesWeightGradient ? new[] { Operand.Of(OutputGradientT(plan.Input, plan.Output)), Operand.Of(WeightGradientT(plan.Input)) } : [],
    ];

    public override string Describe(LayerPlan plan) =>
        $"kernel {KernelHeight}×{KernelWidth}, stride {Stride}, padding {Padding}";

    /// <summary>Conv; the groups are the input's channels over the weight's second dimension, and the bias is read only if there is one.</summary>
    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) =>
    [
        new("Conv", OnnxRank.Spatial, plan.Parameter(TensorRole.Bias) is null ? [Operand.X, Operand.Weight] : new[] { Operand.X, Operand.Weight, Operand.Bias },
            OnnxAttribute.Ints("kernel_shape", KernelHeight, KernelWidth), OnnxAttribute.Ints("strides", Stride, Stride),
            OnnxAttribute.Ints("pads", Padding, Padding, Padding, Padding), OnnxAttribute.Ints("dilations", 1, 1),
            OnnxAttribute.Int("group", plan.Input.Channels / plan.Parameter(TensorRole.Weight)!.Tensor.Dimensions[1])),
    ];

    public override string ForwardFormula(LayerPlan plan) =>
        $"y(k,i,j) = b(k) + Σ_t Σ_m Σ_n w(k,t,m,n) · x(t, {Index("i", Stride, Padding)}, {Index("j", Stride, Padding)})   (zero outside x)";

    public override string BackwardFormula(LayerPlan plan) =>
        $"dL/dw(k,t,m,n) += Σ_i Σ_j dL/dy(k,i,j) · x(t, {Index("i", Stride, Padding)}, {Index("j", Stride, Padding)})\n" +
        "dL/db(k)       += Σ_i Σ_j dL/dy(k,i,j)\n" +
        $"dL/dx(t,u,v)    = Σ_k Σ_m Σ_n dL/dy(k,i,j) · w(k,t,m,n) over u = {Index("i", Stride, Padding)}, v = {Index("j", Stride, Padding)} (transposed convolution)";

    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        if (Strategy.ConvolvesDirectly)
        {
            EmitDirectForward(w, plan);
            return;
        }

        int rows = Rows(plan.Input), pixels = Pixels(plan.Output);
        w.Line($"ref float w0 = ref MemoryMarshal.GetReference(weight);");
        w.Line($"ref float b0 = ref MemoryMarshal.GetReference(bias);");
        w.Line($"ref float c0 = ref MemoryMarshal.GetReference(columns);");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"ReadOnlySpan<float> xs = x.Slice(s * {plan.Input.Length}); // to the buffer's end, as ys: a row's last vector may reach into the slack");
        w.Line($"Span<float> ys = y.Slice(s * {plan.Output.Length});");
        w.Line($"ref float y0 = ref MemoryMarshal.GetReference(ys);");
        w.Line();
        w.Line($"// 1. Unfold (im2col) this sample into columns.");
        w.Line($"{plan.Pascal}Unfold{UnfoldGeneric}(xs, columns{PaddedArgument});");
        w.Line();
        w.Line($"// 2. y(k, q) = b(k) + Σ_r w(k, r) · columns(r, q): [{Filters}×{rows}] · [{rows}×{pixels}], register tiles of 8 filters × 2 vectors of pixels, blocked for the caches; each filter's accumulators start at its bias.");
        w.Line($"Gemm.MultiplyBias<TVector>(ref w0, {rows}, 1, ref c0, {pixels}, ref y0, {pixels}, ref b0, m: {Filters}, k: {rows}, n: {pixels}, paddedTail: true);");
        w.Close();
    }

    /// <summary>The forward pass without the unfold (see <see cref="ConvolutionStrategy.ConvolvesDirectly"/>).</summary>
    private void EmitDirectForward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int height = input.Height + 2 * Padding, width = input.Width + 2 * Padding, plane = height * width;
        w.Line($"ref float w0 = ref MemoryMarshal.GetReference(weight);");
        w.Line($"ref float b0 = ref MemoryMarshal.GetReference(bias);");
        if (PadsInput)
        {
            w.Line($"// A vector of a row's last pixels reads up to Count − 1 floats past the padded copy's last row: this slice proves the buffer has them.");
            w.Line($"ref float p0 = ref MemoryMarshal.GetReference(padded.Slice(0, {input.Channels * plane} + TVector.Count - 1));");
        }

        if (Strategy.Compacts)
        {
            w.Line($"// The compacted copy's last vector reaches up to Count − 1 floats past its planes: this slice proves the buffer has them.");
            w.Line($"ref float c0 = ref MemoryMarshal.GetReference(columns.Slice(0, {input.Channels * KernelWidth * CompactedHeight(output) * output.Width} + TVector.Count - 1));");
        }

        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"ReadOnlySpan<float> xs = x.Slice(s * {input.Length}); // to the buffer's end: a row's last vector may read into the slack");
        w.Line($"ref float y0 = ref MemoryMarshal.GetReference(y.Slice(s * {output.Length})); // to the buffer's end, as xs: a masked store may read and write back the slack");
        if (PadsInput)
        {
            w.Line($"{plan.Pascal}Pad(xs, padded);");
        }

        string source = PadsInput ? "p0" : $"MemoryMarshal.GetReference(xs.Slice(0, {input.Length} + TVector.Count - 1))";
        w.Line();
        string formula = $"y(k, i, j) = b(k) + Σ_t Σ_m Σ_n w(k, t, m, n) · {(PadsInput ? "padded" : "x")}(t, i + m, j + n), straight from the {(PadsInput ? "padded copy" : "input")} (no unfold): register tiles of";
        if (Strategy.Compacts)
        {
            w.Line($"// {formula} up to 8 filters × 2 vectors of output pixels, each tap one load per vector; each filter's sums start at its bias. The {output.Width}-pixel rows would leave lanes empty, so the input is first copied into columns as {input.Channels * KernelWidth} planes (t, n) of {CompactedHeight(output)}×{output.Width}, holding {(PadsInput ? "padded" : "x")}(t, u, j + n) at u·{output.Width} + j: there pixel q = i·{output.Width} + j reads plane (t, n) at q + m·{output.Width}, and a vector of pixels runs on across the rows.");
            w.Line($"Convolution.ForwardCompacted<TVector>(ref w0, ref b0, ref {source}, ref c0, ref y0, filters: {Filters}, channels: {input.Channels}, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, inputWidth: {width}, inputPlane: {plane}, outputHeight: {output.Height}, outputWidth: {output.Width});");
        }
        else
        {
            w.Line($"// {formula} up to 8 filters × 2 vectors of output pixels (a row's, or two rows'), each tap one load per vector; each filter's sums start at its bias.");
            w.Line($"Convolution.Forward<TVector>(ref w0, ref b0, ref {source}, ref y0, filters: {Filters}, channels: {input.Channels}, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, inputWidth: {width}, inputPlane: {plane}, outputHeight: {output.Height}, outputWidth: {output.Width});");
        }

        w.Close();
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        int rows = Rows(plan.Input), pixels = Pixels(plan.Output);
        w.Line($"ref float w0 = ref MemoryMarshal.GetReference(weight);");
        if (!Strategy.TransposesWeightGradient)
        {
            w.Line($"ref float dw0 = ref MemoryMarshal.GetReference(weightGradient);");
        }

        w.Line($"ref float c0 = ref MemoryMarshal.GetReference(columns);");
        w.Line($"ref float dc0 = ref MemoryMarshal.GetReference(columnsGradient);");
        if (Strategy.TransposesWeightGradient)
        {
            w.Line($"// dL/dyᵀ and dL/dwᵀ: a row's last vector may reach into the buffers' slack, which these slices prove is there.");
            w.Line($"ref float dyT0 = ref MemoryMarshal.GetReference(outputGradientT.Slice(0, {pixels * Filters} + TVector.Count - 1));");
            w.Line($"ref float dwT0 = ref MemoryMarshal.GetReference(weightGradientT.Slice(0, {rows * Filters} + TVector.Count - 1));");
            w.Line($"weightGradientT.Slice(0, {rows * Filters}).Clear();");
        }

        bool direct = Strategy.ConvolvesDirectly;
        if (direct)
        {
            w.Line($"// Last sample first, as where the forward pass unfolds (this one convolved directly, so every sample is unfolded here).");
        }
        else
        {
            w.Line($"// Last sample first: the forward pass left its columns in place, so only the others are unfolded again.");
        }

        w.Line($"for (int s = count - 1; s >= 0; s--)");
        w.Open();
        w.Line($"ReadOnlySpan<float> xs = x.Slice(s * {plan.Input.Length}); // to the buffer's end (see the forward pass)");
        w.Line($"ReadOnlySpan<float> dys = dy.Slice(s * {plan.Output.Length});");
        w.Line($"ref float dy0 = ref MemoryMarshal.GetReference(dys);");
        w.Line();
        if (direct)
        {
            w.Line($"// 1. Unfold this sample.");
            w.Line($"{plan.Pascal}Unfold{UnfoldGeneric}(xs, columns{PaddedArgument});");
        }
        else
        {
            w.Line($"// 1. Unfold this sample again, unless the forward pass's columns are still its own.");
            w.Line($"if (s != count - 1)");
            w.Open();
            w.Line($"{plan.Pascal}Unfold{UnfoldGeneric}(xs, columns{PaddedArgument});");
            w.Close();
        }
        w.Line();
        if (Strategy.TransposesWeightGradient)
        {
            w.Line($"// 2. dL/dwᵀ(r, k) += Σ_q columns(r, q) · dL/dyᵀ(q, k): [{rows}×{pixels}] · [{pixels}×{Filters}], tiles of 8 rows × 2 vectors of filters; dL/db(k) += Σ_q dL/dy(k, q).");
            w.Line($"Rows.Transpose(dys, {pixels}, {Filters}, {pixels}, outputGradientT, {Filters}); // dL/dyᵀ(q, k) = dL/dy(k, q)");
            w.Line();
            w.Line($"Gemm.MultiplyAdd<TVector>(ref c0, {pixels}, 1, ref dyT0, {Filters}, ref dwT0, {Filters}, m: {rows}, k: {pixels}, n: {Filters}, paddedTail: true);");
        }
        else
        {
            w.Line($"// 2. dL/dw(k, r) += Σ_q dL/dy(k, q) · columns(r, q): [{Filters}×{pixels}] · [{rows}×{pixels}]ᵀ, tiles of 4 filters (then 2, then 1) × 4 rows of dot products; dL/db(k) += Σ_q dL/dy(k, q).");
            w.Line($"Gemm.Dot<TVector>(ref dy0, {pixels}, ref c0, {pixels}, {pixels}, ref dw0, {rows}, 1, m: {Filters}, n: {rows});");
        }

        w.Line($"for (int k = 0; k < {Filters}; k++)");
        w.Open();
        w.Line($"biasGradient[k] += TensorPrimitives.Sum(dys.Slice(k * {pixels}, {pixels}));");
        w.Close();
        w.Line();
        w.Line($"if (!computeDx)");
        w.Open();
        w.Line($"continue; // the network's input: nobody asked for dL/dx");
        w.Close();
        w.Line();
        w.Line($"// 3. dL/dcolumns(r, q) = Σ_k w(k, r) · dL/dy(k, q): [{rows}×{Filters}] (w transposed) · [{Filters}×{pixels}], tiles of 8 rows × 2 vectors, blocked for the caches, written over dL/dcolumns.");
        w.Line($"Gemm.Multiply<TVector>(ref w0, 1, {rows}, ref dy0, {pixels}, ref dc0, {pixels}, m: {rows}, k: {Filters}, n: {pixels}, paddedTail: true);");
        w.Line();
        w.Line($"// 4. Fold dL/dcolumns back into this sample's dL/dx (col2im).");
        if (FoldsWholeRows)
        {
            w.Line($"{plan.Pascal}Fold<TVector>(columnsGradient, dx.Slice(s * {plan.Input.Length})); // to the buffer's end: the last store may read and write back the slack");
        }
        else
        {
            w.Line($"{plan.Pascal}Fold(columnsGradient, dx.Slice(s * {plan.Input.Length}, {plan.Input.Length}));");
        }
        w.Close();
        if (Strategy.TransposesWeightGradient)
        {
            w.Line();
            w.Line($"// 5. dL/dw(k, r) += dL/dwᵀ(r, k), once for all the samples.");
            w.Line($"Rows.TransposeAdd(weightGradientT, {Filters}, {rows}, {Filters}, weightGradient, {rows});");
        }
    }

    /// <summary>
    /// The unfold (im2col) and fold (col2im) methods, shared by the forward and backward passes: one block per
    /// kernel tap, its ranges computed here, so a reader checks the index arithmetic once.
    /// </summary>
    public override void EmitHelpers(SourceWriter w, LayerPlan plan)
    {
        if (PadsInput)
        {
            EmitPad(w, plan);
        }

        w.Line($"// {plan.Name} unfold (im2col): columns(r, q) = x(t, {Index("i", Stride, Padding)}, {Index("j", Stride, Padding)}), row r = (t·{KernelHeight} + m)·{KernelWidth} + n, column q = i·{plan.Output.Width} + j.");
        if (UnfoldsWholeRows)
        {
            w.Line($"// Every tap reads whole rows{(PadsInput ? " of the zero-padded copy" : "")}, so every column of every row is written.");
        }
        else
        {
            w.Line($"// Taps that read padding are never written and stay zero (the buffer starts zeroed).");
        }
        w.Line($"{NetworkEmitter.Optimized}");
        w.Line($"private static void {plan.Pascal}Unfold{UnfoldGeneric}(ReadOnlySpan<float> xs, Span<float> columns{(PadsInput ? ", Span<float> padded" : "")})");
        if (UnfoldsWholeRows)
        {
            w.Line($"    where TVector : struct, IFloatVector<TVector>");
            w.Open();
            EmitWholeRowUnfold(w, plan);
        }
        else
        {
            w.Open();
            EmitTapLoops(w, plan, TapPass.Unfold);
        }

        w.Close();
        w.Line();
        if (FoldsWholeRows)
        {
            EmitWholeRowFold(w, plan);
        }
        else
        {
            w.Line($"// {plan.Name} fold (col2im): dL/dx(t, {Index("i", Stride, Padding)}, {Index("j", Stride, Padding)}) = Σ dL/dcolumns(r, q) over the taps that read it; taps in the padding drop out.");
            w.Line($"{NetworkEmitter.Optimized}");
            w.Line($"private static void {plan.Pascal}Fold(ReadOnlySpan<float> columnsGradient, Span<float> dxs)");
            w.Open();
            w.Line($"dxs.Clear();");
            EmitTapLoops(w, plan, TapPass.Fold);
            w.Close();
        }

        w.Line();
    }

    /// <summary>The sample into the middle of its zero-padded copy, for the unfold and the direct forward pass.</summary>
    private void EmitPad(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input;
        int height = input.Height + 2 * Padding, width = input.Width + 2 * Padding, plane = height * width;
        w.Line($"// {plan.Name} padding: the sample into the middle of its zero-padded copy ({input.Channels}×{height}×{width}); the border is never written and stays zero.");
        w.Line($"{NetworkEmitter.Optimized}");
        w.Line($"private static void {plan.Pascal}Pad(ReadOnlySpan<float> xs, Span<float> padded)");
        w.Open();
        w.Line($"for (int t = 0; t < {input.Channels}; t++)");
        w.Open();
        w.Line($"for (int u = 0; u < {input.Height}; u++)");
        w.Open();
        w.Line($"xs.Slice(t * {input.Height * input.Width} + u * {input.Width}, {input.Width}).CopyTo(padded.Slice(t * {plane}{Literal.Offset(Padding * width + Padding)} + u * {width}, {input.Width}));");
        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>With stride 1 the fold sums each row of dL/dx in registers (see <see cref="EmitWholeRowFold"/>), so it is generic over the width.</summary>
    private bool FoldsWholeRows => Stride == 1;

    /// <summary>
    /// Stride-1 fold: dL/dx(t, u, v) = Σ_m Σ_n dL/dcolumns((t·kh + m)·kw + n, (u + p − m)·ow + v + p − n). Each row of dL/dx is
    /// summed in a register, a vector of columns v at a time, and stored once: tap (m, n) loads its row of dL/dcolumns shifted by
    /// n − p and keeps the lanes whose column exists (a lane mask), so no float of dL/dx is read, modified and written back
    /// (which, with overlapping rows, stalls on store forwarding). A store may run up to Count − 1 floats into the next row,
    /// which is written next; near the sample's end only the sample's own floats are written (the next sample's dL/dx is done).
    /// </summary>
    private void EmitWholeRowFold(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int plane = input.Height * input.Width, taps = KernelHeight * KernelWidth, pixels = Pixels(output);
        int length = input.Channels * plane, ow = output.Width;
        w.Line($"// {plan.Name} fold (col2im): dL/dx(t, u, v) = Σ_m Σ_n dL/dcolumns((t·{KernelHeight} + m)·{KernelWidth} + n, {Shifted("u", "m")}·{ow} + {Shifted("v", "n")}) over 0 ≤ {Shifted("u", "m")} < {output.Height}, 0 ≤ {Shifted("v", "n")} < {ow}.");
        w.Line($"// Each row of dL/dx is summed in registers, a vector of columns at a time, and stored once: tap (m, n) loads its dL/dcolumns row shifted by {(Padding == 0 ? "n" : $"n − {Padding}")} and keeps the lanes whose column exists. A store may run into the next row, which is written next.");
        w.Line($"{NetworkEmitter.Optimized}");
        w.Line($"private static void {plan.Pascal}Fold<TVector>(ReadOnlySpan<float> columnsGradient, Span<float> dxs)");
        w.Line($"    where TVector : struct, IFloatVector<TVector>");
        w.Open();
        w.Line($"// Reads run up to Count − 1 floats past the last row, and so may the last store: these slices prove the buffers have them.");
        w.Line($"ref float c0 = ref MemoryMarshal.GetReference(columnsGradient.Slice(0, {Rows(input) * pixels} + TVector.Count - 1));");
        w.Line($"ref float dx0 = ref MemoryMarshal.GetReference(dxs.Slice(0, {length} + TVector.Count - 1));");
        w.Line($"for (int t = 0; t < {input.Channels}; t++)");
        w.Open();
        w.Line($"ref float ct = ref Unsafe.Add(ref c0, t * {taps * pixels});");
        w.Line($"for (int u = 0; u < {input.Height}; u++)");
        w.Open();
        w.Line($"// kernel rows m that reach row u: 0 ≤ {Shifted("u", "m")} < {output.Height}");
        w.Line($"int mFirst = Math.Max(0, u{Literal.Offset(Padding - (output.Height - 1))}), mEnd = Math.Min({KernelHeight}, u{Literal.Offset(Padding + 1)});");
        w.Line($"for (int v = 0; v < {input.Width}; v += TVector.Count)");
        w.Open();
        w.Line($"// kernel columns n with a lane l whose column {Shifted("v + l", "n")} is inside 0..{ow - 1}");
        w.Line($"TVector sum = TVector.Zero;");
        w.Line($"int nEnd = Math.Min({KernelWidth}, v + TVector.Count{Literal.Offset(Padding)});");
        w.Line($"for (int n = Math.Max(0, v{Literal.Offset(Padding - (ow - 1))}); n < nEnd; n++)");
        w.Open();
        w.Line($"TVector keep = TVector.LaneMask(n - v{Literal.Offset(-Padding)}, n - v{Literal.Offset(ow - Padding)});");
        w.Line($"// taps (m, n), m = mFirst…: row m·{KernelWidth} + n, column {Shifted("u", "m")}·{ow} + {Shifted("v", "n")}; each m one tap row ({KernelWidth * pixels} floats) on and one output row ({ow}) back");
        w.Line($"ref float tap = ref Unsafe.Add(ref ct, n * {pixels - 1} + u * {ow} + v{Literal.Offset(Padding * ow + Padding)});");
        w.Line($"for (int m = mFirst; m < mEnd; m++)");
        w.Open();
        w.Line($"sum = TVector.Add(sum, TVector.Masked(TVector.Load(ref Unsafe.Add(ref tap, m * {KernelWidth * pixels - ow})), keep));");
        w.Close();
        w.Close();
        w.Line();
        w.Line($"int at = t * {plane} + u * {input.Width} + v;");
        w.Line($"if (at <= {length} - TVector.Count)");
        w.Open();
        w.Line($"TVector.Store(sum, ref Unsafe.Add(ref dx0, at));");
        w.Close();
        w.Line($"else");
        w.Open();
        w.Line($"TVector.StoreLanes(sum, ref Unsafe.Add(ref dx0, at), 0, {length} - at); // the sample's end: the floats after it are the next sample's");
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Close();
    }

    /// <summary>The output index that reads input index <paramref name="i"/> at kernel offset <paramref name="k"/> (stride 1): i + p − k.</summary>
    private string Shifted(string i, string k) => Padding == 0 ? $"({i} − {k})" : $"({i} + {Padding} − {k})";

    /// <summary>With stride 1 the unfold copies whole rows in vectors (<c>Rows.CopyWhole</c>), so it is generic over the width.</summary>
    private bool UnfoldsWholeRows => Stride == 1;

    private string UnfoldGeneric => UnfoldsWholeRows ? "<TVector>" : "";

    /// <summary>
    /// Stride-1 unfold: every tap (t, m, n) fills its row block of columns completely, output row after output row, each
    /// from one input row (of the padded copy, with padding). Rows are copied in whole vectors: a copy may run up to
    /// Count − 1 floats past its row, into the next one, which is written next; the last row of the last tap runs into
    /// the buffer's slack. No branch, no library call per row, and nothing in columns depends on an earlier unfold.
    /// </summary>
    private void EmitWholeRowUnfold(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int taps = KernelHeight * KernelWidth, pixels = Pixels(output);
        int height = input.Height + 2 * Padding, width = input.Width + 2 * Padding, plane = height * width;
        string source = PadsInput ? "padded" : "xs";
        if (PadsInput)
        {
            w.Line($"{plan.Pascal}Pad(xs, padded);");
            w.Line();
        }

        w.Line($"// Reads and writes run up to Count − 1 floats past the last row: these slices prove the buffers have them.");
        w.Line($"ref float x0 = ref MemoryMarshal.GetReference({source}.Slice(0, {input.Channels * plane} + TVector.Count - 1));");
        w.Line($"ref float c0 = ref MemoryMarshal.GetReference(columns.Slice(0, {input.Channels * taps * pixels} + TVector.Count - 1));");
        w.Line($"for (int t = 0; t < {input.Channels}; t++)");
        w.Open();
        w.Line($"ref float xt = ref Unsafe.Add(ref x0, t * {plane});");
        w.Line($"ref float ct = ref Unsafe.Add(ref c0, t * {taps * pixels});");
        w.Line($"for (int m = 0; m < {KernelHeight}; m++)");
        w.Open();
        w.Line($"for (int n = 0; n < {KernelWidth}; n++)");
        w.Open();
        w.Line($"// tap (m, n), columns row r = m·{KernelWidth} + n: columns(r, i·{output.Width} + j) = {(PadsInput ? "padded" : "x")}(t, i + m, j + n)");
        w.Line($"ref float from = ref Unsafe.Add(ref xt, m * {width} + n);");
        w.Line($"ref float to = ref Unsafe.Add(ref ct, (m * {KernelWidth} + n) * {pixels});");
        w.Line($"for (int i = 0; i < {output.Height}; i++)");
        w.Open();
        w.Line($"Rows.CopyWhole<TVector>(ref Unsafe.Add(ref from, i * {width}), ref Unsafe.Add(ref to, i * {output.Width}), {output.Width});");
        w.Close();
        w.Close();
        w.Close();
        w.Close();
    }

    private enum TapPass
    {
        /// <summary>x → columns (rows: input channel and tap; columns: output pixel).</summary>
        Unfold,

        /// <summary>columnsGradient → dx, added.</summary>
        Fold,
    }

    /// <summary>
    /// With a stride above 1, the im2col copy and the col2im sum, one block per kernel tap (m, n), inside a loop over
    /// input channels. For each tap the output rows i and columns j that read inside the input are computed here, so
    /// the emitted loops have no bounds tests.
    /// </summary>
    private void EmitTapLoops(SourceWriter w, LayerPlan plan, TapPass pass)
    {
        Shape input = plan.Input, output = plan.Output;
        int plane = input.Height * input.Width, taps = KernelHeight * KernelWidth, pixels = Pixels(output);
        w.Line($"for (int t = 0; t < {input.Channels}; t++)");
        w.Open();
        switch (pass)
        {
            case TapPass.Unfold:
                w.Line($"ReadOnlySpan<float> xt = xs.Slice(t * {plane}, {plane});");
                w.Line($"Span<float> ct = columns.Slice(t * {taps * pixels}, {taps * pixels});");
                break;
            default:
                w.Line($"Span<float> dxt = dxs.Slice(t * {plane}, {plane});");
                w.Line($"ReadOnlySpan<float> ct = columnsGradient.Slice(t * {taps * pixels}, {taps * pixels});");
                break;
        }

        for (int m = 0; m < KernelHeight; m++)
        {
            for (int n = 0; n < KernelWidth; n++)
            {
                int row = m * KernelWidth + n;
                (int i0, int i1) = ValidRange(m, input.Height, output.Height);
                (int j0, int j1) = ValidRange(n, input.Width, output.Width);
                if (i0 >= i1 || j0 >= j1)
                {
                    w.Line($"// tap ({m}, {n}): reads only padding.");
                    continue;
                }

                // Output (i, j) reads input (i·s + m − p, j·s + n − p).
                int rowBase = row * pixels;
                int sourceBase = (m - Padding) * input.Width + (n - Padding);
                w.Line($"// tap ({m}, {n}): output rows {i0}..{i1 - 1}, columns {j0}..{j1 - 1}");
                w.Line($"for (int i = {i0}; i < {i1}; i++)");
                w.Open();
                w.Line($"for (int j = {j0}; j < {j1}; j++)");
                w.Open();
                string src = $"i * {Stride * input.Width} + j * {Stride}{Literal.Offset(sourceBase)}";
                string dst = $"i * {output.Width} + j{Literal.Offset(rowBase)}";
                if (pass == TapPass.Unfold)
                {
                    w.Line($"ct[{dst}] = xt[{src}];");
                }
                else
                {
                    w.Line($"dxt[{src}] += ct[{dst}];");
                }

                w.Close();

                w.Close();
            }
        }

        w.Close();
    }

    /// <summary>The output indices [first, end) whose tap at kernel offset <paramref name="k"/> reads inside an input of <paramref name="size"/>.</summary>
    private (int First, int End) ValidRange(int k, int size, int outputSize)
    {
        // Need 0 ≤ i·s + k − p ≤ size − 1.
        int first = Padding - k <= 0 ? 0 : (Padding - k + Stride - 1) / Stride;
        int last = (size - 1 + Padding - k) < 0 ? -1 : (size - 1 + Padding - k) / Stride;
        return (first, System.Math.Min(last + 1, outputSize));
    }

    private int Rows(Shape input) => input.Channels * KernelHeight * KernelWidth;

    private static int Pixels(Shape output) => output.Height * output.Width;

    private static string Index(string i, int stride, int padding) =>
        (stride == 1 ? i : $"{i}·{stride}") + " + " + (i == "i" ? "m" : "n") + (padding == 0 ? "" : $" − {padding}");
}
